package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;

class CrossEntropyTest {
    private final CrossEntropy ce = new CrossEntropy();

    /** Direct log-softmax in double: returns the mean loss and fills grad with (softmax − onehot)/N. */
    private static double reference(float[] logits, int[] targets, int rows, int V, double[] grad) {
        int n = 0;
        for (int t : targets) if (t != -1) n++;
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            if (targets[r] == -1) continue;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]);
            for (int v = 0; v < V; v++) sum += Math.exp(logits[r * V + v] - max);
            double logZ = max + Math.log(sum);
            loss -= logits[r * V + targets[r]] - logZ;
            for (int v = 0; v < V; v++)
                grad[r * V + v] = (Math.exp(logits[r * V + v] - logZ) - (v == targets[r] ? 1 : 0)) / n;
        }
        return loss / n;
    }

    @Test
    void matchesDirectLogSoftmaxWithIgnoredRows() {
        int rows = 6, V = 11;
        Random rng = new Random(1);
        float[] logits = randn(rng, rows * V, 3);
        for (int v = 0; v < V; v++) logits[2 * V + v] += 80f; // a shifted row (stability)
        int[] targets = {3, -1, 10, 0, -1, 7};
        double[] gradRef = new double[rows * V];
        double lossRef = reference(logits, targets, rows, V, gradRef);
        float[] d = new float[rows * V];
        java.util.Arrays.fill(d, 9f); // ignored rows must be overwritten with zeros
        float loss = ce.forward(logits, targets, rows, V, d);
        assertEquals(lossRef, loss, 1e-6 * Math.abs(lossRef));
        assertClose(gradRef, d, d.length, 1e-6, "ce gradient");
        for (int v = 0; v < V; v++) { assertEquals(0f, d[V + v]); assertEquals(0f, d[4 * V + v]); }
        assertEquals(loss, ce.forward(logits, targets, rows, V, null), "dLogits null gives the same loss");
    }

    @Test
    void finiteDifferences() {
        int rows = 4, V = 7;
        Random rng = new Random(2);
        float[] logits = randn(rng, rows * V, 1);
        int[] targets = {2, 6, -1, 0};
        float[] d = new float[rows * V];
        ce.forward(logits, targets, rows, V, d);
        // the loss comes back as float (ulp ~2e-7 at loss ~2): noise ~2e-7/(2h) = 2e-6 vs gradients ~0.1 → 5e-3 is ample
        assertGrad("cross-entropy dlogits", logits, d, () -> ce.forward(logits, targets, rows, V, null), 5e-2f, 5e-3);
    }

    @Test
    void inPlaceGradientOverwritesLogits() {
        int rows = 3, V = 9;
        float[] logits = randn(new Random(3), rows * V, 2);
        int[] targets = {8, 0, 4};
        float[] separate = new float[rows * V];
        float loss = ce.forward(logits, targets, rows, V, separate);
        float[] inPlace = logits.clone();
        assertEquals(loss, ce.forward(inPlace, targets, rows, V, inPlace));
        assertArrayEquals(separate, inPlace);
    }

    @Test
    void extremeLogitsStayFinite() {
        float[] logits = {1e4f, -1e4f, 0f, 3e4f, 3e4f, -3e4f};
        float[] d = new float[6];
        float loss = ce.forward(logits, new int[] {1, 0}, 2, 3, d);
        assertEquals((2e4 + Math.log(2)) / 2, loss, 1e-2); // row 0: 1e4 − (−1e4); row 1: two equal maxima
        for (float v : d) assertTrue(Float.isFinite(v));
    }

    @Test
    void allIgnoredIsNaNAndBadTargetIsUserError() {
        float[] logits = {1f, 2f, 3f, 4f};
        float[] d = {5f, 5f, 5f, 5f};
        assertTrue(Float.isNaN(ce.forward(logits, new int[] {-1, -1}, 2, 2, d)));
        assertArrayEquals(new float[4], d);
        UserError e = assertThrows(UserError.class, () -> ce.forward(logits, new int[] {0, 2}, 2, 2, null));
        assertTrue(e.getMessage().contains("2") && e.getMessage().contains("vocab size 2"), e.getMessage());
    }
}
