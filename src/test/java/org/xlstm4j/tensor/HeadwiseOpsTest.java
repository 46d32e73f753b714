package org.xlstm4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xlstm4j.tensor.SmallMatmulTest.random;

/**
 * {@link HeadwiseOps} (4×4 block-diagonal products vectorized across features) against its scalar twins, on feature
 * counts that are and are not multiples of the vector length and on row sub-ranges; both use the same fused
 * multiply-add order, so they agree bit for bit. The scalar twin itself is checked against the definition.
 */
class HeadwiseOpsTest {
    private static final int[] FEATURES = {4, 8, 12, 16, 20, 36, 64, 68, 100, 772};

    @Test
    void forwardAndBackwardEqualScalarTwins() {
        Random rnd = new Random(3);
        for (int n : FEATURES) {
            int rows = 1 + rnd.nextInt(9), r0 = rnd.nextInt(rows), r1 = r0 + 1 + rnd.nextInt(rows - r0);
            float[] w = random(rnd, n * 4), x = random(rnd, rows * n), dy = random(rnd, rows * n);
            float[] wd = new float[4 * n], wt = new float[4 * n];
            HeadwiseOps.prepareForward(w, n, wd);
            HeadwiseOps.prepareBackward(w, n, wt);
            for (boolean acc : new boolean[]{false, true}) {
                float[] y = random(rnd, rows * n), yRef = y.clone();
                HeadwiseOps.forward(x, wd, y, r0, r1, n, acc);
                HeadwiseOps.forwardScalar(x, w, yRef, r0, r1, n, acc);
                assertSame("forward n=" + n, yRef, y);
                float[] dx = random(rnd, rows * n), dxRef = dx.clone();
                HeadwiseOps.backwardDx(dy, wt, dx, r0, r1, n, acc);
                HeadwiseOps.backwardDxScalar(dy, w, dxRef, r0, r1, n, acc);
                assertSame("backwardDx n=" + n, dxRef, dx);
            }
            float[] dwAcc = new float[4 * n], dwAccRef = new float[4 * n];
            HeadwiseOps.backwardDw(dy, x, dwAcc, r0, r1, n);
            HeadwiseOps.backwardDwScalar(dy, x, dwAccRef, r0, r1, n);
            assertSame("backwardDw n=" + n, dwAccRef, dwAcc);
            float[] dw = new float[4 * n];
            HeadwiseOps.finishDw(dwAcc, dw, n);
            for (float v : dwAcc) assertEquals(0f, v, 0f);
            // dW[g, o, d] = Σ_r dy[r, 4g+o]·x[r, 4g+d]
            for (int j = 0; j < n; j++)
                for (int d = 0; d < 4; d++) {
                    double s = 0;
                    for (int r = r0; r < r1; r++) s += (double) dy[r * n + j] * x[r * n + (j / 4) * 4 + d];
                    assertEquals(s, dw[j * 4 + d], 1e-4, "dW definition");
                }
        }
    }

    @Test
    void scalarForwardIsTheDefinition() {
        Random rnd = new Random(4);
        int n = 12, rows = 3;
        float[] w = random(rnd, n * 4), x = random(rnd, rows * n), y = new float[rows * n];
        HeadwiseOps.forwardScalar(x, w, y, 0, rows, n, false);
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < n / 4; g++)
                for (int o = 0; o < 4; o++) {
                    double s = 0;
                    for (int d = 0; d < 4; d++) s += (double) x[r * n + 4 * g + d] * w[(g * 4 + o) * 4 + d];
                    assertEquals(s, y[r * n + 4 * g + o], 1e-5);
                }
    }

    private static void assertSame(String what, float[] ref, float[] got) {
        for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 0f, what + " at " + i);
    }
}
