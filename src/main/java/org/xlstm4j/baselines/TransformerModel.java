package org.xlstm4j.baselines;

import org.xlstm4j.layers.GatedFFN;
import org.xlstm4j.layers.Init;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The Llama-style causal Transformer baseline: embedding → {@code numBlocks} {@link TransformerBlock}s (RMSNorm,
 * rotary multi-head attention, SwiGLU with hidden size ⌈(8/3)·E / 64⌉·64) → final RMSNorm → linear head (optionally
 * tied to the embedding). No absolute positions (rotary only). Initialisation (GPT-2/Llama practice): N(0, 0.02) for
 * every matrix, the two matrices that write into the residual stream (attention output, FFN down-projection) scaled
 * by 1/√(2·blocks); norms start at 1; embedding and head small_init N(0, √(2/(5E))) as the xLSTM models.
 */
public final class TransformerModel extends HeadedSequenceModel {
    private final TransformerBlock[] blocks;
    private final RMSNorm finalNorm;
    private float[][] acts;          // acts[i] = output of block i
    private float[] out, dA, dB;
    private int rows;                // B·T of the last forward

    public TransformerModel(Kernels kernels, int vocab, int width, int numBlocks, int numHeads, boolean tied) {
        super(kernels, "tok_embeddings", "output.weight", vocab, width, tied);
        int hidden = GatedFFN.hiddenDim(width, 8.0 / 3.0, 64);
        blocks = new TransformerBlock[numBlocks];
        for (int i = 0; i < numBlocks; i++) blocks[i] = new TransformerBlock("layers." + i + ".", width, numHeads, hidden);
        finalNorm = new RMSNorm("norm", width, 1e-6f);
    }

    @Override public String name() { return "Transformer"; }

    /** Seeded initialisation (see the class comment). */
    public TransformerModel init(long seed) {
        Random rng = new Random(seed);
        Init.smallInit(embedding.weight, dim, rng);
        double residual = 0.02 / Math.sqrt(2.0 * blocks.length);
        for (TransformerBlock b : blocks)
            for (Param p : b.parameters()) {
                if (p.name.endsWith("norm.weight")) continue;                    // RMSNorm weights stay at 1
                boolean toResidual = p.name.endsWith("wo.weight") || p.name.endsWith("proj_down.weight");
                Init.normal(p, toResidual ? residual : 0.02, rng);
            }
        if (!tied) Init.smallInit(head, dim, rng);
        return this;
    }

    @Override protected List<Param> bodyParameters() {
        List<Param> ps = new ArrayList<>();
        for (TransformerBlock b : blocks) ps.addAll(b.parameters());
        ps.add(finalNorm.weight);
        return ps;
    }

    @Override protected float[] forwardBody(float[] x, int B, int T) {
        int n = B * T * dim;
        rows = B * T;
        if (acts == null) acts = new float[blocks.length][];
        float[] in = x;
        for (int i = 0; i < blocks.length; i++) {
            acts[i] = Buffers.ensure(acts[i], n);
            blocks[i].forward(kernels, in, acts[i], B, T);
            in = acts[i];
        }
        out = Buffers.ensure(out, n);
        finalNorm.forward(in, out, B * T);
        return out;
    }

    @Override protected float[] backwardBody(float[] dh) {
        int n = rows * dim;
        dA = Buffers.ensure(dA, n);
        dB = Buffers.ensure(dB, n);
        finalNorm.backward(dh, dA, rows, false);
        float[] dy = dA, dx = dB;
        for (int i = blocks.length - 1; i >= 0; i--) {
            blocks[i].backward(kernels, dy, dx);
            float[] t = dy; dy = dx; dx = t;
        }
        return dy;
    }
}
