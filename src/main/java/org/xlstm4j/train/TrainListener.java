package org.xlstm4j.train;

import java.nio.file.Path;

/**
 * Callbacks from the {@link Trainer} (on its thread), e.g. for a progress display. All methods default to doing
 * nothing. Arguments are primitives so that listening allocates nothing per step.
 */
public interface TrainListener {
    /** Training starts (or resumes) after {@code startStep} of {@code config.steps()} updates. */
    default void onStart(TrainConfig config, int startStep, DataInfo data) {}

    /**
     * Update {@code step} (1-based) of {@code totalSteps} is done: its training {@code loss} (mean over micro-batches),
     * learning rate, gradient norm before clipping, and throughput measured over this update.
     */
    default void onStep(int step, int totalSteps, double loss, double lr, double gradNorm, double tokensPerSecond) {}

    /** Validation after {@code step}: mean loss in nats per token, and bits per byte (NaN when unknown). */
    default void onEval(int step, double valLoss, double valBitsPerByte) {}

    /** A checkpoint of {@code step} updates was written to {@code dir}. */
    default void onCheckpoint(int step, Path dir) {}

    /** Something went wrong that does not stop training (e.g. the chart could not be drawn). */
    default void onWarning(String message) {}

    /** Training ended after {@code step} updates (normally or by {@link Trainer#requestStop()}). */
    default void onFinish(int step, Double bestValLoss) {}
}
