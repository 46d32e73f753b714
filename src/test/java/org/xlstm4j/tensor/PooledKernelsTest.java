package org.xlstm4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.*;

/** {@link PooledKernels}: every task runs exactly once on a valid worker index; nesting is refused; pass-through. */
class PooledKernelsTest {
    @Test
    void everyTaskRunsOnceOnAValidWorker() {
        try (CpuKernels cpu = new CpuKernels(2)) {
            Kernels k = PooledKernels.withTasks(cpu);
            assertTrue(k.parallelTasks());
            assertEquals(2, k.threads());
            for (int n : new int[]{0, 1, 2, 3, 17, 1000}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
                boolean[] badWorker = {false};
                k.parallelFor(n, (task, worker) -> {
                    seen.incrementAndGet(task);
                    if (worker < 0 || worker >= 2) badWorker[0] = true;
                });
                for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "task " + i + " of " + n);
                assertFalse(badWorker[0]);
            }
            assertThrows(IllegalStateException.class, () -> k.parallelFor(4, (t, w) -> k.parallelFor(2, (a, b) -> {})));
            // a product through the wrapper equals one on the wrapped backend
            float[] x = {1, 2, 3, 4, 5, 6}, w = {1, 0, 1, 0, 1, 0}, y1 = new float[4], y2 = new float[4];
            k.matmulXWt(x, 0, w, 0, y1, 0, 2, 2, 3, false);
            cpu.matmulXWt(x, 0, w, 0, y2, 0, 2, 2, 3, false);
            assertArrayEquals(y2, y1);
            ((PooledKernels) k).close();
        }
    }

    @Test
    void serialBackendsAreNotWrapped() {
        Kernels s = new ScalarKernels();
        assertSame(s, PooledKernels.withTasks(s));
        int[] order = new int[3];
        int[] next = {0};
        s.parallelFor(3, (t, w) -> order[next[0]++] = t);
        assertArrayEquals(new int[]{0, 1, 2}, order);
        try (CpuKernels one = new CpuKernels(1)) {
            assertSame(one, PooledKernels.withTasks(one));
        }
    }
}
