package org.xlstm4j.cells;

import org.xlstm4j.AlsoExactMath;
import org.xlstm4j.ExactMath;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.xlstm4j.cells.MLstmTestSupport.Inputs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.cells.MLstmTestSupport.*;

/**
 * The three formulations against independent double-precision references (spec §3.2, §3.3) and against each other,
 * on random shapes (T = 1, ragged last chunks, chunk 1 and chunk > T, DHQK ≠ DHV), plus state hand-off.
 */
class MLstmFormsTest {
    /** float32 implementation vs double reference of the same formulation. */
    static final double SAME_FORM_TOL = 1e-5;

    @AlsoExactMath
    @ParameterizedTest(name = "B={0} NH={1} T={2} DHQK={3} DHV={4} chunk={5}")
    @CsvSource({
            "1, 1,  1,  4, 4,  1",
            "1, 2,  1,  4, 6, 64",
            "2, 3,  7,  4, 6,  3",
            "1, 2, 20,  8, 5,  1",
            "2, 2, 33,  6, 4, 16",
            "1, 2, 40,  4, 8, 64",
            "3, 1, 64,  8, 8, 16",
            "1, 1, 50, 16, 8,  3",
    })
    void formsAgree(int B, int NH, int T, int DK, int DV, int chunk) {
        Inputs in = Inputs.random(1000L * T + 17L * chunk + DK, B, NH, T, DK, DV, 0, 3, -4, 8);
        double[] refC = new double[B * NH * DK * DV], refN = new double[B * NH * DK], refM = new double[B * NH];
        double[] refRec = referenceRecurrent(in, refC, refN, refM);
        double[] refPar = referenceParallel(in);

        MLstmCell cell = new MLstmCell(NH, DK, DV);
        float[] hPar = in.newH(), hChunk = in.newH(), hRec = in.newH();
        cell.forwardParallel(in.q, in.k, in.v, in.ig, in.fg, hPar, B, T);
        MLstmState sChunk = MLstmState.zeros(B, NH, DK, DV), sRec = MLstmState.zeros(B, NH, DK, DV);
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hChunk, B, T, chunk, sChunk);
        cell.forwardRecurrent(in.q, in.k, in.v, in.ig, in.fg, hRec, B, T, sRec);

        assertLe("parallel vs double parallel", relErr(hPar, refPar), SAME_FORM_TOL);
        assertLe("recurrent vs double recurrent", relErr(hRec, refRec), SAME_FORM_TOL);
        assertLe("chunkwise vs double recurrent", relErr(hChunk, refRec), SAME_FORM_TOL);
        for (MLstmState s : new MLstmState[]{sChunk, sRec}) {
            assertLe("final C", relErr(s.c, refC), SAME_FORM_TOL);
            assertLe("final n", relErr(s.n, refN), SAME_FORM_TOL);
            assertLe("final m", relErr(s.m, refM), SAME_FORM_TOL);
        }
        // parallel vs recurrent: they differ mathematically by the eps·exp(m) term (spec §3.5); the float32 forms must
        // not differ by more than the double references do, plus float32 noise
        double mathDiff = relErr(toFloat(refPar), refRec);
        double diff = relErr(hPar, hRec);
        System.out.printf("forms B=%d NH=%d T=%d DK=%d DV=%d L=%d: parallel vs recurrent %.2e (double refs %.2e), "
                + "chunkwise vs recurrent %.2e%n", B, NH, T, DK, DV, chunk, diff, mathDiff, relErr(hChunk, hRec));
        assertLe("parallel vs recurrent", diff, mathDiff + SAME_FORM_TOL);
        assertLe("chunkwise vs recurrent", relErr(hChunk, hRec), SAME_FORM_TOL);

        // null state = zeros
        float[] hNull = in.newH();
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hNull, B, T, chunk, null);
        assertLe("chunkwise with null state", relErr(hNull, hChunk), ExactMath.IN_THIS_JVM ? 0 : 1e-6);
    }

    @ExactMath
    @Test
    void stateHandOffEqualsOnePass() {
        int B = 2, NH = 2, DK = 6, DV = 4, T1 = 13, T2 = 11, T = T1 + T2;
        Inputs in = Inputs.random(7, B, NH, T, DK, DV, 0, 3, -4, 8);
        Inputs first = in.slice(0, T1), second = in.slice(T1, T);
        MLstmCell cell = new MLstmCell(NH, DK, DV);

        // one pass over T1 + T2
        float[] hAll = in.newH();
        MLstmState sAll = MLstmState.zeros(B, NH, DK, DV);
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hAll, B, T, 4, sAll);
        float[] hAll2 = new float[B * NH * T2 * DV];
        sliceTime(hAll, hAll2, B * NH, T, DV, T1, T);

        // chunkwise over T1 (chunk 4), then chunkwise over T2 (chunk 5) from the state
        MLstmState s = MLstmState.zeros(B, NH, DK, DV);
        cell.forwardChunkwise(first.q, first.k, first.v, first.ig, first.fg, first.newH(), B, T1, 4, s);
        MLstmState afterFirst = s.copy();
        float[] h2 = second.newH();
        cell.forwardChunkwise(second.q, second.k, second.v, second.ig, second.fg, h2, B, T2, 5, s);
        assertLe("chunkwise T1 then chunkwise T2: h", relErr(h2, hAll2), SAME_FORM_TOL);
        assertStatesClose(s, sAll);

        // chunkwise over T1, then step() token by token over T2
        MLstmState s2 = MLstmState.zeros(B, NH, DK, DV);
        s2.copyFrom(afterFirst);
        float[] hSteps = second.newH();
        float[] q = new float[B * NH * DK], k = new float[B * NH * DK], v = new float[B * NH * DV];
        float[] ig = new float[B * NH], fg = new float[B * NH], h = new float[B * NH * DV];
        for (int t = 0; t < T2; t++) {
            Inputs tok = second.slice(t, t + 1);
            System.arraycopy(tok.q, 0, q, 0, q.length);
            System.arraycopy(tok.k, 0, k, 0, k.length);
            System.arraycopy(tok.v, 0, v, 0, v.length);
            System.arraycopy(tok.ig, 0, ig, 0, ig.length);
            System.arraycopy(tok.fg, 0, fg, 0, fg.length);
            cell.step(q, k, v, ig, fg, h, B, s2);
            for (int bh = 0; bh < B * NH; bh++)
                System.arraycopy(h, bh * DV, hSteps, (bh * T2 + t) * DV, DV);
        }
        assertLe("chunkwise T1 then step() over T2: h", relErr(hSteps, hAll2), SAME_FORM_TOL);
        assertStatesClose(s2, sAll);

        // recurrent over T2 from the T1 state
        MLstmState s3 = afterFirst.copy();
        float[] hRec = second.newH();
        cell.forwardRecurrent(second.q, second.k, second.v, second.ig, second.fg, hRec, B, T2, s3);
        assertLe("chunkwise T1 then recurrent T2: h", relErr(hRec, hAll2), SAME_FORM_TOL);
        assertStatesClose(s3, sAll);

        // reset() is the zero state
        s3.reset();
        float[] hA = in.newH(), hB = in.newH();
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hA, B, T, 4, s3);
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hB, B, T, 4, null);
        assertLe("after reset", relErr(hA, hB), 0);
    }

    /**
     * step() on both sides of {@link MLstmCell#COLUMN_TILED_MAX} (column tiles in registers for small head states, a
     * row-by-row stream for large ones, ragged DV tails) equals the scalar recurrence token by token, states included.
     */
    @ParameterizedTest
    @CsvSource({"1, 2, 16, 24", "2, 1, 100, 70", "1, 2, 260, 300", "1, 1, 256, 512", "2, 2, 257, 259"})
    void stepMatchesRecurrenceForSmallAndLargeStates(int B, int NH, int DK, int DV) {
        int T = 4;
        Inputs in = Inputs.random(31L * DK + DV, B, NH, T, DK, DV, 0, 3, -4, 8);
        MLstmCell cell = new MLstmCell(NH, DK, DV);
        MLstmState sStep = MLstmState.zeros(B, NH, DK, DV), sRec = MLstmState.zeros(B, NH, DK, DV);
        float[] hRec = in.newH();
        cell.forwardRecurrent(in.q, in.k, in.v, in.ig, in.fg, hRec, B, T, sRec);
        float[] hSteps = in.newH();
        float[] h = new float[B * NH * DV];
        try (org.xlstm4j.tensor.CpuKernels two = new org.xlstm4j.tensor.CpuKernels(2)) {
            for (int t = 0; t < T; t++) {
                Inputs tok = in.slice(t, t + 1);
                cell.step(two, tok.q, tok.k, tok.v, tok.ig, tok.fg, h, B, sStep);
                for (int bh = 0; bh < B * NH; bh++) System.arraycopy(h, bh * DV, hSteps, (bh * T + t) * DV, DV);
            }
        }
        assertLe("step vs recurrence, DK=" + DK + " DV=" + DV + ": h", relErr(hSteps, hRec), SAME_FORM_TOL);
        assertStatesClose(sStep, sRec);
    }

    @Test
    void buffersAreReusedAcrossShapes() {
        MLstmCell reused = new MLstmCell(2, 6, 4);
        assertThrows(IllegalStateException.class, () -> reused.backward(new float[0], new float[0], new float[0],
                new float[0], new float[0], new float[0]));
        int[][] shapes = {{2, 30, 8}, {1, 5, 3}, {3, 17, 64}, {1, 1, 1}};
        for (int[] sh : shapes) {
            int B = sh[0], T = sh[1], chunk = sh[2];
            Inputs in = Inputs.random(B * 100 + T, B, 2, T, 6, 4, 0, 3, -4, 8);
            float[] R = in.newH();
            fillGaussian(new java.util.SplittableRandom(T), R, 1.0);
            for (boolean parallel : new boolean[]{true, false}) {
                float[][] got = run(reused, in, R, parallel, chunk), want = run(new MLstmCell(2, 6, 4), in, R, parallel, chunk);
                // Not bit for bit: the Vector API's exp/log intrinsics (C2) and its interpreted fallback differ by an ulp
                // or two, so two runs agree exactly only in the same JIT state, which a test cannot pin down (this once
                // failed by 1 ulp under load). A stale or wrongly sized reused buffer gives errors far above 1e-6.
                for (int i = 0; i < got.length; i++)
                    assertLe("reused vs fresh cell, shape " + java.util.Arrays.toString(sh) + ", output " + i,
                            relErr(got[i], want[i]), 1e-6);
            }
        }
        // a step() in between: the next backward has no forward to differentiate
        MLstmState s = MLstmState.zeros(1, 2, 6, 4);
        reused.step(new float[12], new float[12], new float[8], new float[2], new float[2], new float[8], 1, s);
        assertThrows(IllegalStateException.class, () -> reused.backward(new float[0], new float[0], new float[0],
                new float[0], new float[0], new float[0]));
    }

    private static float[][] run(MLstmCell cell, Inputs in, float[] R, boolean parallel, int chunk) {
        float[] h = in.newH();
        if (parallel) cell.forwardParallel(in.q, in.k, in.v, in.ig, in.fg, h, in.B, in.T);
        else cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, h, in.B, in.T, chunk, null);
        float[][] g = {h, new float[in.q.length], new float[in.k.length], new float[in.v.length],
                new float[in.ig.length], new float[in.fg.length]};
        cell.backward(R, g[1], g[2], g[3], g[4], g[5]);
        return g;
    }

    private static void assertStatesClose(MLstmState a, MLstmState ref) {
        assertLe("state C", relErr(a.c, ref.c), SAME_FORM_TOL);
        assertLe("state n", relErr(a.n, ref.n), SAME_FORM_TOL);
        assertLe("state m", relErr(a.m, ref.m), SAME_FORM_TOL);
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    static void assertLe(String what, double err, double tol) {
        assertTrue(err <= tol, what + ": rel err " + err + " > " + tol);
    }
}
