package org.xlstm4j.baselines;

import org.xlstm4j.model.Param;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole-model checks shared by the model tests (also used from the experiments tests): the gradient of
 * {@link SequenceModel#forwardBackward} against central differences of the loss recomputed from
 * {@link SequenceModel#logits} in double.
 */
public final class ModelGradients {
    private ModelGradients() {}

    /** weight · Σ CE over the scored rows, from the model's logits, in double. */
    public static double loss(SequenceModel m, int[] x, int[] y, int B, int T, double weight) {
        float[] logits = m.logits(x, y, B, T);
        int V = m.vocabSize(), k = 0;
        double sum = 0;
        for (int r = 0; r < B * T; r++) {
            if (y[r] < 0) continue;
            int o = k++ * V;
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int v = 0; v < V; v++) max = Math.max(max, logits[o + v]);
            for (int v = 0; v < V; v++) s += Math.exp(logits[o + v] - max);
            sum += max + Math.log(s) - logits[o + y[r]];
        }
        return weight * sum;
    }

    /**
     * Checks each parameter's largest-gradient entry and {@code samples} random ones (a wiring check of the whole model;
     * the blocks' backward passes have their own double-precision checks). The forward is float32, so with step h = 2e-3 the
     * tolerance is 2 % of the parameter's largest gradient plus the float32 rounding of the loss over 2h (≈ 1e-3); a
     * wrong term gives an O(1) error.
     */
    public static void assertMatchesFiniteDifferences(SequenceModel m, int[] x, int[] y, int B, int T, int samples, long seed) {
        int n = 0;
        for (int t : y) if (t >= 0) n++;
        double weight = 1.0 / n;
        m.zeroGrad();
        m.forwardBackward(x, y, B, T, weight);
        Random r = new Random(seed);
        float h = 2e-3f;
        double worst = 0;
        String worstName = "";
        for (Param p : m.parameters()) {
            float[] g = p.grad.clone();
            double maxG = 0, maxErr = 0;
            int arg = 0;
            for (int i = 0; i < g.length; i++) if (Math.abs(g[i]) > maxG) { maxG = Math.abs(g[i]); arg = i; }
            assertTrue(maxG > 0, m.name() + ": " + p.name + " has no gradient");
            for (int s = 0; s <= samples; s++) {
                int i = s == 0 ? arg : r.nextInt(p.size());                   // the largest entry, then random ones
                float old = p.data[i];
                p.data[i] = old + h;
                double lp = loss(m, x, y, B, T, weight);
                p.data[i] = old - h;
                double lm = loss(m, x, y, B, T, weight);
                p.data[i] = old;
                maxErr = Math.max(maxErr, Math.abs((lp - lm) / (2 * h) - g[i]));
            }
            double ratio = maxErr / (0.02 * maxG + 1e-3);
            if (ratio > worst) { worst = ratio; worstName = p.name; }
        }
        assertTrue(worst < 1, m.name() + ": gradient error above tolerance (ratio " + worst + ") at " + worstName);
    }
}
