package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Parity (regular; official generator): tokens 1 = a, 2 = b at positions 0…L−2; the answer at L−1 is 1 when the number
 * of b's is even, else 2. |V| = 3, chance 1/2.
 */
public final class Parity extends AbstractTask {
    public Parity() { super("parity", "Parity", "R", 3, 0.5, 2); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int bs = 0;
        for (int p = 0; p < L - 1; p++) {
            seq[p] = 1 + rng.nextInt(2);
            if (seq[p] == 2) bs++;
        }
        seq[L - 1] = bs % 2 == 0 ? 1 : 2;
        answer[L - 1] = true;
        return L;
    }
}
