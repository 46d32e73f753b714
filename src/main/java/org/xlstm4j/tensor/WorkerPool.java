package org.xlstm4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The one set of worker threads of a CPU backend: runs the parts of one job at a time (matrix-product parts, the
 * tasks of {@link Kernels#parallelFor}, streaming products of memory-mapped weights). A backend owns exactly one pool,
 * so on a machine with few cores there are never two groups of spinning workers competing for them.
 *
 * <p>Scheduling is work-sharing with a caller that never waits for an idle worker: parts are claimed from one atomic
 * counter (tagged with the job's number, so a late worker cannot claim a part of the next job), the calling thread
 * claims and runs parts too, and it returns as soon as every part has <em>finished</em>. A worker that was not scheduled
 * in time (another process holds its core) simply finds nothing left, instead of costing the caller a scheduler time
 * slice. Each part runs exactly once, on one thread, so per-part scratch (indexed by the part) is safe; {@code worker}
 * is the running thread's index (0 = caller), so per-thread scratch indexed by it is safe too. Workers spin briefly for
 * the next job (calls come in bursts) and then park. Dispatch allocates nothing.
 */
final class WorkerPool implements AutoCloseable {
    /** One parallel job; {@code run(part, worker)} is called once for each part in [0, parts). */
    interface Job extends Kernels.Task {}

    private static final long SPIN_NANOS = 50_000;

    private final Thread[] workers;
    private final AtomicLong claim = new AtomicLong();      // job number (high 32 bits) | next part (low 32 bits)
    private final AtomicInteger done = new AtomicInteger();
    private volatile Kernels.Task job;
    private volatile int parts;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;
    private volatile boolean running;

    /** A pool of {@code threads} threads: the caller plus {@code threads - 1} workers. */
    WorkerPool(int threads, String name) {
        workers = new Thread[Math.max(0, threads - 1)];
        for (int i = 0; i < workers.length; i++) {
            int index = i + 1;
            Thread t = new Thread(() -> workerLoop(index), name + "-" + index);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** Threads of this pool, the caller's included. */
    int threads() {
        return workers.length + 1;
    }

    /** Runs {@code job} on parts [0, n) (any n ≥ 0) and returns when all are done; a part's exception is rethrown. */
    void run(Kernels.Task job, int n) {
        checkNotNested();
        synchronized (this) {
            runLocked(job, n);
        }
    }

    /**
     * Throws when called from inside a job of this pool (from a part running on the caller or on a worker): such a
     * nested call could only deadlock or corrupt the running job.
     */
    void checkNotNested() {
        Thread t = Thread.currentThread();
        boolean nested = running && t == caller;
        for (Thread w : workers) nested |= w == t;
        if (nested) throw new IllegalStateException("nested parallel call: a task of a backend's pool must not call the backend");
    }

    private void runLocked(Kernels.Task job, int n) {
        if (n <= 1 || workers.length == 0) {
            for (int i = 0; i < n; i++) job.run(i, 0);
            return;
        }
        running = true;
        try {
            // close the previous job's counter before its fields change: a worker that read a stale (id, i) and then
            // this job's fields must fail its CAS instead of running one of this job's parts under the old id
            long id = (claim.get() >>> 32) + 1;
            claim.set(((id - 1) << 32) | Integer.MAX_VALUE);
            this.job = job;
            this.parts = n;
            this.failure = null;
            this.caller = Thread.currentThread();
            done.set(0);
            claim.set(id << 32);                              // publishes the job (volatile write after the fields)
            for (int i = 0; i < Math.min(workers.length, n - 1); i++) LockSupport.unpark(workers[i]);
            work(id, 0);
            long start = System.nanoTime();
            while (done.get() < n) {                          // only parts a worker has claimed can still be running
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000);
            }
            this.job = null;
            Throwable t = failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            running = false;
        }
    }

    /** Claims and runs parts of job {@code id} until none is left. */
    private void work(long id, int worker) {
        while (true) {
            long v = claim.get();
            if ((v >>> 32) != id) return;
            int i = (int) v;
            Kernels.Task j = job;
            if (i >= parts || j == null) return;
            if (!claim.compareAndSet(v, v + 1)) continue;
            try {
                j.run(i, worker);
            } catch (Throwable t) {
                if (failure == null) failure = t;
            }
            if (done.incrementAndGet() == parts && worker != 0) LockSupport.unpark(caller);
        }
    }

    private void workerLoop(int index) {
        long seen = 0;
        while (!closed) {
            long id = claim.get() >>> 32;
            if (id != seen) {
                seen = id;
                work(id, index);
                continue;
            }
            long start = System.nanoTime();
            while ((claim.get() >>> 32) == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
        }
    }

    @Override public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
