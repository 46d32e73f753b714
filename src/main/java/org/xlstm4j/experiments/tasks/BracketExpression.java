package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Random fully bracketed expressions over the digits 0…4 of an exact length, as in Delétang et al.'s modular
 * arithmetic generator: lengths 1–4 are d, −d, (d), (−d); a longer one is "(" left op right ")" with the left length
 * uniform in [1, len−4], the right length the rest, and op uniform over + − (and × when allowed). Values are modulo 5
 * (Python-style, never negative). Token ids are the caller's; positions of the digits written are recorded so a
 * caller can pick one of them.
 */
final class BracketExpression {
    static final int MOD = 5;
    private final int plus, minus, times, open, close, digit0;
    private final boolean withTimes;
    private int[] digitPositions = new int[16];
    private int digits;

    BracketExpression(int plus, int minus, int times, int open, int close, int digit0, boolean withTimes) {
        this.plus = plus;
        this.minus = minus;
        this.times = times;
        this.open = open;
        this.close = close;
        this.digit0 = digit0;
        this.withTimes = withTimes;
    }

    /** Writes an expression of exactly {@code len} ≥ 1 tokens at seq[pos…] and returns its value mod 5. */
    int write(int len, RandomGenerator rng, int[] seq, int pos) {
        digits = 0;
        if (digitPositions.length < len) digitPositions = new int[len];
        return expr(len, rng, seq, pos);
    }

    /** Number of digits in the last expression written. */
    int digitCount() { return digits; }

    /** Position of digit {@code i} (in writing order) of the last expression. */
    int digitPosition(int i) { return digitPositions[i]; }

    private int digit(RandomGenerator rng, int[] seq, int pos) {
        int d = rng.nextInt(MOD);
        seq[pos] = digit0 + d;
        digitPositions[digits++] = pos;
        return d;
    }

    private int expr(int len, RandomGenerator rng, int[] seq, int pos) {
        switch (len) {
            case 1: return digit(rng, seq, pos);                                       // d
            case 2: seq[pos] = minus; return Math.floorMod(-digit(rng, seq, pos + 1), MOD);   // −d
            case 3: {                                                                   // (d)
                seq[pos] = open;
                int v = digit(rng, seq, pos + 1);
                seq[pos + 2] = close;
                return v;
            }
            case 4: {                                                                   // (−d)
                seq[pos] = open;
                seq[pos + 1] = minus;
                int v = Math.floorMod(-digit(rng, seq, pos + 2), MOD);
                seq[pos + 3] = close;
                return v;
            }
            default: {                                                                  // (left op right)
                int left = 1 + rng.nextInt(len - 4), right = len - 3 - left;
                seq[pos] = open;
                int a = expr(left, rng, seq, pos + 1);
                int b = expr(right, rng, seq, pos + 2 + left);
                int op = rng.nextInt(withTimes ? 3 : 2);
                seq[pos + 1 + left] = op == 0 ? plus : op == 1 ? minus : times;
                seq[pos + len - 1] = close;
                int v = op == 0 ? a + b : op == 1 ? a - b : a * b;
                return Math.floorMod(v, MOD);                                           // Python-style modulo
            }
        }
    }
}
