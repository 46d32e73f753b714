package org.xlstm4j.tensor;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link Kernels} that adds {@link #parallelFor} on worker threads of its own to a backend whose
 * {@code parallelFor} is the serial default; the matrix products go to the wrapped backend unchanged. Models wrap
 * their backend with {@link #withTasks} so that cells and row-wise kernels can spread work over the backend's thread
 * count. When the wrapped backend implements {@code parallelFor} itself (or has one thread), {@link #withTasks}
 * returns it as is, so there is never a second pool next to one that could be shared.
 *
 * <p>Scheduling is work-sharing with a caller that never waits for an idle worker: tasks are claimed from one atomic
 * counter (tagged with the job's number, so a late worker cannot claim from the next job), the calling thread claims
 * and runs tasks too, and it returns as soon as every task has <em>finished</em> — a worker that was not scheduled in
 * time (another process holds its core) simply finds nothing left to do. On a busy machine a fork-join that waits for
 * every worker to check in costs a scheduler time slice per call; this one degrades to running on the caller.
 * Dispatch allocates nothing. Workers are daemons that spin briefly and then park; they stop with {@link #close()} or
 * when this object becomes unreachable. {@code close()} does not close the wrapped backend.
 */
public final class PooledKernels implements Kernels {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Kernels inner;
    private final int threads;
    private final Pool pool;
    private final Cleaner.Cleanable cleanable;

    /** The backend itself if it already runs tasks in parallel or has one thread, else a wrapper with its own workers. */
    public static Kernels withTasks(Kernels k) {
        if (k.parallelTasks() || k.threads() <= 1 || k instanceof PooledKernels) return k;
        return new PooledKernels(k);
    }

    private PooledKernels(Kernels inner) {
        this.inner = inner;
        this.threads = inner.threads();
        Pool p = new Pool(threads);
        this.pool = p;
        this.cleanable = CLEANER.register(this, p::close);
    }

    /** The wrapped backend. */
    public Kernels inner() { return inner; }

    /**
     * The workers and the current job. {@code claim} packs the job number (high 32 bits) and the next task index (low
     * 32 bits); a worker claims task i of job j only by a CAS from (j, i) to (j, i + 1), so it can never run a task of
     * a job other than the one whose fields it read.
     */
    private static final class Pool {
        private static final long SPIN_NANOS = 50_000;

        final Thread[] workers;
        final AtomicLong claim = new AtomicLong();
        final AtomicInteger done = new AtomicInteger();
        volatile Task body;
        volatile int tasks;
        volatile boolean closed;
        volatile Thread waiter;
        volatile Throwable failure;

        Pool(int threads) {
            workers = new Thread[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                int index = i + 1;
                Thread t = new Thread(() -> workerLoop(index), "xlstm-tasks-" + index);
                t.setDaemon(true);
                workers[i] = t;
                t.start();
            }
        }

        void run(int n, Task task) {
            body = task;
            tasks = n;
            failure = null;
            done.set(0);
            waiter = Thread.currentThread();
            long job = (claim.get() >>> 32) + 1;
            claim.set(job << 32);                         // publishes the job (volatile write after the fields)
            for (Thread w : workers) LockSupport.unpark(w);
            work(job, 0);
            long start = System.nanoTime();
            while (done.get() < n) {                       // only tasks a worker has claimed can still be running
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000);
            }
            body = null;
            Throwable t = failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }

        /** Claims and runs tasks of job {@code job} until none is left; returns whether it ran any. */
        boolean work(long job, int worker) {
            boolean ran = false;
            while (true) {
                long v = claim.get();
                if ((v >>> 32) != job) return ran;
                int i = (int) v;
                if (i >= tasks) return ran;
                if (!claim.compareAndSet(v, v + 1)) continue;
                ran = true;
                try {
                    body.run(i, worker);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
                if (done.incrementAndGet() == tasks && worker != 0) LockSupport.unpark(waiter);
            }
        }

        private void workerLoop(int index) {
            long seen = 0;
            while (!closed) {
                long job = claim.get() >>> 32;
                if (job != seen) {
                    seen = job;
                    work(job, index);
                    continue;
                }
                long start = System.nanoTime();
                while ((claim.get() >>> 32) == seen && !closed) {
                    if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                    else LockSupport.park(this);
                }
            }
        }

        void close() {
            closed = true;
            for (Thread w : workers) LockSupport.unpark(w);
        }
    }

    private volatile boolean inParallel;

    @Override public void parallelFor(int tasks, Task body) {
        if (inParallel) throw new IllegalStateException("parallelFor must not be nested (or called from a task)");
        synchronized (this) {
            if (tasks <= 1) {
                for (int i = 0; i < tasks; i++) body.run(i, 0);
                return;
            }
            inParallel = true;
            try {
                pool.run(tasks, body);
            } finally {
                inParallel = false;
            }
        }
    }

    @Override public boolean parallelTasks() { return true; }

    @Override public void matmulXWt(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int M, int N, int K, boolean accumulate) {
        inner.matmulXWt(x, xOff, w, wOff, y, yOff, M, N, K, accumulate);
    }

    @Override public void matmulDyW(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int M, int N, int K, boolean accumulate) {
        inner.matmulDyW(dy, dyOff, w, wOff, dx, dxOff, M, N, K, accumulate);
    }

    @Override public void matmulDyTX(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int M, int N, int K, boolean accumulate) {
        inner.matmulDyTX(dy, dyOff, x, xOff, dw, dwOff, M, N, K, accumulate);
    }

    @Override public int threads() { return threads; }

    @Override public String name() { return inner.name(); }

    /** Stops this wrapper's workers (not the wrapped backend). */
    @Override public void close() {
        cleanable.clean();
    }
}
