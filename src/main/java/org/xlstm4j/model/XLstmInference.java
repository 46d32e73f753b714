package org.xlstm4j.model;

import org.xlstm4j.blocks.Block;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlock;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.blocks.SLstmBlock;
import org.xlstm4j.blocks.SLstmLayer;
import org.xlstm4j.layers.GatedFFN;

/**
 * The paper's xLSTM language model for inference (spec §4.2), written once against {@link XLstmOps}: the same forward
 * runs on the CPU ({@link CpuXLstmOps}) and on a GPU ({@code org.xlstm4j.cuda.CudaXLstmOps}). Parameters are those of
 * an {@link XLstmLM} (loaded or trained); the training forward and backward stay in {@link XLstmLM}'s blocks, and the
 * tests hold this forward to that one.
 *
 * <pre>
 *   x = embedding[ids]
 *   mLSTM block:  x += proj_down( (MHNorm(mLSTM(q, k, v)) + skip ⊙ x_c) ⊙ SiLU(z) )     [x_m | z] = proj_up(LN(x)),
 *                 x_c = SiLU(conv(x_m)), q, k = headwise(x_c), v = headwise(x_m)
 *   sLSTM block:  x += MHNorm(sLSTM(W·[SiLU(conv(LN x)) for i, f | LN x for z, o]));  x += FFN(LN(x))
 *   logits = lm_head( LN(x) )
 * </pre>
 *
 * Buffers grow on demand and are reused, so a decoding step allocates nothing on the Java heap.
 */
public final class XLstmInference<A> implements LanguageModel, AutoCloseable {
    private final XLstmLM model;
    private final XLstmOps<A> ops;
    private final Block[] blocks;
    private final int E, V;
    private float[] logits = new float[0];
    private LMState zeros;
    // activations of one call [rows, ·]
    private A x, xn, tmp, xm, z, xconv, xc, q, k, v, gi, gf, h, hn, out, gIn, gF, gZ, gO, gates, up, act;
    // the arguments of a decoding step (fields, not a lambda capture: nothing is allocated per token)
    private LMState stepState;
    private int stepB;
    private final Runnable stepWork = () -> blocksAndHead(stepB, 1, stepState);

    /** The model on the CPU, over its own kernels. */
    public static XLstmInference<float[]> cpu(XLstmLM model) {
        return new XLstmInference<>(model, new CpuXLstmOps(model.kernels()));
    }

    /** The model's parameters on the backend {@code ops} (which this object owns and closes). */
    public XLstmInference(XLstmLM model, XLstmOps<A> ops) {
        this.model = model;
        this.ops = ops;
        this.blocks = model.blocks().toArray(new Block[0]);
        this.E = model.config.embeddingDim;
        this.V = model.config.vocabSize;
        try {
            for (Param p : model.parameters()) ops.prepare(p);
        } catch (RuntimeException | Error e) {
            ops.close();
            throw e;
        }
    }

    /** The backend. */
    public XLstmOps<A> ops() { return ops; }

    /** The model whose parameters this runs. */
    public XLstmLM model() { return model; }

    @Override public int vocabSize() { return V; }

    @Override public LMState newState(int B) {
        BlockState[] s = new BlockState[blocks.length];
        for (int i = 0; i < s.length; i++) s[i] = ops.newState(blocks[i], B);
        return new LMState(B, s);
    }

    @Override public float[] forward(int[] idx, int B, int T, LMState state) {
        LanguageModel.checkInput(idx, B, T, state, V);
        LMState s = state;
        if (s == null) s = zeros = LanguageModel.zeroState(this, zeros, B);
        if (logits.length != B * T * V) logits = new float[B * T * V];
        ops.setTokens(idx, B * T);
        if (T == 1) {
            stepState = s;
            stepB = B;
            ops.decodeStep(s, B, stepWork);
        } else {
            blocksAndHead(B, T, s);
        }
        ops.readLogits(logits, B * T, V);
        return logits;
    }

    private void blocksAndHead(int B, int T, LMState state) {
        int rows = B * T;
        ensure(rows);
        ops.embed(model.embeddingWeight(), x, rows);
        for (int i = 0; i < blocks.length; i++) {
            if (blocks[i] instanceof MLstmBlock mb) mlstmBlock(mb, B, T, state.blocks[i]);
            else slstmBlock((SLstmBlock) blocks[i], B, T, state.blocks[i]);
        }
        if (model.postNorm() != null) ops.layerNorm(model.postNorm(), x, xn, rows);   // post_blocks_norm
        else ops.copy(x, xn, (long) rows * E);
        ops.head(xn, model.headWeight(), logits, rows, V, E);
    }

    /** spec §4.1: x ← x + mLSTMLayer(LN(x)). */
    private void mlstmBlock(MLstmBlock b, int B, int T, BlockState state) {
        MLstmLayer L = b.layer;
        int rows = B * T, I = L.I;
        long nI = (long) rows * I;
        ops.layerNorm(b.norm, x, xn, rows);
        ops.linear(xn, L.projUp.weight, L.projUp.bias, 0, I, E, xm, rows);        // step 1: x_m
        ops.linear(xn, L.projUp.weight, L.projUp.bias, I, I, E, z, rows);         //         z
        if (L.conv != null) ops.causalConv(L.conv, xm, xconv, B, T, state);         // step 2
        else ops.copy(xm, xconv, nI);
        ops.silu(xconv, xc, nI);
        ops.headwise(L.qProj, xc, q, rows);                                          // step 3
        ops.headwise(L.kProj, xc, k, rows);
        ops.headwise(L.vProj, xm, v, rows);
        ops.mlstmGates(L.igate, L.fgate, q, k, v, gi, gf, rows, I, L.NH);          // step 4
        ops.mlstmCell(L, q, k, v, gi, gf, h, B, T, state);
        ops.multiHeadNorm(L.outnorm, h, hn, rows);                                   // step 5
        ops.mlstmOutput(L.learnableSkip, hn, xc, z, out, rows, I);                  // steps 6–7
        ops.linear(out, L.projDown.weight, L.projDown.bias, 0, E, I, tmp, rows);    // step 8
        ops.add(x, tmp, (long) rows * E);                                            // residual (same order as the block)
        A t = x; x = tmp; tmp = t;
    }

    /** spec §2.6: x ← x + sLSTMLayer(LN(x)); x ← x + FFN(LN(x)). */
    private void slstmBlock(SLstmBlock b, int B, int T, BlockState state) {
        SLstmLayer L = b.layer;
        int rows = B * T;
        long n = (long) rows * E;
        ops.layerNorm(b.norm, x, xn, rows);
        if (L.conv != null) {                                                        // spec §2.4 steps 1–2
            ops.causalConv(L.conv, xn, xconv, B, T, state);
            ops.silu(xconv, xc, n);
        } else {
            ops.copy(xn, xc, n);
        }
        ops.headwise(L.fgate, xc, gIn, rows);      // step 3: module "fgate" → input-gate slot (official swap)
        ops.headwise(L.igate, xc, gF, rows);       //         module "igate" → forget-gate slot
        ops.headwise(L.zgate, xn, gZ, rows);
        ops.headwise(L.ogate, xn, gO, rows);
        ops.interleaveGates(gIn, gF, gZ, gO, gates, rows, E);
        ops.slstmCell(L, gates, h, B, T, state);
        ops.multiHeadNorm(L.groupNorm, h, hn, rows);
        ops.add(x, hn, n);                                                           // first residual
        GatedFFN ffn = b.ffn;
        int P = ffn.hidden();
        ops.layerNorm(b.ffnNorm, hn, xn, rows);
        ops.linear(xn, ffn.projUp().weight, null, 0, 2 * P, E, up, rows);
        ops.gatedAct(up, act, rows, P, ffn.act() == GatedFFN.Act.GELU);
        ops.linear(act, ffn.projDown().weight, null, 0, E, P, tmp, rows);
        ops.sum(hn, tmp, x, n);                                                      // second residual
    }

    private void ensure(int rows) {
        long r = rows;
        long inner = E;
        long ffn = 0;
        int NH = 1;
        for (Block b : blocks) {
            if (b instanceof MLstmBlock mb) {
                inner = Math.max(inner, mb.layer.I);
                NH = Math.max(NH, mb.layer.NH);
            } else {
                ffn = Math.max(ffn, ((SLstmBlock) b).ffn.hidden());
            }
        }
        x = ops.ensure(x, r * E);
        xn = ops.ensure(xn, r * E);
        tmp = ops.ensure(tmp, r * E);
        xm = ops.ensure(xm, r * inner);
        z = ops.ensure(z, r * inner);
        xconv = ops.ensure(xconv, r * inner);
        xc = ops.ensure(xc, r * inner);
        q = ops.ensure(q, r * inner);
        k = ops.ensure(k, r * inner);
        v = ops.ensure(v, r * inner);
        h = ops.ensure(h, r * inner);
        hn = ops.ensure(hn, r * inner);
        out = ops.ensure(out, r * inner);
        gi = ops.ensure(gi, r * NH);
        gf = ops.ensure(gf, r * NH);
        gIn = ops.ensure(gIn, r * E);
        gF = ops.ensure(gF, r * E);
        gZ = ops.ensure(gZ, r * E);
        gO = ops.ensure(gO, r * E);
        gates = ops.ensure(gates, 4 * r * E);
        if (ffn > 0) {
            up = ops.ensure(up, 2 * r * ffn);
            act = ops.ensure(act, r * ffn);
        }
    }

    @Override public void release(LMState state) {
        for (BlockState b : state.blocks) ops.release(b);
    }

    /** Releases the backend (device memory); the model itself stays usable. */
    @Override public void close() {
        ops.close();
    }
}
