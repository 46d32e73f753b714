package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Cycle Navigation (regular; official generator with |V| = 9, max step 1): actions 1 = stay, 2 = +1, 3 = −1 at
 * positions 0…L−2 on a cycle of 5 positions starting at P0; the answer at L−1 is the final position (Σ steps mod 5)
 * as token 4 + position. Chance 1/5.
 */
public final class CycleNavigation extends AbstractTask {
    static final int CYCLE = 5, FIRST_POSITION = 4;

    public CycleNavigation() { super("cycle_nav", "Cycle Nav", "R", 9, 1.0 / CYCLE, 2); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int pos = 0;
        for (int p = 0; p < L - 1; p++) {
            seq[p] = 1 + rng.nextInt(3);
            pos += seq[p] == 2 ? 1 : seq[p] == 3 ? -1 : 0;
        }
        seq[L - 1] = FIRST_POSITION + Math.floorMod(pos, CYCLE);      // Python-style modulo
        answer[L - 1] = true;
        return L;
    }
}
