package org.xlstm4j.baselines;

import org.xlstm4j.layers.CrossEntropy;
import org.xlstm4j.layers.Embedding;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The part every model here shares: token embedding → body (the model proper, [B·T, E] → [B·T, E]) → linear head
 * (no bias, optionally tied to the embedding) evaluated only at the scored rows → cross-entropy. Subclasses implement
 * the body's forward and backward.
 *
 * <p>Forward: x = Emb[ids]; h = body(x); hs = h[scored rows]; logits = hs·Wᵀ.
 * Backward: dlogits from the loss; W.grad += dlogitsᵀ·hs; dh = 0 except dh[scored] = dlogits·W; dx = body'(dh);
 * Emb.grad[ids] += dx.
 */
public abstract class HeadedSequenceModel implements SequenceModel {
    protected final Kernels kernels;
    protected final int vocab, dim;
    protected final Embedding embedding;
    protected final Param head;                 // (V, E), PyTorch Linear layout; the embedding table when tied
    protected final boolean tied;
    private final CrossEntropy crossEntropy = new CrossEntropy();
    private List<Param> params;

    private float[] x, hSel, logits, dHSel, dHidden;
    private int[] ids, rows, targetsSel;
    private int nSel, B, T;

    /**
     * {@code embeddingName} is the prefix of the embedding table (its parameter is {@code embeddingName + ".weight"});
     * with {@code tied} the head is the embedding table itself (logits = h·Embᵀ; both gradients add into one Param).
     */
    protected HeadedSequenceModel(Kernels kernels, String embeddingName, String headName, int vocab, int dim, boolean tied) {
        this.kernels = kernels;
        this.vocab = vocab;
        this.dim = dim;
        this.tied = tied;
        this.embedding = new Embedding(embeddingName, vocab, dim);
        if (tied) {
            this.head = embedding.weight;
        } else {
            this.head = new Param(headName, vocab, dim);
            this.head.weightDecay = true;
        }
    }

    /** Whether the head shares the embedding table. */
    public boolean tied() { return tied; }

    /** The body's parameters (between embedding and head), in a fixed order. */
    protected abstract List<Param> bodyParameters();

    /** Body forward over x [B·T, E] (kept unchanged until the backward); returns h [B·T, E], a buffer the body owns. */
    protected abstract float[] forwardBody(float[] x, int B, int T);

    /** Body backward of the last forward from dh [B·T, E]; accumulates parameter gradients and returns dx [B·T, E]. */
    protected abstract float[] backwardBody(float[] dh);

    @Override public int vocabSize() { return vocab; }

    @Override public final List<Param> parameters() {
        if (params == null) {
            List<Param> ps = new ArrayList<>();
            ps.add(embedding.weight);
            ps.addAll(bodyParameters());
            if (!tied) ps.add(head);
            params = Collections.unmodifiableList(ps);
        }
        return params;
    }

    @Override public int scoredRows() { return nSel; }

    @Override public float[] logits(int[] inputs, int[] targets, int B, int T) {
        forward(inputs, targets, B, T);
        return logits;
    }

    @Override public double forwardBackward(int[] inputs, int[] targets, int B, int T, double weight) {
        forward(inputs, targets, B, T);
        if (nSel == 0) return 0;
        // mean CE over the scored rows, its gradient in place of the logits; rescale to weight·Σ
        float mean = crossEntropy.forward(logits, targetsSel, nSel, vocab, logits);
        float scale = (float) (weight * nSel);
        float[] dLogits = logits;
        for (int i = 0, n = nSel * vocab; i < n; i++) dLogits[i] *= scale;
        // head: W.grad += dlogitsᵀ·hs, dhs = dlogits·W
        kernels.matmulDyTX(dLogits, 0, hSel, 0, head.grad, 0, nSel, vocab, dim, true);
        kernels.matmulDyW(dLogits, 0, head.data, 0, dHSel, 0, nSel, vocab, dim, false);
        int n = B * T;
        java.util.Arrays.fill(dHidden, 0, n * dim, 0f);
        for (int i = 0; i < nSel; i++) System.arraycopy(dHSel, i * dim, dHidden, rows[i] * dim, dim);
        float[] dx = backwardBody(dHidden);
        embedding.backward(dx, n);
        return (double) mean * nSel;
    }

    private void forward(int[] inputs, int[] targets, int B, int T) {
        this.B = B;
        this.T = T;
        int n = B * T;
        x = Buffers.ensure(x, n * dim);
        dHidden = Buffers.ensure(dHidden, n * dim);
        ids = Buffers.ensure(ids, n);
        rows = Buffers.ensure(rows, n);
        targetsSel = Buffers.ensure(targetsSel, n);
        System.arraycopy(inputs, 0, ids, 0, n);   // the embedding keeps a reference for its backward
        nSel = 0;
        for (int r = 0; r < n; r++) {
            if (targets != null && targets[r] == CrossEntropy.IGNORE) continue;
            rows[nSel] = r;
            targetsSel[nSel] = targets == null ? 0 : targets[r];
            nSel++;
        }
        embedding.forward(ids, x, n);
        float[] h = forwardBody(x, B, T);
        hSel = Buffers.ensure(hSel, Math.max(1, nSel) * dim);
        dHSel = Buffers.ensure(dHSel, Math.max(1, nSel) * dim);
        logits = Buffers.ensure(logits, Math.max(1, nSel) * vocab);
        for (int i = 0; i < nSel; i++) System.arraycopy(h, rows[i] * dim, hSel, i * dim, dim);
        if (nSel > 0) kernels.matmulXWt(hSel, 0, head.data, 0, logits, 0, nSel, vocab, dim, false);
    }
}
