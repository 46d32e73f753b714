package org.xlstm4j.blocks;

import org.junit.jupiter.api.Test;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.model.Param;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.xlstm4j.layers.GradCheck.randn;
import static org.xlstm4j.layers.GradCheck.randomize;

/** The mLSTM gate projections' SIMD kernel ({@link MLstmLayer#gates}) against its scalar twin on ragged shapes. */
class MLstmGatesTest {
    @Test
    void simdEqualsScalarTwin() {
        Random rng = new Random(8);
        for (int NH : new int[]{1, 2, 4, 5, 9})
            for (int I : new int[]{1, 3, 16, 17, 40, 100}) {
                int rows = 5, r0 = 1, r1 = 4;
                Linear ig = new Linear("ig", 3 * I, NH, true), fg = new Linear("fg", 3 * I, NH, true);
                for (Param p : new Param[]{ig.weight, ig.bias, fg.weight, fg.bias}) randomize(p, rng, 1);
                float[] q = randn(rng, rows * I, 1), k = randn(rng, rows * I, 1), v = randn(rng, rows * I, 1);
                float[] gi = filled(rows * NH), gf = filled(rows * NH), giR = filled(rows * NH), gfR = filled(rows * NH);
                MLstmLayer.gates(q, k, v, ig, fg, gi, gf, r0, r1, I, NH);
                MLstmLayer.gatesScalar(q, k, v, ig, fg, giR, gfR, r0, r1, I, NH);
                for (int i = 0; i < rows * NH; i++) {
                    double tol = 1e-6 * (3 * I) * 4;                             // float sums of 3I products of size ~1
                    assertEquals(giR[i], gi[i], tol, "igate NH=" + NH + " I=" + I + " at " + i);
                    assertEquals(gfR[i], gf[i], tol, "fgate NH=" + NH + " I=" + I + " at " + i);
                }
                for (int i = 0; i < rows * NH; i++)
                    if (i < r0 * NH || i >= r1 * NH) {
                        assertEquals(-7f, gi[i], "igate wrote outside its rows at " + i);
                        assertEquals(-7f, gf[i], "fgate wrote outside its rows at " + i);
                    }
            }
    }

    private static float[] filled(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, -7f);
        return a;
    }
}
