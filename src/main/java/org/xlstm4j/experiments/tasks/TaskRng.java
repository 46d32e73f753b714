package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * A re-seedable SplitMix64 generator (Steele, Lea and Flood 2014), so every sample can be drawn from its own seed
 * without allocating: {@code rng.reset(TaskRng.seedOf(base, stream, index))}. The rest of the {@link RandomGenerator}
 * API (bounded ints, doubles) comes from the interface's default methods.
 */
public final class TaskRng implements RandomGenerator {
    private long state;

    public TaskRng(long seed) { reset(seed); }

    /** Restarts the sequence from {@code seed}. */
    public TaskRng reset(long seed) {
        state = seed;
        return this;
    }

    @Override public long nextLong() {
        state += 0x9E3779B97F4A7C15L;
        return mix(state);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The seed of sample {@code index} of stream {@code stream} (e.g. train, test) under base seed {@code base}. */
    public static long seedOf(long base, int stream, long index) {
        return mix(mix(base * 0x9E3779B97F4A7C15L + stream) + index);
    }
}
