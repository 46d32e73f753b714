package org.xlstm4j.experiments.tasks;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * MQAR against Zoology's definition: context of K key–value pairs with keys from 1…V/2−1 and values from V/2…V−1 (each
 * distinct), every key queried exactly once at an even offset after the context, its value right after the query as
 * the only answer, zeros elsewhere; query slots follow the power law (early slots far more often than late ones).
 */
class MqarTest {
    @Test
    void experimentOneSettings() {
        for (int T : new int[]{64, 128, 256}) {
            Mqar m = (Mqar) Tasks.create("mqar" + T);
            assertEquals(T, m.seqLen());
            assertEquals(T / 16, m.pairs());
            assertEquals(8192, m.vocabSize());
            assertArrayEquals(new int[]{T + 1, T + 1}, m.trainLengths());
        }
        assertThrows(IllegalArgumentException.class, () -> new Mqar(64, 17, 8192));   // 4K > T
        assertThrows(IllegalArgumentException.class, () -> new Mqar(63, 4, 8192));    // odd T
        assertThrows(IllegalArgumentException.class, () -> new Mqar(64, 4, 64));      // V <= T
    }

    @Test
    void samplesFollowTheDefinition() {
        int T = 128, K = 8, V = 8192;
        Mqar task = new Mqar(T, K, V);
        int[] seq = new int[T + 1];
        boolean[] ans = new boolean[T + 1];
        int slots = (T - 2 * K) / 2;
        long[] slotCounts = new long[slots];
        TaskRng rng = new TaskRng(0);
        for (int i = 0; i < 3000; i++) {
            rng.reset(TaskRng.seedOf(3, 1, i));
            assertEquals(T + 1, task.generate(0, rng, seq, ans));
            Set<Integer> keys = new HashSet<>(), values = new HashSet<>();
            for (int j = 0; j < K; j++) {
                int k = seq[2 * j], v = seq[2 * j + 1];
                assertTrue(k >= 1 && k < V / 2, "key range");
                assertTrue(v >= V / 2 && v < V, "value range");
                assertTrue(keys.add(k) && values.add(v), "distinct keys and values");
                assertFalse(ans[2 * j] || ans[2 * j + 1], "no answers in the context");
            }
            Set<Integer> queried = new HashSet<>();
            for (int p = 2 * K; p <= T; p++) {
                int off = p - 2 * K;
                if (off % 2 == 0 && off / 2 < slots && seq[p] != 0) {
                    int key = seq[p], j = 0;
                    while (seq[2 * j] != key) j++;                          // throws if the key is not in the context
                    assertTrue(queried.add(key), "each key queried once");
                    assertEquals(seq[2 * j + 1], seq[p + 1], "the value follows its query");
                    assertTrue(ans[p + 1], "the value is the answer");
                    assertFalse(ans[p]);
                    slotCounts[off / 2]++;
                    p++;
                } else {
                    assertEquals(0, seq[p], "non-query positions are 0");
                    assertFalse(ans[p]);
                }
            }
            assertEquals(K, queried.size(), "every key is queried");
        }
        // power law ∝ (g+1)^(a−1): slot 0 is drawn in ~90 % of the samples, late slots rarely
        assertTrue(slotCounts[0] > 0.8 * 3000, "slot 0: " + slotCounts[0]);
        long late = 0;
        for (int g = slots - 10; g < slots; g++) late += slotCounts[g];
        assertTrue(late / 10.0 < slotCounts[0] / 5.0, "late slots " + late);   // about 20x rarer per slot
        assertTrue(late > 0, "the tail is reachable");
    }
}
