package org.xlstm4j.tensor;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The machine's memory read bandwidth as a decoding benchmark sees it: threads sum 1 MiB blocks of an off-heap buffer
 * much larger than the caches (a plain streaming read, SIMD integer adds), claiming blocks from a shared counter as
 * {@link MappedMatmul} does. Keep one instance to measure repeatedly (next to another measurement, so both see the
 * same load on a shared machine); {@link #close()} frees the buffer.
 */
public final class MemoryBandwidth implements AutoCloseable {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final int STEP = S.vectorByteSize();
    /** Bytes a thread claims at a time (a multiple of four vectors). */
    private static final long BLOCK = 1L << 20;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofShared();
    private final WorkerPool pool;
    private final MemorySegment buf;
    private final long n;
    private final int threads;
    private final long[] sums;
    private final AtomicLong next = new AtomicLong();
    private final WorkerPool.Job job;

    /** A buffer of about {@code bytes} bytes (whole MiBs), every page touched, read by {@code threads} threads. */
    public MemoryBandwidth(long bytes, int threads) {
        this.threads = threads;
        this.n = Math.max(BLOCK, bytes / BLOCK * BLOCK);
        this.pool = new WorkerPool(threads, "xlstm-bandwidth");
        this.buf = HugePages.allocate(n, arena);                      // 2 MiB pages where the kernel gives them, as the weights get
        buf.fill((byte) 1);
        this.sums = new long[threads];
        this.job = (part, worker) -> {
            for (long o; (o = next.getAndAdd(BLOCK)) < n; ) sums[part] += sum(buf, o, Math.min(n, o + BLOCK));
        };
        pass();                                                        // untimed: compile the loop
    }

    /** Best bytes/s of {@code passes} timed passes over the buffer. */
    public double measure(int passes) {
        double best = 0;
        for (int r = 0; r < passes; r++) {
            long t0 = System.nanoTime();
            pass();
            best = Math.max(best, n / ((System.nanoTime() - t0) * 1e-9));
        }
        return best;
    }

    /** Buffer size in bytes. */
    public long bytes() { return n; }

    private void pass() {
        Arrays.fill(sums, 0);
        next.set(0);
        pool.run(job, threads);
        long total = 0;
        for (long s : sums) total += s;
        if (total != n / 8 * 0x0101010101010101L) throw new IllegalStateException("bandwidth sum is wrong: " + total);
    }

    /** Σ of the little-endian longs in bytes [from, to) (a multiple of four vectors long), four vector accumulators. */
    static long sum(MemorySegment s, long from, long to) {
        LongVector a0 = LongVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        for (long o = from; o < to; o += 4L * STEP) {
            a0 = a0.add(LongVector.fromMemorySegment(S, s, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(LongVector.fromMemorySegment(S, s, o + STEP, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(LongVector.fromMemorySegment(S, s, o + 2L * STEP, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(LongVector.fromMemorySegment(S, s, o + 3L * STEP, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2).add(a3).reduceLanes(VectorOperators.ADD);
    }

    /** Scalar twin of {@link #sum}. */
    static long sumScalar(MemorySegment s, long from, long to) {
        long t = 0;
        for (long o = from; o < to; o += 8) t += s.get(I64, o);
        return t;
    }

    @Override public void close() {
        pool.close();
        arena.close();
    }
}
