package org.xlstm4j.train;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LrScheduleTest {
    @Test void warmupThenCosineToFloorThenConstant() {
        double peak = 3e-3, ratio = 0.1;
        LrSchedule s = new LrSchedule(peak, 10, 110, ratio);
        assertEquals(0, s.lr(0));
        for (int t = 1; t <= 10; t++) assertEquals(peak * t / 10, s.lr(t), 1e-15);   // linear from 0
        assertEquals(peak, s.lr(10), 1e-15);
        assertEquals((peak + ratio * peak) / 2, s.lr(60), 1e-12);   // half way through the decay: mid value of the cosine
        assertEquals(ratio * peak, s.lr(110), 1e-15);
        assertEquals(ratio * peak, s.lr(500), 1e-15);
        for (int t = 11; t <= 110; t++) assertTrue(s.lr(t) < s.lr(t - 1), "decreasing at " + t);
        // an independent point: 1/4 of the way, cos(π/4)
        assertEquals(ratio * peak + 0.5 * (peak - ratio * peak) * (1 + Math.sqrt(0.5)), s.lr(35), 1e-12);
    }

    @Test void noWarmup() {
        LrSchedule s = new LrSchedule(1, 0, 4, 0);
        assertEquals(1, s.lr(0), 1e-15);
        assertEquals(0.5, s.lr(2), 1e-15);
        assertEquals(0, s.lr(4), 1e-15);
    }
}
