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
    /** Weight elements below which one thread streams the whole weight (about 5 µs from cache; waking the pool costs a few). */
    static final long PARALLEL_MACS = 1L << 16;

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
        long work = (long) Math.max(M, 1) * N * K;   // memory-bound: worth splitting much earlier than a GEMM
        int units = layout == Layout.DYW ? (K + L - 1) / L : N;
        parts = work < PARALLEL_MACS ? 1 : Math.max(1, Math.min(maxParts, units));
    }

    @Override public void run(int part, int worker) {
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

    /**
     * y[m, n0:n1] (+)= x[m,:]·W[n0:n1,:]ᵀ. The weight is read once, row after row as one sequential stream (which the
     * hardware prefetcher follows far better than several interleaved row streams), with four accumulators per row so
     * that the FMA latency is hidden; two rows of x share each pass over a weight row.
     */
    private void xwt(int n0, int n1) {
        int m = 0;
        for (; m + 2 <= M; m += 2) xwt2(aOff + m * K, aOff + (m + 1) * K, cOff + m * N, cOff + (m + 1) * N, n0, n1);
        if (m < M) xwt1(aOff + m * K, cOff + m * N, n0, n1);
    }

    private void xwt1(int xi, int yi, int n0, int n1) {
        int k4 = K - K % (4 * L), kv = S.loopBound(K);
        for (int n = n0; n < n1; n++) {
            int wi = wOff + n * K;
            FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
            int k = 0;
            for (; k < k4; k += 4 * L) {
                s0 = FloatVector.fromArray(S, w, wi + k).fma(FloatVector.fromArray(S, a, xi + k), s0);
                s1 = FloatVector.fromArray(S, w, wi + k + L).fma(FloatVector.fromArray(S, a, xi + k + L), s1);
                s2 = FloatVector.fromArray(S, w, wi + k + 2 * L).fma(FloatVector.fromArray(S, a, xi + k + 2 * L), s2);
                s3 = FloatVector.fromArray(S, w, wi + k + 3 * L).fma(FloatVector.fromArray(S, a, xi + k + 3 * L), s3);
            }
            for (; k < kv; k += L) s0 = FloatVector.fromArray(S, w, wi + k).fma(FloatVector.fromArray(S, a, xi + k), s0);
            float d = s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
            for (; k < K; k++) d += a[xi + k] * w[wi + k];
            put(yi + n, d);
        }
    }

    private void xwt2(int xi, int xj, int yi, int yj, int n0, int n1) {
        int k2 = K - K % (2 * L), kv = S.loopBound(K);
        for (int n = n0; n < n1; n++) {
            int wi = wOff + n * K;
            FloatVector s0 = FloatVector.zero(S), s1 = s0, t0 = s0, t1 = s0;
            int k = 0;
            for (; k < k2; k += 2 * L) {
                FloatVector w0 = FloatVector.fromArray(S, w, wi + k), w1 = FloatVector.fromArray(S, w, wi + k + L);
                s0 = w0.fma(FloatVector.fromArray(S, a, xi + k), s0);
                t0 = w0.fma(FloatVector.fromArray(S, a, xj + k), t0);
                s1 = w1.fma(FloatVector.fromArray(S, a, xi + k + L), s1);
                t1 = w1.fma(FloatVector.fromArray(S, a, xj + k + L), t1);
            }
            for (; k < kv; k += L) {
                FloatVector w0 = FloatVector.fromArray(S, w, wi + k);
                s0 = w0.fma(FloatVector.fromArray(S, a, xi + k), s0);
                t0 = w0.fma(FloatVector.fromArray(S, a, xj + k), t0);
            }
            float d = s0.add(s1).reduceLanes(VectorOperators.ADD), e = t0.add(t1).reduceLanes(VectorOperators.ADD);
            for (; k < K; k++) {
                d += a[xi + k] * w[wi + k];
                e += a[xj + k] * w[wi + k];
            }
            put(yi + n, d);
            put(yj + n, e);
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
