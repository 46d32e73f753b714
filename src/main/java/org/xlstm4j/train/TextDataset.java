package org.xlstm4j.train;

import org.xlstm4j.UserError;

/**
 * A token corpus split into training (first 90%) and validation (last 10%) windows of next-token prediction.
 *
 * <p>Training batches are a pure function of (seed, step, microStep): each window start is a SplitMix64 hash of those
 * numbers and the row index. No random generator state exists, so a resumed run draws exactly the batches that the
 * uninterrupted run would have drawn, and checkpoints need not save RNG state. Validation batches are fixed windows
 * spread evenly over the validation split, the same at every evaluation.
 */
public final class TextDataset {
    private final Tokens tokens;
    private final int[] ids;
    private final int trainLen, valLen;
    private final long seed;
    private final DataInfo info;

    /**
     * Splits {@code tokens}; throws {@link UserError} when either split has fewer than {@code contextLength + 1}
     * tokens or an id is out of the vocabulary.
     */
    public TextDataset(Tokens tokens, int contextLength, long seed) {
        this.tokens = tokens;
        this.ids = tokens.ids();
        this.seed = seed;
        int n = ids.length, v = tokens.vocabSize();
        if (n == 0) throw new UserError(tokens.source() + ": the corpus is empty");
        for (int i = 0; i < n; i++)
            if (ids[i] < 0 || ids[i] >= v)
                throw new UserError(tokens.source() + ": token " + i + " has id " + ids[i] + ", outside the vocabulary of " + v);
        this.trainLen = (int) (n * 9L / 10);
        this.valLen = n - trainLen;
        checkContext(contextLength);
        this.info = new DataInfo(tokens.source(), v, n, trainLen, valLen, DataInfo.fingerprint(ids), tokens.bytesPerToken());
    }

    private TextDataset(TextDataset d, long seed) {
        this.tokens = d.tokens;
        this.ids = d.ids;
        this.trainLen = d.trainLen;
        this.valLen = d.valLen;
        this.info = d.info;
        this.seed = seed;
    }

    /** The same data with another seed for the training order (no copy, no re-validation). */
    public TextDataset withSeed(long newSeed) { return new TextDataset(this, newSeed); }

    /** Throws {@link UserError} unless both splits hold at least {@code contextLength + 1} tokens. */
    public void checkContext(int contextLength) {
        if (contextLength < 1) throw new UserError("context length must be >= 1, got " + contextLength);
        checkSplit("training", trainLen, contextLength);
        checkSplit("validation", valLen, contextLength);
    }

    private void checkSplit(String split, int len, int contextLength) {
        if (len < contextLength + 1L)
            throw new UserError(tokens.source() + ": the " + split + " split has " + len + " tokens (of " + ids.length
                    + "), but context length " + contextLength + " needs at least " + (contextLength + 1L)
                    + "; use a longer text or a shorter context");
    }

    public Tokens tokens() { return tokens; }
    public int vocabSize() { return tokens.vocabSize(); }
    public int trainTokens() { return trainLen; }
    public int valTokens() { return valLen; }
    public long seed() { return seed; }
    /** Identity of the data for checkpoints. */
    public DataInfo info() { return info; }

    /**
     * Fills {@code inputs} and {@code targets} ([B, T] row-major) with B random training windows, targets shifted by
     * one token. Deterministic from (seed, step, microStep); {@code step} is the 0-based index of the update.
     */
    public void sampleBatch(int[] inputs, int[] targets, int B, int T, long step, int microStep) {
        check(inputs, targets, B, T, trainLen);
        long range = trainLen - T;   // starts 0 .. trainLen-T-1 leave room for the shifted target
        long base = mix(mix(seed ^ 0x5851f42d4c957f2dL) + step * 0x9e3779b97f4a7c15L + microStep);
        for (int b = 0; b < B; b++) {
            long h = mix(base + (b + 1) * 0xbf58476d1ce4e5b9L);
            int start = (int) Math.unsignedMultiplyHigh(h, range);
            System.arraycopy(ids, start, inputs, b * T, T);
            System.arraycopy(ids, start + 1, targets, b * T, T);
        }
    }

    /**
     * Fills validation batch {@code batch} of {@code numBatches}: the {@code numBatches·B} windows are spread evenly
     * from the first to the last possible start of the validation split (overlapping when it is short).
     */
    public void validationBatch(int[] inputs, int[] targets, int B, int T, int batch, int numBatches) {
        check(inputs, targets, B, T, valLen);
        if (batch < 0 || batch >= numBatches) throw new IllegalArgumentException("batch " + batch + " of " + numBatches);
        long windows = (long) numBatches * B, last = valLen - T - 1;
        for (int b = 0; b < B; b++) {
            long k = (long) batch * B + b;
            int start = trainLen + (int) (windows == 1 ? 0 : k * last / (windows - 1));
            System.arraycopy(ids, start, inputs, b * T, T);
            System.arraycopy(ids, start + 1, targets, b * T, T);
        }
    }

    private static void check(int[] inputs, int[] targets, int B, int T, int splitLen) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("B and T must be >= 1: " + B + ", " + T);
        if (T + 1L > splitLen) throw new IllegalArgumentException("T=" + T + " needs " + (T + 1) + " tokens, split has " + splitLen);
        if (inputs.length < (long) B * T || targets.length < (long) B * T)
            throw new IllegalArgumentException("batch arrays shorter than B*T = " + (long) B * T);
    }

    /** SplitMix64 finalizer: a bijective 64-bit hash. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
