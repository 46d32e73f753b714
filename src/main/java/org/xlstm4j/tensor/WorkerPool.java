package org.xlstm4j.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed set of daemon worker threads that run the parts of one job at a time: the caller runs part 0 itself and
 * waits for the workers' parts 1..n-1. Workers spin briefly for the next job (matrix products come in bursts) and then
 * park, so an idle pool costs no CPU. Dispatch allocates nothing.
 */
final class WorkerPool implements AutoCloseable {
    /** One parallel job; {@code run(part)} is called once for each part in [0, parts). */
    interface Job {
        void run(int part);
    }

    private static final long SPIN_NANOS = 50_000;

    private final Thread[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile Job job;
    private volatile int parts;
    private volatile long generation;
    private volatile boolean closed;
    private volatile Thread caller;
    private volatile Throwable failure;

    /** A pool able to run jobs of up to {@code threads} parts (it starts {@code threads - 1} workers). */
    WorkerPool(int threads, String name) {
        workers = new Thread[Math.max(0, threads - 1)];
        for (int i = 0; i < workers.length; i++) {
            int part = i + 1;
            Thread t = new Thread(() -> workerLoop(part), name + "-" + part);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    /** Runs {@code job} on parts [0, n) (n at most the pool's thread count) and returns when all are done. */
    void run(Job job, int n) {
        if (n > workers.length + 1) throw new IllegalArgumentException(n + " parts for a pool of " + (workers.length + 1) + " threads");
        if (n <= 1) {
            job.run(0);
            return;
        }
        this.job = job;
        this.parts = n;
        this.caller = Thread.currentThread();
        this.failure = null;
        pending.set(n - 1);
        generation++;
        for (int i = 0; i < n - 1; i++) LockSupport.unpark(workers[i]);
        Throwable own = null;
        try {
            job.run(0);
        } catch (Throwable t) {
            own = t;
        }
        long start = System.nanoTime();
        while (pending.get() != 0) {
            if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
            else LockSupport.park(this);
        }
        this.job = null;
        Throwable t = own != null ? own : failure;
        if (t instanceof RuntimeException r) throw r;
        if (t instanceof Error e) throw e;
        if (t != null) throw new IllegalStateException(t);
    }

    private void workerLoop(int part) {
        long seen = 0;
        while (true) {
            long start = System.nanoTime();
            while (generation == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) Thread.onSpinWait();
                else LockSupport.park(this);
            }
            if (closed) return;
            seen = generation;
            if (part < parts) {
                try {
                    job.run(part);
                } catch (Throwable t) {
                    failure = t;
                }
                if (pending.decrementAndGet() == 0) LockSupport.unpark(caller);
            }
        }
    }

    @Override public void close() {
        closed = true;
        for (Thread t : workers) LockSupport.unpark(t);
    }
}
