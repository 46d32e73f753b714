package org.xlstm4j.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The streaming sum against its scalar twin, and a bandwidth measurement that checks its own sum. */
class MemoryBandwidthTest {
    @Test void simdSumMatchesScalarTwin() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(1 << 16, 64);
            Random rnd = new Random(2);
            for (long o = 0; o < s.byteSize(); o += 8) s.set(ValueLayout.JAVA_LONG_UNALIGNED, o, rnd.nextLong());
            long step = 4L * jdk.incubator.vector.LongVector.SPECIES_PREFERRED.vectorByteSize();
            for (long[] r : new long[][]{{0, step}, {step, 7 * step}, {0, s.byteSize()}})
                assertEquals(MemoryBandwidth.sumScalar(s, r[0], r[1]), MemoryBandwidth.sum(s, r[0], r[1]));
        }
    }

    @Test void measureReturnsAPlausibleRate() {
        try (MemoryBandwidth m = new MemoryBandwidth((8L << 20) + 5, 2)) {
            assertEquals(8L << 20, m.bytes());
            double bps = m.measure(2);                              // each pass also checks its sum
            assertTrue(bps > 1e8 && bps < 1e13, "bytes/s " + bps);
        }
    }
}
