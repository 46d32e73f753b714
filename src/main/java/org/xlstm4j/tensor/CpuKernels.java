package org.xlstm4j.tensor;

/**
 * The SIMD CPU backend: matrix products through the cache-blocked, register-tiled {@link Gemm} (Vector API, packed
 * panels) on a pool of worker threads owned by this instance. Products smaller than {@link #PARALLEL_FLOPS} run on the
 * calling thread without touching the pool; products with one or two rows (decoding) take a direct matrix-vector path
 * ({@link Gemv}) that packs nothing.
 *
 * <p>Calls are serialized (an instance is meant to be used by one model at a time); packing buffers are owned by the
 * instance and reused, so a steady stream of calls allocates nothing. {@link #close()} stops the worker threads.
 */
public final class CpuKernels implements Kernels {
    /** Multiply-adds below which a product runs single-threaded (about 20 µs on one core; waking the pool costs a few µs). */
    static final long PARALLEL_FLOPS = 1L << 20;
    /** Row counts up to this take the matrix-vector path. */
    static final int GEMV_ROWS = 2;

    private final int threads;
    private final WorkerPool pool;
    private final Gemm gemm;
    private final Gemv gemv = new Gemv();

    /** A backend using all available processors. */
    public CpuKernels() {
        this(Runtime.getRuntime().availableProcessors());
    }

    /** A backend using {@code threads} threads (the caller's plus {@code threads - 1} workers); at least 1. */
    public CpuKernels(int threads) {
        this(threads, MicroKernel.NV);
    }

    /** As {@link #CpuKernels(int)} with an explicit tile width of {@code nv} vectors (4 or 2), so tests reach both. */
    CpuKernels(int threads, int nv) {
        if (nv != 4 && nv != 2) throw new IllegalArgumentException("nv must be 4 or 2");
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        this.threads = threads;
        this.gemm = new Gemm(nv);
        this.pool = new WorkerPool(threads, "xlstm-kernels");
        gemm.workspaces = new Gemm.Workspace[threads];
        for (int i = 0; i < threads; i++) gemm.workspaces[i] = new Gemm.Workspace();
    }

    @Override
    public void matmulXWt(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int M, int N, int K,
                          boolean accumulate) {
        product(Gemv.Layout.XWT, x, xOff, w, wOff, y, yOff, M, N, K, accumulate);
    }

    @Override
    public void matmulDyW(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int M, int N, int K,
                          boolean accumulate) {
        product(Gemv.Layout.DYW, dy, dyOff, w, wOff, dx, dxOff, M, N, K, accumulate);
    }

    @Override
    public void matmulDyTX(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int M, int N, int K,
                           boolean accumulate) {
        product(Gemv.Layout.DYTX, dy, dyOff, x, xOff, dw, dwOff, M, N, K, accumulate);
    }

    /**
     * The three products, c (+)= a·b in the layout's sense (see {@link Kernels}): checked, then a GEMV for up to
     * {@link #GEMV_ROWS} rows, else the blocked GEMM with the layout's strides.
     */
    private void product(Gemv.Layout layout, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int M, int N,
                         int K, boolean accumulate) {
        pool.checkNotNested();
        synchronized (this) {
            check(M, N, K);
            long mk = (long) M * K, nk = (long) N * K, mn = (long) M * N;
            switch (layout) {
                case XWT -> { check("x", a, aOff, mk); check("w", b, bOff, nk); check("y", c, cOff, mn); }
                case DYW -> { check("dy", a, aOff, mn); check("w", b, bOff, nk); check("dx", c, cOff, mk); }
                case DYTX -> { check("dy", a, aOff, mn); check("x", b, bOff, mk); check("dw", c, cOff, nk); }
            }
            if (M <= GEMV_ROWS) {
                gemv.set(layout, a, aOff, b, bOff, c, cOff, M, N, K, accumulate);
                runGemv();
                return;
            }
            switch (layout) {
                // A = x (i=m, p=k), B(p=k, j=n) = W[n*K + k], C = y
                case XWT -> runGemm(a, aOff, K, 1, b, bOff, 1, K, c, cOff, N, M, N, K, accumulate);
                // A = dy (i=m, p=n), B = W (p=n, j=k), C = dx
                case DYW -> runGemm(a, aOff, N, 1, b, bOff, K, 1, c, cOff, K, M, K, N, accumulate);
                // A(i=n, p=m) = dy[m*N + n], B = x (p=m, j=k), C = dW
                case DYTX -> runGemm(a, aOff, 1, N, b, bOff, K, 1, c, cOff, K, N, K, M, accumulate);
            }
        }
    }

    private void runGemm(float[] a, int aOff, int aRs, int aCs, float[] b, int bOff, int bRs, int bCs,
                         float[] c, int cOff, int ldc, int I, int J, int P, boolean accumulate) {
        if (I == 0 || J == 0) return;
        Gemm g = gemm;
        g.a = a; g.aOff = aOff; g.aRs = aRs; g.aCs = aCs;
        g.b = b; g.bOff = bOff; g.bRs = bRs; g.bCs = bCs;
        g.c = c; g.cOff = cOff; g.ldc = ldc;
        g.I = I; g.J = J; g.P = P; g.accumulate = accumulate;
        g.plan((long) I * J * P < PARALLEL_FLOPS ? 1 : threads);
        pool.run(g, g.parts);
        g.a = g.b = g.c = null;
    }

    private void runGemv() {
        gemv.plan(threads);
        pool.run(gemv, gemv.parts);
        gemv.clear();
    }

    private static void check(int M, int N, int K) {
        if (M < 0 || N < 0 || K < 0) throw new IllegalArgumentException("negative matrix size " + M + "x" + N + "x" + K);
    }

    private static void check(String name, float[] a, int off, long len) {
        if (off < 0 || off + len > a.length) {
            throw new IllegalArgumentException(name + ": " + len + " elements at offset " + off + " do not fit in an array of " + a.length);
        }
    }

    @Override public int threads() {
        return threads;
    }

    /** The tasks run on this backend's own worker threads (the same ones as the matrix products). */
    @Override public void parallelFor(int tasks, Task body) {
        if (tasks <= 0) return;
        pool.checkNotNested();
        synchronized (this) {
            pool.run(body, tasks);
        }
    }

    @Override public boolean parallelTasks() {
        return threads > 1;
    }

    /** The worker threads, shared with {@link MappedMatmul} so that a backend never has two pools. */
    WorkerPool pool() {
        return pool;
    }

    @Override public String name() {
        return "cpu-simd " + MicroKernel.S.vectorBitSize() + "-bit (" + threads + (threads == 1 ? " thread)" : " threads)");
    }

    /** Stops the worker threads; the instance must not be used afterwards. */
    @Override public void close() {
        pool.close();
    }
}
