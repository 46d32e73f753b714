package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

class HeadwiseLinearTest {
    private final Kernels k = new ScalarKernels();

    @Test
    void namesAndShapes() {
        HeadwiseLinear l = new HeadwiseLinear("blocks.0.xlstm.q_proj", 128, 128, 32, false);
        assertEquals("blocks.0.xlstm.q_proj.weight", l.weight.name);
        assertArrayEquals(new int[] {32, 4, 4}, l.weight.shape);
        assertTrue(l.weight.weightDecay);
        assertNull(l.bias);
        HeadwiseLinear b = new HeadwiseLinear("g", 8, 16, 2, true);
        assertArrayEquals(new int[] {16}, b.bias.shape);
        assertFalse(b.bias.weightDecay);
        assertThrows(UserError.class, () -> new HeadwiseLinear("bad", 10, 8, 4, false));
    }

    /** Both code paths (plain loops for 4×4 / 3×2 blocks, gathered matmuls for 16×16 / 16×32) against a dense Linear. */
    @Test
    void equalsDenseBlockDiagonalLinear() {
        int[][] shapes = {{16, 16, 4}, {12, 8, 4}, {32, 32, 2}, {32, 64, 2}}; // in, out, heads
        for (int[] s : shapes) {
            for (boolean hasBias : new boolean[] {false, true}) {
                int in = s[0], out = s[1], nh = s[2], iph = in / nh, oph = out / nh, rows = 5;
                Random rng = new Random(in * 31 + out);
                HeadwiseLinear hw = new HeadwiseLinear("h", in, out, nh, hasBias);
                for (var p : hw.params()) randomize(p, rng, 1);
                Linear dense = new Linear("d", in, out, hasBias);
                for (int h = 0; h < nh; h++)
                    for (int o = 0; o < oph; o++)
                        for (int d = 0; d < iph; d++)
                            dense.weight.data[(h * oph + o) * in + h * iph + d] = hw.weight.data[(h * oph + o) * iph + d];
                if (hasBias) System.arraycopy(hw.bias.data, 0, dense.bias.data, 0, out);
                float[] x = randn(rng, rows * in, 1), y1 = new float[rows * out], y2 = new float[rows * out];
                hw.forward(k, x, y1, rows);
                dense.forward(k, x, y2, rows);
                assertClose(y2, y1, y1.length, 1e-6, "headwise vs dense forward " + in + "x" + out);

                float[] dy = rand(rng, rows * out), dx1 = new float[rows * in], dx2 = new float[rows * in];
                hw.backward(k, dy, dx1, rows, false);
                dense.backward(k, dy, dx2, rows, false);
                assertClose(dx2, dx1, dx1.length, 1e-6, "headwise vs dense dx");
                float[] dwBlocks = new float[hw.weight.size()];
                for (int h = 0; h < nh; h++)
                    for (int o = 0; o < oph; o++)
                        for (int d = 0; d < iph; d++)
                            dwBlocks[(h * oph + o) * iph + d] = dense.weight.grad[(h * oph + o) * in + h * iph + d];
                assertClose(dwBlocks, hw.weight.grad, dwBlocks.length, 1e-6, "headwise vs dense dW");
                if (hasBias) assertClose(dense.bias.grad, hw.bias.grad, out, 1e-6, "headwise vs dense db");
            }
        }
    }

    @Test
    void gradients() {
        int[][] shapes = {{12, 8, 4}, {32, 64, 2}, {16, 16, 4}}; // loop path, kernel path, 4×4 SIMD blocks (q/k/v)
        for (int[] s : shapes) {
            int in = s[0], out = s[1], nh = s[2], rows = 4;
            Random rng = new Random(7);
            HeadwiseLinear l = new HeadwiseLinear("h", in, out, nh, true);
            for (var p : l.params()) randomize(p, rng, 1);
            float[] x = randn(rng, rows * in, 1), y = new float[rows * out], R = rand(rng, rows * out);
            float[] dx = new float[rows * in];
            l.forward(k, x, y, rows);
            for (var p : l.params()) p.zeroGrad();
            l.backward(k, R, dx, rows, false);
            DoubleSupplier loss = () -> { l.forward(k, x, y, rows); return dot(y, R, y.length); };
            String tag = " " + in + "x" + out + "/" + nh;
            assertGrad("headwise dx" + tag, x, dx, loss, 1e-2f, 1e-3);
            assertGrad("headwise dW" + tag, l.weight.data, l.weight.grad, loss, 1e-2f, 1e-3);
            assertGrad("headwise db" + tag, l.bias.data, l.bias.grad, loss, 1e-2f, 1e-3);
            DoubleSupplier exact = () -> DoubleReference.dot(DoubleReference.headwise(x, l.weight.data, l.bias.data, rows, in, out, nh), R);
            l.forward(k, x, y, rows);
            assertClose(DoubleReference.headwise(x, l.weight.data, l.bias.data, rows, in, out, nh), y, y.length, 1e-6, "headwise vs double" + tag);
            assertGradDouble("headwise dx" + tag, x, dx, exact);
            assertGradDouble("headwise dW" + tag, l.weight.data, l.weight.grad, exact);
            assertGradDouble("headwise db" + tag, l.bias.data, l.bias.grad, exact);
            assertAccumulation((d, acc) -> l.backward(k, R, d, rows, acc), dx.length, l.params());
        }
    }
}
