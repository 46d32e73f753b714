package org.xlstm4j.experiments;

import org.xlstm4j.UserError;

/**
 * Hyper-parameters of one training run on a synthetic task (public fields with fluent setters, as {@code XLstmConfig}).
 * Optimisation follows the paper (appendix B.1.1): AdamW (β1 0.9, β2 0.99, weight decay 0.1), linear warm-up over the
 * first 10 % of the steps, cosine decay to 1 % of the peak learning rate; global gradient-norm clipping at 1. Steps,
 * batch and width are far below the paper's (100k steps of batch 256) so that a run fits in minutes on a CPU; see
 * {@link #defaults}.
 */
public final class ExperimentConfig {
    public static final int DEFAULT_STEPS = 3000, DEFAULT_BATCH = 32, DEFAULT_WIDTH = 64, DEFAULT_HEADS = 1;
    public static final double DEFAULT_LR = 3e-3;
    public static final int DEFAULT_EVAL_SAMPLES = 384, DEFAULT_GROUP = 16;

    public String task, model;
    public int steps = DEFAULT_STEPS, batch = DEFAULT_BATCH, width = DEFAULT_WIDTH, heads = DEFAULT_HEADS;
    public double lr = DEFAULT_LR;
    /** Head = embedding table: on for MQAR (as Zoology), off for formal languages (as the official xLSTM configs). */
    public boolean tieWeights;
    public long seed = 1;
    /** Test samples (lengths 40–256 for formal tasks). */
    public int evalSamples = DEFAULT_EVAL_SAMPLES;
    /** Sequences per forward pass: a batch is split into groups of similar length. */
    public int groupSize = DEFAULT_GROUP;
    public double weightDecay = 0.1, warmupFraction = 0.1, minLrRatio = 0.01, clip = 1.0, beta1 = 0.9, beta2 = 0.99;
    public int logInterval = 100;

    /**
     * The defaults of {@code xlstm experiment}: 3000 steps of batch 32, lr 3e-3, width 64, 1 head, seed 1, 384 test
     * samples; head tied for MQAR only.
     */
    public static ExperimentConfig defaults(String task, String model) {
        ExperimentConfig c = new ExperimentConfig();
        c.task = task;
        c.model = model;
        c.tieWeights = task.startsWith("mqar");
        return c;
    }

    public ExperimentConfig steps(int v) { steps = v; return this; }
    public ExperimentConfig batch(int v) { batch = v; return this; }
    public ExperimentConfig lr(double v) { lr = v; return this; }
    public ExperimentConfig width(int v) { width = v; return this; }
    public ExperimentConfig heads(int v) { heads = v; return this; }
    public ExperimentConfig tieWeights(boolean v) { tieWeights = v; return this; }
    public ExperimentConfig seed(long v) { seed = v; return this; }
    public ExperimentConfig evalSamples(int v) { evalSamples = v; return this; }
    public ExperimentConfig groupSize(int v) { groupSize = v; return this; }
    public ExperimentConfig logInterval(int v) { logInterval = v; return this; }

    /** Checks the values a user can set; returns this. */
    public ExperimentConfig validate() {
        if (steps < 1 || batch < 1 || width < 1 || heads < 1 || evalSamples < 1 || groupSize < 1 || logInterval < 1)
            throw new UserError("steps, batch, width, heads, eval samples, group size and log interval must be positive");
        if (!(lr > 0)) throw new UserError("learning rate must be > 0, got " + lr);
        return this;
    }

    /** Linear warm-up steps: 10 % of the run. */
    public int warmupSteps() { return (int) Math.round(warmupFraction * steps); }
}
