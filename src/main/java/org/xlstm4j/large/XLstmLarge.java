package org.xlstm4j.large;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.MappedWeight;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Function;

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
 * step. Buffers grow on demand and are reused: a decoding step allocates nothing.
 *
 * <p>The forward is written once against {@link LargeOps}, the backend: {@link CpuLargeOps} (the default; the state is
 * an {@link LMState} of {@link org.xlstm4j.blocks.MLstmBlockState}s without conv buffer) or the CUDA backend
 * ({@code org.xlstm4j.cuda.CudaLargeOps}, whose states live on the GPU).
 *
 * <p>Fine-tuning uses the trainable twin {@link LargeTrainable}, which owns float32 copies of the weights (the mapped
 * ones here are read-only) and has a backward pass for every layer.
 */
public final class XLstmLarge implements LanguageModel, AutoCloseable {
    public final LargeConfig config;
    private final TensorSource source;
    private final MappedWeight embedding, lmHead;
    private final LargeBlock[] blocks;
    private final RMSNorm outNorm;
    private final int E, NH, DK, DV, QK, VD, F, V;
    private final Engine<?> engine;
    private int passTokens = 1024;
    private boolean returnLogits = true;
    private float[] logits = new float[0];
    private LMState zeros;
    private final List<LargeSegments.Segment> oneStep = List.of(new LargeSegments.Segment(0, 1, 0));

    /** Opens a checkpoint folder (config.json or config.yaml + model.safetensors or a sharded index), on the CPU. */
    public static XLstmLarge load(Path dir, Kernels kernels) {
        return load(dir, c -> cpuOps(c, kernels));
    }

    /** Opens a checkpoint folder on the backend {@code ops} makes for its config (the model owns and closes it). */
    public static XLstmLarge load(Path dir, Function<LargeConfig, LargeOps<?>> ops) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder");
        LargeConfig config = LargeConfig.load(dir);
        TensorSource src = LargeCheckpoints.open(dir);
        try {
            return new XLstmLarge(config, src, ops.apply(config), dir.toString());
        } catch (RuntimeException | Error e) {
            src.close();
            throw e;
        }
    }

    /** The CPU backend for a config. */
    public static CpuLargeOps cpuOps(LargeConfig c, Kernels kernels) {
        return new CpuLargeOps(kernels, c.numHeads, c.qkHeadDim(), c.vHeadDim(), (float) c.eps);
    }

    /** A model over the weights in {@code source}, which it owns from now on (closed by {@link #close()}). */
    public XLstmLarge(LargeConfig config, TensorSource source, Kernels kernels, String where) {
        this(config, source, cpuOps(config, kernels), where);
    }

    /**
     * A model over the weights in {@code source} on the backend {@code ops}; it owns both from now on (closed by
     * {@link #close()}; {@code ops} is closed here as well when the weights do not fit the config).
     */
    public XLstmLarge(LargeConfig config, TensorSource source, LargeOps<?> ops, String where) {
        this.config = config;
        this.source = source;
        E = config.embeddingDim; NH = config.numHeads; DK = config.qkHeadDim(); DV = config.vHeadDim();
        QK = config.qkDim(); VD = config.vDim(); F = config.ffnDim(); V = config.vocabSize;
        try {
            LargeWeights w = LargeWeights.read(source, config, where);
            this.embedding = w.embedding;
            this.lmHead = w.lmHead;
            this.blocks = w.blocks;
            this.outNorm = w.outNorm;
            if (lmHead == embedding) ops.prepare(embedding);                 // tied: also the head's matrix
            else ops.prepareLookup(embedding);
            for (LargeBlock b : blocks)
                for (MappedWeight m : new MappedWeight[]{b.q, b.k, b.v, b.ogate, b.igate, b.fgate, b.outProj, b.projUpGate, b.projUp, b.projDown})
                    ops.prepare(m);
            if (lmHead != embedding) ops.prepare(lmHead);
            this.engine = new Engine<>(ops);
        } catch (RuntimeException | Error e) {
            ops.close();
            throw e;
        }
    }

    @Override public int vocabSize() { return V; }

    @Override public LMState newState(int B) {
        BlockState[] s = new BlockState[blocks.length];
        for (int i = 0; i < s.length; i++) s[i] = engine.ops.newBlockState(B, NH, DK, DV);
        return new LMState(B, s);
    }

    /** Most tokens per sequence processed in one pass through all blocks (bounds activation memory). */
    public int passTokens() { return passTokens; }

    /** Sets {@link #passTokens()}; results do not depend on it. */
    public void setPassTokens(int tokens) {
        if (tokens < 1) throw new IllegalArgumentException("passTokens must be >= 1, got " + tokens);
        passTokens = tokens;
    }

    /**
     * Whether {@link #forward} brings the logits back (default true). Benchmarks of a GPU backend turn it off: the
     * logits are still computed, but stay on the device, and forward returns an array of undefined contents.
     */
    public void setReturnLogits(boolean on) { returnLogits = on; }

    /** The backend. */
    public LargeOps<?> ops() { return engine.ops; }

    /** Bytes of weights one decoding step reads: every block matrix, the head, one embedding row. */
    public long weightBytesPerToken() {
        long n = lmHead.byteSize() + (long) E * embedding.storage().bytes;
        for (LargeBlock b : blocks) n += b.matrixBytes();
        return n;
    }

    @Override public float[] forward(int[] idx, int B, int T, LMState state) {
        LanguageModel.checkInput(idx, B, T, state, V);
        LMState s = state;
        if (s == null) s = zeros = LanguageModel.zeroState(this, zeros, B);
        if (returnLogits || engine.ops.headWritesHostLogits()) logits = Buffers.ensure(logits, B * T * V);
        float[] out = returnLogits ? logits : null;
        if (T == 1) {
            engine.step(idx, B, s, out);
        } else {
            for (List<LargeSegments.Segment> p : LargeSegments.passes(LargeSegments.plan(config, T), passTokens))
                engine.pass(idx, B, T, p, s, out);
        }
        return logits;
    }

    /** The forward on one backend's buffers (activations of one pass, rows = B·Ts, layout [B, Ts, ·]). */
    private final class Engine<A> {
        final LargeOps<A> ops;
        A x, xn, q, k, v, o, ig, fg, h, hn, tmp, gate, up;
        // one segment in the cell's layout [B, NH, t, ·] and gates [B, NH, t]
        A qh, kh, vh, hh, igh, fgh;
        // the arguments of a decoding step (a field, not a lambda capture: nothing is allocated per token)
        private LMState stepState;
        private int stepB;
        private final Runnable stepWork = () -> blocksAndHead(stepB, 1, 0, oneStep, stepState);

        Engine(LargeOps<A> ops) { this.ops = ops; }

        /** One token per sequence: through {@link LargeOps#decodeStep}, which may replay a captured graph. */
        void step(int[] idx, int B, LMState s, float[] out) {
            ops.setTokens(idx, B, 1, 0, 1);
            stepState = s;
            stepB = B;
            ops.decodeStep(s, B, stepWork);
            ops.finishPass(out, B, 1, 0, 1);
        }

        /** Tokens [p0, p1) of every sequence through all blocks and the head; p0, p1 = the pass's first and last segment. */
        void pass(int[] idx, int B, int T, List<LargeSegments.Segment> segments, LMState state, float[] out) {
            int p0 = segments.getFirst().t0(), p1 = segments.getLast().t1(), Ts = p1 - p0;
            ops.setTokens(idx, B, T, p0, Ts);
            blocksAndHead(B, T, p0, segments, state);
            ops.finishPass(out, B, T, p0, Ts);
        }

        private void blocksAndHead(int B, int T, int p0, List<LargeSegments.Segment> segments, LMState state) {
            int Ts = segments.getLast().t1() - p0, rows = B * Ts;
            ensure(rows);
            ops.embed(embedding, x, B, Ts);
            for (int i = 0; i < blocks.length; i++) block(blocks[i], B, Ts, p0, segments, state.blocks[i]);
            if (outNorm != null) ops.rmsNorm(outNorm, x, xn, rows);                      // spec §6.1: out_norm
            else ops.copy(x, xn, (long) rows * E);
            ops.head(xn, lmHead, logits, B, T, p0, Ts, config.outputLogitSoftCap);        // lm_head, softcap30
        }

        /** One block on the pass's rows [B, Ts, E] in x (spec §6.1): x += mLSTM layer(RMSNorm(x)); x += FFN(RMSNorm(x)). */
        private void block(LargeBlock w, int B, int Ts, int p0, List<LargeSegments.Segment> segments, BlockState state) {
            int rows = B * Ts;
            // ---- mLSTM layer
            ops.rmsNorm(w.normMlstm, x, xn, rows);
            ops.matmul(xn, w.q, q, rows);
            ops.matmul(xn, w.k, k, rows);
            ops.matmul(xn, w.v, v, rows);
            ops.matmul(xn, w.ogate, o, rows);
            ops.matmul(xn, w.igate, ig, rows);
            ops.matmul(xn, w.fgate, fg, rows);
            ops.gatePreactivations(ig, w.igateBias, rows, NH, config.gateSoftCap);      // softcap15(W x + b)
            ops.gatePreactivations(fg, w.fgateBias, rows, NH, config.gateSoftCap);
            for (int i = 0; i < segments.size(); i++) {                                   // (no iterator: nothing allocated per token)
                LargeSegments.Segment s = segments.get(i);
                int a = s.t0() - p0, b = s.t1() - p0;
                ops.toHeads(q, k, v, ig, fg, qh, kh, vh, igh, fgh, B, Ts, a, b, NH, DK, DV);
                ops.mlstm(qh, kh, vh, igh, fgh, hh, B, b - a, s.chunk(), state);
                ops.fromHeads(hh, h, B, Ts, a, b, NH, DV);
            }
            ops.multiHeadNorm(w.multiheadNorm, h, hn, rows);                              // per-head LayerNorm
            ops.outputGate(o, hn, (long) rows * VD);                                      // σ(o_pre) ⊙ h_norm
            ops.matmul(hn, w.outProj, tmp, rows);
            ops.addInPlace(x, tmp, (long) rows * E);                                      // residual
            // ---- SwiGLU feed-forward
            ops.rmsNorm(w.normFfn, x, xn, rows);
            ops.matmul(xn, w.projUpGate, gate, rows);
            ops.matmul(xn, w.projUp, up, rows);
            ops.swiGlu(gate, up, (long) rows * F);
            ops.matmul(gate, w.projDown, tmp, rows);
            ops.addInPlace(x, tmp, (long) rows * E);                                      // residual
        }

        private void ensure(int rows) {
            long r = rows;
            x = ops.ensure(x, r * E);
            xn = ops.ensure(xn, r * E);
            tmp = ops.ensure(tmp, r * E);
            q = ops.ensure(q, r * QK);
            k = ops.ensure(k, r * QK);
            v = ops.ensure(v, r * VD);
            o = ops.ensure(o, r * VD);
            h = ops.ensure(h, r * VD);
            hn = ops.ensure(hn, r * VD);
            ig = ops.ensure(ig, r * NH);
            fg = ops.ensure(fg, r * NH);
            gate = ops.ensure(gate, r * F);
            up = ops.ensure(up, r * F);
            qh = ops.ensure(qh, r * QK);
            kh = ops.ensure(kh, r * QK);
            vh = ops.ensure(vh, r * VD);
            hh = ops.ensure(hh, r * VD);
            igh = ops.ensure(igh, r * NH);
            fgh = ops.ensure(fgh, r * NH);
        }
    }

    @Override public void release(LMState state) {
        for (BlockState b : state.blocks) engine.ops.release(b);
    }

    /** Releases the backend (worker threads or device memory) and the checkpoint mapping; the model must not be used afterwards. */
    @Override public void close() {
        engine.ops.close();
        source.close();
    }

    @Override public String toString() { return "XLstmLarge" + config; }
}
