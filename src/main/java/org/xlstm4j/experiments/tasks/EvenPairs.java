package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Even Pairs (regular; official generator): bits 1/2 at positions 0…L−2; the answer at L−1 is 1 when the number of
 * "ab" plus "ba" substrings is even, i.e. when the first and last input tokens are equal, else 2. |V| = 3, chance 1/2.
 */
public final class EvenPairs extends AbstractTask {
    public EvenPairs() { super("even_pairs", "Even Pairs", "R", 3, 0.5, 3); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        for (int p = 0; p < L - 1; p++) seq[p] = 1 + rng.nextInt(2);
        seq[L - 1] = seq[0] == seq[L - 2] ? 1 : 2;
        answer[L - 1] = true;
        return L;
    }
}
