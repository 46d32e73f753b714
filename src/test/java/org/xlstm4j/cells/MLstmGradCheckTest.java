package org.xlstm4j.cells;

import org.junit.jupiter.api.Test;
import org.xlstm4j.cells.MLstmTestSupport.Inputs;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.cells.MLstmTestSupport.*;

/**
 * Finite-difference checks of both backward passes with the loss L = Σ h·R (fixed random R, accumulated in double).
 * Derivatives use the 4-point central stencil (8(L(x+δ) − L(x−δ)) − (L(x+2δ) − L(x−2δ)))/(12δ), truncation error
 * O(δ⁴·L⁽⁵⁾).
 *
 * <p>Two kinds of check:
 * <ol>
 *   <li><b>exact</b>: the analytic gradient of the float32 cell vs finite differences of the same function evaluated
 *   in double by the independent references of {@link MLstmTestSupport} (parallel: §3.3; chunkwise: the recurrence
 *   §3.2, which is the identical function, stabilizer conventions included). Float rounding in the FD is then ≈ 1e-16
 *   relative, so a small step works on any input: q, k, v ~ N(0, 1) and gate pre-activations ~ U(−8, 8), which
 *   exercises the exp(−m) normalizer branch and near-singular denominators. The remaining error is the float32
 *   forward's rounding as seen by the analytic gradient (≈ 1e-6 relative, more where the denominator is small).</li>
 *   <li><b>float32</b>: finite differences of the float32 cell itself with a large step δ = 1/64 (≈ 1e-2 relative),
 *   on inputs where L is smooth at that scale: q, k > 0 (so every normalizer term is positive and |r| ≥ 0.5) and
 *   ĩ ~ U(1, 8) (so exp(−m) ≤ e⁻¹ never becomes the active branch); f̃ ~ U(−8, 8). The rounding error of L
 *   (≈ 1e-7·Σ|h·R|) then contributes ≈ 1e-7·Σ|h·R|/δ ≈ 1e-5·Σ|h·R| absolute, which sets the tolerance.</li>
 * </ol>
 */
class MLstmGradCheckTest {
    /** Exact check: step and tolerance (max |fd − analytic| / max |analytic| per tensor). */
    static final double EXACT_STEP = 1.0 / 16384, EXACT_TOL = 1e-5;
    /** float32 check: step and tolerance. */
    static final double F32_STEP = 1.0 / 64, F32_TOL = 1e-3;

    static final String[] NAMES = {"q", "k", "v", "igate", "fgate"};

    /** L with element i of input tensor p shifted by delta (the input is restored afterwards). */
    interface ShiftedLoss {
        double at(int p, int i, double delta);
    }

    // ---------------------------------------------------------------- exact checks (double-precision FD)

    @Test
    void parallelBackwardIsExactGradient() {
        checkParallelExact("exact parallel", 11, 1e-6f);
    }

    /**
     * With eps = 0.05 the output depends visibly on the stabilizers (through eps·exp(m), spec §3.5), so these cases
     * would fail if the backward treated m as a constant (with eps = 1e-6 that changes gradients by only ~1e-5).
     */
    @Test
    void backwardThroughStabilizersIsExact() {
        checkParallelExact("exact parallel eps=0.05", 13, 0.05f);
        Inputs in = Inputs.random(61, 2, 2, 11, 4, 3, 0, 0, -8, 8);
        uniformGates(in, 62, -8, 8);
        checkChunkwiseExact("exact chunkwise L=4 eps=0.05", in, 4, stateAfterPrefix(63, 2, 2, 4, 3, false), 0.05f);
    }

    private static void checkParallelExact(String form, long seed, float eps) {
        Inputs in = Inputs.random(seed, 2, 2, 9, 4, 3, 0, 0, -8, 8);
        uniformGates(in, seed + 1, -8, 8);
        MLstmCell cell = new MLstmCell(in.NH, in.DK, in.DV, eps);
        cell.forwardParallel(in.q, in.k, in.v, in.ig, in.fg, in.newH(), in.B, in.T);
        float[] R = randomR(in);
        float[][] g = backward(cell, in, R);
        double[][] x = doubles(in);
        ShiftedLoss loss = (p, i, delta) -> {
            double x0 = x[p][i];
            x[p][i] = x0 + delta;
            double L = dotR(referenceParallel(in.B, in.NH, in.T, in.DK, in.DV, x[0], x[1], x[2], x[3], x[4], eps), R);
            x[p][i] = x0;
            return L;
        };
        compare(form, g, loss, EXACT_STEP, EXACT_TOL);
    }

    @Test
    void chunkwiseBackwardIsExactGradient() {
        for (int chunk : new int[]{1, 4, 16}) {
            Inputs in = Inputs.random(21 + chunk, 2, 2, 11, 4, 3, 0, 0, -8, 8);
            uniformGates(in, 22 + chunk, -8, 8);
            checkChunkwiseExact("exact chunkwise L=" + chunk, in, chunk, null, 1e-6f);
        }
    }

    @Test
    void chunkwiseBackwardFromInitialStateIsExactGradient() {
        int B = 2, NH = 2, DK = 4, DV = 3;
        MLstmState init = stateAfterPrefix(31, B, NH, DK, DV, false);
        Inputs in = Inputs.random(33, B, NH, 10, DK, DV, 0, 0, -8, 8);
        uniformGates(in, 34, -8, 8);
        checkChunkwiseExact("exact chunkwise L=4, state", in, 4, init, 1e-6f);
    }

    private static void checkChunkwiseExact(String form, Inputs in, int chunk, MLstmState init, float eps) {
        checkChunkwiseExact(form, in, chunk, init, eps, false);
        checkChunkwiseExact(form + " (double-precision reference)", in, chunk, init, eps, true);   // the oracle of MLstmBlockedTest
    }

    private static void checkChunkwiseExact(String form, Inputs in, int chunk, MLstmState init, float eps, boolean reference) {
        MLstmCell cell = new MLstmCell(in.NH, in.DK, in.DV, eps);
        cell.useReference(reference);
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, in.newH(), in.B, in.T, chunk,
                init == null ? null : init.copy());
        float[] R = randomR(in);
        float[][] g = backward(cell, in, R);
        double[][] x = doubles(in);
        ShiftedLoss loss = (p, i, delta) -> {
            double x0 = x[p][i];
            x[p][i] = x0 + delta;
            double L = dotR(referenceRecurrent(in.B, in.NH, in.T, in.DK, in.DV, x[0], x[1], x[2], x[3], x[4],
                    init, eps, null, null, null), R);
            x[p][i] = x0;
            return L;
        };
        compare(form, g, loss, EXACT_STEP, EXACT_TOL);
    }

    // ---------------------------------------------------------------- float32 checks (large step, smooth loss)

    @Test
    void parallelBackwardMatchesFloat32FiniteDifferences() {
        Inputs in = smoothInputs(41, 2, 2, 9, 4, 3);
        checkFloat32("float32 parallel", in, (cell, h) -> cell.forwardParallel(in.q, in.k, in.v, in.ig, in.fg, h, in.B, in.T));
    }

    @Test
    void chunkwiseBackwardMatchesFloat32FiniteDifferences() {
        Inputs in = smoothInputs(51, 2, 2, 11, 4, 3);
        MLstmState init = stateAfterPrefix(52, 2, 2, 4, 3, true);
        checkFloat32("float32 chunkwise L=4, state", in, (cell, h) ->
                cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, h, in.B, in.T, 4, init.copy()));
    }

    interface Forward {
        void run(MLstmCell cell, float[] h);
    }

    private static void checkFloat32(String form, Inputs in, Forward fwd) {
        MLstmCell cell = new MLstmCell(in.NH, in.DK, in.DV);
        fwd.run(cell, in.newH());
        float[] R = randomR(in);
        float[][] g = backward(cell, in, R);
        MLstmCell probe = new MLstmCell(in.NH, in.DK, in.DV);
        float[][] x = {in.q, in.k, in.v, in.ig, in.fg};
        float[] h = in.newH();
        ShiftedLoss loss = (p, i, delta) -> {
            float x0 = x[p][i];
            x[p][i] = (float) (x0 + delta);   // δ is a power of two: x0 ± δ is exact for these magnitudes
            fwd.run(probe, h);
            x[p][i] = x0;
            double L = 0;
            for (int j = 0; j < h.length; j++) L += (double) h[j] * R[j];
            return L;
        };
        compare(form, g, loss, F32_STEP, F32_TOL);
    }

    // ---------------------------------------------------------------- helpers

    private static void compare(String form, float[][] analytic, ShiftedLoss loss, double step, double tol) {
        for (int p = 0; p < analytic.length; p++) {
            double maxErr = 0, maxG = 0;
            for (int i = 0; i < analytic[p].length; i++) {
                double fd = (8 * (loss.at(p, i, step) - loss.at(p, i, -step))
                        - (loss.at(p, i, 2 * step) - loss.at(p, i, -2 * step))) / (12 * step);
                maxErr = Math.max(maxErr, Math.abs(fd - analytic[p][i]));
                maxG = Math.max(maxG, Math.abs(analytic[p][i]));
            }
            double rel = maxErr / maxG;
            System.out.printf("grad check %-28s d%-6s max|fd-analytic|/max|analytic| = %.2e (max|g| %.3g, tol %.0e)%n",
                    form, NAMES[p], rel, maxG, tol);
            assertTrue(rel <= tol, form + " d" + NAMES[p] + ": rel err " + rel + " > " + tol);
        }
    }

    private static float[][] backward(MLstmCell cell, Inputs in, float[] R) {
        float[][] g = {new float[in.q.length], new float[in.k.length], new float[in.v.length],
                new float[in.ig.length], new float[in.fg.length]};
        cell.backward(R, g[0], g[1], g[2], g[3], g[4]);
        return g;
    }

    private static double[][] doubles(Inputs in) {
        return new double[][]{toDouble(in.q), toDouble(in.k), toDouble(in.v), toDouble(in.ig), toDouble(in.fg)};
    }

    private static float[] randomR(Inputs in) {
        float[] R = in.newH();
        fillGaussian(new SplittableRandom(99), R, 1.0);
        return R;
    }

    private static double dotR(double[] h, float[] R) {
        double L = 0;
        for (int j = 0; j < h.length; j++) L += h[j] * R[j];
        return L;
    }

    private static void uniformGates(Inputs in, long seed, double igLo, double igHi) {
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < in.ig.length; i++) in.ig[i] = (float) (igLo + (igHi - igLo) * r.nextDouble());
        for (int i = 0; i < in.fg.length; i++) in.fg[i] = (float) (16 * r.nextDouble() - 8);
    }

    /** q, k = |N(0,1)| + 0.5 (positive), v ~ N(0, 1), ĩ ~ U(1, 8), f̃ ~ U(−8, 8): L is smooth at the 1e-2 scale. */
    private static Inputs smoothInputs(long seed, int B, int NH, int T, int DK, int DV) {
        Inputs in = Inputs.random(seed, B, NH, T, DK, DV, 0, 0, -8, 8);
        for (int i = 0; i < in.q.length; i++) in.q[i] = Math.abs(in.q[i]) + 0.5f;
        for (int i = 0; i < in.k.length; i++) in.k[i] = Math.abs(in.k[i]) + 0.5f;
        uniformGates(in, seed + 1, 1, 8);
        return in;
    }

    /** A realistic non-zero state: the recurrence run over a random 6-token prefix (its m is far from 0). */
    private static MLstmState stateAfterPrefix(long seed, int B, int NH, int DK, int DV, boolean smooth) {
        Inputs prefix = smooth ? smoothInputs(seed, B, NH, 6, DK, DV) : Inputs.random(seed, B, NH, 6, DK, DV, 0, 0, -8, 8);
        if (!smooth) uniformGates(prefix, seed + 1, -8, 8);
        MLstmState s = MLstmState.zeros(B, NH, DK, DV);
        new MLstmCell(NH, DK, DV).forwardRecurrent(prefix.q, prefix.k, prefix.v, prefix.ig, prefix.fg,
                prefix.newH(), B, prefix.T, s);
        return s;
    }
}
