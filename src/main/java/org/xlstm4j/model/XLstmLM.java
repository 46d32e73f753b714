package org.xlstm4j.model;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.Block;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlock;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.blocks.SLstmBlock;
import org.xlstm4j.blocks.Workspace;
import org.xlstm4j.layers.CrossEntropy;
import org.xlstm4j.layers.Embedding;
import org.xlstm4j.layers.GatedFFN;
import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The paper's xLSTM language model, the official {@code xLSTMLMModel} (spec §4.2): token embedding → block stack
 * (sLSTM at the configured positions, mLSTM elsewhere) → optional post-blocks LayerNorm → LM head (tied or not).
 * No positional encoding. Forward and backward run over preallocated buffers that grow with B·T and are reused.
 */
public final class XLstmLM implements LanguageModel {
    public final XLstmConfig config;
    private final Kernels kernels;
    private final Embedding embedding;
    private final Block[] blocks;
    private final LayerNorm postNorm;     // null when add_post_blocks_norm is false
    private final Param headWeight;       // lm_head.weight, or the embedding weight when tied
    private final List<Param> params;
    private final CrossEntropy crossEntropy = new CrossEntropy();

    private float[][] acts;               // acts[i] = input of block i; acts[n] = output of the last block
    private float[] normed, logits, dLogits, dA, dB;
    private int[] idxCopy;
    private int B, T;

    public XLstmLM(XLstmConfig config, Kernels kernels) {
        this.config = config.validate();
        if (config.dropout != 0.0) throw new UserError("dropout " + config.dropout + " is not supported (use 0.0)");
        this.kernels = kernels;
        int E = config.embeddingDim;
        embedding = new Embedding("token_embedding", config.vocabSize, E);
        embedding.weight.weightDecay = config.weightDecayOnEmbedding;
        blocks = new Block[config.numBlocks];
        for (int i = 0; i < blocks.length; i++) {
            String prefix = "xlstm_block_stack.blocks." + i + ".";
            if (config.isSLstm(i)) {
                GatedFFN.Act act = config.ffnActFn.equals("gelu") ? GatedFFN.Act.GELU : GatedFFN.Act.SILU;
                blocks[i] = new SLstmBlock(prefix, E, config.slstmNumHeads, config.slstmConvKernel, config.ffnHiddenDim(), act);
            } else {
                blocks[i] = new MLstmBlock(prefix, E, config.mlstmInnerDim(), config.mlstmNumHeads,
                        config.mlstmConvKernel, config.mlstmQkvBlocksize, config.bias);
            }
        }
        Workspace shared = new Workspace();   // one set of backward scratch for all blocks (they run one at a time)
        for (Block b : blocks) if (b instanceof MLstmBlock mb) mb.useWorkspace(shared);
        postNorm = config.addPostBlocksNorm
                ? new LayerNorm("xlstm_block_stack.post_blocks_norm", E, 1e-5f, true, false) : null;
        if (config.tieWeights) {
            headWeight = embedding.weight;
        } else {
            headWeight = new Param("lm_head.weight", config.vocabSize, E);
            headWeight.weightDecay = true;
        }
        List<Param> ps = new ArrayList<>();
        ps.add(embedding.weight);
        for (Block b : blocks) ps.addAll(b.parameters());
        if (postNorm != null) ps.add(postNorm.weight);
        if (!config.tieWeights) ps.add(headWeight);
        params = Collections.unmodifiableList(ps);
    }

    /** All trainable parameters with their official names, each listed once (a tied head is the embedding). */
    public List<Param> parameters() { return params; }

    public Kernels kernels() { return kernels; }

    /** The token embedding table [V, E]. */
    public Param embeddingWeight() { return embedding.weight; }

    /** The block stack in order (read-only view; {@link MLstmBlock} or {@link SLstmBlock}). */
    public List<Block> blocks() { return List.of(blocks); }

    /** The post-blocks LayerNorm, or null when the config has none. */
    public LayerNorm postNorm() { return postNorm; }

    /** The LM head [V, E] (the embedding table when the weights are tied). */
    public Param headWeight() { return headWeight; }

    @Override public int vocabSize() { return config.vocabSize; }

    public long parameterCount() {
        long n = 0;
        for (Param p : params) n += p.size();
        return n;
    }

    /** Sets the multi-token formulation of every mLSTM layer (chunkwise by default; parallel = the official forward). */
    public void setMLstmForm(MLstmLayer.Form form, int chunkSize) {
        for (Block b : blocks)
            if (b instanceof MLstmBlock mb) mb.layer.setForm(form, chunkSize);
    }

    /** A zero recurrent state for a batch of B sequences. */
    @Override public LMState newState(int B) {
        BlockState[] s = new BlockState[blocks.length];
        for (int i = 0; i < blocks.length; i++) s[i] = blocks[i].newState(B);
        return new LMState(B, s);
    }

    private void ensure(int rows) {
        int E = config.embeddingDim;
        if (acts == null) acts = new float[blocks.length + 1][];
        for (int i = 0; i <= blocks.length; i++) acts[i] = Buffers.ensure(acts[i], rows * E);
        normed = Buffers.ensure(normed, rows * E);
        // exact size, so callers can use or clone the returned array directly; reallocated only when B·T changes
        if (logits == null || logits.length != rows * config.vocabSize) logits = new float[rows * config.vocabSize];
        idxCopy = Buffers.ensure(idxCopy, rows);
    }

    /**
     * Forward over token ids [B, T]; returns logits [B·T, V] (exactly that long; a buffer owned by the model, valid until the next call).
     * {@code state}: null = start from zeros (training); otherwise the initial state, overwritten with the final one.
     */
    @Override public float[] forward(int[] idx, int B, int T, LMState state) {
        if (state != null && state.batch != B)
            throw new IllegalArgumentException("state was made for batch " + state.batch + ", input has batch " + B);
        this.B = B;
        this.T = T;
        int rows = B * T;
        ensure(rows);
        System.arraycopy(idx, 0, idxCopy, 0, rows);
        embedding.forward(idxCopy, acts[0], rows);
        for (int i = 0; i < blocks.length; i++)
            blocks[i].forward(kernels, acts[i], acts[i + 1], B, T, state == null ? null : state.blocks[i]);
        float[] last = acts[blocks.length];
        if (postNorm != null) postNorm.forward(kernels, last, normed, rows);
        else System.arraycopy(last, 0, normed, 0, rows * config.embeddingDim);
        kernels.matmulXWt(normed, 0, headWeight.data, 0, logits, 0, rows, config.vocabSize, config.embeddingDim, false);
        return logits;
    }

    /** Mean cross-entropy of next-token targets [B, T] (−1 = ignored) without gradients. */
    public float loss(int[] inputs, int[] targets, int B, int T) {
        forward(inputs, B, T, null);
        return crossEntropy.forward(logits, targets, B * T, config.vocabSize, null);
    }

    /** Forward + backward: adds d(mean loss)/d(param) into every Param.grad and returns the mean loss. */
    public float forwardBackward(int[] inputs, int[] targets, int B, int T) {
        forward(inputs, B, T, null);
        int rows = B * T, E = config.embeddingDim, V = config.vocabSize;
        dLogits = logits;                      // the gradient overwrites the logits in place (CrossEntropy allows it)
        float loss = crossEntropy.forward(logits, targets, rows, V, dLogits);
        backward();
        return loss;
    }

    /** Backward from the gradient already in dLogits (filled by the loss). */
    private void backward() {
        int rows = B * T, E = config.embeddingDim, V = config.vocabSize;
        dA = Buffers.ensure(dA, rows * E);
        dB = Buffers.ensure(dB, rows * E);
        kernels.matmulDyTX(dLogits, 0, normed, 0, headWeight.grad, 0, rows, V, E, true);
        kernels.matmulDyW(dLogits, 0, headWeight.data, 0, dB, 0, rows, V, E, false);
        if (postNorm != null) postNorm.backward(kernels, dB, dA, rows, false);
        else System.arraycopy(dB, 0, dA, 0, rows * E);
        float[] dy = dA, dx = dB;
        for (int i = blocks.length - 1; i >= 0; i--) {
            blocks[i].backward(kernels, dy, dx);
            float[] t = dy; dy = dx; dx = t;
        }
        embedding.backward(dy, rows);
    }

    /** Sets every gradient to zero. */
    public void zeroGrad() {
        for (Param p : params) p.zeroGrad();
    }
}
