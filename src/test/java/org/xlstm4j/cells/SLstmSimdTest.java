package org.xlstm4j.cells;

import org.xlstm4j.ExactMath;
import org.xlstm4j.AlsoExactMath;
import org.junit.jupiter.api.Test;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.cells.SLstmCellTest.Setup;
import static org.xlstm4j.cells.SLstmCellTest.gaussian;
import static org.xlstm4j.cells.SLstmCellTest.randomState;

/**
 * The SIMD, head-parallel sLSTM cell (forward, step, backward) against its scalar twins ({@code forwardScalar},
 * {@code stepScalar}, {@code backwardScalar}) on head sizes that are and are not multiples of the vector length,
 * with and without an initial state (including one with some zero normalizers), serially and with the heads on two
 * threads. The twins use double-precision activations and plain dot products, so values agree to float rounding;
 * the serial and the two-thread SIMD runs agree bit for bit.
 */
@AlsoExactMath
class SLstmSimdTest {
    static final double TOL = 2e-5;

    @Test
    void simdEqualsScalarTwin() {
        int[][] cases = {{2, 3, 6, 2}, {1, 16, 9, 1}, {3, 17, 5, 2}, {2, 32, 12, 4}, {4, 24, 7, 3}};  // B, DH, T, NH
        Random rnd = new Random(11);
        try (CpuKernels cpu = new CpuKernels(2)) {
            Kernels two = cpu;
            for (int[] c : cases)
                for (int init = 0; init < 3; init++) {
                    int B = c[0], DH = c[1], T = c[2], NH = c[3], E = NH * DH;
                    Setup s = new Setup(NH, DH, rnd, 0.3);
                    float[] x = gaussian(rnd, B * T * 4 * E, 2.0), dh = gaussian(rnd, B * T * E, 1.0);
                    SLstmState start = init == 0 ? null : randomState(rnd, B, E, init == 2);
                    String where = "B=" + B + " DH=" + DH + " T=" + T + " NH=" + NH + " init=" + init;

                    SLstmState sRef = start == null ? null : start.copy();
                    float[] hRef = new float[B * T * E], dRef = new float[B * T * 4 * E];
                    s.cell.forwardScalar(x, hRef, B, T, sRef);
                    s.cell.recurrentKernel().zeroGrad();
                    s.cell.bias().zeroGrad();
                    s.cell.backwardScalar(dh, dRef);
                    float[] dRRef = s.cell.recurrentKernel().grad.clone(), dbRef = s.cell.bias().grad.clone();

                    float[][] first = null;
                    for (Kernels k : new Kernels[]{null, two}) {
                        SLstmState st = start == null ? null : start.copy();
                        float[] h = new float[B * T * E], d = new float[B * T * 4 * E];
                        s.cell.forward(k, x, h, B, T, st);
                        s.cell.recurrentKernel().zeroGrad();
                        s.cell.bias().zeroGrad();
                        s.cell.backward(k, dh, d);
                        float[] dR = s.cell.recurrentKernel().grad.clone(), db = s.cell.bias().grad.clone();
                        close(where + " h", hRef, h);
                        close(where + " dGates", dRef, d);
                        close(where + " dR", dRRef, dR);
                        close(where + " db", dbRef, db);
                        if (st != null) {
                            close(where + " final h", sRef.h, st.h);
                            close(where + " final c", sRef.c, st.c);
                            close(where + " final n", sRef.n, st.n);
                            close(where + " final m", sRef.m, st.m);
                        }
                        float[][] all = {h, d, dR, db};
                        if (first == null) first = all;
                        else if (ExactMath.IN_THIS_JVM)       // in the ordinary JVM both are held to the twin above
                            for (int i = 0; i < all.length; i++) assertTrue(Arrays.equals(first[i], all[i]), where + ": serial vs threads");
                    }

                    // step vs its twin, token by token from the same state
                    SLstmState a = start == null ? SLstmState.zeros(B, E) : start.copy(), b = a.copy();
                    float[] xt = new float[B * 4 * E], ha = new float[B * E], hb = new float[B * E];
                    for (int t = 0; t < T; t++) {
                        for (int bb = 0; bb < B; bb++) System.arraycopy(x, (bb * T + t) * 4 * E, xt, bb * 4 * E, 4 * E);
                        s.cell.step(xt, ha, B, a);
                        s.cell.stepScalar(xt, hb, B, b);
                        close(where + " step h t=" + t, hb, ha);
                    }
                }
        }
    }

    private static void close(String what, float[] ref, float[] got) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Float.isFinite(got[i]), what + ": non-finite at " + i);
            maxErr = Math.max(maxErr, Math.abs((double) got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs((double) ref[i]));
        }
        double err = maxErr / Math.max(maxRef, 1e-3);
        assertTrue(err <= TOL, what + ": rel err " + err);
        assertEquals(ref.length, got.length);
    }
}
