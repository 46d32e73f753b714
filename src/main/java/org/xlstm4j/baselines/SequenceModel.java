package org.xlstm4j.baselines;

import org.xlstm4j.model.Param;

import java.util.List;

/**
 * What the experiments need from a causal sequence model over token ids: its parameters, a training step (forward +
 * backward) and a forward pass that returns logits. The loss is next-token cross-entropy over the rows whose target is
 * not −1; logits are computed <em>only</em> at those rows, which is exact and makes large vocabularies (MQAR: 8192)
 * affordable when few positions are scored.
 *
 * <p>Layout: token ids and targets are [B, T] row-major, "row" r = b·T + t. Implementations reuse their buffers across
 * calls (no allocation once shapes are stable) and are not thread-safe.
 */
public interface SequenceModel {
    /** A short name for tables, e.g. "xLSTM[0:1]". */
    String name();

    int vocabSize();

    /** All trainable parameters, each once. */
    List<Param> parameters();

    /**
     * Forward + backward on [B, T] ids with targets (−1 = not scored). Adds {@code weight · ∂(Σ_r CE_r)/∂θ} into every
     * {@link Param#grad} (does not zero them) and returns Σ_r CE_r in nats over the scored rows (0 when none is scored).
     * With weight = 1 / (scored rows of the whole batch), several calls over parts of a batch give the gradient of the
     * batch's mean loss.
     */
    double forwardBackward(int[] inputs, int[] targets, int B, int T, double weight);

    /**
     * Forward only. Returns logits [n, V] for the n rows whose target is not −1, in row order (all B·T rows when
     * {@code targets} is null); a buffer owned by the model, valid until the next call. {@link #scoredRows()} gives n.
     */
    float[] logits(int[] inputs, int[] targets, int B, int T);

    /** Number of rows in the logits returned by the last {@link #logits} or {@link #forwardBackward} call. */
    int scoredRows();

    /** Sets every gradient to zero. */
    default void zeroGrad() {
        for (Param p : parameters()) p.zeroGrad();
    }

    /** Number of trainable scalars. */
    default long parameterCount() {
        long n = 0;
        for (Param p : parameters()) n += p.size();
        return n;
    }
}
