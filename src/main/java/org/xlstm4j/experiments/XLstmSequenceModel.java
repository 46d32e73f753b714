package org.xlstm4j.experiments;

import org.xlstm4j.baselines.HeadedSequenceModel;
import org.xlstm4j.baselines.SequenceModel;
import org.xlstm4j.blocks.Block;
import org.xlstm4j.blocks.MLstmBlock;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.blocks.SLstmBlock;
import org.xlstm4j.layers.GatedFFN;
import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.model.XLstmInit;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's xLSTM language model ({@link XLstmLM}: token embedding → mLSTM/sLSTM block stack → post-blocks
 * LayerNorm → head, tied or not, spec §4.2) as a {@link SequenceModel}: the same blocks, parameter names and official
 * initialisation, but the head is evaluated only at scored rows (the only difference; the tests check that logits and
 * gradients equal {@link XLstmLM}'s). The post-blocks norm is required.
 */
public final class XLstmSequenceModel extends HeadedSequenceModel {
    private final XLstmConfig config;
    private final Block[] blocks;
    private final LayerNorm postNorm;
    private final String name;
    private float[][] acts;            // acts[i] = output of block i
    private float[] out, dA, dB;
    private int rows;

    public XLstmSequenceModel(String name, XLstmConfig config, Kernels kernels) {
        super(kernels, "token_embedding", "lm_head.weight", config.validate().vocabSize, config.embeddingDim, config.tieWeights);
        if (!config.addPostBlocksNorm || config.dropout != 0)
            throw new IllegalArgumentException("XLstmSequenceModel needs the post-blocks norm and no dropout");
        this.name = name;
        this.config = config;
        int E = config.embeddingDim;
        blocks = new Block[config.numBlocks];
        for (int i = 0; i < blocks.length; i++) {                            // as XLstmLM builds its stack (spec §4.2)
            String prefix = "xlstm_block_stack.blocks." + i + ".";
            if (config.isSLstm(i)) {
                GatedFFN.Act act = config.ffnActFn.equals("gelu") ? GatedFFN.Act.GELU : GatedFFN.Act.SILU;
                blocks[i] = new SLstmBlock(prefix, E, config.slstmNumHeads, config.slstmConvKernel, config.ffnHiddenDim(), act);
            } else {
                MLstmBlock mb = new MLstmBlock(prefix, E, config.mlstmInnerDim(), config.mlstmNumHeads,
                        config.mlstmConvKernel, config.mlstmQkvBlocksize, config.bias);
                mb.layer.setForm(MLstmLayer.Form.CHUNKWISE, 64);
                blocks[i] = mb;
            }
        }
        postNorm = new LayerNorm("xlstm_block_stack.post_blocks_norm", E, 1e-5f, true, false);
    }

    @Override public String name() { return name; }

    public XLstmConfig config() { return config; }

    /**
     * The official initialisation ({@link XLstmInit}) for this seed: made on an {@link XLstmLM} of the same config and
     * copied over by parameter name, so both models start from identical weights.
     */
    public XLstmSequenceModel init(long seed) {
        XLstmLM lm = new XLstmLM(config, kernels);
        XLstmInit.apply(lm, seed);
        copyFrom(lm);
        return this;
    }

    /** Copies every parameter of {@code lm} (same config) into this model by official name. */
    public void copyFrom(XLstmLM lm) {
        Map<String, Param> mine = new HashMap<>();
        for (Param p : parameters()) mine.put(p.name, p);
        if (mine.size() != lm.parameters().size())
            throw new IllegalStateException("parameter lists differ: " + mine.size() + " vs " + lm.parameters().size());
        for (Param src : lm.parameters()) {
            Param dst = mine.get(src.name);
            if (dst == null || dst.size() != src.size()) throw new IllegalStateException("no matching parameter for " + src);
            System.arraycopy(src.data, 0, dst.data, 0, src.size());
        }
    }

    @Override protected List<Param> bodyParameters() {
        List<Param> ps = new ArrayList<>();
        for (Block b : blocks) ps.addAll(b.parameters());
        ps.add(postNorm.weight);
        return ps;
    }

    @Override protected float[] forwardBody(float[] x, int B, int T) {
        rows = B * T;
        int n = rows * dim;
        if (acts == null) acts = new float[blocks.length][];
        float[] in = x;
        for (int i = 0; i < blocks.length; i++) {
            acts[i] = Buffers.ensure(acts[i], n);
            blocks[i].forward(kernels, in, acts[i], B, T, null);
            in = acts[i];
        }
        out = Buffers.ensure(out, n);
        postNorm.forward(in, out, rows);
        return out;
    }

    @Override protected float[] backwardBody(float[] dh) {
        int n = rows * dim;
        dA = Buffers.ensure(dA, n);
        dB = Buffers.ensure(dB, n);
        postNorm.backward(dh, dA, rows, false);
        float[] dy = dA, dx = dB;
        for (int i = blocks.length - 1; i >= 0; i--) {
            blocks[i].backward(kernels, dy, dx);
            float[] t = dy; dy = dx; dx = t;
        }
        return dy;
    }
}
