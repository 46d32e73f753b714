package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * A synthetic sequence task of the paper (formal languages, appendix B.1.1; MQAR, B.1.2). A sample is one token
 * sequence of length n that holds the problem and its answer, plus a mask of the answer positions. Token 0 is PAD.
 * The batcher turns it into the official training form: input = the sequence with answer tokens replaced by PAD, minus
 * its last token; target = the sequence minus its first token, −1 except at answer positions (so the model reads the
 * problem and emits each answer token at the position before it).
 *
 * <p>Generators keep small scratch arrays, so an instance is not thread-safe; they allocate nothing per sample.
 */
public interface Task {
    /** Command-line name, e.g. "parity". */
    String name();

    /** Display name, e.g. "Parity". */
    String title();

    /** Chomsky-hierarchy level or family: "R", "DCF", "CS", "count", "memory", "recall". */
    String level();

    /** Vocabulary size including PAD. */
    int vocabSize();

    /** Accuracy of random guessing on the answer tokens (s_rand of the paper), for the scaled accuracy. */
    double chance();

    /** Smallest sequence length this task can produce. */
    int minLength();

    /** Sequence lengths (inclusive) drawn for training: the paper's 3–40 unless the task fixes its length. */
    default int[] trainLengths() { return new int[]{3, 40}; }

    /** Sequence lengths (inclusive) drawn for testing: the paper's 40–256 unless the task fixes its length. */
    default int[] testLengths() { return new int[]{40, 256}; }

    /**
     * Writes one sample of length n into seq[0, n) and its answer mask into answer[0, n) and returns n. n is
     * {@code length} where the task's structure allows it, else the nearest allowed length below it (never less than
     * {@code length − 1}, nor less than {@link #minLength()}: a smaller {@code length} is raised to it). Arrays must
     * hold at least max(length, minLength()) entries. Every sample has at least one answer token.
     */
    int generate(int length, RandomGenerator rng, int[] seq, boolean[] answer);

    /** Scaled accuracy (acc − chance) / (1 − chance): 0 = chance, 1 = perfect (paper appendix B.1.1). */
    static double scaled(double accuracy, double chance) {
        return (accuracy - chance) / (1 - chance);
    }
}
