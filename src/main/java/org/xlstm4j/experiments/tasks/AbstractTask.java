package org.xlstm4j.experiments.tasks;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/** The bookkeeping shared by the tasks: fixed metadata, length clamping and clearing the answer mask. */
abstract class AbstractTask implements Task {
    private final String name, title, level;
    private final int vocab, minLength;
    private final double chance;

    AbstractTask(String name, String title, String level, int vocab, double chance, int minLength) {
        this.name = name;
        this.title = title;
        this.level = level;
        this.vocab = vocab;
        this.chance = chance;
        this.minLength = minLength;
    }

    @Override public String name() { return name; }
    @Override public String title() { return title; }
    @Override public String level() { return level; }
    @Override public int vocabSize() { return vocab; }
    @Override public double chance() { return chance; }
    @Override public int minLength() { return minLength; }

    @Override public final int generate(int length, RandomGenerator rng, int[] seq, boolean[] answer) {
        int L = Math.max(length, minLength);
        Arrays.fill(answer, 0, L, false);
        int n = write(L, rng, seq, answer);
        assert n <= L && n >= L - 1 : name + ": length " + n + " for " + L;
        return n;
    }

    /** Writes a sample of length L (or L − 1 where L is not allowed; L ≥ minLength) and returns its length. */
    abstract int write(int L, RandomGenerator rng, int[] seq, boolean[] answer);

    @Override public String toString() { return name; }
}
