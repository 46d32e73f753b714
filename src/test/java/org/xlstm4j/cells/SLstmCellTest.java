package org.xlstm4j.cells;

import org.xlstm4j.ExactMath;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** sLSTM cell forward: against the double-precision reference, layouts, step / state hand-off, long-run stability. */
class SLstmCellTest {

    /** Random cell parameters, held in the external (cuda) layouts and loaded into the cell through the converters. */
    static final class Setup {
        final int NH, DH, E;
        final float[] rCuda, bCuda;
        final SLstmCell cell;
        final SLstmReference ref;

        Setup(int NH, int DH, Random rnd, double rScale) {
            this.NH = NH;
            this.DH = DH;
            this.E = NH * DH;
            rCuda = gaussian(rnd, NH * DH * 4 * DH, rScale);
            bCuda = gaussian(rnd, NH * 4 * DH, 1.0);
            cell = new SLstmCell("blocks.0.xlstm.slstm_cell.", NH, DH);
            System.arraycopy(SLstmCell.recurrentKernelFromCuda(rCuda, NH, DH), 0, cell.recurrentKernel().data, 0, rCuda.length);
            System.arraycopy(SLstmCell.biasFromCuda(bCuda, NH, DH), 0, cell.bias().data, 0, bCuda.length);
            ref = new SLstmReference(NH, DH, toDouble(rCuda), toDouble(bCuda));
        }
    }

    static float[] gaussian(Random rnd, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * rnd.nextGaussian());
        return a;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** max |a − ref| / max |ref| (1 if ref is all zero and a is not). */
    static double relErr(float[] a, double[] ref) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(a[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxRef == 0 ? maxErr : maxErr / maxRef;
    }

    /** A random non-zero initial state: h ∈ (−1, 1), c with |c| < n, n ∈ [0.5, 3), m ~ N(0, 1); optionally some n = c = 0. */
    static SLstmState randomState(Random rnd, int B, int E, boolean someZeroNormalizers) {
        SLstmState s = SLstmState.zeros(B, E);
        for (int i = 0; i < B * E; i++) {
            s.n[i] = 0.5f + 2.5f * rnd.nextFloat();
            s.c[i] = s.n[i] * (2 * rnd.nextFloat() - 1);
            s.h[i] = 2 * rnd.nextFloat() - 1;
            s.m[i] = (float) rnd.nextGaussian();
            if (someZeroNormalizers && i % 3 == 1) {
                s.n[i] = 0f;
                s.c[i] = 0f;
            }
        }
        return s;
    }

    static double[][] stateToDouble(SLstmState s) {
        return new double[][] {toDouble(s.h), toDouble(s.c), toDouble(s.n), toDouble(s.m)};
    }

    @Test
    void forwardMatchesReference() {
        Random rnd = new Random(1);
        double worst = 0;
        for (int B : new int[] {1, 3})
            for (int T : new int[] {1, 2, 17})
                for (int NH : new int[] {1, 4})
                    for (int DH : new int[] {1, 8, 16, 20})
                        for (int init = 0; init < 3; init++) { // 0: zeros (null), 1: random state, 2: some n = 0
                            Setup s = new Setup(NH, DH, rnd, 1.0 / Math.sqrt(DH));
                            int E = s.E;
                            float[] x = gaussian(rnd, B * T * 4 * E, 2.0);
                            SLstmState state = init == 0 ? null : randomState(rnd, B, E, init == 2);
                            double[][] refInit = state == null ? null : stateToDouble(state);
                            float[] h = new float[B * T * E];
                            s.cell.forward(x, h, B, T, state);
                            double[] hRef = s.ref.forward(toDouble(x), B, T, refInit);
                            String where = "B=" + B + " T=" + T + " NH=" + NH + " DH=" + DH + " init=" + init;
                            double err = relErr(h, hRef);
                            worst = Math.max(worst, err);
                            assertTrue(err < 1e-5, where + ": h rel err " + err);
                            if (state != null) {
                                double[][] fin = {s.ref.h, s.ref.c, s.ref.n, s.ref.m};
                                float[][] got = {state.h, state.c, state.n, state.m};
                                for (int q = 0; q < 4; q++) {
                                    double e = relErr(got[q], fin[q]);
                                    worst = Math.max(worst, e);
                                    assertTrue(e < 1e-5, where + ": final state " + "hcnm".charAt(q) + " rel err " + e);
                                }
                            }
                        }
        System.out.printf("sLSTM forward vs double reference: max rel err %.2e (tol 1e-5)%n", worst);
    }

    @Test
    void firstStepRuleIsOverWholeTensor() {
        // vanilla (spec §2.5): m = ĩ only when n is zero everywhere; with one non-zero entry the max rule applies to
        // all entries, so a zero-n entry gets i' = exp(ĩ − max(ĩ, m + logσ(f̃))) < 1 — but still c/n = tanh(z̃).
        int NH = 1, DH = 2, E = 2, B = 1;
        SLstmCell cell = new SLstmCell("c.", NH, DH);
        SLstmState state = SLstmState.zeros(B, E);
        state.n[1] = 1f;
        state.m[0] = 5f; // entry 0: logf = 5 + logσ(0) > ĩ = 0, so the max picks logf and m_1 = logf
        float[] x = new float[4 * E]; // all pre-activations zero
        float[] h = new float[E];
        cell.forward(x, h, B, 1, state);
        assertEquals(5f + (float) SLstmReference.logSigmoid(0), state.m[0], 1e-6f);
        assertEquals(Math.exp(-(5 + SLstmReference.logSigmoid(0))), state.n[0], 1e-8);
        // all-zero normalizer: m = ĩ regardless of the old m
        state.reset();
        state.m[0] = 5f;
        cell.forward(x, h, B, 1, state);
        assertEquals(0f, state.m[0]);
        assertEquals(1f, state.n[0]);
    }

    @Test
    void cudaLayoutRoundTripAndIndexing() {
        Random rnd = new Random(2);
        int NH = 3, DH = 5;
        float[] r = gaussian(rnd, NH * DH * 4 * DH, 1.0), b = gaussian(rnd, NH * 4 * DH, 1.0);
        float[] rv = SLstmCell.recurrentKernelFromCuda(r, NH, DH), bv = SLstmCell.biasFromCuda(b, NH, DH);
        assertArrayEquals(r, SLstmCell.recurrentKernelToCuda(rv, NH, DH));
        assertArrayEquals(b, SLstmCell.biasToCuda(bv, NH, DH));
        assertArrayEquals(rv, SLstmCell.recurrentKernelFromCuda(SLstmCell.recurrentKernelToCuda(rv, NH, DH), NH, DH));
        // spec §2.2: vanilla (h, g, j, k) = cuda R_ext (h, k, g, j); bias vanilla (g, h, j) = cuda (h, g, j)
        for (int h = 0; h < NH; h++)
            for (int g = 0; g < 4; g++)
                for (int j = 0; j < DH; j++) {
                    assertEquals(b[(h * 4 + g) * DH + j], bv[(g * NH + h) * DH + j]);
                    for (int k = 0; k < DH; k++)
                        assertEquals(r[((h * DH + k) * 4 + g) * DH + j], rv[(h * 4 * DH + g * DH + j) * DH + k]);
                }
        assertThrows(org.xlstm4j.UserError.class, () -> SLstmCell.recurrentKernelFromCuda(new float[7], NH, DH));
    }

    @Test
    void cudaAndVanillaLayoutCellsAgree() {
        // the same R_ext loaded into a cell once through the converter (vanilla storage) and evaluated once by the
        // reference straight from R_ext (cuda storage) — forwardMatchesReference checks the values; here the
        // parameter metadata: official names, vanilla shapes, no weight decay
        SLstmCell cell = new SLstmCell("xlstm.slstm_cell.", 4, 8);
        assertEquals("xlstm.slstm_cell._recurrent_kernel_", cell.recurrentKernel().name);
        assertEquals("xlstm.slstm_cell._bias_", cell.bias().name);
        assertArrayEquals(new int[] {4, 32, 8}, cell.recurrentKernel().shape);
        assertArrayEquals(new int[] {128}, cell.bias().shape);
        assertFalse(cell.recurrentKernel().weightDecay);
        assertFalse(cell.bias().weightDecay);
    }

    @ExactMath
    @Test
    void stepEqualsForwardAndStateHandsOff() {
        Random rnd = new Random(3);
        int B = 2, NH = 2, DH = 8, E = NH * DH, T1 = 5, T2 = 7, T = T1 + T2;
        Setup s = new Setup(NH, DH, rnd, 0.5);
        float[] x = gaussian(rnd, B * T * 4 * E, 2.0);
        SLstmState init = randomState(rnd, B, E, false);

        SLstmState full = init.copy();
        float[] hFull = new float[B * T * E];
        s.cell.forward(x, hFull, B, T, full);

        // token by token
        SLstmState st = init.copy();
        float[] xt = new float[B * 4 * E], ht = new float[B * E];
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) System.arraycopy(x, (b * T + t) * 4 * E, xt, b * 4 * E, 4 * E);
            s.cell.step(xt, ht, B, st);
            for (int b = 0; b < B; b++)
                for (int u = 0; u < E; u++)
                    assertEquals(hFull[(b * T + t) * E + u], ht[b * E + u], 0f, "step t=" + t);
        }
        assertStatesEqual(full, st);

        // two forwards, the second starting from the first's final state
        SLstmState hand = init.copy();
        float[] x1 = new float[B * T1 * 4 * E], x2 = new float[B * T2 * 4 * E];
        for (int b = 0; b < B; b++) {
            System.arraycopy(x, b * T * 4 * E, x1, b * T1 * 4 * E, T1 * 4 * E);
            System.arraycopy(x, (b * T + T1) * 4 * E, x2, b * T2 * 4 * E, T2 * 4 * E);
        }
        float[] h1 = new float[B * T1 * E], h2 = new float[B * T2 * E];
        s.cell.forward(x1, h1, B, T1, hand);
        s.cell.forward(x2, h2, B, T2, hand);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int u = 0; u < E; u++) {
                    float v = t < T1 ? h1[(b * T1 + t) * E + u] : h2[(b * T2 + t - T1) * E + u];
                    assertEquals(hFull[(b * T + t) * E + u], v, 0f, "hand-off t=" + t);
                }
        assertStatesEqual(full, hand);

        // from zeros: step from a zero state == forward with null state
        float[] hNull = new float[B * T * E];
        s.cell.forward(x, hNull, B, T, null);
        SLstmState z = SLstmState.zeros(B, E);
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) System.arraycopy(x, (b * T + t) * 4 * E, xt, b * 4 * E, 4 * E);
            s.cell.step(xt, ht, B, z);
            for (int b = 0; b < B; b++)
                for (int u = 0; u < E; u++) assertEquals(hNull[(b * T + t) * E + u], ht[b * E + u], 0f);
        }
    }

    static void assertStatesEqual(SLstmState a, SLstmState b) {
        assertArrayEquals(a.h, b.h, 0f);
        assertArrayEquals(a.c, b.c, 0f);
        assertArrayEquals(a.n, b.n, 0f);
        assertArrayEquals(a.m, b.m, 0f);
    }

    @Test
    void stateOfficialLayout() {
        Random rnd = new Random(4);
        SLstmState s = randomState(rnd, 2, 3, false);
        float[] stacked = s.toOfficial();
        assertEquals(4 * 6, stacked.length);
        assertEquals(s.h[5], stacked[5]);
        assertEquals(s.c[0], stacked[6]);
        assertEquals(s.n[1], stacked[13]);
        assertEquals(s.m[5], stacked[23]);
        SLstmState back = SLstmState.zeros(2, 3).fromOfficial(stacked);
        assertStatesEqual(s, back);
        back.reset();
        assertArrayEquals(new float[24], back.toOfficial());
        assertThrows(IllegalArgumentException.class, () -> back.fromOfficial(new float[23]));
        assertThrows(IllegalArgumentException.class, () -> back.copyFrom(SLstmState.zeros(3, 2)));
    }

    @Test
    void stableOverTenThousandStepsWithLargePreactivations() {
        Random rnd = new Random(5);
        int B = 2, NH = 2, DH = 4, E = NH * DH, T = 10_000;
        Setup s = new Setup(NH, DH, rnd, 1.0);
        float[] x = new float[B * T * 4 * E];
        for (int i = 0; i < x.length; i++) x[i] = (rnd.nextBoolean() ? 30f : -30f) * (0.5f + rnd.nextFloat());
        // also long constant runs of the extremes (forget gate closed / open, input gate saturated)
        for (int b = 0; b < B; b++)
            for (int t = 2000; t < 4000; t++)
                for (int q = 0; q < 4 * E; q++) x[(b * T + t) * 4 * E + q] = (q / E) == 1 ? 30f : -30f;
        SLstmState st = SLstmState.zeros(B, E);
        float[] xt = new float[B * 4 * E], ht = new float[B * E];
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) System.arraycopy(x, (b * T + t) * 4 * E, xt, b * 4 * E, 4 * E);
            s.cell.step(xt, ht, B, st);
            for (int i = 0; i < B * E; i++) {
                assertTrue(Float.isFinite(ht[i]) && Math.abs(ht[i]) <= 1f, "h at t=" + t);
                assertTrue(Float.isFinite(st.c[i]) && Float.isFinite(st.m[i]), "state at t=" + t);
                assertTrue(st.n[i] >= 1f && Float.isFinite(st.n[i]), "n at t=" + t); // n_t ≥ 1 after step 1 (spec §2.1)
            }
        }
        // the sequence form over the same 10,000 tokens, and its backward
        float[] h = new float[B * T * E];
        SLstmState fin = SLstmState.zeros(B, E);
        s.cell.forward(x, h, B, T, fin);
        assertStatesEqual(st, fin);
        float[] dh = gaussian(rnd, B * T * E, 1.0), dx = new float[B * T * 4 * E];
        s.cell.backward(dh, dx);
        for (float v : dx) assertTrue(Float.isFinite(v));
        for (float v : s.cell.recurrentKernel().grad) assertTrue(Float.isFinite(v));
        for (float v : s.cell.bias().grad) assertTrue(Float.isFinite(v));
    }
}
