package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

class LinearTest {
    private final Kernels k = new ScalarKernels();

    @Test
    void namesShapesAndDecay() {
        Linear l = new Linear("blocks.0.xlstm.proj_up", 3, 5, true);
        assertEquals("blocks.0.xlstm.proj_up.weight", l.weight.name);
        assertArrayEquals(new int[] {5, 3}, l.weight.shape);
        assertEquals("blocks.0.xlstm.proj_up.bias", l.bias.name);
        assertArrayEquals(new int[] {5}, l.bias.shape);
        assertTrue(l.weight.weightDecay);
        assertFalse(l.bias.weightDecay);
        assertNull(new Linear("x", 3, 5, false).bias);
    }

    @Test
    void forwardMatchesDefinition() {
        Random rng = new Random(1);
        int rows = 4, in = 6, out = 3;
        Linear l = new Linear("l", in, out, true);
        randomize(l.weight, rng, 1);
        randomize(l.bias, rng, 1);
        float[] x = randn(rng, rows * in, 1), y = new float[rows * out];
        l.forward(k, x, y, rows);
        double[] ref = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double s = l.bias.data[o];
                for (int i = 0; i < in; i++) s += (double) x[r * in + i] * l.weight.data[o * in + i];
                ref[r * out + o] = s;
            }
        assertClose(ref, y, rows * out, 1e-6, "linear forward");
    }

    @Test
    void gradients() {
        for (boolean hasBias : new boolean[] {true, false}) {
            Random rng = new Random(2);
            int rows = 6, in = 5, out = 7;
            Linear l = new Linear("l", in, out, hasBias);
            for (var p : l.params()) randomize(p, rng, 1);
            float[] x = randn(rng, rows * in, 1), y = new float[rows * out], R = rand(rng, rows * out);
            float[] dx = new float[rows * in];
            l.forward(k, x, y, rows);
            for (var p : l.params()) p.zeroGrad();
            l.backward(k, R, dx, rows, false);
            var loss = (java.util.function.DoubleSupplier) () -> { l.forward(k, x, y, rows); return dot(y, R, y.length); };
            assertGrad("linear dx", x, dx, loss, 1e-2f, 1e-3);
            assertGrad("linear dW", l.weight.data, l.weight.grad, loss, 1e-2f, 1e-3);
            if (hasBias) assertGrad("linear db", l.bias.data, l.bias.grad, loss, 1e-2f, 1e-3);
            java.util.function.DoubleSupplier exact = () -> DoubleReference.dot(
                    DoubleReference.linear(x, l.weight.data, hasBias ? l.bias.data : null, rows, in, out), R);
            l.forward(k, x, y, rows);
            assertClose(DoubleReference.linear(x, l.weight.data, hasBias ? l.bias.data : null, rows, in, out), y, y.length, 1e-6, "linear vs double");
            assertGradDouble("linear dx", x, dx, exact);
            assertGradDouble("linear dW", l.weight.data, l.weight.grad, exact);
            if (hasBias) assertGradDouble("linear db", l.bias.data, l.bias.grad, exact);
            assertAccumulation((d, acc) -> l.backward(k, R, d, rows, acc), dx.length, l.params());
        }
    }
}
