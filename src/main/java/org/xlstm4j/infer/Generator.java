package org.xlstm4j.infer;

import org.xlstm4j.UserError;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;

import java.util.function.IntConsumer;

/**
 * Text generation from a recurrent state: the prompt goes through the full-sequence (chunkwise) path once, then each
 * new token is one {@link LanguageModel#step} — constant memory per token, no growing cache.
 */
public final class Generator {
    private final LanguageModel model;

    public Generator(LanguageModel model) { this.model = model; }

    /**
     * Reads a prompt [B, T] into {@code state} (fresh zeros when null) and returns the logits of its last token
     * per sequence, [B, V] (a new array).
     */
    public float[] prefill(int[] prompt, int B, int T, LMState state) {
        if (T < 1) throw new UserError("the prompt is empty: give at least one token");
        int V = model.vocabSize();
        float[] logits = model.forward(prompt, B, T, state);
        float[] last = new float[B * V];
        for (int b = 0; b < B; b++) System.arraycopy(logits, (b * T + T - 1) * V, last, b * V, V);
        return last;
    }

    /**
     * Continues a batch of prompts [B, T] by {@code maxNewTokens} tokens and returns [B, T + maxNewTokens]
     * (prompt followed by the new tokens, the layout of the fixtures' output.greedy_ids). {@code onToken}
     * (may be null) sees each new token of sequence 0 as soon as it is chosen, for streaming. Afterwards the state
     * has read the prompt and every generated token, so a later call can continue the same conversation.
     */
    public int[] generate(int[] prompt, int B, int T, int maxNewTokens, Sampler sampler, LMState state, IntConsumer onToken) {
        if (maxNewTokens < 0) throw new UserError("--max-new-tokens must be >= 0, got " + maxNewTokens);
        int V = model.vocabSize();
        LMState s = state != null ? state : model.newState(B);
        int total = T + maxNewTokens;
        int[] out = new int[B * total];
        for (int b = 0; b < B; b++) System.arraycopy(prompt, b * T, out, b * total, T);
        if (maxNewTokens == 0) {
            model.forward(prompt, B, T, s);
            return out;
        }
        float[] logits = prefill(prompt, B, T, s);
        int[] next = new int[B];
        for (int i = 0; i < maxNewTokens; i++) {
            for (int b = 0; b < B; b++) {
                next[b] = sampler.sample(logits, b * V);
                out[b * total + T + i] = next[b];
            }
            if (onToken != null) onToken.accept(next[0]);
            logits = model.step(next, s);   // the state then covers prompt + every generated token
        }
        return out;
    }
}
