package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * The three string-to-string tasks with |V| = 12 (reconstructions): m uniform symbols from 1…10, ACT (11), then m
 * output tokens, all scored; L = 2m + 1. Chance 1/10.
 * <ul>
 *   <li>Repetition (CS): the same symbols.</li>
 *   <li>Reverse String (DCF): the symbols in reverse order.</li>
 *   <li>Odds First (CS): the symbols at odd 1-based positions, then those at even positions
 *       (2 7 3 2 6 9 → 2 3 6 7 2 9).</li>
 * </ul>
 */
public final class StringTransduction extends AbstractTask {
    /** Which output the task asks for. */
    public enum Kind { REPETITION, REVERSE, ODDS_FIRST }

    static final int SYMBOLS = 10, ACT = 11;
    private final Kind kind;

    public StringTransduction(Kind kind) {
        super(switch (kind) {
                    case REPETITION -> "repetition";
                    case REVERSE -> "reverse_string";
                    case ODDS_FIRST -> "odds_first";
                },
                switch (kind) {
                    case REPETITION -> "Repetition";
                    case REVERSE -> "Reverse String";
                    case ODDS_FIRST -> "Odds First";
                },
                kind == Kind.REVERSE ? "DCF" : "CS", 12, 1.0 / SYMBOLS, 3);
        this.kind = kind;
    }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int m = (L - 1) / 2;
        for (int p = 0; p < m; p++) seq[p] = 1 + rng.nextInt(SYMBOLS);
        seq[m] = ACT;
        int odd = (m + 1) / 2;                               // number of odd 1-based positions
        for (int j = 0; j < m; j++) {
            int src = switch (kind) {
                case REPETITION -> j;
                case REVERSE -> m - 1 - j;
                case ODDS_FIRST -> j < odd ? 2 * j : 2 * (j - odd) + 1;
            };
            seq[m + 1 + j] = seq[src];
            answer[m + 1 + j] = true;
        }
        return 2 * m + 1;
    }
}
