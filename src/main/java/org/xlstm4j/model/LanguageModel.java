package org.xlstm4j.model;

/**
 * What inference needs from any xLSTM language model (the paper's {@link XLstmLM} and the xLSTM-7B architecture):
 * a full-sequence forward that reads and updates a recurrent state, and single-token steps.
 */
public interface LanguageModel {
    int vocabSize();

    /** A zero recurrent state for B sequences. */
    LMState newState(int B);

    /**
     * Forward over token ids [B, T]; returns logits [B·T, V] in a model-owned buffer valid until the next call.
     * {@code state}: null = zeros (nothing returned); otherwise the initial state, overwritten with the final one.
     */
    float[] forward(int[] idx, int B, int T, LMState state);

    /**
     * Checks a forward's input against a model of vocabulary V: B, T ≥ 1, every id in [0, V) ({@link
     * org.xlstm4j.UserError} naming the id), a state (when given) made for batch B.
     */
    static void checkInput(int[] idx, int B, int T, LMState state, int V) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("bad input shape B=" + B + " T=" + T);
        if (state != null && state.batch != B)
            throw new IllegalArgumentException("state was made for batch " + state.batch + ", input has batch " + B);
        if ((long) B * T * V > Integer.MAX_VALUE - 8)
            throw new org.xlstm4j.UserError("input [" + B + ", " + T + "] would need " + (long) B * T * V
                    + " logits (vocab " + V + "), more than a Java array holds: use fewer tokens per call");
        for (int i = 0; i < B * T; i++)
            if (idx[i] < 0 || idx[i] >= V) throw new org.xlstm4j.UserError("token id " + idx[i] + " is out of range for vocab size " + V);
    }

    /**
     * A zero state for batch B that a model keeps between calls: {@code cached} reset when it has that batch, else a new
     * one (and {@code cached} released).
     */
    static LMState zeroState(LanguageModel model, LMState cached, int B) {
        if (cached != null && cached.batch == B) {
            cached.reset();
            return cached;
        }
        if (cached != null) model.release(cached);
        return model.newState(B);
    }

    /** Frees what a state made by {@link #newState} holds beyond the Java heap (GPU memory); it must not be used afterwards. */
    default void release(LMState state) {}

    /** One token per sequence through the state: ids [B] → logits [B, V] (model-owned buffer). */
    default float[] step(int[] ids, LMState state) {
        return forward(ids, state.batch, 1, state);
    }

    /** Feeds [B, T] tokens one at a time through the state (null = zeros); returns all logits [B, T, V] (new array). */
    default float[] stepSequence(int[] idx, int B, int T, LMState state) {
        LMState s = state != null ? state : newState(B);
        int V = vocabSize();
        float[] all = new float[B * T * V];
        int[] tok = new int[B];
        for (int t = 0; t < T; t++) {
            for (int b = 0; b < B; b++) tok[b] = idx[b * T + t];
            float[] l = step(tok, s);
            for (int b = 0; b < B; b++) System.arraycopy(l, b * V, all, (b * T + t) * V, V);
        }
        return all;
    }
}
