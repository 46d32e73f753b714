package org.xlstm4j.large;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlockState;
import org.xlstm4j.cells.MLstmCell;
import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.MappedMatmul;
import org.xlstm4j.tensor.MappedWeight;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The xLSTM-7B architecture, "xLSTM Large" (spec §6): the Hugging Face {@code xLSTMForCausalLM} / official
 * {@code xLSTMLarge} forward, for inference. Weights stay memory-mapped in their stored type (a 7B bf16 checkpoint
 * needs its 14 GB of page cache, not 28 GB of heap); activations and recurrent states are float32.
 *
 * <pre>
 *   x = embedding[ids]
 *   per block:  x += out_proj( σ(o_pre) ⊙ MultiHeadLayerNorm( mLSTM(q, k, v, softcap15(ĩ), softcap15(f̃)) ) )   on RMSNorm(x)
 *               x += proj_down( SiLU(proj_up_gate(x')) ⊙ proj_up(x') )                                       x' = RMSNorm(x)
 *   logits = softcap30( lm_head( RMSNorm(x) ) )
 * </pre>
 *
 * A sequence is read in the reference's mLSTM forms (spec §6.5, §6.6; {@link LargeSegments}): Hugging Face configs in
 * chunks of {@code chunk_size} with the remainder step by step (in slices of {@code max_inference_chunksize}), official
 * configs with halving chunk sizes down to 16. Long inputs are processed in passes of at most {@link #passTokens()}
 * tokens (cut at chunk borders, which changes nothing) so activation memory stays bounded. One token is one recurrent
 * step. The state is an {@link LMState} of {@link MLstmBlockState}s without conv buffer. Buffers grow on demand and are
 * reused: a decoding step allocates nothing. (Element-wise activations are scalar on purpose: the matrix products read
 * megabytes per token, the activations touch kilobytes.)
 *
 * <p>Fine-tuning uses the trainable twin {@link LargeTrainable}, which owns float32 copies of the weights (the mapped
 * ones here are read-only) and has a backward pass for every layer.
 */
public final class XLstmLarge implements LanguageModel, AutoCloseable {
    public final LargeConfig config;
    private final TensorSource source;
    private final MappedMatmul mm;
    private final MappedWeight embedding, lmHead;
    private final LargeBlock[] blocks;
    private final RMSNorm outNorm;
    /** One cell for all blocks (same shapes; inference keeps nothing in it between calls). */
    private final MLstmCell cell;
    private final int E, NH, DK, DV, QK, VD, F, V;
    private int passTokens = 1024;

    // activations of one pass, rows = B·Ts, layout [B, Ts, ·]
    private float[] x, xn, q, k, v, o, ig, fg, h, hn, tmp, gate, up;
    // one segment in the cell's layout [B, NH, t, ·] and gates [B, NH, t]
    private float[] qh, kh, vh, hh, igh, fgh;
    private float[] logits = new float[0];
    private LMState zeros;
    private final List<LargeSegments.Segment> oneStep = List.of(new LargeSegments.Segment(0, 1, 0));

    /** Opens a checkpoint folder (config.json or config.yaml + model.safetensors or a sharded index). */
    public static XLstmLarge load(Path dir, Kernels kernels) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder");
        LargeConfig config = LargeConfig.load(dir);
        TensorSource src = LargeCheckpoints.open(dir);
        try {
            return new XLstmLarge(config, src, kernels, dir.toString());
        } catch (RuntimeException | Error e) {
            src.close();
            throw e;
        }
    }

    /** A model over the weights in {@code source}, which it owns from now on (closed by {@link #close()}). */
    public XLstmLarge(LargeConfig config, TensorSource source, Kernels kernels, String where) {
        this.config = config;
        this.source = source;
        LargeWeights w = LargeWeights.read(source, config, where);
        this.embedding = w.embedding;
        this.lmHead = w.lmHead;
        this.blocks = w.blocks;
        this.outNorm = w.outNorm;
        E = config.embeddingDim; NH = config.numHeads; DK = config.qkHeadDim(); DV = config.vHeadDim();
        QK = config.qkDim(); VD = config.vDim(); F = config.ffnDim(); V = config.vocabSize;
        this.cell = new MLstmCell(NH, DK, DV, (float) config.eps);
        this.mm = new MappedMatmul(kernels, kernels.threads());
        this.kernels = kernels;
    }

    private final Kernels kernels;

    @Override public int vocabSize() { return V; }

    @Override public LMState newState(int B) {
        BlockState[] s = new BlockState[blocks.length];
        for (int i = 0; i < s.length; i++) s[i] = new MLstmBlockState(MLstmState.zeros(B, NH, DK, DV), new float[0]);
        return new LMState(B, s);
    }

    /** Most tokens per sequence processed in one pass through all blocks (bounds activation memory). */
    public int passTokens() { return passTokens; }

    /** Sets {@link #passTokens()}; results do not depend on it. */
    public void setPassTokens(int tokens) {
        if (tokens < 1) throw new IllegalArgumentException("passTokens must be >= 1, got " + tokens);
        passTokens = tokens;
    }

    /** Bytes of weights one decoding step reads: every block matrix, the head, one embedding row. */
    public long weightBytesPerToken() {
        long n = lmHead.byteSize() + (long) E * embedding.storage().bytes;
        for (LargeBlock b : blocks) n += b.matrixBytes();
        return n;
    }

    @Override public float[] forward(int[] idx, int B, int T, LMState state) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("bad input shape B=" + B + " T=" + T);
        if (state != null && state.batch != B)
            throw new IllegalArgumentException("state was made for batch " + state.batch + ", input has batch " + B);
        for (int i = 0; i < B * T; i++)
            if (idx[i] < 0 || idx[i] >= V) throw new UserError("token id " + idx[i] + " is out of range for vocab size " + V);
        LMState s = state;
        if (s == null) {
            if (zeros == null || zeros.batch != B) zeros = newState(B);
            else zeros.reset();
            s = zeros;
        }
        logits = Buffers.ensure(logits, B * T * V);
        if (T == 1) {
            pass(idx, B, T, oneStep, s);
        } else {
            for (List<LargeSegments.Segment> p : LargeSegments.passes(LargeSegments.plan(config, T), passTokens)) pass(idx, B, T, p, s);
        }
        return logits;
    }

    /** Tokens [p0, p1) of every sequence through all blocks and the head; p0, p1 = the pass's first and last segment. */
    private void pass(int[] idx, int B, int T, List<LargeSegments.Segment> segments, LMState state) {
        int p0 = segments.getFirst().t0(), p1 = segments.getLast().t1(), Ts = p1 - p0, rows = B * Ts;
        ensure(rows);
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Ts; t++) {
                int id = idx[b * T + p0 + t];
                embedding.decode(id, id + 1, x, (b * Ts + t) * E);
            }
        for (int i = 0; i < blocks.length; i++)
            block(blocks[i], B, Ts, p0, segments, ((MLstmBlockState) state.blocks[i]).cell);
        if (outNorm != null) outNorm.forward(x, xn, rows);                            // spec §6.1: out_norm
        else System.arraycopy(x, 0, xn, 0, rows * E);
        if (Ts == T) {
            mm.matmul(xn, 0, lmHead, logits, 0, rows);                               // lm_head
        } else {
            for (int b = 0; b < B; b++) mm.matmul(xn, b * Ts * E, lmHead, logits, (b * T + p0) * V, Ts);
        }
        if (config.outputLogitSoftCap != null)
            for (int b = 0; b < B; b++) softCap(logits, (b * T + p0) * V, Ts * V, config.outputLogitSoftCap.floatValue());
    }

    /** One block on the pass's rows [B, Ts, E] in x (spec §6.1): x += mLSTM layer(RMSNorm(x)); x += FFN(RMSNorm(x)). */
    private void block(LargeBlock w, int B, int Ts, int p0, List<LargeSegments.Segment> segments, MLstmState state) {
        int rows = B * Ts;
        // ---- mLSTM layer
        w.normMlstm.forward(x, xn, rows);
        mm.matmul(xn, 0, w.q, q, 0, rows);
        mm.matmul(xn, 0, w.k, k, 0, rows);
        mm.matmul(xn, 0, w.v, v, 0, rows);
        mm.matmul(xn, 0, w.ogate, o, 0, rows);
        mm.matmul(xn, 0, w.igate, ig, 0, rows);
        mm.matmul(xn, 0, w.fgate, fg, 0, rows);
        gatePreactivations(ig, w.igateBias, rows);                                   // softcap15(W x + b)
        gatePreactivations(fg, w.fgateBias, rows);
        for (int i = 0; i < segments.size(); i++) {                                   // (no iterator: nothing allocated per token)
            LargeSegments.Segment s = segments.get(i);
            mlstm(B, Ts, s.t0() - p0, s.t1() - p0, s.chunk(), state);
        }
        w.multiheadNorm.forward(h, hn, rows);                                         // per-head LayerNorm
        for (int i = 0; i < rows * VD; i++) hn[i] *= Activations.sigmoid(o[i]);      // σ(o_pre) ⊙ h_norm
        mm.matmul(hn, 0, w.outProj, tmp, 0, rows);
        for (int i = 0; i < rows * E; i++) x[i] += tmp[i];                            // residual
        // ---- SwiGLU feed-forward
        w.normFfn.forward(x, xn, rows);
        mm.matmul(xn, 0, w.projUpGate, gate, 0, rows);
        mm.matmul(xn, 0, w.projUp, up, 0, rows);
        for (int i = 0; i < rows * F; i++) gate[i] = Activations.silu(gate[i]) * up[i];
        mm.matmul(gate, 0, w.projDown, tmp, 0, rows);
        for (int i = 0; i < rows * E; i++) x[i] += tmp[i];                            // residual
    }

    /** ĩ or f̃ [rows, NH]: add the bias, then the soft cap (spec §6.1). */
    private void gatePreactivations(float[] g, float[] bias, int rows) {
        Double cap = config.gateSoftCap;
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < NH; j++) {
                float a = g[r * NH + j] + bias[j];
                g[r * NH + j] = cap == null ? a : Activations.softcap(a, cap.floatValue());
            }
    }

    /**
     * The mLSTM cell over pass-local tokens [a, b) of every sequence: q, k, v and the gates into the cell's head layout,
     * the chunkwise form (chunk &gt; 0, spec §3.4) or the recurrence (chunk = 0, spec §3.2) from {@code state}, h back
     * into rows [B, Ts, v_dim].
     */
    private void mlstm(int B, int Ts, int a, int b, int chunk, MLstmState state) {
        int n = b - a;
        toHeads(q, qh, B, Ts, a, b, DK);
        toHeads(k, kh, B, Ts, a, b, DK);
        toHeads(v, vh, B, Ts, a, b, DV);
        toHeads(ig, igh, B, Ts, a, b, 1);
        toHeads(fg, fgh, B, Ts, a, b, 1);
        if (chunk > 0) cell.forwardChunkwise(qh, kh, vh, igh, fgh, hh, B, n, chunk, state);
        else if (n == 1 && state != null) cell.step(kernels, qh, kh, vh, igh, fgh, hh, B, state);   // decoding: SIMD, heads in parallel
        else cell.forwardRecurrent(qh, kh, vh, igh, fgh, hh, B, n, state);
        for (int bb = 0; bb < B; bb++)
            for (int hd = 0; hd < NH; hd++)
                for (int t = a; t < b; t++)
                    System.arraycopy(hh, ((bb * NH + hd) * n + t - a) * DV, h, ((bb * Ts + t) * NH + hd) * DV, DV);
    }

    /** Rows [B, Ts, NH·D], tokens [a, b) → [B, NH, b − a, D]. */
    private void toHeads(float[] src, float[] dst, int B, int Ts, int a, int b, int D) {
        int n = b - a;
        for (int bb = 0; bb < B; bb++)
            for (int hd = 0; hd < NH; hd++)
                for (int t = a; t < b; t++)
                    System.arraycopy(src, ((bb * Ts + t) * NH + hd) * D, dst, ((bb * NH + hd) * n + t - a) * D, D);
    }

    /** x ← cap·tanh(x / cap) over n values. */
    private static void softCap(float[] a, int off, int n, float cap) {
        for (int i = off; i < off + n; i++) a[i] = Activations.softcap(a[i], cap);
    }

    private void ensure(int rows) {
        x = Buffers.ensure(x, rows * E);
        xn = Buffers.ensure(xn, rows * E);
        tmp = Buffers.ensure(tmp, rows * E);
        q = Buffers.ensure(q, rows * QK);
        k = Buffers.ensure(k, rows * QK);
        v = Buffers.ensure(v, rows * VD);
        o = Buffers.ensure(o, rows * VD);
        h = Buffers.ensure(h, rows * VD);
        hn = Buffers.ensure(hn, rows * VD);
        ig = Buffers.ensure(ig, rows * NH);
        fg = Buffers.ensure(fg, rows * NH);
        gate = Buffers.ensure(gate, rows * F);
        up = Buffers.ensure(up, rows * F);
        qh = Buffers.ensure(qh, rows * QK);
        kh = Buffers.ensure(kh, rows * QK);
        vh = Buffers.ensure(vh, rows * VD);
        hh = Buffers.ensure(hh, rows * VD);
        igh = Buffers.ensure(igh, rows * NH);
        fgh = Buffers.ensure(fgh, rows * NH);
    }

    /** Releases the worker threads and the checkpoint mapping; the model must not be used afterwards. */
    @Override public void close() {
        mm.close();
        source.close();
    }

    @Override public String toString() { return "XLstmLarge" + config; }
}
