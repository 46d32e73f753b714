package org.xlstm4j.experiments.tasks;

import java.util.random.RandomGenerator;

/**
 * Multi-Query Associative Recall (Arora et al. 2023, Zoology's {@code multiquery_ar}; paper appendix B.1.2), as a
 * sample of T + 1 tokens whose first T are the model's input:
 * <ol>
 *   <li>K keys drawn without replacement from 1…V/2−1 and K values without replacement from V/2…V−1;</li>
 *   <li>positions 0…2K−1 hold key₁ value₁ … key_K value_K;</li>
 *   <li>the rest offers S = (T − 2K)/2 query slots (slot g at 2K + 2g); K distinct slots are drawn without
 *       replacement with probability ∝ (g + 1)^(a − 1), a = 0.01 (most queries soon after the context, a long tail);
 *       key j goes into the j-th slot drawn, so every key is queried once, in random order;</li>
 *   <li>the value of each query sits right after it (position 2K + 2g + 1) and is the answer; every other position is
 *       0 (Zoology's "random non-queries" off, as in the xLSTM figure).</li>
 * </ol>
 * The batcher masks answers out of the input, so the model reads a key and must emit its value at the same position
 * — Zoology's inputs and labels exactly. Chance 1/(V/2) (values are uniform over half the vocabulary).
 */
public final class Mqar implements Task {
    public static final double POWER_A = 0.01;
    private final int T, K, V;
    private final double[] weights;
    private final boolean[] taken;

    /** Zoology's constraints: T even, V > T, 4K ≤ T. */
    public Mqar(int seqLen, int pairs, int vocab) {
        if (seqLen % 2 != 0 || vocab <= seqLen || 4 * pairs > seqLen || pairs < 1)
            throw new IllegalArgumentException("MQAR needs T even, V > T, 1 <= K, 4K <= T; got T=" + seqLen + " K=" + pairs + " V=" + vocab);
        T = seqLen;
        K = pairs;
        V = vocab;
        int slots = (T - 2 * K) / 2;
        weights = new double[slots];
        for (int g = 0; g < slots; g++) weights[g] = Math.pow(g + 1, POWER_A - 1);
        taken = new boolean[slots];
    }

    /** The paper's experiment-1 setting for T ∈ {64, 128, 256}: K = T/16, V = 8192. */
    public static Mqar experiment1(int seqLen) { return new Mqar(seqLen, seqLen / 16, 8192); }

    public int seqLen() { return T; }
    public int pairs() { return K; }

    @Override public String name() { return "mqar" + T; }
    @Override public String title() { return "MQAR T=" + T + " K=" + K + (V != 8192 ? " V=" + V : ""); }
    @Override public String level() { return "recall"; }
    @Override public int vocabSize() { return V; }
    @Override public double chance() { return 1.0 / (V / 2); }
    @Override public int minLength() { return T + 1; }
    @Override public int[] trainLengths() { return new int[]{T + 1, T + 1}; }
    @Override public int[] testLengths() { return new int[]{T + 1, T + 1}; }

    @Override public int generate(int length, RandomGenerator rng, int[] seq, boolean[] answer) {
        int n = T + 1, half = V / 2;
        java.util.Arrays.fill(seq, 0, n, 0);
        java.util.Arrays.fill(answer, 0, n, false);
        for (int j = 0; j < K; j++) {
            seq[2 * j] = drawDistinct(rng, 1, half, seq, j);            // key from 1…V/2−1
            seq[2 * j + 1] = drawDistinct(rng, half, V, seq, j);        // value from V/2…V−1
        }
        java.util.Arrays.fill(taken, false);
        double total = 0;
        for (double w : weights) total += w;
        for (int j = 0; j < K; j++) {                                   // weighted draw without replacement
            double u = rng.nextDouble() * total;
            int g = -1;
            for (int i = 0; i < weights.length; i++) {
                if (taken[i]) continue;
                g = i;
                u -= weights[i];
                if (u < 0) break;
            }
            taken[g] = true;
            total -= weights[g];
            int q = 2 * K + 2 * g;
            seq[q] = seq[2 * j];
            seq[q + 1] = seq[2 * j + 1];
            answer[q + 1] = true;
        }
        return n;
    }

    /** A uniform id in [lo, hi) different from the first {@code count} keys (lo = 1) or values (lo = V/2) so far. */
    private static int drawDistinct(RandomGenerator rng, int lo, int hi, int[] seq, int count) {
        while (true) {
            int id = lo + rng.nextInt(hi - lo);
            boolean dup = false;
            for (int j = 0; j < count && !dup; j++) dup = seq[2 * j] == id || seq[2 * j + 1] == id;
            if (!dup) return id;
        }
    }
}
