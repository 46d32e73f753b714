package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The block-diagonal linear map with square 4×4 blocks over n features (the mLSTM's q/k/v projections, spec §1:
 * weight (n/4, 4, 4), {@code y[4g+o] = Σ_d x[4g+d]·W[g, o, d]}), vectorized across the features of a row: the input
 * vector is rearranged so that each lane sees the d-th input of its own block, and multiplied by a weight vector
 * laid out per d ({@link #prepareForward}). Rows [r0, r1) of row-major {@code [rows, n]} activations; n must be a
 * multiple of 4 (and of the vector length for the SIMD path to cover everything; a ragged tail runs scalar). Each SIMD
 * method has a plain scalar twin ({@code ...Scalar}) over the original weight layout that the tests compare against.
 */
public final class HeadwiseOps {
    private HeadwiseOps() {}

    /** The block size these kernels handle. */
    public static final int BLOCK = 4;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final VectorShuffle<Float> SH0 = shuffle(0), SH1 = shuffle(1), SH2 = shuffle(2), SH3 = shuffle(3);

    private static VectorShuffle<Float> shuffle(int d) {
        return VectorShuffle.fromOp(S, i -> (i / BLOCK) * BLOCK + d);
    }

    /** Whether the SIMD path applies to block size {@code b} on this machine's vector length. */
    public static boolean supports(int inPerHead, int outPerHead) {
        return inPerHead == BLOCK && outPerHead == BLOCK && L % BLOCK == 0;
    }

    /** wd[d·n + j] = w[4j + d]: the weight of input d of each output j's block (for {@link #forward}). */
    public static void prepareForward(float[] w, int n, float[] wd) {
        for (int j = 0; j < n; j++)
            for (int d = 0; d < BLOCK; d++) wd[d * n + j] = w[j * BLOCK + d];
    }

    /** wt[o·n + i] = W[i/4, o, i%4]: the weight linking output o of input i's block back to i (for {@link #backwardDx}). */
    public static void prepareBackward(float[] w, int n, float[] wt) {
        for (int i = 0; i < n; i++) {
            int g = i / BLOCK, d = i % BLOCK;
            for (int o = 0; o < BLOCK; o++) wt[o * n + i] = w[(g * BLOCK + o) * BLOCK + d];
        }
    }

    /** y[r, :] (+)= blockdiag(W)·x[r, :] for r in [r0, r1), with wd from {@link #prepareForward}. */
    public static void forward(float[] x, float[] wd, float[] y, int r0, int r1, int n, boolean accumulate) {
        mixBlocks(x, wd, y, r0, r1, n, accumulate);
    }

    /**
     * out[r, j] (+)= Σ_d in[r, 4⌊j/4⌋ + d]·p[d·n + j]: both directions of the block-diagonal product, given the weight
     * rearranged by {@link #prepareForward} (forward) or {@link #prepareBackward} (input gradient).
     */
    private static void mixBlocks(float[] in, float[] p, float[] out, int r0, int r1, int n, boolean accumulate) {
        int nv = S.loopBound(n);
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int j = 0; j < nv; j += L) {
                FloatVector xv = FloatVector.fromArray(S, in, o + j);
                FloatVector acc = accumulate ? FloatVector.fromArray(S, out, o + j) : FloatVector.zero(S);
                acc = xv.rearrange(SH0).fma(FloatVector.fromArray(S, p, j), acc);
                acc = xv.rearrange(SH1).fma(FloatVector.fromArray(S, p, n + j), acc);
                acc = xv.rearrange(SH2).fma(FloatVector.fromArray(S, p, 2 * n + j), acc);
                acc = xv.rearrange(SH3).fma(FloatVector.fromArray(S, p, 3 * n + j), acc);
                acc.intoArray(out, o + j);
            }
            for (int j = nv; j < n; j++) {
                int base = o + (j / BLOCK) * BLOCK;
                float s = accumulate ? out[o + j] : 0f;
                for (int d = 0; d < BLOCK; d++) s = Math.fma(in[base + d], p[d * n + j], s);
                out[o + j] = s;
            }
        }
    }

    /** Scalar twin of {@link #forward} over the original weight layout (n/4, 4, 4), same operation order. */
    public static void forwardScalar(float[] x, float[] w, float[] y, int r0, int r1, int n, boolean accumulate) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int j = 0; j < n; j++) {
                int base = o + (j / BLOCK) * BLOCK;
                float s = accumulate ? y[o + j] : 0f;
                for (int d = 0; d < BLOCK; d++) s = Math.fma(x[base + d], w[j * BLOCK + d], s);
                y[o + j] = s;
            }
        }
    }

    /** dx[r, :] (+)= blockdiag(W)ᵀ·dy[r, :] for r in [r0, r1), with wt from {@link #prepareBackward}. */
    public static void backwardDx(float[] dy, float[] wt, float[] dx, int r0, int r1, int n, boolean accumulate) {
        mixBlocks(dy, wt, dx, r0, r1, n, accumulate);
    }

    /** Scalar twin of {@link #backwardDx} over the original weight layout. */
    public static void backwardDxScalar(float[] dy, float[] w, float[] dx, int r0, int r1, int n, boolean accumulate) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int i = 0; i < n; i++) {
                int g = i / BLOCK, d = i % BLOCK, base = o + g * BLOCK;
                float s = accumulate ? dx[o + i] : 0f;
                for (int q = 0; q < BLOCK; q++) s = Math.fma(dy[base + q], w[(g * BLOCK + q) * BLOCK + d], s);
                dx[o + i] = s;
            }
        }
    }

    /**
     * acc[d·n + j] += Σ_{r in [r0, r1)} dy[r, j]·x[r, 4(j/4) + d]: the weight gradient in the per-d layout, to be
     * added into the weight's gradient with {@link #finishDw}.
     */
    public static void backwardDw(float[] dy, float[] x, float[] acc, int r0, int r1, int n) {
        int nv = S.loopBound(n);
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int j = 0; j < nv; j += L) {
                FloatVector gv = FloatVector.fromArray(S, dy, o + j), xv = FloatVector.fromArray(S, x, o + j);
                gv.fma(xv.rearrange(SH0), FloatVector.fromArray(S, acc, j)).intoArray(acc, j);
                gv.fma(xv.rearrange(SH1), FloatVector.fromArray(S, acc, n + j)).intoArray(acc, n + j);
                gv.fma(xv.rearrange(SH2), FloatVector.fromArray(S, acc, 2 * n + j)).intoArray(acc, 2 * n + j);
                gv.fma(xv.rearrange(SH3), FloatVector.fromArray(S, acc, 3 * n + j)).intoArray(acc, 3 * n + j);
            }
            for (int j = nv; j < n; j++) {
                int base = o + (j / BLOCK) * BLOCK;
                for (int d = 0; d < BLOCK; d++) acc[d * n + j] = Math.fma(dy[o + j], x[base + d], acc[d * n + j]);
            }
        }
    }

    /** Scalar twin of {@link #backwardDw} (same per-d accumulator layout and order). */
    public static void backwardDwScalar(float[] dy, float[] x, float[] acc, int r0, int r1, int n) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int j = 0; j < n; j++) {
                int base = o + (j / BLOCK) * BLOCK;
                for (int d = 0; d < BLOCK; d++) acc[d * n + j] = Math.fma(dy[o + j], x[base + d], acc[d * n + j]);
            }
        }
    }

    /** dw[4j + d] += acc[d·n + j], then clears acc. */
    public static void finishDw(float[] acc, float[] dw, int n) {
        for (int j = 0; j < n; j++)
            for (int d = 0; d < BLOCK; d++) {
                dw[j * BLOCK + d] += acc[d * n + j];
                acc[d * n + j] = 0f;
            }
    }
}
