package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static org.xlstm4j.tensor.MappedWeight.F;
import static org.xlstm4j.tensor.MappedWeight.L;

/**
 * {@code y[M, N] = x[M, K] · Wᵀ} with W [N, K] a {@link MappedWeight} read in its stored type (bf16, f16 or f32) and
 * x, y float32; products accumulate in float32. Two paths:
 * <ul>
 *   <li>M ≤ {@value #STREAM_ROWS} (decoding): the weight is streamed once, straight from its segment, four rows at a
 *       time (each group of rows is re-read from cache for every row of x), split over threads by output rows. Decoding
 *       at batch 1 is memory-bound: this path reads each weight byte exactly once and does little else.</li>
 *   <li>more rows (a prompt): panels of weight rows are widened to float32 and multiplied with the cache-blocked GEMM
 *       of the {@link Kernels} backend, so each weight element is widened once per call instead of once per row.</li>
 * </ul>
 * Owns a {@link WorkerPool} for the streaming path. Calls are serialized; buffers grow on demand and are reused.
 */
public final class MappedMatmul implements AutoCloseable {
    /** Rows of x up to which the weight is streamed directly. */
    public static final int STREAM_ROWS = 4;
    /** Weight bytes below which the streaming path runs on the calling thread alone. */
    static final long PARALLEL_BYTES = 1L << 17;
    /** Floats per widened panel on the many-rows path (4 MiB: the panel stays in the last-level cache). */
    static final int PANEL_FLOATS = 1 << 20;

    private final Kernels kernels;
    private final int threads;
    private final WorkerPool pool;
    private final StreamJob job = new StreamJob();
    private float[] panel = new float[0], panelOut = new float[0];

    /** Uses {@code kernels} for the many-rows path and {@code threads} threads for the streaming path. */
    public MappedMatmul(Kernels kernels, int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.kernels = kernels;
        this.threads = threads;
        this.pool = new WorkerPool(threads, "xlstm-mapped");
    }

    /** y[M, N] = x[M, K]·Wᵀ (overwrites y; x rows at {@code xOff + m·K}, y rows at {@code yOff + m·N}). */
    public synchronized void matmul(float[] x, int xOff, MappedWeight w, float[] y, int yOff, int M) {
        int N = w.rows(), K = w.cols();
        if (M < 0) throw new IllegalArgumentException("negative row count " + M);
        if (M == 0 || N == 0) return;
        if (xOff < 0 || xOff + (long) M * K > x.length) throw new IllegalArgumentException("x too short for " + M + "x" + K);
        if (yOff < 0 || yOff + (long) M * N > y.length) throw new IllegalArgumentException("y too short for " + M + "x" + N);
        if (M <= STREAM_ROWS) stream(x, xOff, w, y, yOff, M);
        else panels(x, xOff, w, y, yOff, M);
    }

    // ---------------------------------------------------------------- streaming path (few rows)

    private void stream(float[] x, int xOff, MappedWeight w, float[] y, int yOff, int M) {
        StreamJob j = job;
        j.x = x; j.xOff = xOff; j.w = w; j.y = y; j.yOff = yOff; j.M = M;
        int groups = (w.rows() + 3) / 4;
        j.parts = w.byteSize() < PARALLEL_BYTES ? 1 : Math.min(threads, groups);
        pool.run(j, j.parts);
        j.x = j.y = null;
        j.w = null;
    }

    /** One streaming product split by output rows, in groups of four, over {@code parts} threads. */
    private static final class StreamJob implements WorkerPool.Job {
        float[] x, y;
        int xOff, yOff, M, parts;
        MappedWeight w;

        @Override public void run(int part) {
            int groups = (w.rows() + 3) / 4;
            int n0 = Math.min(w.rows(), (int) ((long) groups * part / parts) * 4);
            int n1 = Math.min(w.rows(), (int) ((long) groups * (part + 1) / parts) * 4);
            rows(w, x, xOff, M, y, yOff, n0, n1);
        }
    }

    /** y[m, n] = x[m, :]·W[n, :] for n in [n0, n1), all m < M: four weight rows per pass, one pass per row of x. */
    static void rows(MappedWeight w, float[] x, int xOff, int M, float[] y, int yOff, int n0, int n1) {
        int N = w.rows();
        int n = n0;
        for (; n + 4 <= n1; n += 4)
            for (int m = 0; m < M; m++) {
                int yi = yOff + m * N + n;
                switch (w.storage()) {
                    case BF16 -> dot4Bf16(w, n, x, xOff + m * w.cols(), y, yi);
                    case F16 -> dot4F16(w, n, x, xOff + m * w.cols(), y, yi);
                    case F32 -> dot4F32(w, n, x, xOff + m * w.cols(), y, yi);
                }
            }
        for (; n < n1; n++)
            for (int m = 0; m < M; m++) y[yOff + m * N + n] = dot1(w, n, x, xOff + m * w.cols());
    }

    /** y[yi .. yi+3] = x·W[n .. n+3, :] for a bf16 W; the ragged tail of K scalar. */
    private static void dot4Bf16(MappedWeight w, int n, float[] x, int xi, float[] y, int yi) {
        MemorySegment s = w.data();
        int K = w.cols(), kv = F.loopBound(K);
        long rb = 2L * K, o0 = n * rb, o1 = o0 + rb, o2 = o1 + rb, o3 = o2 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < kv; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + k);
            long b = 2L * k;
            a0 = MappedWeight.bf16(s, o0 + b).fma(xv, a0);
            a1 = MappedWeight.bf16(s, o1 + b).fma(xv, a1);
            a2 = MappedWeight.bf16(s, o2 + b).fma(xv, a2);
            a3 = MappedWeight.bf16(s, o3 + b).fma(xv, a3);
        }
        finish4(w, n, x, xi, kv, a0, a1, a2, a3, y, yi);
    }

    /** As {@link #dot4Bf16} for an f16 W. */
    private static void dot4F16(MappedWeight w, int n, float[] x, int xi, float[] y, int yi) {
        MemorySegment s = w.data();
        int K = w.cols(), kv = F.loopBound(K);
        long rb = 2L * K, o0 = n * rb, o1 = o0 + rb, o2 = o1 + rb, o3 = o2 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < kv; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + k);
            long b = 2L * k;
            a0 = MappedWeight.f16(s, o0 + b).fma(xv, a0);
            a1 = MappedWeight.f16(s, o1 + b).fma(xv, a1);
            a2 = MappedWeight.f16(s, o2 + b).fma(xv, a2);
            a3 = MappedWeight.f16(s, o3 + b).fma(xv, a3);
        }
        finish4(w, n, x, xi, kv, a0, a1, a2, a3, y, yi);
    }

    /** As {@link #dot4Bf16} for an f32 W. */
    private static void dot4F32(MappedWeight w, int n, float[] x, int xi, float[] y, int yi) {
        MemorySegment s = w.data();
        int K = w.cols(), kv = F.loopBound(K);
        long rb = 4L * K, o0 = n * rb, o1 = o0 + rb, o2 = o1 + rb, o3 = o2 + rb;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < kv; k += L) {
            FloatVector xv = FloatVector.fromArray(F, x, xi + k);
            long b = 4L * k;
            a0 = MappedWeight.f32(s, o0 + b).fma(xv, a0);
            a1 = MappedWeight.f32(s, o1 + b).fma(xv, a1);
            a2 = MappedWeight.f32(s, o2 + b).fma(xv, a2);
            a3 = MappedWeight.f32(s, o3 + b).fma(xv, a3);
        }
        finish4(w, n, x, xi, kv, a0, a1, a2, a3, y, yi);
    }

    /** Reduces the four accumulators, adds the scalar tail k in [kv, K), stores y[yi .. yi+3]. */
    private static void finish4(MappedWeight w, int n, float[] x, int xi, int kv, FloatVector a0, FloatVector a1,
                                FloatVector a2, FloatVector a3, float[] y, int yi) {
        float d0 = a0.reduceLanes(VectorOperators.ADD), d1 = a1.reduceLanes(VectorOperators.ADD);
        float d2 = a2.reduceLanes(VectorOperators.ADD), d3 = a3.reduceLanes(VectorOperators.ADD);
        for (int k = kv; k < w.cols(); k++) {
            float xv = x[xi + k];
            d0 += xv * w.get(n, k);
            d1 += xv * w.get(n + 1, k);
            d2 += xv * w.get(n + 2, k);
            d3 += xv * w.get(n + 3, k);
        }
        y[yi] = d0; y[yi + 1] = d1; y[yi + 2] = d2; y[yi + 3] = d3;
    }

    /** x·W[n, :] for one weight row (the rows left over after the groups of four). */
    private static float dot1(MappedWeight w, int n, float[] x, int xi) {
        int K = w.cols(), kv = F.loopBound(K);
        long o = w.offset(n, 0), step = (long) L * w.storage().bytes;
        FloatVector a = FloatVector.zero(F);
        for (int k = 0; k < kv; k += L, o += step) a = w.load(o).fma(FloatVector.fromArray(F, x, xi + k), a);
        float d = a.reduceLanes(VectorOperators.ADD);
        for (int k = kv; k < K; k++) d += x[xi + k] * w.get(n, k);
        return d;
    }

    /** Scalar twin of the streaming path: y[m, n] = Σₖ x[m, k]·W[n, k] in float32, for n in [n0, n1). */
    static void rowsScalar(MappedWeight w, float[] x, int xOff, int M, float[] y, int yOff, int n0, int n1) {
        int N = w.rows(), K = w.cols();
        for (int m = 0; m < M; m++)
            for (int n = n0; n < n1; n++) {
                float s = 0f;
                for (int k = 0; k < K; k++) s += x[xOff + m * K + k] * w.get(n, k);
                y[yOff + m * N + n] = s;
            }
    }

    // ---------------------------------------------------------------- many-rows path (a prompt)

    /** Widens panels of weight rows to float32 and multiplies each with the backend's GEMM. */
    private void panels(float[] x, int xOff, MappedWeight w, float[] y, int yOff, int M) {
        int N = w.rows(), K = w.cols();
        int rowsPerPanel = Math.max(1, Math.min(N, PANEL_FLOATS / Math.max(K, 1)));
        panel = Buffers.ensure(panel, rowsPerPanel * K);
        panelOut = Buffers.ensure(panelOut, M * rowsPerPanel);
        for (int p0 = 0; p0 < N; p0 += rowsPerPanel) {
            int nb = Math.min(rowsPerPanel, N - p0);
            w.decode(p0, p0 + nb, panel, 0);
            if (nb == N) {                                   // the whole matrix in one panel: y directly
                kernels.matmulXWt(x, xOff, panel, 0, y, yOff, M, N, K, false);
                return;
            }
            kernels.matmulXWt(x, xOff, panel, 0, panelOut, 0, M, nb, K, false);
            for (int m = 0; m < M; m++) System.arraycopy(panelOut, m * nb, y, yOff + m * N + p0, nb);
        }
    }

    /** Number of threads of the streaming path. */
    public int threads() { return threads; }

    /** Stops the worker threads. */
    @Override public void close() {
        pool.close();
    }
}
