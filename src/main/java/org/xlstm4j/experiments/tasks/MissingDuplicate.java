package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Missing Duplicate (context-sensitive; reconstruction, |V| = 11): m uniform symbols from 1…9, the same m symbols
 * again with one uniformly chosen position of the copy replaced by MIS (10), then the answer: the hidden symbol.
 * L = 2m + 1 (odd). Paper example: 4 8 6 2 5 4 8 6 2 MIS → 5. Chance 1/9.
 */
public final class MissingDuplicate extends AbstractTask {
    static final int SYMBOLS = 9, MIS = 10;

    public MissingDuplicate() { super("missing_duplicate", "Missing Duplicate", "CS", 11, 1.0 / SYMBOLS, 3); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int m = (L - 1) / 2;
        for (int p = 0; p < m; p++) seq[p] = seq[m + p] = 1 + rng.nextInt(SYMBOLS);
        int hole = m + rng.nextInt(m);
        seq[2 * m] = seq[hole];
        seq[hole] = MIS;
        answer[2 * m] = true;
        return 2 * m + 1;
    }
}
