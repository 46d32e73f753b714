package org.xlstm4j.tensor;

import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The machine's memory read bandwidth as a decoding benchmark sees it: several threads sum disjoint parts of an
 * off-heap buffer much larger than the caches (a plain streaming read, SIMD integer adds). The yardstick for
 * "bytes of weights per token × tokens/s".
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {}

    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final int STEP = S.vectorByteSize();
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Best bytes/s of {@code runs} timed passes (after one untimed pass) over {@code bytes} bytes on {@code threads} threads. */
    public static double measure(long bytes, int threads, int runs) {
        long n = Math.max(4L * STEP * threads, bytes / (4L * STEP * threads) * (4L * STEP * threads));
        try (Arena arena = Arena.ofShared(); WorkerPool pool = new WorkerPool(threads, "xlstm-bandwidth")) {
            MemorySegment buf = arena.allocate(n, 64);
            buf.fill((byte) 1);                                              // touch every page before timing
            long[] sums = new long[threads];
            WorkerPool.Job job = part -> sums[part] = sum(buf, n / threads * part, n / threads * (part + 1));
            pool.run(job, threads);
            double best = 0;
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                pool.run(job, threads);
                best = Math.max(best, n / ((System.nanoTime() - t0) * 1e-9));
            }
            long total = 0;
            for (long s : sums) total += s;
            if (total != n / 8 * 0x0101010101010101L) throw new IllegalStateException("bandwidth sum is wrong: " + total);
            return best;
        }
    }

    /** Σ of the little-endian longs in bytes [from, to) (a multiple of 4 vectors long), four vector accumulators. */
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
}
