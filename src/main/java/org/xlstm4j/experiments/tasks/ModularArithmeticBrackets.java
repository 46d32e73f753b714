package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Modular Arithmetic with brackets (deterministic context-free; reconstruction, |V| = 12): tokens 1 '+', 2 '−', 3 '×',
 * 4 '=', 5 '(', 6 ')', 7…11 the digits 0…4. A random bracketed expression ({@link BracketExpression}, with ×) of
 * length L−2, then '=' and the answer digit (value mod 5). Chance 1/5.
 */
public final class ModularArithmeticBrackets extends AbstractTask {
    static final int PLUS = 1, MINUS = 2, TIMES = 3, EQUALS = 4, OPEN = 5, CLOSE = 6, DIGIT0 = 7;
    private final BracketExpression expression = new BracketExpression(PLUS, MINUS, TIMES, OPEN, CLOSE, DIGIT0, true);

    public ModularArithmeticBrackets() {
        super("mod_arith_brackets", "Mod Arithmetic (w/ brackets)", "DCF", 12, 1.0 / BracketExpression.MOD, 3);
    }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int value = expression.write(L - 2, rng, seq, 0);
        seq[L - 2] = EQUALS;
        seq[L - 1] = DIGIT0 + value;
        answer[L - 1] = true;
        return L;
    }
}
