package org.xlstm4j.large;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite-difference checks of the hand-written backward passes of xLSTM Large: the new pieces one by one (soft cap,
 * SwiGLU feed-forward, the mLSTM layer with its capped gates and sigmoid output gate, the block with its residuals and
 * RMSNorms) on every input and parameter entry, and the whole model (embedding → blocks → out_norm → head → logit cap
 * → cross-entropy) on a sample of entries of every parameter, on a tiny config (E 32, 2 heads, 2 blocks, vocab 19,
 * T 11 with chunk 4, so the last chunk is ragged) with caps small enough that tanh bends (2 instead of 15 and 30), the
 * released caps, and no caps.
 *
 * <p>The forward is float32; losses are accumulated in double. Layers: probe loss L = Σ y·R, every entry; per array
 * max |num − ana| ≤ 5e-3·max |ana| + ε·Σ|y·R|/(2h) (ε = 6e-8; the second term bounds the float32 rounding of L over
 * the step, ~2e-3 here, and matters only for gradients that are nearly zero by construction); h = 3e-3 keeps the h²
 * truncation term (and the chance of stepping over a branch switch of the mLSTM's max(|n·q|, e^(−m)) normaliser)
 * below that, while a wrong term gives errors of the order of the gradient itself. Whole model: per parameter, |num − ana| ≤ 2% of the parameter's largest
 * gradient + 1e-3 (the cross-entropy's float32 rounding of ~1e-7 relative on logits of order 1, over a step 2h = 4e-3,
 * is ~1e-4; the 1e-3 floor is 10× that), as in the paper model's check.
 */
class LargeGradCheckTest {
    static final Kernels K = new ScalarKernels();

    static LargeConfig tiny(Double gateCap, Double logitCap, boolean outNorm, boolean tied, int chunk) {
        LargeConfig c = TinyLargeConfig.of(19, 32, 2, chunk, 16);
        c.gateSoftCap = gateCap;
        c.outputLogitSoftCap = logitCap;
        c.addOutNorm = outNorm;
        c.tieWordEmbeddings = tied;
        return c.validate("test");
    }

    /** Random parameters that keep every path active: gates away from saturation, norms near 1. */
    static void randomize(List<Param> ps, Random r) {
        for (Param p : ps) {
            double std = p.name.contains("embedding") ? 1 : p.shape.length == 2 ? 1 / Math.sqrt(p.shape[1]) : 0.2;
            for (int i = 0; i < p.size(); i++) {
                double g = r.nextGaussian();
                p.data[i] = (float) (p.name.contains("norm") ? 1 + 0.2 * g
                        : p.name.contains("gate_preact.weight") ? 0.3 * g
                        : p.name.contains("igate_preact.bias") ? g
                        : p.name.contains("fgate_preact.bias") ? 1 + g
                        : std * g);
            }
        }
    }

    static double dot(float[] y, float[] r, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) y[i] * r[i];
        return s;
    }

    static float[] randn(Random r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * r.nextGaussian());
        return a;
    }

    /** max |num − ana| and max |ana| over every entry of arr (central differences, step h); restores arr. */
    static double[] errors(float[] arr, float[] analytic, DoubleSupplier loss, float h) {
        double maxDiff = 0, maxAna = 0;
        for (int i = 0; i < analytic.length; i++) {
            float old = arr[i];
            arr[i] = old + h;
            double lp = loss.getAsDouble();
            arr[i] = old - h;
            double lm = loss.getAsDouble();
            arr[i] = old;
            double num = (lp - lm) / ((double) (old + h) - (double) (old - h));
            maxDiff = Math.max(maxDiff, Math.abs(num - analytic[i]));
            maxAna = Math.max(maxAna, Math.abs(analytic[i]));
        }
        return new double[]{maxDiff, maxAna};
    }

    /**
     * Checks dx and every parameter gradient of a layer given its probe loss L = Σ y·R: per array,
     * max |num − ana| ≤ tol·max |ana| + noise, where noise = ε_f32·Σ|y·R| / (2h) bounds the float32 rounding of L
     * seen through the step (it matters only for gradients that are nearly zero by construction, such as the input
     * gate's bias, to which the normalised mLSTM output is invariant except through eps and the e^(−m) bound).
     */
    static void checkLayer(String what, float[] x, float[] dx, List<Param> params, DoubleSupplier loss, float[] y, float[] R,
                           float h, double tol) {
        loss.getAsDouble();
        double sum = 0;
        for (int i = 0; i < R.length; i++) sum += Math.abs((double) y[i] * R[i]);
        double noise = 6e-8 * sum / (2 * h);
        List<String> report = new ArrayList<>();
        double worst = 0;
        String worstName = "";
        List<float[]> arrays = new ArrayList<>(List.of(x));
        List<float[]> grads = new ArrayList<>(List.of(dx));
        List<String> names = new ArrayList<>(List.of("dx"));
        for (Param p : params) {
            arrays.add(p.data);
            grads.add(p.grad);
            names.add(p.name.substring(p.name.lastIndexOf('.', p.name.length() - 8) + 1));
        }
        for (int j = 0; j < arrays.size(); j++) {
            double[] e = errors(arrays.get(j), grads.get(j), loss, h);
            double ratio = e[0] / (tol * e[1] + noise);
            report.add(String.format("%s %.1e/%.1e", names.get(j), e[0], e[1]));
            if (ratio > worst) { worst = ratio; worstName = names.get(j); }
        }
        System.out.printf("%s grad check (max |num - ana| / max |ana|; noise %.1e): %s; worst error/tolerance %.3f (%s)%n",
                what, noise, String.join(", ", report), worst, worstName);
        assertTrue(worst < 1, what + ": finite-difference error above tolerance (ratio " + worst + ") at " + worstName);
    }

    @Test void softCapBackwardIsOneMinusTanhSquared() {
        float cap = 2f;
        float[] x = {-7f, -2f, -0.3f, 0f, 0.5f, 1.9f, 6f}, y = new float[x.length], d = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
            d[i] = 1f;
        }
        SoftCap.forward(y, 0, y.length, cap);
        SoftCap.backward(y, d, 0, d.length, cap);
        for (int i = 0; i < x.length; i++) {
            double h = 1e-3, num = (cap * Math.tanh((x[i] + h) / cap) - cap * Math.tanh((x[i] - h) / cap)) / (2 * h);
            assertTrue(Math.abs(num - d[i]) < 1e-5, "softcap'(" + x[i] + ") = " + d[i] + ", numerically " + num);
            assertTrue(Math.abs(y[i]) < cap);
        }
    }

    @Test void swiGluFeedForward() {
        Random r = new Random(1);
        int E = 8, F = 12, rows = 5;
        SwiGluFeedForward ffn = new SwiGluFeedForward("b.", E, F, new Scratch());
        randomize(ffn.params(), r);
        float[] x = randn(r, rows * E, 1), y = new float[rows * E], R = randn(r, rows * E, 1), dx = new float[rows * E];
        DoubleSupplier loss = () -> { ffn.forward(K, x, y, rows); return dot(y, R, rows * E); };
        loss.getAsDouble();
        ffn.backward(K, R, dx, rows, false);
        checkLayer("SwiGLU", x, dx, ffn.params(), loss, y, R, 3e-3f, 5e-3);
    }

    @ParameterizedTest
    @CsvSource({"2.0,4", "15.0,4", ",11", "2.0,64"})
    void mlstmLayer(Double gateCap, int chunk) {
        Random r = new Random(2);
        LargeConfig c = tiny(gateCap, null, true, false, chunk);
        int B = 2, T = 11, rows = B * T, E = c.embeddingDim;
        LargeMLstmLayer layer = new LargeMLstmLayer(c, LargeLayout.huggingFace(c), 0, new Scratch());
        randomize(layer.params(), r);
        float[] x = randn(r, rows * E, 1), y = new float[rows * E], R = randn(r, rows * E, 1), dx = new float[rows * E];
        DoubleSupplier loss = () -> { layer.forward(K, x, y, B, T, null); return dot(y, R, rows * E); };
        loss.getAsDouble();
        layer.backward(K, R, dx, false);
        checkLayer("mLSTM layer cap=" + gateCap + " chunk=" + chunk, x, dx, layer.params(), loss, y, R, 3e-3f, 5e-3);
    }

    @Test void block() {
        Random r = new Random(3);
        LargeConfig c = tiny(2.0, null, true, false, 4);
        int B = 2, T = 11, rows = B * T, E = c.embeddingDim;
        LargeTrainableBlock b = new LargeTrainableBlock(c, LargeLayout.huggingFace(c), 1, new Scratch());
        randomize(b.params(), r);
        float[] x = randn(r, rows * E, 1), y = new float[rows * E], R = randn(r, rows * E, 1);
        DoubleSupplier loss = () -> { b.forward(K, x, y, B, T, null); return dot(y, R, rows * E); };
        loss.getAsDouble();
        float[] d = R.clone();
        b.backward(K, d);
        checkLayer("block", x, d, b.params(), loss, y, R, 3e-3f, 5e-3);
    }

    @ParameterizedTest
    @CsvSource({"2.0,2.0,true,false,4", "15.0,30.0,true,false,4", ",,false,true,4", "2.0,2.0,true,true,11"})
    void wholeModel(Double gateCap, Double logitCap, boolean outNorm, boolean tied, int chunk) {
        LargeConfig c = tiny(gateCap, logitCap, outNorm, tied, chunk);
        LargeTrainable m = new LargeTrainable(c, K);
        Random r = new Random(4);
        randomize(m.parameters(), r);
        int B = 2, T = 11, V = c.vocabSize;
        int[] x = new int[B * T], y = new int[B * T];
        for (int i = 0; i < x.length; i++) { x[i] = r.nextInt(V); y[i] = i % 6 == 5 ? -1 : r.nextInt(V); }
        for (Param p : m.parameters()) p.zeroGrad();
        float loss = m.forwardBackward(x, y, B, T);
        DoubleSupplier ce = () -> crossEntropy(m.forward(x, B, T, null), y, V);
        assertTrue(Math.abs(ce.getAsDouble() - loss) < 1e-5 * Math.abs(loss), "loss " + loss + " vs " + ce.getAsDouble());
        float h = 2e-3f;
        double worst = 0;
        String worstName = "";
        for (Param p : m.parameters()) {
            double maxG = 0, maxErr = 0;
            int arg = 0;
            for (int i = 0; i < p.size(); i++)
                if (Math.abs(p.grad[i]) > maxG) { maxG = Math.abs(p.grad[i]); arg = i; }
            assertTrue(maxG > 0, p.name + " has no gradient");
            for (int s = 0; s < 7; s++) {
                int i = s == 0 ? arg : r.nextInt(p.size());                      // the largest entry and 6 random ones
                float old = p.data[i];
                p.data[i] = old + h;
                double lp = ce.getAsDouble();
                p.data[i] = old - h;
                double lm = ce.getAsDouble();
                p.data[i] = old;
                double num = (lp - lm) / ((double) (old + h) - (double) (old - h));
                maxErr = Math.max(maxErr, Math.abs(num - p.grad[i]));
            }
            double rel = maxErr / (0.02 * maxG + 1e-3);
            if (rel > worst) { worst = rel; worstName = p.name; }
        }
        System.out.printf("xLSTM Large grad check caps=%s/%s outNorm=%s tied=%s chunk=%d: %d params, worst error/tolerance %.3f (%s)%n",
                gateCap, logitCap, outNorm, tied, chunk, m.parameters().size(), worst, worstName);
        assertTrue(worst < 1, "gradient error above tolerance (ratio " + worst + ") at " + worstName);
    }

    /** Mean cross-entropy over targets ≠ −1, in double. */
    static double crossEntropy(float[] logits, int[] targets, int V) {
        double sum = 0;
        int n = 0;
        for (int r = 0; r < targets.length; r++) {
            if (targets[r] < 0) continue;
            double max = Double.NEGATIVE_INFINITY, s = 0;
            for (int v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]);
            for (int v = 0; v < V; v++) s += Math.exp(logits[r * V + v] - max);
            sum += max + Math.log(s) - logits[r * V + targets[r]];
            n++;
        }
        return sum / n;
    }

    @Test void parametersAreListedOnceInCheckpointOrder() {
        LargeTrainable m = new LargeTrainable(tiny(15.0, 30.0, true, true, 4), K);
        List<String> names = m.parameters().stream().map(p -> p.name).toList();
        assertTrue(names.size() == new java.util.HashSet<>(names).size(), "duplicates in " + names);
        assertTrue(names.getFirst().equals("backbone.embeddings.weight") && names.getLast().equals("backbone.out_norm.weight"), names.toString());
        assertTrue(Arrays.asList(names.toArray()).contains("backbone.blocks.1.mlstm_layer.fgate_preact.bias"));
    }
}
