package org.xlstm4j.experiments.tasks;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Majority (counting; xLSTM's task, |V| = 64): L−1 uniform symbols from 1…63, then the answer: the most frequent
 * symbol. Ties (unspecified in the paper) go to the smallest symbol id. Chance 1/63.
 */
public final class Majority extends AbstractTask {
    static final int SYMBOLS = 63;
    private final int[] counts = new int[SYMBOLS + 1];

    public Majority() { super("majority", "Majority", "count", SYMBOLS + 1, 1.0 / SYMBOLS, 2); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        Arrays.fill(counts, 0);
        for (int p = 0; p < L - 1; p++) counts[seq[p] = 1 + rng.nextInt(SYMBOLS)]++;
        int best = 1;
        for (int s = 2; s <= SYMBOLS; s++) if (counts[s] > counts[best]) best = s;
        seq[L - 1] = best;
        answer[L - 1] = true;
        return L;
    }
}
