package org.xlstm4j.experiments;

import org.xlstm4j.baselines.SequenceModel;
import org.xlstm4j.experiments.tasks.Task;

/**
 * A fixed test set (stream {@link TaskBatcher#TEST}: the same samples for every model of a seed) and the accuracy of a
 * model on it: the fraction of answer tokens whose arg-max prediction is right (micro average over all answer tokens),
 * pooled and per length bucket, and the scaled accuracy (acc − chance)/(1 − chance).
 */
public final class Evaluation {
    /** Per-bucket and pooled counts of one evaluation. */
    public record Result(String[] buckets, long[] correct, long[] total, double chance) {
        public double accuracy(int bucket) { return total[bucket] == 0 ? Double.NaN : (double) correct[bucket] / total[bucket]; }

        public double accuracy() {
            long c = 0, t = 0;
            for (int i = 0; i < total.length; i++) { c += correct[i]; t += total[i]; }
            return (double) c / t;
        }

        public double scaled() { return Task.scaled(accuracy(), chance); }

        public double scaled(int bucket) { return Task.scaled(accuracy(bucket), chance); }
    }

    private final Task task;
    private final TaskBatcher test;
    private final int samples;
    private final int[] bounds;         // bucket i holds lengths < bounds[i] (and ≥ bounds[i−1])
    private final String[] labels;

    /**
     * Draws {@code samples} test samples with the task's test lengths (40–256) and buckets 40–63, 64–127, 128–256
     * (one bucket when the task has a fixed length).
     */
    public Evaluation(Task task, long seed, int samples, int groupSize) {
        this.task = task;
        this.samples = samples;
        int[] range = task.testLengths();
        if (range[0] == range[1]) {
            bounds = new int[]{Integer.MAX_VALUE};
            labels = new String[]{"T=" + (range[0] - 1)};
        } else {
            bounds = new int[]{64, 128, Integer.MAX_VALUE};
            labels = new String[]{range[0] + "-63", "64-127", "128-" + range[1]};
        }
        test = new TaskBatcher(task, seed);
        test.fill(TaskBatcher.TEST, 0, samples, range[0], range[1], groupSize);
    }

    public int samples() { return samples; }

    /** Accuracy of {@code model} on the test set (forward passes only). */
    public Result run(SequenceModel model) {
        long[] correct = new long[bounds.length], total = new long[bounds.length];
        int V = model.vocabSize();
        for (int gi = 0; gi < test.groupCount(); gi++) {
            TaskBatcher.Group g = test.group(gi);
            float[] logits = model.logits(g.inputs, g.targets, g.B, g.T);
            int k = 0;
            for (int r = 0; r < g.B * g.T; r++) {
                int target = g.targets[r];
                if (target < 0) continue;
                int o = k++ * V, best = 0;
                for (int v = 1; v < V; v++) if (logits[o + v] > logits[o + best]) best = v;
                int len = test.length(g.sample[r / g.T]), bucket = 0;
                while (len >= bounds[bucket]) bucket++;
                total[bucket]++;
                if (best == target) correct[bucket]++;
            }
            if (k != model.scoredRows()) throw new IllegalStateException("model scored " + model.scoredRows() + " rows, expected " + k);
        }
        return new Result(labels.clone(), correct, total, task.chance());
    }
}
