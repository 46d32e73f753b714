package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.IdentityHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.xlstm4j.tensor.MappedWeight.F;
import static org.xlstm4j.tensor.MappedWeight.I;
import static org.xlstm4j.tensor.MappedWeight.L;

/**
 * {@code y[M, N] = x[M, K] · Wᵀ} with W [N, K] a {@link MappedWeight} read in its stored type (bf16, f16 or f32) and
 * x, y float32; products accumulate in float32. Two paths:
 * <ul>
 *   <li>M ≤ {@value #STREAM_ROWS} (decoding): the weight is streamed once, straight from its segment, row after row
 *       (each row is re-read from cache for the other rows of x; at batch 1, rows of ≥ {@value #PAIR_COLS} bf16 columns
 *       two at a time), the threads taking blocks of rows as they go; or from a {@link ColumnPanels} copy kept by
 *       {@link #keepPanels} for long bf16 rows.
 *       Decoding at batch 1 is memory-bound: this path reads each weight byte exactly once and does little else.</li>
 *   <li>more rows (a prompt): panels of weight rows are widened to float32 and multiplied with the cache-blocked GEMM
 *       of the {@link Kernels} backend, so each weight element is widened once per call instead of once per row.</li>
 * </ul>
 * The streaming path runs on the worker threads of the {@link CpuKernels} it is given (one pool per backend), or on a
 * {@link WorkerPool} of its own for another backend or thread count. Calls are serialized; buffers grow on demand and are reused.
 */
public final class MappedMatmul implements AutoCloseable {
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
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
    private float[] panel = new float[0], panelOut = new float[0], xs = new float[0];
    /** Column-panel copies of long-row weights ({@link #keepPanels}), in memory of {@link #panelArena}. */
    private final IdentityHashMap<MappedWeight, ColumnPanels> columnPanels = new IdentityHashMap<>();
    private Arena panelArena;

    /**
     * Uses {@code kernels} for the many-rows path and {@code threads} threads for the streaming path; column panels as
     * {@code -Dxlstm4j.panels} says ({@link ColumnPanels.Policy#fromSystemProperty}: long when unset).
     */
    public MappedMatmul(Kernels kernels, int threads) {
        this(kernels, threads, ColumnPanels.Policy.fromSystemProperty());
    }

    /** As {@link #MappedMatmul(Kernels, int)} with the column-panel policy given. */
    public MappedMatmul(Kernels kernels, int threads, ColumnPanels.Policy policy) {
        this.policy = java.util.Objects.requireNonNull(policy, "policy");
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.kernels = kernels;
        this.threads = threads;
        this.ownPool = !(kernels instanceof CpuKernels c && c.threads() == threads);
        this.pool = ownPool ? new WorkerPool(threads, "xlstm-mapped") : ((CpuKernels) kernels).pool();
    }

    private final boolean ownPool;   // false: the CPU backend's workers are shared (one pool per backend)

    /** Which weights {@link #keepPanels(MappedWeight)} copies. */
    private final ColumnPanels.Policy policy;
    private boolean closed;

    /**
     * Keeps a {@link ColumnPanels} copy of {@code w} for the streaming path when this object's policy copies it; by
     * default bf16 rows of more than 4,096 columns, e.g. the FFN down projections of the xLSTM-Large models: that
     * product then streams at the memory bandwidth instead of 65–90% of it, at the cost of holding a copy of the matrix
     * (its stored size) until {@link #close}. Called once per weight, before decoding; returns the bytes copied (0 when
     * the policy leaves w mapped only, w was kept before, or w is a {@code MappedMemorySegment}: without native access
     * the mappings keep that kind, and copies of another kind in the same loads make them slower, see
     * {@link HugePages#asPlainNative}).
     */
    public synchronized long keepPanels(MappedWeight w) {
        return keepPanels(w, policy);
    }

    /** As {@link #keepPanels(MappedWeight)} under the given policy. */
    public synchronized long keepPanels(MappedWeight w, ColumnPanels.Policy policy) {
        if (closed) throw new IllegalStateException("MappedMatmul is closed");
        if (!policy.copies(w) || w.data().isMapped() || columnPanels.containsKey(w)) return 0;
        if (panelArena == null) panelArena = Arena.ofShared();
        ColumnPanels p = ColumnPanels.copyOf(w, panelArena);
        columnPanels.put(w, p);
        return p.byteSize();
    }

    /** y[M, N] = x[M, K]·Wᵀ (overwrites y; x rows at {@code xOff + m·K}, y rows at {@code yOff + m·N}). */
    public synchronized void matmul(float[] x, int xOff, MappedWeight w, float[] y, int yOff, int M) {
        int N = w.rows(), K = w.cols();
        if (M < 0) throw new IllegalArgumentException("negative row count " + M);
        if (M == 0 || N == 0) return;
        if (xOff < 0 || xOff + (long) M * K > x.length) throw new IllegalArgumentException("x too short for " + M + "x" + K);
        if (yOff < 0 || yOff + (long) M * N > y.length) throw new IllegalArgumentException("y too short for " + M + "x" + N);
        if (w.pairSplit()) {                                   // x in the order 16-bit rows are read
            xs = Buffers.ensure(xs, M * K);
            for (int m = 0; m < M; m++) MappedWeight.splitPairs(x, xOff + m * K, xs, m * K, K);
            x = xs;
            xOff = 0;
        }
        if (M > STREAM_ROWS) {
            panels(x, xOff, w, y, yOff, M);
            return;
        }
        StreamJob j = job;                                     // the streaming path, inline: see the note on StreamJob
        ColumnPanels cp = columnPanels.isEmpty() ? null : columnPanels.get(w);
        j.x = x; j.xOff = xOff; j.w = w; j.panels = cp; j.y = y; j.yOff = yOff; j.M = M;
        j.rowsPerBlock = (int) Math.max(1, BLOCK_BYTES * (cp == null ? 1 : cp.count) / Math.max(1, w.byteSize() / w.rows()));
        int parts = w.byteSize() < PARALLEL_BYTES ? 1 : Math.min(Math.min(threads, 64), w.rows());
        j.reset(parts);
        pool.run(j, parts);
        j.x = j.y = null;
        j.w = null;
        j.panels = null;
    }

    // ---------------------------------------------------------------- streaming path (few rows)

    /**
     * Weight bytes per block of rows that a thread claims at a time: long enough that each thread's sequential stream
     * (and the hardware prefetcher following it) rarely restarts. On the 1B decode benchmark 16 KiB blocks streamed
     * at 33% of the read bandwidth, 64 KiB at ~24 GB/s and 256 KiB at 30–32 GB/s (2 threads, 2026-11-30).
     */
    static final long BLOCK_BYTES = 1L << 18;

    /**
     * One streaming product: the rows are split into one contiguous range per part; the threads claim blocks of about
     * {@value #BLOCK_BYTES} bytes from their own range first and then from the others' until none are left, so a
     * thread that the OS pauses (a shared machine) delays nobody else. With column panels, a block is about that many
     * bytes per panel: its rows' slices in each panel in turn.
     *
     * <p>Note on call depth: C2 turns Vector API calls into vector instructions only when it inlines them completely,
     * and it stops inlining 15 calls below the method it compiles. A model's block method inlines {@code matmul}, so
     * the path from there to the loads is kept short: matmul → pool → this job → rows → dot → Vector API.
     */
    private static final class StreamJob implements WorkerPool.Job {
        /** Per part: the next row of its contiguous range [N·p/parts, N·(p+1)/parts) (on separate cache lines). */
        final java.util.concurrent.atomic.AtomicIntegerArray next = new java.util.concurrent.atomic.AtomicIntegerArray(16 * 64);
        float[] x, y;
        int xOff, yOff, M, rowsPerBlock, parts;
        MappedWeight w;
        ColumnPanels panels;

        /**
         * Part p streams its own contiguous range block by block (one long sequential stream per thread, which the
         * prefetchers follow best), then helps the other parts with what is left of theirs.
         */
        @Override public void run(int part, int worker) {
            int N = w.rows();
            for (int i = 0; i < parts; i++) {
                int r = (part + i) % parts, end = (int) ((long) N * (r + 1) / parts);
                for (int n0; (n0 = next.getAndAdd(16 * r, rowsPerBlock)) < end; ) {
                    if (panels != null) panelRows(panels, x, xOff, M, y, yOff, n0, Math.min(end, n0 + rowsPerBlock));
                    else rows(w, x, xOff, M, y, yOff, n0, Math.min(end, n0 + rowsPerBlock));
                }
            }
        }

        void reset(int parts) {
            this.parts = parts;
            int N = w.rows();
            for (int r = 0; r < parts; r++) next.set(16 * r, (int) ((long) N * r / parts));
        }
    }

    /**
     * y[m, n] = x[m, :]·W[n, :] for n in [n0, n1), all m &lt; M, with x in the weight's reading order (pair-split for
     * 16-bit weights, see {@link MappedWeight}): one weight row at a time, read from memory for m = 0 and from cache for
     * the other rows of x. (One sequential stream per thread runs closer to the memory bandwidth than several rows
     * interleaved, except for long bf16 rows at batch 1, which go two at a time: see {@link #PAIR_COLS}.)
     */
    static void rows(MappedWeight w, float[] x, int xOff, int M, float[] y, int yOff, int n0, int n1) {
        int N = w.rows(), K = w.cols();
        if (PAIRS && M == 1 && w.storage() == MappedWeight.Storage.BF16 && K >= PAIR_COLS) {
            int n = n0;
            for (; n + 1 < n1; n += 2) dotBf16Pair(w, n, x, xOff, y, yOff + n);
            for (; n < n1; n++) y[yOff + n] = dotBf16(w.data(), w.offset(n, 0), K, x, xOff);
            return;
        }
        for (int n = n0; n < n1; n++)
            for (int m = 0; m < M; m++)
                y[yOff + m * N + n] = switch (w.storage()) {
                    case BF16 -> dotBf16(w.data(), w.offset(n, 0), K, x, xOff + m * K);
                    case F16 -> dotF16(w, n, x, xOff + m * K);
                    case F32 -> dotF32(w, n, x, xOff + m * K);
                };
    }

    /**
     * x·w for K bf16 values w at byte offset o of s and pair-split x: each 32-bit lane holds two elements; the even one
     * shifted up and the odd one with the lower half cleared are exact float32s (bf16 is the upper half of a float32).
     * Four accumulators (so that one thread is not limited by the FMA latency), the ragged tail scalar.
     */
    private static float dotBf16(MemorySegment s, long o, int K, float[] x, int xi) {
        int blocks = K / (2 * L) * (2 * L), blocks2 = K / (4 * L) * (4 * L);
        FloatVector even = FloatVector.zero(F), odd = even, even2 = even, odd2 = even;
        int k = 0;
        for (; k < blocks2; k += 4 * L) {                     // two blocks per step: four independent FMA chains
            IntVector v = IntVector.fromMemorySegment(I, s, o + 2L * k, LE);          // lane i: elements 2i, 2i+1
            IntVector u = IntVector.fromMemorySegment(I, s, o + 2L * (k + 2 * L), LE);
            even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + k), even);
            odd = v.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + k + L), odd);
            even2 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + k + 2 * L), even2);
            odd2 = u.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + k + 3 * L), odd2);
        }
        even = even.add(even2);
        odd = odd.add(odd2);
        for (; k < blocks; k += 2 * L) {
            IntVector v = IntVector.fromMemorySegment(I, s, o + 2L * k, LE);          // lane i: elements 2i, 2i+1
            even = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + k), even);
            odd = v.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, x, xi + k + L), odd);
        }
        float d = even.add(odd).reduceLanes(VectorOperators.ADD);
        for (k = blocks; k < K; k++) d += x[xi + k] * Float.intBitsToFloat((s.get(I16, o + 2L * k) & 0xffff) << 16);
        return d;
    }

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    /**
     * y[m, n] for n in [n0, n1), all m &lt; M, from column panels: panel by panel, each row's slice multiplied with the
     * matching slice of x (pair-split, as the rows); y[m, n] = ((p₀ + p₁) + p₂) + … over the panels' dot products.
     */
    static void panelRows(ColumnPanels p, float[] x, int xOff, int M, float[] y, int yOff, int n0, int n1) {
        int N = p.rows, K = p.cols;
        for (int c = 0; c < p.count; c++) {
            int k0 = p.start(c), width = p.width(c);
            for (int n = n0; n < n1; n++) {
                long o = p.offset(c, n);
                for (int m = 0; m < M; m++) {
                    float d = dotBf16(p.data, o, width, x, xOff + m * K + k0);
                    int i = yOff + m * N + n;
                    y[i] = c == 0 ? d : y[i] + d;
                }
            }
        }
    }

    /** Scalar twin of {@link #panelRows} (x in natural order): each panel's sum in column order, the panels' sums in order. */
    static void panelRowsScalar(ColumnPanels p, float[] x, int xOff, int M, float[] y, int yOff, int n0, int n1) {
        int N = p.rows, K = p.cols;
        for (int m = 0; m < M; m++)
            for (int n = n0; n < n1; n++) {
                float total = 0f;
                for (int c = 0; c < p.count; c++) {
                    float s = 0f;
                    for (int k = p.start(c); k < p.start(c) + p.width(c); k++) s += x[xOff + m * K + k] * p.get(n, k);
                    total = c == 0 ? s : total + s;
                }
                y[yOff + m * N + n] = total;
            }
    }

    /**
     * Rows of at least this many bf16 columns are streamed two at a time ({@link #dotBf16Pair}). An x that long (32 KiB
     * and more) no longer stays in L1 beside the weight stream, and a single row's dot product then streams at about
     * half a plain sum's rate (10,944 columns, the 7B's FFN down projection: 11.6–12.5 vs 26 GB/s on one thread); two
     * rows sharing each x load streamed 15.3 GB/s there (one thread; two threads 20.4–23.7 vs 18.5–20.9), gained at
     * 8,192 columns, nothing at 5,504 and lost at 4,096 (15 vs 22 GB/s), hence the threshold (docs/PERFORMANCE.md,
     * 2026-12-01).
     */
    static final int PAIR_COLS = 8192;
    /** {@code -Dxlstm4j.pairs=false} turns the two-row path off (for A/B measurements). */
    static final boolean PAIRS = Boolean.parseBoolean(System.getProperty("xlstm4j.pairs", "true"));

    /** Two rows n, n+1 at once (x loaded once for both); each row's sums in the same order as {@link #dotBf16}. */
    private static void dotBf16Pair(MappedWeight w, int n, float[] x, int xi, float[] y, int yi) {
        MemorySegment s = w.data();
        int K = w.cols(), blocks = K / (2 * L) * (2 * L), blocks2 = K / (4 * L) * (4 * L);
        long o = w.offset(n, 0), p = w.offset(n + 1, 0);
        FloatVector e = FloatVector.zero(F), d = e, e2 = e, d2 = e, f = e, g = e, f2 = e, g2 = e;
        int k = 0;
        for (; k < blocks2; k += 4 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xi + k), x1 = FloatVector.fromArray(F, x, xi + k + L);
            FloatVector x2 = FloatVector.fromArray(F, x, xi + k + 2 * L), x3 = FloatVector.fromArray(F, x, xi + k + 3 * L);
            IntVector v = IntVector.fromMemorySegment(I, s, o + 2L * k, LE), u = IntVector.fromMemorySegment(I, s, o + 2L * (k + 2 * L), LE);
            IntVector a = IntVector.fromMemorySegment(I, s, p + 2L * k, LE), b = IntVector.fromMemorySegment(I, s, p + 2L * (k + 2 * L), LE);
            e = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, e);
            d = v.and(0xffff0000).reinterpretAsFloats().fma(x1, d);
            e2 = u.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x2, e2);
            d2 = u.and(0xffff0000).reinterpretAsFloats().fma(x3, d2);
            f = a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, f);
            g = a.and(0xffff0000).reinterpretAsFloats().fma(x1, g);
            f2 = b.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x2, f2);
            g2 = b.and(0xffff0000).reinterpretAsFloats().fma(x3, g2);
        }
        e = e.add(e2);
        d = d.add(d2);
        f = f.add(f2);
        g = g.add(g2);
        for (; k < blocks; k += 2 * L) {
            FloatVector x0 = FloatVector.fromArray(F, x, xi + k), x1 = FloatVector.fromArray(F, x, xi + k + L);
            IntVector v = IntVector.fromMemorySegment(I, s, o + 2L * k, LE), a = IntVector.fromMemorySegment(I, s, p + 2L * k, LE);
            e = v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, e);
            d = v.and(0xffff0000).reinterpretAsFloats().fma(x1, d);
            f = a.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(x0, f);
            g = a.and(0xffff0000).reinterpretAsFloats().fma(x1, g);
        }
        y[yi] = tail(w, n, x, xi, blocks, e.add(d));
        y[yi + 1] = tail(w, n + 1, x, xi, blocks, f.add(g));
    }

    /** As {@link #dotBf16} for an f16 W. */
    private static float dotF16(MappedWeight w, int n, float[] x, int xi) {
        MemorySegment s = w.data();
        int K = w.cols(), blocks = K / (2 * L) * (2 * L);
        long o = w.offset(n, 0);
        FloatVector even = FloatVector.zero(F), odd = even;
        for (int k = 0; k < blocks; k += 2 * L) {
            IntVector v = IntVector.fromMemorySegment(I, s, o + 2L * k, LE);
            even = MappedWeight.f16Even(v).fma(FloatVector.fromArray(F, x, xi + k), even);
            odd = MappedWeight.f16Odd(v).fma(FloatVector.fromArray(F, x, xi + k + L), odd);
        }
        return tail(w, n, x, xi, blocks, even.add(odd));
    }

    /** x·W[n, :] for an f32 W (natural order), two accumulators. */
    private static float dotF32(MappedWeight w, int n, float[] x, int xi) {
        MemorySegment s = w.data();
        int K = w.cols(), blocks = K / (2 * L) * (2 * L);
        long o = w.offset(n, 0);
        FloatVector a0 = FloatVector.zero(F), a1 = a0;
        for (int k = 0; k < blocks; k += 2 * L) {
            a0 = FloatVector.fromMemorySegment(F, s, o + 4L * k, LE).fma(FloatVector.fromArray(F, x, xi + k), a0);
            a1 = FloatVector.fromMemorySegment(F, s, o + 4L * (k + L), LE).fma(FloatVector.fromArray(F, x, xi + k + L), a1);
        }
        return tail(w, n, x, xi, blocks, a0.add(a1));
    }

    /** Reduces the accumulator and adds the ragged tail k in [k0, K), which both orders keep in place. */
    private static float tail(MappedWeight w, int n, float[] x, int xi, int k0, FloatVector acc) {
        float d = acc.reduceLanes(VectorOperators.ADD);
        for (int k = k0; k < w.cols(); k++) d += x[xi + k] * w.get(n, k);
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
            w.decodeSplit(p0, p0 + nb, panel, 0);              // same order as x: the dot products are unchanged
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

    /** Stops the worker threads when they are this object's own (a shared backend's pool stays up) and frees the panel copies. */
    @Override public synchronized void close() {
        closed = true;
        if (ownPool) pool.close();
        columnPanels.clear();
        if (panelArena != null) panelArena.close();
        panelArena = null;
    }
}
