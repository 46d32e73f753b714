package org.xlstm4j.train;

/**
 * Learning rate per update: linear warm-up from 0 to {@code peak} over {@code warmupSteps}, then cosine decay to
 * {@code minLrRatio·peak} at {@code maxSteps}, constant after. Steps are the 1-based number of the update being made
 * (the optimizer's step count after it), so update 1 of a 10-step warm-up uses peak/10 and update
 * {@code warmupSteps} uses the peak.
 */
public record LrSchedule(double peak, int warmupSteps, int maxSteps, double minLrRatio) {

    public LrSchedule {
        if (!(peak > 0) || Double.isInfinite(peak)) throw new IllegalArgumentException("peak learning rate must be > 0: " + peak);
        if (warmupSteps < 0 || maxSteps < 0) throw new IllegalArgumentException("steps must be >= 0");
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new IllegalArgumentException("minLrRatio must be in [0, 1]: " + minLrRatio);
    }

    /** The schedule of a training configuration. */
    public static LrSchedule of(TrainConfig c) {
        return new LrSchedule(c.lr(), c.warmupSteps(), c.steps(), c.minLrRatio());
    }

    /** Learning rate of update number {@code step} (1-based; 0 gives 0 when there is a warm-up). */
    public double lr(long step) {
        double floor = minLrRatio * peak;
        if (step < warmupSteps) return peak * step / warmupSteps;
        if (step >= maxSteps) return step == warmupSteps ? peak : floor;
        double progress = (double) (step - warmupSteps) / (maxSteps - warmupSteps);
        return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
    }
}
