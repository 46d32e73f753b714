package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import static org.xlstm4j.tensor.MicroKernel.L;
import static org.xlstm4j.tensor.MicroKernel.S;

/**
 * The three linear-layer products for very few rows M (token-by-token decoding), where packing would cost as much as
 * the product: plain SIMD dot products and AXPYs straight over the weight, which is streamed once per row. A mutable job
 * description like {@link Gemm}: set the fields, plan, run its parts on a {@link WorkerPool}.
 */
final class Gemv implements WorkerPool.Job {
    enum Layout { XWT, DYW, DYTX }

    private Layout layout;
    private float[] a, w, c;
    private int aOff, wOff, cOff, M, N, K;
    private boolean accumulate;
    int parts;

    /**
     * XWT: y = x·Wᵀ with a = x, c = y; DYW: dx = dy·W with a = dy, c = dx; DYTX: dW = dyᵀ·x with a = dy, w = x, c = dW.
     * Shapes and offsets as in {@link Kernels}.
     */
    void set(Layout layout, float[] a, int aOff, float[] w, int wOff, float[] c, int cOff, int M, int N, int K, boolean accumulate) {
        this.layout = layout;
        this.a = a; this.aOff = aOff; this.w = w; this.wOff = wOff; this.c = c; this.cOff = cOff;
        this.M = M; this.N = N; this.K = K; this.accumulate = accumulate;
    }

    void clear() {
        a = w = c = null;
    }

    /** Splits over at most {@code maxParts} parts: by output rows n (XWT, DYTX) or by column ranges of k (DYW). */
    void plan(int maxParts) {
        long work = (long) Math.max(M, 1) * N * K;
        int units = layout == Layout.DYW ? (K + L - 1) / L : N;
        parts = work < CpuKernels.PARALLEL_FLOPS ? 1 : Math.max(1, Math.min(maxParts, units));
    }

    @Override public void run(int part) {
        switch (layout) {
            case XWT -> xwt(bound(N, 1, part), bound(N, 1, part + 1));
            case DYTX -> dytx(bound(N, 1, part), bound(N, 1, part + 1));
            case DYW -> dyw(bound(K, L, part), bound(K, L, part + 1));
        }
    }

    /** Start of part {@code part} when [0, n) is split evenly into parts in multiples of {@code unit}. */
    private int bound(int n, int unit, int part) {
        int units = (n + unit - 1) / unit;
        return Math.min(n, (int) ((long) units * part / parts) * unit);
    }

    /** y[m, n0:n1] (+)= x[m,:]·W[n0:n1,:]ᵀ, four weight rows at a time. */
    private void xwt(int n0, int n1) {
        int kv = S.loopBound(K);
        for (int m = 0; m < M; m++) {
            int xi = aOff + m * K, yi = cOff + m * N;
            int n = n0;
            for (; n + 4 <= n1; n += 4) {
                int w0 = wOff + n * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                int k = 0;
                for (; k < kv; k += L) {
                    FloatVector xv = FloatVector.fromArray(S, a, xi + k);
                    s0 = FloatVector.fromArray(S, w, w0 + k).fma(xv, s0);
                    s1 = FloatVector.fromArray(S, w, w1 + k).fma(xv, s1);
                    s2 = FloatVector.fromArray(S, w, w2 + k).fma(xv, s2);
                    s3 = FloatVector.fromArray(S, w, w3 + k).fma(xv, s3);
                }
                float d0 = s0.reduceLanes(VectorOperators.ADD), d1 = s1.reduceLanes(VectorOperators.ADD);
                float d2 = s2.reduceLanes(VectorOperators.ADD), d3 = s3.reduceLanes(VectorOperators.ADD);
                for (; k < K; k++) {
                    float xv = a[xi + k];
                    d0 += xv * w[w0 + k]; d1 += xv * w[w1 + k]; d2 += xv * w[w2 + k]; d3 += xv * w[w3 + k];
                }
                put(yi + n, d0); put(yi + n + 1, d1); put(yi + n + 2, d2); put(yi + n + 3, d3);
            }
            for (; n < n1; n++) put(yi + n, VectorOps.dot(a, xi, w, wOff + n * K, K));
        }
    }

    /** dx[m, k0:k1] (+)= Σₙ dy[m,n]·W[n, k0:k1], four weight rows per pass over the dx slice. */
    private void dyw(int k0, int k1) {
        for (int m = 0; m < M; m++) {
            int di = cOff + m * K, gi = aOff + m * N;
            if (!accumulate) java.util.Arrays.fill(c, di + k0, di + k1, 0f);
            int kv = k0 + S.loopBound(k1 - k0);
            int n = 0;
            for (; n + 4 <= N; n += 4) {
                float g0 = a[gi + n], g1 = a[gi + n + 1], g2 = a[gi + n + 2], g3 = a[gi + n + 3];
                FloatVector v0 = FloatVector.broadcast(S, g0), v1 = FloatVector.broadcast(S, g1);
                FloatVector v2 = FloatVector.broadcast(S, g2), v3 = FloatVector.broadcast(S, g3);
                int w0 = wOff + n * K, w1 = w0 + K, w2 = w1 + K, w3 = w2 + K;
                int k = k0;
                for (; k < kv; k += L) {
                    FloatVector acc = FloatVector.fromArray(S, c, di + k);
                    acc = FloatVector.fromArray(S, w, w0 + k).fma(v0, acc);
                    acc = FloatVector.fromArray(S, w, w1 + k).fma(v1, acc);
                    acc = FloatVector.fromArray(S, w, w2 + k).fma(v2, acc);
                    acc = FloatVector.fromArray(S, w, w3 + k).fma(v3, acc);
                    acc.intoArray(c, di + k);
                }
                for (; k < k1; k++) c[di + k] += g0 * w[w0 + k] + g1 * w[w1 + k] + g2 * w[w2 + k] + g3 * w[w3 + k];
            }
            for (; n < N; n++) VectorOps.axpy(a[gi + n], w, wOff + n * K + k0, c, di + k0, k1 - k0);
        }
    }

    /** dW[n0:n1, :] (+)= Σₘ dy[m, n]·x[m, :]. */
    private void dytx(int n0, int n1) {
        for (int n = n0; n < n1; n++) {
            int di = cOff + n * K;
            if (!accumulate) java.util.Arrays.fill(c, di, di + K, 0f);
            for (int m = 0; m < M; m++) VectorOps.axpy(a[aOff + m * N + n], w, wOff + m * K, c, di, K);
        }
    }

    private void put(int i, float v) {
        c[i] = accumulate ? c[i] + v : v;
    }
}
