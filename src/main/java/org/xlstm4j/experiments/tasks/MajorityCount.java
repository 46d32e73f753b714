package org.xlstm4j.experiments.tasks;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Majority Count (counting; xLSTM's task, |V| = 64): L−1 uniform symbols from 1…63, then the answer: how often the
 * most frequent symbol occurs, written as the symbol with that ordinal (count c → token c), capped at 63. Chance 1/63.
 */
public final class MajorityCount extends AbstractTask {
    static final int SYMBOLS = 63;
    private final int[] counts = new int[SYMBOLS + 1];

    public MajorityCount() { super("majority_count", "Majority Count", "count", SYMBOLS + 1, 1.0 / SYMBOLS, 2); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        Arrays.fill(counts, 0);
        int max = 0;
        for (int p = 0; p < L - 1; p++) max = Math.max(max, ++counts[seq[p] = 1 + rng.nextInt(SYMBOLS)]);
        seq[L - 1] = Math.min(max, SYMBOLS);
        answer[L - 1] = true;
        return L;
    }
}
