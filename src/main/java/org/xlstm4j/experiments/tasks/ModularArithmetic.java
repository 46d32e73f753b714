package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Modular Arithmetic without brackets (regular; official generator, |V| = 10): tokens 1 '+', 2 '−', 3 '×', 4 '=', 5…9
 * the digits 0…4. L is odd: digits at even positions, uniform operators at odd positions, '=' at L−2, the answer digit
 * at L−1: the expression evaluated with the usual precedence (× before + and −), modulo 5 (never negative). Paper
 * example: 0 − 4 + 0 − 2 = 4. Chance 1/5.
 */
public final class ModularArithmetic extends AbstractTask {
    static final int PLUS = 1, MINUS = 2, TIMES = 3, EQUALS = 4, DIGIT0 = 5, MOD = 5;

    public ModularArithmetic() { super("mod_arith", "Mod Arithmetic (w/o brackets)", "R", 10, 1.0 / MOD, 3); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int n = L % 2 == 1 ? L : L - 1;
        int sum = 0, sign = 1, term = -1;
        for (int p = 0; p <= n - 3; p++) {
            if (p % 2 == 0) {
                int d = rng.nextInt(MOD);
                seq[p] = DIGIT0 + d;
                term = p == 0 || seq[p - 1] != TIMES ? d : Math.floorMod(term * d, MOD);   // fold products
            } else {
                seq[p] = PLUS + rng.nextInt(3);
                if (seq[p] != TIMES) {                              // a + or − closes the running product
                    sum = Math.floorMod(sum + sign * term, MOD);
                    sign = seq[p] == PLUS ? 1 : -1;
                }
            }
        }
        sum = Math.floorMod(sum + sign * term, MOD);
        seq[n - 2] = EQUALS;
        seq[n - 1] = DIGIT0 + sum;
        answer[n - 1] = true;
        return n;
    }
}
