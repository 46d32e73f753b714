package org.xlstm4j.experiments.tasks;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Set (memory; xLSTM's task, |V| = 128): uniform symbols from 1…126, ACT (127), then the distinct symbols in order of
 * first appearance, every output token scored (paper example: 8 6 6 3 5 4 5 3 → 8 6 3 5 4). Input symbols are added
 * until the whole sequence has length L (a new symbol adds 2 to the length, a repeat 1; when one token is left, a
 * uniformly chosen symbol already seen is repeated). Chance 1/126.
 */
public final class SetTask extends AbstractTask {
    static final int SYMBOLS = 126, ACT = 127;
    private final boolean[] seen = new boolean[SYMBOLS + 1];
    private int[] distinct = new int[SYMBOLS];

    public SetTask() { super("set", "Set", "memory", SYMBOLS + 2, 1.0 / SYMBOLS, 3); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        Arrays.fill(seen, false);
        int m = 0, d = 0;                                      // input symbols, distinct symbols; length = m + 1 + d
        while (m + 1 + d < L) {
            int sym = m + 1 + d == L - 1 ? distinct[rng.nextInt(d)] : 1 + rng.nextInt(SYMBOLS);
            seq[m++] = sym;
            if (!seen[sym]) {
                seen[sym] = true;
                distinct[d++] = sym;
            }
        }
        seq[m] = ACT;
        for (int j = 0; j < d; j++) {
            seq[m + 1 + j] = distinct[j];
            answer[m + 1 + j] = true;
        }
        return m + 1 + d;
    }
}
