package org.xlstm4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link CpuKernels#parallelFor} on the backend's one worker pool: every task runs exactly once with a valid worker
 * index, each worker index is used by one thread at a time, nesting is refused, and matrix products interleave with
 * task batches; serial backends run tasks in order.
 */
class ParallelForTest {
    @Test
    void everyTaskRunsOnceOnAValidWorker() {
        try (CpuKernels k = new CpuKernels(2)) {
            assertTrue(k.parallelTasks());
            assertEquals(2, k.threads());
            for (int rep = 0; rep < 400; rep++)
                for (int n : new int[]{0, 1, 2, 3, 17, 1000}) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(n, 1));
                    AtomicIntegerArray busy = new AtomicIntegerArray(2);
                    boolean[] bad = {false};
                    k.parallelFor(n, (task, worker) -> {
                        seen.incrementAndGet(task);
                        if (worker < 0 || worker >= 2 || busy.incrementAndGet(worker) != 1) bad[0] = true;
                        busy.decrementAndGet(worker);
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, seen.get(i), "task " + i + " of " + n);
                    assertFalse(bad[0], "a worker index out of range or used by two threads at once");
                    // a product between task batches still gives the right answer
                    float[] x = {1, 2, 3, 4, 5, 6}, w = {1, 0, 1, 0, 1, 0}, y = new float[4];
                    k.matmulXWt(x, 0, w, 0, y, 0, 2, 2, 3, false);
                    assertArrayEquals(new float[]{4, 2, 10, 5}, y);
                }
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> k.parallelFor(4, (t, w) -> k.parallelFor(2, (a, b) -> {})));
            assertTrue(e.getMessage().contains("nested"), e.getMessage());
            // the pool keeps working after a refused nesting
            int[] count = new int[1];
            AtomicIntegerArray once = new AtomicIntegerArray(5);
            k.parallelFor(5, (t, w) -> once.incrementAndGet(t));
            for (int i = 0; i < 5; i++) count[0] += once.get(i);
            assertEquals(5, count[0]);
        }
    }

    /**
     * Many short jobs of alternating sizes: a worker that read the claim counter of one job and the fields of the
     * next must never run a part of the next job (a part running twice, or a part of a finished job running late).
     */
    @Test
    void alternatingJobSizesNeverRunAPartTwice() {
        try (CpuKernels k = new CpuKernels(2)) {
            int[] sizes = {2, 3, 5, 2, 4, 3};
            int[] runs = new int[8];
            int[] expectedTotal = {0};
            java.util.concurrent.atomic.AtomicInteger total = new java.util.concurrent.atomic.AtomicInteger();
            for (int call = 0; call < 200_000; call++) {
                int n = sizes[call % sizes.length];
                java.util.Arrays.fill(runs, 0);
                int[] r = runs;
                k.parallelFor(n, (task, worker) -> {
                    synchronized (r) { r[task]++; }
                    total.incrementAndGet();
                });
                expectedTotal[0] += n;
                synchronized (r) {
                    for (int i = 0; i < n; i++) if (r[i] != 1) fail("call " + call + ": part " + i + " of " + n + " ran " + r[i] + " times");
                    for (int i = n; i < r.length; i++) if (r[i] != 0) fail("call " + call + ": part " + i + " ran for a job of " + n);
                }
            }
            assertEquals(expectedTotal[0], total.get());
        }
    }

    @Test
    void serialBackendsRunTasksInOrder() {
        Kernels s = new ScalarKernels();
        assertFalse(s.parallelTasks());
        int[] order = new int[3];
        int[] next = {0};
        s.parallelFor(3, (t, w) -> order[next[0]++] = t);
        assertArrayEquals(new int[]{0, 1, 2}, order);
        try (CpuKernels one = new CpuKernels(1)) {
            assertFalse(one.parallelTasks());
            int[] o2 = new int[3];
            int[] n2 = {0};
            one.parallelFor(3, (t, w) -> o2[n2[0]++] = t);
            assertArrayEquals(new int[]{0, 1, 2}, o2);
        }
    }
}
