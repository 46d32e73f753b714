package org.xlstm4j.baselines;

import org.junit.jupiter.api.Test;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The LSTM layer against an independent double-precision implementation of the equations: forward values, and every
 * gradient (four parameters and the input) against central differences of that reference under the probe loss
 * L = Σ y·R. Float32 analytic gradients agree to ~1e-6 relative; the tolerance is 1e-4.
 */
class LstmLayerTest {
    static final int B = 3, T = 6, IN = 5, H = 4;

    private static LstmLayer randomLayer(Random rng) {
        LstmLayer l = new LstmLayer("lstm.", 0, IN, H);
        for (Param p : l.parameters())
            for (int i = 0; i < p.size(); i++) p.data[i] = (float) (0.6 * rng.nextGaussian());
        return l;
    }

    private static float[] randn(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextGaussian();
        return a;
    }

    @Test
    void namesShapesAndDecay() {
        LstmLayer l = new LstmLayer("lstm.", 1, IN, H);
        assertEquals("lstm.weight_ih_l1", l.weightIh.name);
        assertArrayEquals(new int[]{4 * H, IN}, l.weightIh.shape);
        assertArrayEquals(new int[]{4 * H, H}, l.weightHh.shape);
        assertTrue(l.weightIh.weightDecay && l.weightHh.weightDecay);
        assertFalse(l.biasIh.weightDecay || l.biasHh.weightDecay);
    }

    @Test
    void forwardMatchesReference() {
        for (Kernels k : new Kernels[]{new ScalarKernels(), new CpuKernels(1)}) {
            Random rng = new Random(1);
            LstmLayer l = randomLayer(rng);
            float[] x = randn(rng, B * T * IN), y = new float[B * T * H];
            l.forward(k, x, y, B, T);
            double[] ref = Reference.lstm(Reference.toDouble(x, x.length), Reference.toDouble(l.weightIh.data, l.weightIh.size()),
                    Reference.toDouble(l.weightHh.data, l.weightHh.size()), Reference.toDouble(l.biasIh.data, 4 * H),
                    Reference.toDouble(l.biasHh.data, 4 * H), B, T, IN, H);
            for (int i = 0; i < y.length; i++) assertEquals(ref[i], y[i], 1e-5, "y[" + i + "]");
        }
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        Random rng = new Random(2);
        LstmLayer l = randomLayer(rng);
        Kernels k = new ScalarKernels();
        float[] x = randn(rng, B * T * IN), y = new float[B * T * H], probe = randn(rng, B * T * H), dx = new float[B * T * IN];
        l.forward(k, x, y, B, T);
        for (Param p : l.parameters()) p.zeroGrad();
        l.backward(k, probe, dx);
        double[] xd = Reference.toDouble(x, x.length), wih = Reference.toDouble(l.weightIh.data, l.weightIh.size()),
                whh = Reference.toDouble(l.weightHh.data, l.weightHh.size()), bih = Reference.toDouble(l.biasIh.data, 4 * H),
                bhh = Reference.toDouble(l.biasHh.data, 4 * H);
        java.util.function.DoubleSupplier loss = () -> Reference.dot(Reference.lstm(xd, wih, whh, bih, bhh, B, T, IN, H), probe, B * T * H);
        assertTrue(Reference.relError(xd, dx, loss) < 1e-4, "dx");
        assertTrue(Reference.relError(wih, l.weightIh.grad, loss) < 1e-4, "weight_ih");
        assertTrue(Reference.relError(whh, l.weightHh.grad, loss) < 1e-4, "weight_hh");
        assertTrue(Reference.relError(bih, l.biasIh.grad, loss) < 1e-4, "bias_ih");
        assertTrue(Reference.relError(bhh, l.biasHh.grad, loss) < 1e-4, "bias_hh");
    }

    @Test
    void gradientsAccumulateAndDxIsOverwritten() {
        Random rng = new Random(3);
        LstmLayer l = randomLayer(rng);
        Kernels k = new ScalarKernels();
        float[] x = randn(rng, B * T * IN), y = new float[B * T * H], probe = randn(rng, B * T * H);
        float[] dx1 = new float[B * T * IN], dx2 = new float[B * T * IN];
        l.forward(k, x, y, B, T);
        l.backward(k, probe, dx1);
        float[] g1 = l.weightHh.grad.clone();
        java.util.Arrays.fill(dx2, 5f);
        l.backward(k, probe, dx2);
        for (int i = 0; i < g1.length; i++) assertEquals(2 * g1[i], l.weightHh.grad[i], 1e-5 * (1 + Math.abs(g1[i])));
        assertArrayEquals(dx1, dx2, 1e-6f);
    }
}
