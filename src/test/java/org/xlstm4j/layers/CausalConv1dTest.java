package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class CausalConv1dTest {
    private static CausalConv1d conv(int D, int K, boolean hasBias, long seed) {
        CausalConv1d c = new CausalConv1d("blocks.0.xlstm.conv1d", D, K, hasBias);
        Random rng = new Random(seed);
        for (var p : c.params()) randomize(p, rng, 1);
        return c;
    }

    /** Runs step() over every token of x[B,T,D], returning y[B,T,D]; state is updated in place. */
    private static float[] stepLoop(CausalConv1d c, float[] x, int B, int T, int D, float[] state) {
        float[] y = new float[B * T * D], xt = new float[B * D], yt = new float[B * D];
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) System.arraycopy(x, (b * T + t) * D, xt, b * D, D);
            c.step(xt, yt, B, state);
            for (int b = 0; b < B; b++) System.arraycopy(yt, b * D, y, (b * T + t) * D, D);
        }
        return y;
    }

    @Test
    void namesAndShapes() {
        CausalConv1d c = new CausalConv1d("blocks.0.xlstm.conv1d", 128, 4, true);
        assertEquals("blocks.0.xlstm.conv1d.conv.weight", c.weight.name);
        assertArrayEquals(new int[] {128, 1, 4}, c.weight.shape);
        assertEquals("blocks.0.xlstm.conv1d.conv.bias", c.bias.name);
        assertArrayEquals(new int[] {128}, c.bias.shape);
        assertTrue(c.weight.weightDecay);
        assertFalse(c.bias.weightDecay);
    }

    @Test
    void forwardMatchesDefinitionWithZeroHistory() {
        int B = 2, T = 6, D = 3, K = 4;
        CausalConv1d c = conv(D, K, true, 1);
        float[] x = randn(new Random(2), B * T * D, 1), y = new float[B * T * D];
        c.forward(x, y, B, T, null);
        double[] ref = new double[B * T * D];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) {
                    double s = c.bias.data[d];
                    for (int j = 0; j < K; j++) {
                        int src = t - K + 1 + j;
                        if (src >= 0) s += (double) c.weight.data[d * K + j] * x[(b * T + src) * D + d];
                    }
                    ref[(b * T + t) * D + d] = s;
                }
        assertClose(ref, y, ref.length, 1e-6, "conv forward");
    }

    @Test
    void forwardEqualsStepLoop() {
        for (boolean hasBias : new boolean[] {true, false}) {
            int B = 2, T = 7, D = 5, K = 4;
            CausalConv1d c = conv(D, K, hasBias, 3);
            float[] x = randn(new Random(4), B * T * D, 1), y = new float[B * T * D];
            float[] stateF = new float[B * K * D], stateS = new float[B * K * D];
            c.forward(x, y, B, T, stateF);
            float[] ys = stepLoop(c, x, B, T, D, stateS);
            assertClose(ys, y, y.length, 1e-6, "forward vs step");
            assertArrayEquals(stateS, stateF, "final state");
            float[] yNull = new float[B * T * D];
            c.forward(x, yNull, B, T, null);
            assertArrayEquals(y, yNull, "null state == zero state");
        }
    }

    /** forward(T1) then forward(T2) with the state == forward(T1+T2) == step loop, from a non-zero history. */
    @Test
    void stateHandOff() {
        int B = 2, D = 3, K = 4;
        int[][] splits = {{5, 4}, {1, 2}, {2, 1}, {3, 3}, {1, 1}}; // includes T < K (history shifted within the state)
        for (int[] sp : splits) {
            int T1 = sp[0], T2 = sp[1], T = T1 + T2;
            CausalConv1d c = conv(D, K, true, 5);
            Random rng = new Random(6);
            float[] x = randn(rng, B * T * D, 1), state0 = randn(rng, B * K * D, 1);
            float[] stateFull = state0.clone(), yFull = new float[B * T * D];
            c.forward(x, yFull, B, T, stateFull);

            float[] x1 = new float[B * T1 * D], x2 = new float[B * T2 * D];
            for (int b = 0; b < B; b++) {
                System.arraycopy(x, b * T * D, x1, b * T1 * D, T1 * D);
                System.arraycopy(x, (b * T + T1) * D, x2, b * T2 * D, T2 * D);
            }
            float[] stateSplit = state0.clone(), y1 = new float[B * T1 * D], y2 = new float[B * T2 * D];
            c.forward(x1, y1, B, T1, stateSplit);
            c.forward(x2, y2, B, T2, stateSplit);
            float[] ySplit = new float[B * T * D];
            for (int b = 0; b < B; b++) {
                System.arraycopy(y1, b * T1 * D, ySplit, b * T * D, T1 * D);
                System.arraycopy(y2, b * T2 * D, ySplit, (b * T + T1) * D, T2 * D);
            }
            String tag = " T1=" + T1 + " T2=" + T2;
            assertClose(yFull, ySplit, yFull.length, 1e-6, "split forward" + tag);
            assertArrayEquals(stateFull, stateSplit, "split state" + tag);

            float[] stateStep = state0.clone();
            float[] yStep = stepLoop(c, x, B, T, D, stateStep);
            assertClose(yStep, yFull, yFull.length, 1e-6, "step loop" + tag);
            assertArrayEquals(stateStep, stateFull, "step state" + tag);
        }
    }

    @Test
    void gradients() {
        for (boolean withState : new boolean[] {false, true}) {
            int B = 2, T = 5, D = 3, K = 4;
            CausalConv1d c = conv(D, K, true, 8);
            Random rng = new Random(9);
            float[] x = randn(rng, B * T * D, 1), y = new float[B * T * D], R = rand(rng, B * T * D);
            float[] state0 = withState ? randn(rng, B * K * D, 1) : null;
            float[] state = withState ? state0.clone() : null;
            DoubleSupplier loss = () -> {
                if (state != null) System.arraycopy(state0, 0, state, 0, state0.length);
                c.forward(x, y, B, T, state);
                return dot(y, R, y.length);
            };
            loss.getAsDouble();
            for (var p : c.params()) p.zeroGrad();
            float[] dx = new float[x.length];
            c.backward(R, dx, false);
            String tag = withState ? " (history)" : " (zeros)";
            assertGrad("conv dx" + tag, x, dx, loss, 1e-2f, 1e-3);
            assertGrad("conv dW" + tag, c.weight.data, c.weight.grad, loss, 1e-2f, 1e-3);
            assertGrad("conv db" + tag, c.bias.data, c.bias.grad, loss, 1e-2f, 1e-3);
            DoubleSupplier exact = () -> DoubleReference.dot(DoubleReference.causalConv(x, c.weight.data, c.bias.data, B, T, D, K, state0), R);
            loss.getAsDouble();
            assertClose(DoubleReference.causalConv(x, c.weight.data, c.bias.data, B, T, D, K, state0), y, y.length, 1e-6, "conv vs double" + tag);
            assertGradDouble("conv dx" + tag, x, dx, exact);
            assertGradDouble("conv dW" + tag, c.weight.data, c.weight.grad, exact);
            assertGradDouble("conv db" + tag, c.bias.data, c.bias.grad, exact);
            assertAccumulation((d, acc) -> c.backward(R, d, acc), dx.length, c.params());
        }
    }

    /** The SIMD forward, backward and step against their scalar twins, channel counts with ragged vector tails. */
    @Test
    void simdEqualsScalarTwin() {
        Random rng = new Random(42);
        for (int D : new int[] {1, 5, 16, 17, 40, 100}) {
            for (int K : new int[] {1, 2, 4}) {
                int B = 2, T = 7;
                CausalConv1d c = conv(D, K, D % 2 == 0, D * 10L + K);
                float[] x = randn(rng, B * T * D, 1), dy = randn(rng, B * T * D, 1);
                for (boolean withState : new boolean[] {false, true}) {
                    float[] st1 = withState ? randn(rng, B * K * D, 1) : null, st2 = st1 == null ? null : st1.clone();
                    float[] y1 = new float[B * T * D], y2 = new float[B * T * D];
                    c.forward(x, y1, B, T, st1);
                    float[] dw0 = c.weight.grad.clone(), db0 = c.bias == null ? null : c.bias.grad.clone();
                    float[] dx1 = randn(rng, B * T * D, 1), dx2 = dx1.clone();
                    c.backward(dy, dx1, true);
                    float[] dw1 = c.weight.grad.clone(), db1 = c.bias == null ? null : c.bias.grad.clone();
                    c.forwardScalar(x, y2, B, T, st2);
                    c.backwardScalar(dy, dx2, true);
                    for (int i = 0; i < y1.length; i++) assertEquals(y2[i], y1[i], 1e-5, "y");
                    for (int i = 0; i < dx1.length; i++) assertEquals(dx2[i], dx1[i], 1e-5, "dx");
                    for (int i = 0; i < dw0.length; i++)
                        assertEquals(c.weight.grad[i] - dw1[i], dw1[i] - dw0[i], 1e-4, "dw");
                    if (c.bias != null)
                        for (int i = 0; i < D; i++) assertEquals(c.bias.grad[i] - db1[i], db1[i] - db0[i], 1e-4, "db");
                    if (st1 != null) for (int i = 0; i < st1.length; i++) assertEquals(st2[i], st1[i], 0f, "state");
                }
                float[] s1 = randn(rng, B * K * D, 1), s2 = s1.clone(), xt = randn(rng, B * D, 1);
                float[] yt1 = new float[B * D], yt2 = new float[B * D];
                c.step(xt, yt1, B, s1);
                c.stepScalar(xt, yt2, B, s2);
                for (int i = 0; i < yt1.length; i++) assertEquals(yt2[i], yt1[i], 1e-5, "step");
                for (int i = 0; i < s1.length; i++) assertEquals(s2[i], s1[i], 0f, "step state");
            }
        }
    }
}
