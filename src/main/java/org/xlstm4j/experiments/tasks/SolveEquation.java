package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Solve Equation (deterministic context-free; reconstruction, |V| = 14): tokens 1 '+', 2 '−', 3 '×' (unused, kept for
 * the paper's vocabulary), 4 '=', 5 '(', 6 ')', 7 ACT, 8 'x', 9…13 the digits 0…4. A random bracketed expression with +
 * and − only ({@link BracketExpression}) of length L−4, in which one uniformly chosen digit is replaced by x, then '=',
 * the expression's value (mod 5), ACT and the answer: the replaced digit (unique, since x has coefficient ±1).
 * Chance 1/5.
 */
public final class SolveEquation extends AbstractTask {
    static final int PLUS = 1, MINUS = 2, TIMES = 3, EQUALS = 4, OPEN = 5, CLOSE = 6, ACT = 7, X = 8, DIGIT0 = 9;
    private final BracketExpression expression = new BracketExpression(PLUS, MINUS, TIMES, OPEN, CLOSE, DIGIT0, false);

    public SolveEquation() { super("solve_equation", "Solve Equation", "DCF", 14, 0.2, 5); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int len = L - 4;
        int value = expression.write(len, rng, seq, 0);
        int hole = expression.digitPosition(rng.nextInt(expression.digitCount()));
        int unknown = seq[hole];
        seq[hole] = X;
        seq[len] = EQUALS;
        seq[len + 1] = DIGIT0 + value;
        seq[len + 2] = ACT;
        seq[len + 3] = unknown;
        answer[len + 3] = true;
        return L;
    }
}
