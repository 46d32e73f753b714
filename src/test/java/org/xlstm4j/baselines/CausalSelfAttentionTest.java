package org.xlstm4j.baselines;

import org.junit.jupiter.api.Test;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Rotary causal attention against an independent double-precision implementation: forward values, causality, and
 * every gradient (four weights and the input) against central differences of the reference under L = Σ y·R.
 */
class CausalSelfAttentionTest {
    static final int B = 2, T = 5, E = 8, NH = 2;

    private static CausalSelfAttention randomAttention(Random rng) {
        CausalSelfAttention a = new CausalSelfAttention("attention.", E, NH);
        for (Param p : a.parameters())
            for (int i = 0; i < p.size(); i++) p.data[i] = (float) (0.5 * rng.nextGaussian());
        return a;
    }

    private static float[] randn(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextGaussian();
        return a;
    }

    private static double[] ref(CausalSelfAttention a, double[] x) {
        return Reference.attention(x, Reference.toDouble(a.wq.weight.data, E * E), Reference.toDouble(a.wk.weight.data, E * E),
                Reference.toDouble(a.wv.weight.data, E * E), Reference.toDouble(a.wo.weight.data, E * E), B, T, E, NH);
    }

    @Test
    void forwardMatchesReference() {
        Random rng = new Random(1);
        CausalSelfAttention a = randomAttention(rng);
        float[] x = randn(rng, B * T * E), y = new float[B * T * E];
        a.forward(new ScalarKernels(), x, y, B, T);
        double[] r = ref(a, Reference.toDouble(x, x.length));
        for (int i = 0; i < y.length; i++) assertEquals(r[i], y[i], 1e-5, "y[" + i + "]");
    }

    @Test
    void isCausal() {
        Random rng = new Random(4);
        CausalSelfAttention a = randomAttention(rng);
        Kernels k = new ScalarKernels();
        float[] x = randn(rng, B * T * E), y1 = new float[B * T * E], y2 = new float[B * T * E];
        a.forward(k, x, y1, B, T);
        float[] x2 = x.clone();
        for (int d = 0; d < E; d++) x2[(T - 1) * E + d] += 3f;              // change the last token of sequence 0
        a.forward(k, x2, y2, B, T);
        for (int t = 0; t < T - 1; t++)
            for (int d = 0; d < E; d++) assertEquals(y1[t * E + d], y2[t * E + d], 0f, "earlier outputs must not change");
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rng = new Random(2);
        CausalSelfAttention a = randomAttention(rng);
        Kernels k = new ScalarKernels();
        float[] x = randn(rng, B * T * E), y = new float[B * T * E], probe = randn(rng, B * T * E), dx = new float[B * T * E];
        a.forward(k, x, y, B, T);
        for (Param p : a.parameters()) p.zeroGrad();
        a.backward(k, probe, dx);
        double[] xd = Reference.toDouble(x, x.length);
        double[][] w = {Reference.toDouble(a.wq.weight.data, E * E), Reference.toDouble(a.wk.weight.data, E * E),
                Reference.toDouble(a.wv.weight.data, E * E), Reference.toDouble(a.wo.weight.data, E * E)};
        java.util.function.DoubleSupplier loss = () -> Reference.dot(Reference.attention(xd, w[0], w[1], w[2], w[3], B, T, E, NH), probe, B * T * E);
        assertTrue(Reference.relError(xd, dx, loss) < 1e-4, "dx");
        String[] names = {"wq", "wk", "wv", "wo"};
        Param[] ps = {a.wq.weight, a.wk.weight, a.wv.weight, a.wo.weight};
        for (int i = 0; i < 4; i++) assertTrue(Reference.relError(w[i], ps[i].grad, loss) < 1e-4, names[i]);
    }
}
