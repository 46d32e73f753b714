package org.xlstm4j.infer;

import org.xlstm4j.UserError;

/**
 * Picks the next token from a row of logits: greedy (argmax), or a random draw after temperature scaling, top-k and
 * top-p (nucleus) filtering, applied in that order as in Hugging Face's {@code generate}.
 *
 * <ul>
 *   <li>temperature {@code τ}: probabilities ∝ exp(logit/τ); τ = 0 means greedy.</li>
 *   <li>top-k: keep the k most likely tokens (0 = all).</li>
 *   <li>top-p: of those, keep the smallest most-likely-first set whose renormalised probability is ≥ p (1 = all).</li>
 * </ul>
 * Ties are ordered by lower token id, so the kept set is well defined and greedy returns the lowest id among equal
 * maxima. Draws come from a SplitMix64 generator seeded in the constructor (or {@link #reseed}): the same seed and
 * logits give the same tokens on every JVM. {@link #sample} allocates nothing (scratch buffers are preallocated).
 * Not thread-safe: use one sampler per generation.
 */
public final class Sampler {
    private final int vocab;
    private final double temperature, topP;
    private final int topK;
    private final boolean greedy;
    private final float[] prob;
    private final int[] heap;
    private float[] keys;
    private int keyOff;
    private long state;

    /**
     * A sampler over {@code vocabSize} logits. {@code temperature} ≥ 0 (0 = greedy), {@code topK} ≥ 0 (0 = off),
     * {@code topP} in (0, 1] (1 = off).
     */
    public Sampler(int vocabSize, double temperature, int topK, double topP, long seed) {
        if (vocabSize < 1) throw new IllegalArgumentException("vocabulary size must be >= 1: " + vocabSize);
        if (!(temperature >= 0) || Double.isInfinite(temperature))
            throw new UserError("temperature must be a number >= 0 (0 = greedy), got " + temperature);
        if (topK < 0) throw new UserError("top-k must be >= 0 (0 = off), got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new UserError("top-p must be in (0, 1] (1 = off), got " + topP);
        this.vocab = vocabSize;
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.greedy = temperature == 0;
        this.prob = new float[vocabSize];
        this.heap = new int[vocabSize];
        reseed(seed);
    }

    /** A sampler that always returns the argmax. */
    public static Sampler greedy(int vocabSize) { return new Sampler(vocabSize, 0, 0, 1, 0); }

    /** Whether every draw is the argmax (temperature 0); top-k 1 gives the same tokens by filtering. */
    public boolean isGreedy() { return greedy; }

    /** Restarts the random sequence from {@code seed}. */
    public void reseed(long seed) { state = seed; }

    /** The next token for {@code logits[0 .. vocabSize)}. */
    public int sample(float[] logits) { return sample(logits, 0); }

    /** The next token for {@code logits[offset .. offset + vocabSize)} (e.g. the last row of a [T, V] block). */
    public int sample(float[] logits, int offset) {
        if (offset < 0 || offset + vocab > logits.length)
            throw new IllegalArgumentException("logits row [" + offset + ", " + (offset + vocab) + ") outside array of " + logits.length);
        int best = argmax(logits, offset, vocab);
        float max = logits[offset + best];
        if (Float.isNaN(max) || max == Float.NEGATIVE_INFINITY)
            throw new IllegalArgumentException("logits contain NaN or are all -Infinity");
        if (greedy) return best;

        double invT = 1 / temperature, total = 0;
        for (int i = 0; i < vocab; i++) {
            float p = (float) Math.exp((logits[offset + i] - max) * invT);
            if (Float.isNaN(p)) throw new IllegalArgumentException("logit " + i + " is NaN");
            prob[i] = p;
            total += p;
        }
        if ((topK == 0 || topK >= vocab) && topP >= 1) return walkAll(total);

        // Pop tokens most likely first from a max-heap; popped ones collect at the end: heap[vocab-1], heap[vocab-2], ...
        keys = logits;
        keyOff = offset;
        for (int i = 0; i < vocab; i++) heap[i] = i;
        for (int i = vocab / 2 - 1; i >= 0; i--) siftDown(i, vocab);
        int limit = topK == 0 ? vocab : Math.min(topK, vocab), popped = 0;
        double mass = total;
        if (limit < vocab) {
            mass = 0;
            for (; popped < limit; popped++) mass += prob[pop(vocab - popped)];
        }
        double need = topP * mass, cum = 0;
        int kept = 0;
        while (kept < limit && (kept == 0 || cum < need)) {
            if (kept == popped) pop(vocab - popped++);
            cum += prob[heap[vocab - 1 - kept++]];
        }
        keys = null;
        double u = nextDouble() * cum, acc = 0;
        for (int j = 0; j < kept; j++) {
            int id = heap[vocab - 1 - j];
            acc += prob[id];
            if (u < acc) return id;
        }
        return heap[vocab - 1];   // unreachable unless rounding: the most likely token
    }

    private int walkAll(double total) {
        double u = nextDouble() * total, acc = 0;
        int last = 0;
        for (int i = 0; i < vocab; i++) {
            if (prob[i] == 0) continue;
            acc += prob[i];
            last = i;
            if (u < acc) return i;
        }
        return last;
    }

    /** Moves the top of the heap of {@code size} to position size-1 and restores the heap on [0, size-1); returns it. */
    private int pop(int size) {
        int top = heap[0];
        heap[0] = heap[size - 1];
        heap[size - 1] = top;
        siftDown(0, size - 1);
        return top;
    }

    private void siftDown(int i, int size) {
        int x = heap[i];
        while (true) {
            int c = 2 * i + 1;
            if (c >= size) break;
            if (c + 1 < size && before(heap[c + 1], heap[c])) c++;
            if (!before(heap[c], x)) break;
            heap[i] = heap[c];
            i = c;
        }
        heap[i] = x;
    }

    /** Whether token a ranks before token b: higher logit, then lower id. */
    private boolean before(int a, int b) {
        float ka = keys[keyOff + a], kb = keys[keyOff + b];
        return ka > kb || (ka == kb && a < b);
    }

    /** Index of the largest of {@code x[offset .. offset+n)} (first on ties, NaN counts as largest). */
    public static int argmax(float[] x, int offset, int n) {
        int best = 0;
        float m = x[offset];
        for (int i = 1; i < n && !Float.isNaN(m); i++) {
            float v = x[offset + i];
            if (v > m || Float.isNaN(v)) {
                m = v;
                best = i;
            }
        }
        return best;
    }

    /** SplitMix64: a uniform double in [0, 1). */
    private double nextDouble() {
        long z = (state += 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }
}
