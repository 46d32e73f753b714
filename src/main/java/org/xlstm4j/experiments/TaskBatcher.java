package org.xlstm4j.experiments;

import org.xlstm4j.experiments.tasks.Task;
import org.xlstm4j.experiments.tasks.TaskRng;

/**
 * Draws numbered samples of a task and packs them into the official training form (paper-tasks §2.1.2): for a sample
 * s of length n with answer mask a, the model's input is s with answer tokens replaced by PAD (0), minus the last
 * token, and the target at position t is s[t+1] where a[t+1], else −1 (not scored).
 *
 * <p>Sample i of stream k is drawn from its own seed {@link TaskRng#seedOf}(seed, k, i) with a length uniform in the
 * given range, so every model sees the same samples for the same seed, whatever its batch grouping. The samples of a
 * fill are sorted by length and packed into groups of at most {@code groupSize} sequences, each padded (with PAD and
 * target −1) only to its own longest member: all models are causal, so trailing padding changes nothing but the cost.
 * Arrays are allocated on the first fill of a given size and reused afterwards.
 */
public final class TaskBatcher {
    /** Sample streams. */
    public static final int TRAIN = 1, TEST = 2;

    /** One group: inputs and targets [B, T] row-major. */
    public static final class Group {
        public int[] inputs = new int[0], targets = new int[0];
        /** Index (into the fill) of the sample in each row of the group. */
        public int[] sample = new int[0];
        public int B, T;
        /** Scored positions in this group. */
        public int answers;
    }

    private final Task task;
    private final long seed;
    private final TaskRng rng = new TaskRng(0);
    private int[][] seqs = new int[0][];
    private boolean[][] answers = new boolean[0][];
    private int[] lens = new int[0], order = new int[0];
    private Group[] groups = new Group[0];
    private int groupCount, totalAnswers;

    public TaskBatcher(Task task, long seed) {
        this.task = task;
        this.seed = seed;
    }

    public Task task() { return task; }

    /**
     * Draws samples {@code first … first+count−1} of {@code stream} with lengths uniform in [lo, hi] and packs them into
     * groups of at most {@code groupSize}.
     */
    public void fill(int stream, long first, int count, int lo, int hi, int groupSize) {
        int maxLen = Math.max(hi, task.minLength());
        ensure(count, maxLen, (count + groupSize - 1) / groupSize, groupSize);
        for (int i = 0; i < count; i++) {
            rng.reset(TaskRng.seedOf(seed, stream, first + i));
            int L = lo + rng.nextInt(hi - lo + 1);
            lens[i] = task.generate(L, rng, seqs[i], answers[i]);
            order[i] = i;
        }
        for (int i = 1; i < count; i++) {                     // stable insertion sort of the indices by length
            int o = order[i], j = i - 1;
            while (j >= 0 && lens[order[j]] > lens[o]) { order[j + 1] = order[j]; j--; }
            order[j + 1] = o;
        }
        groupCount = 0;
        totalAnswers = 0;
        for (int start = 0; start < count; start += groupSize) {
            Group g = groups[groupCount++];
            g.B = Math.min(groupSize, count - start);
            g.T = lens[order[start + g.B - 1]] - 1;           // sorted: the last is the longest
            g.answers = 0;
            for (int b = 0; b < g.B; b++) {
                int i = order[start + b], n = lens[i];
                int[] s = seqs[i];
                boolean[] a = answers[i];
                g.sample[b] = i;
                for (int t = 0; t < g.T; t++) {
                    int r = b * g.T + t;
                    g.inputs[r] = t < n - 1 && !a[t] ? s[t] : 0;
                    boolean scored = t + 1 < n && a[t + 1];
                    g.targets[r] = scored ? s[t + 1] : -1;
                    if (scored) g.answers++;
                }
            }
            totalAnswers += g.answers;
        }
    }

    /** Number of groups of the last fill. */
    public int groupCount() { return groupCount; }

    public Group group(int i) { return groups[i]; }

    /** Scored positions over all groups of the last fill. */
    public int totalAnswers() { return totalAnswers; }

    /** Length (problem + answer) of sample {@code i} of the last fill. */
    public int length(int i) { return lens[i]; }

    /** The token sequence of sample {@code i} of the last fill (valid up to {@link #length}). */
    public int[] sequence(int i) { return seqs[i]; }

    /** The answer mask of sample {@code i} of the last fill. */
    public boolean[] answerMask(int i) { return answers[i]; }

    private void ensure(int count, int maxLen, int nGroups, int groupSize) {
        if (seqs.length < count || (count > 0 && seqs[0].length < maxLen)) {
            int n = Math.max(count, seqs.length), len = Math.max(maxLen, seqs.length > 0 ? seqs[0].length : 0);
            seqs = new int[n][len];
            answers = new boolean[n][len];
            lens = new int[n];
            order = new int[n];
        }
        if (groups.length < nGroups) {
            Group[] g = java.util.Arrays.copyOf(groups, nGroups);
            for (int i = groups.length; i < nGroups; i++) g[i] = new Group();
            groups = g;
        }
        for (int i = 0; i < nGroups; i++) {
            Group g = groups[i];
            int cells = groupSize * maxLen;
            if (g.inputs.length < cells) { g.inputs = new int[cells]; g.targets = new int[cells]; }
            if (g.sample.length < groupSize) g.sample = new int[groupSize];
        }
    }
}
