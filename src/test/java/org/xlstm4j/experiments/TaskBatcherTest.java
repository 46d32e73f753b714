package org.xlstm4j.experiments;

import org.junit.jupiter.api.Test;
import org.xlstm4j.experiments.tasks.Task;
import org.xlstm4j.experiments.tasks.TaskRng;
import org.xlstm4j.experiments.tasks.Tasks;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The official training form, rebuilt here from the raw samples: input = sequence with answers replaced by PAD, minus
 * the last token; target = next token at answer positions, −1 elsewhere and on padding; groups sorted by length and
 * padded to their own longest member; the samples do not depend on the grouping; fills are deterministic.
 */
class TaskBatcherTest {
    @Test
    void officialInputAndTargetEncoding() {
        for (String name : new String[]{"parity", "bucket_sort", "stack_manipulation", "mqar64"}) {
            Task task = Tasks.create(name);
            int[] lens = task.trainLengths();
            TaskBatcher b = new TaskBatcher(task, 5);
            b.fill(TaskBatcher.TRAIN, 100, 12, lens[0], lens[1], 5);
            assertEquals(3, b.groupCount());
            int total = 0, prevT = 0;
            boolean[] seen = new boolean[12];
            for (int gi = 0; gi < b.groupCount(); gi++) {
                TaskBatcher.Group g = b.group(gi);
                assertTrue(g.T >= prevT, "groups sorted by length");
                prevT = g.T;
                int answers = 0, longest = 0;
                for (int row = 0; row < g.B; row++) {
                    int i = g.sample[row];
                    assertFalse(seen[i]);
                    seen[i] = true;
                    int n = b.length(i);
                    longest = Math.max(longest, n);
                    int[] s = b.sequence(i);
                    boolean[] a = b.answerMask(i);
                    for (int t = 0; t < g.T; t++) {
                        int in = g.inputs[row * g.T + t], tg = g.targets[row * g.T + t];
                        if (t >= n - 1) { assertEquals(0, in, "padding input"); assertEquals(-1, tg, "padding target"); continue; }
                        assertEquals(a[t] ? 0 : s[t], in, "input is the masked sequence");
                        assertEquals(a[t + 1] ? s[t + 1] : -1, tg, "target is the next answer token");
                        if (tg >= 0) answers++;
                    }
                }
                assertEquals(longest - 1, g.T, "padded to the longest member");
                assertEquals(answers, g.answers);
                total += answers;
            }
            assertEquals(total, b.totalAnswers());
        }
    }

    @Test
    void samplesDoNotDependOnGroupingAndAreDeterministic() {
        Task task = Tasks.create("cycle_nav");
        TaskBatcher a = new TaskBatcher(task, 9), b = new TaskBatcher(task, 9);
        a.fill(TaskBatcher.TRAIN, 64, 16, 3, 40, 16);
        b.fill(TaskBatcher.TRAIN, 64, 16, 3, 40, 3);
        for (int i = 0; i < 16; i++) {
            assertEquals(a.length(i), b.length(i));
            assertArrayEquals(Arrays.copyOf(a.sequence(i), a.length(i)), Arrays.copyOf(b.sequence(i), b.length(i)));
        }
        // sample 70 drawn on its own equals sample 70 of the batch
        int[] seq = new int[64];
        boolean[] ans = new boolean[64];
        TaskRng rng = new TaskRng(TaskRng.seedOf(9, TaskBatcher.TRAIN, 70));
        int L = 3 + rng.nextInt(38);
        int n = Tasks.create("cycle_nav").generate(L, rng, seq, ans);
        assertArrayEquals(Arrays.copyOf(seq, n), Arrays.copyOf(a.sequence(6), a.length(6)));
        // test and train streams differ
        b.fill(TaskBatcher.TEST, 64, 16, 3, 40, 16);
        boolean differ = false;
        for (int i = 0; i < 16; i++) differ |= !Arrays.equals(Arrays.copyOf(a.sequence(i), a.length(i)), Arrays.copyOf(b.sequence(i), b.length(i)));
        assertTrue(differ);
    }

    @Test
    void lengthsCoverTheRange() {
        TaskBatcher b = new TaskBatcher(Tasks.create("parity"), 1);
        b.fill(TaskBatcher.TEST, 0, 400, 40, 256, 16);
        int min = Integer.MAX_VALUE, max = 0;
        for (int i = 0; i < 400; i++) { min = Math.min(min, b.length(i)); max = Math.max(max, b.length(i)); }
        assertTrue(min <= 42 && min >= 40, "min " + min);
        assertTrue(max >= 250 && max <= 256, "max " + max);
    }
}
