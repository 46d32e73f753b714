package org.xlstm4j.experiments.tasks;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Bucket Sort (context-sensitive; reconstruction, |V| = 11): m uniform symbols from the ordered alphabet 1…10, followed
 * directly (no separator, as in the paper's example 1 4 8 6 1 → 1 1 4 6 8) by the same symbols in ascending order;
 * every output token is scored. L = 2m. Chance 1/10.
 */
public final class BucketSort extends AbstractTask {
    static final int SYMBOLS = 10;
    private final int[] counts = new int[SYMBOLS + 1];

    public BucketSort() { super("bucket_sort", "Bucket Sort", "CS", SYMBOLS + 1, 1.0 / SYMBOLS, 2); }

    @Override int write(int L, RandomGenerator rng, int[] seq, boolean[] answer) {
        int m = L / 2;
        Arrays.fill(counts, 0);
        for (int p = 0; p < m; p++) counts[seq[p] = 1 + rng.nextInt(SYMBOLS)]++;
        int p = m;
        for (int s = 1; s <= SYMBOLS; s++)
            for (int c = 0; c < counts[s]; c++) {
                seq[p] = s;
                answer[p++] = true;
            }
        return 2 * m;
    }
}
