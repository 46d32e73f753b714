package org.xlstm4j.tensor;

/**
 * The compute backend the model runs on. Every layer receives one instance (no global singleton), so a model can be
 * built over the SIMD CPU kernels or the plain scalar twin (for tests). The GPU runs models through the model-level
 * backends instead ({@code XLstmOps}, {@code LargeOps}), whose CPU implementations call these kernels.
 *
 * <p>All arrays are row-major float32; offsets are element offsets. "accumulate" adds into the output instead of
 * overwriting it. Shapes follow the PyTorch convention: a weight W is stored (out, in) = (N, K).
 */
public interface Kernels extends AutoCloseable {
    /** y[M,N] (+)= x[M,K] · W[N,K]ᵀ — the forward of a linear layer. */
    void matmulXWt(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int M, int N, int K, boolean accumulate);

    /** dx[M,K] (+)= dy[M,N] · W[N,K] — the input gradient of a linear layer. */
    void matmulDyW(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int M, int N, int K, boolean accumulate);

    /** dW[N,K] (+)= dy[M,N]ᵀ · x[M,K] — the weight gradient of a linear layer. */
    void matmulDyTX(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int M, int N, int K, boolean accumulate);

    /** Number of worker threads this backend uses (1 for the scalar twin). */
    int threads();

    /** The body of {@link #parallelFor}: runs task {@code task} on worker {@code worker} (0 ≤ worker &lt; threads()). */
    @FunctionalInterface
    interface Task {
        void run(int task, int worker);
    }

    /**
     * Runs {@code body.run(i, worker)} once for every task i in [0, tasks) and returns when all are done. Tasks must be
     * independent; a backend may run them concurrently on its threads, in any order, each worker index in use by one
     * thread at a time (so per-worker scratch can be indexed by it). The body must not call this backend (matmuls or
     * parallelFor). The default runs them in order on the calling thread as worker 0.
     */
    default void parallelFor(int tasks, Task body) {
        for (int i = 0; i < tasks; i++) body.run(i, 0);
    }

    /** Whether {@link #parallelFor} really spreads tasks over several threads (false for the default serial loop). */
    default boolean parallelTasks() {
        return false;
    }

    /** A short human-readable name, e.g. "cpu-simd (2 threads)". */
    String name();

    @Override default void close() {}
}
