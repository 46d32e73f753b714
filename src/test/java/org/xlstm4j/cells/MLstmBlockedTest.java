package org.xlstm4j.cells;

import org.junit.jupiter.api.Test;
import org.xlstm4j.cells.MLstmTestSupport.Inputs;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.cells.MLstmTestSupport.fillGaussian;

/**
 * The blocked SIMD chunkwise form ({@code MLstmChunkwiseBlocked}, the default) against its scalar twin, the
 * token-by-token double-precision {@code MLstmChunkwise} ({@link MLstmCell#useReference}): outputs, final states and
 * every input gradient, on random shapes with ragged chunks (T not a multiple of the chunk, chunk ≥ T), with and
 * without an initial state, serially and with the heads on two threads, in the heads-major and the rows-major layout,
 * and with the output kept by reference. Gate pre-activations span ±8 so both stabilizer branches and the e^(−m)
 * normalizer floor are exercised.
 */
class MLstmBlockedTest {
    /**
     * float32 products against double accumulation: max error relative to the largest value of each tensor, or to
     * {@link #FLOOR} when that is smaller (with one token, d q and d k are exact cancellations of O(1) terms, ~1e-6,
     * where float rounding of those terms is all that is left). The gate pre-activations here make some denominators
     * nearly singular (gradients up to ~2000): float32 rounding of num and r, amplified by 1/den, then gives up to
     * ~7e-5 of the largest gradient whatever the chunk size, so the tolerance is 2e-4.
     */
    static final double TOL = 2e-4, FLOOR = 0.05;

    @Test
    void blockedEqualsReferenceOnRaggedShapes() {
        int[][] cases = {  // B, NH, T, DK, DV, chunk
                {1, 1, 1, 4, 4, 1}, {2, 2, 7, 4, 3, 3}, {1, 2, 20, 8, 5, 64}, {2, 3, 33, 6, 4, 16},
                {1, 2, 40, 16, 24, 8}, {3, 1, 64, 8, 8, 16}, {1, 4, 50, 20, 17, 7}, {2, 2, 70, 32, 32, 64},
        };
        try (CpuKernels cpu = new CpuKernels(2)) {
            Kernels two = cpu;
            int seed = 0;
            for (int[] c : cases) {
                for (boolean withState : new boolean[]{false, true}) {
                    seed++;
                    Inputs in = Inputs.random(seed, c[0], c[1], c[2], c[3], c[4], 0, 3, -8, 8);
                    MLstmState init = withState ? randomState(seed, c[0], c[1], c[3], c[4]) : null;
                    Result ref = run(in, c[5], init, null, false, false, true);
                    String where = "B=" + c[0] + " NH=" + c[1] + " T=" + c[2] + " DK=" + c[3] + " DV=" + c[4] + " L=" + c[5]
                            + (withState ? " state" : "");
                    compare(where + " serial", ref, run(in, c[5], init, null, false, false, false));
                    compare(where + " 2 threads", ref, run(in, c[5], init, two, false, false, false));
                    compare(where + " rows layout", ref, run(in, c[5], init, two, true, false, false));
                    compare(where + " rows layout, h kept", ref, run(in, c[5], init, null, true, true, false));
                }
            }
        }
        System.out.printf("mLSTM blocked vs reference chunkwise: worst %.2e (%s), tol %.0e%n", worst, worstWhere, TOL);
    }

    private static double worst;
    private static String worstWhere = "";

    private record Result(float[] h, float[] dq, float[] dk, float[] dv, float[] dig, float[] dfg, MLstmState state) {}

    /** Runs forward + backward in the heads layout, or (rows) in the rows layout with inputs and outputs transposed. */
    private static Result run(Inputs in, int chunk, MLstmState init, Kernels k, boolean rows, boolean keep, boolean reference) {
        int B = in.B, NH = in.NH, T = in.T, DK = in.DK, DV = in.DV;
        MLstmCell cell = new MLstmCell(NH, DK, DV);
        cell.useReference(reference);
        MLstmState s = init == null ? null : init.copy();
        float[] dh = new float[B * NH * T * DV];
        fillGaussian(new SplittableRandom(99), dh, 1.0);
        float[] h = in.newH(), dq = new float[in.q.length], dk = new float[in.k.length], dv = new float[in.v.length];
        float[] dig = new float[in.ig.length], dfg = new float[in.fg.length];
        if (!rows) {
            cell.forwardChunkwise(k, in.q, in.k, in.v, in.ig, in.fg, h, B, T, chunk, s, false, keep);
            cell.backward(dh, dq, dk, dv, dig, dfg);
            return new Result(h, dq, dk, dv, dig, dfg, s);
        }
        float[] q = toRows(in.q, B, T, NH, DK), kk = toRows(in.k, B, T, NH, DK), v = toRows(in.v, B, T, NH, DV);
        float[] ig = toRows(in.ig, B, T, NH, 1), fg = toRows(in.fg, B, T, NH, 1), dhR = toRows(dh, B, T, NH, DV);
        float[] hR = new float[h.length], dqR = new float[dq.length], dkR = new float[dk.length], dvR = new float[dv.length];
        float[] digR = new float[dig.length], dfgR = new float[dfg.length];
        cell.forwardChunkwise(k, q, kk, v, ig, fg, hR, B, T, chunk, s, true, keep);
        cell.backward(dhR, dqR, dkR, dvR, digR, dfgR);
        return new Result(toHeads(hR, B, T, NH, DV), toHeads(dqR, B, T, NH, DK), toHeads(dkR, B, T, NH, DK),
                toHeads(dvR, B, T, NH, DV), toHeads(digR, B, T, NH, 1), toHeads(dfgR, B, T, NH, 1), s);
    }

    private static void compare(String where, Result ref, Result got) {
        check(where + " h", err(got.h, ref.h));
        check(where + " dq", err(got.dq, ref.dq));
        check(where + " dk", err(got.dk, ref.dk));
        check(where + " dv", err(got.dv, ref.dv));
        check(where + " digate", err(got.dig, ref.dig));
        check(where + " dfgate", err(got.dfg, ref.dfg));
        if (ref.state != null) {
            check(where + " C", err(got.state.c, ref.state.c));
            check(where + " n", err(got.state.n, ref.state.n));
            check(where + " m", err(got.state.m, ref.state.m));
        }
    }

    private static double err(float[] got, float[] ref) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxErr = Math.max(maxErr, Math.abs((double) got[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs((double) ref[i]));
        }
        return maxErr / Math.max(maxRef, FLOOR);
    }

    private static void check(String what, double err) {
        if (err > worst) { worst = err; worstWhere = what; }
        assertTrue(err <= TOL, what + ": rel err " + err + " > " + TOL);
    }

    private static MLstmState randomState(long seed, int B, int NH, int DK, int DV) {
        MLstmState s = MLstmState.zeros(B, NH, DK, DV);
        SplittableRandom r = new SplittableRandom(seed * 31 + 7);
        fillGaussian(r, s.c, 0.5);
        fillGaussian(r, s.n, 0.5);
        fillGaussian(r, s.m, 1.0);
        return s;
    }

    private static float[] toRows(float[] heads, int B, int T, int NH, int D) {
        float[] r = new float[heads.length];
        Buffers.headsToRows(heads, r, B, T, NH, D);
        return r;
    }

    private static float[] toHeads(float[] rows, int B, int T, int NH, int D) {
        float[] h = new float[rows.length];
        Buffers.rowsToHeads(rows, h, B, T, NH, D);
        return h;
    }
}
