package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Stack Manipulation (deterministic context-free; reconstruction, |V| = 11): tokens 1 ACT, 2 POP, 3…6 the stack
 * symbols ST1…ST4, 7…10 the actions PS1…PS4 (push ST1…ST4). The input is an initial stack, bottom first (k uniform
 * symbols, k uniform in [1, max(1, ⌊(L−1)/4⌋)]), then actions (POP or one of the four pushes with probability 1/2 and
 * 1/8 each; POP on an empty stack does nothing), then ACT and the final stack printed bottom to top, every token
 * scored (paper example: ST1 ST1 ST3 POP POP PS3 PS3 ACT → ST1 ST3 ST3). Actions are added until the whole sequence
 * has length L (or L−1 when a push would overshoot by one); a sample ending with an empty stack is redrawn.
 * Chance 1/4.
 */
public final class StackManipulation extends AbstractTask {
    static final int ACT = 1, POP = 2, ST1 = 3, PS1 = 7;
    private int[] stack = new int[64];

    public StackManipulation() { super("stack_manipulation", "Stack Manipulation", "DCF", 11, 0.25, 3); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        if (stack.length < L) stack = new int[L];
        while (true) {
            int k = 1 + rng.nextInt(Math.max(1, (L - 1) / 4));
            int m = 0, s = 0;                                  // input tokens written, stack size
            for (; m < k; m++) stack[s++] = seq[m] = ST1 + rng.nextInt(4);
            // total length = m + 1 (ACT) + s; a push adds 2, a POP 0 (or 1 on an empty stack)
            while (m + 1 + s < L - 1) {
                if (rng.nextInt(2) == 0) {
                    seq[m++] = POP;
                    if (s > 0) s--;
                } else {
                    int sym = rng.nextInt(4);
                    seq[m++] = PS1 + sym;
                    stack[s++] = ST1 + sym;
                }
            }
            if (s == 0) continue;                              // nothing to answer: redraw
            seq[m] = ACT;
            for (int j = 0; j < s; j++) {
                seq[m + 1 + j] = stack[j];
                answer[m + 1 + j] = true;
            }
            return m + 1 + s;
        }
    }
}
