package org.xlstm4j.model;

import org.xlstm4j.blocks.Block;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.blocks.SLstmLayer;
import org.xlstm4j.layers.CausalConv1d;
import org.xlstm4j.layers.HeadwiseLinear;
import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.layers.MultiHeadLayerNorm;

/**
 * The operations of the paper architecture's inference forward (spec §2.4–§2.6, §4) on one backend, so that
 * {@link XLstmInference} is written once and runs on the CPU ({@link CpuXLstmOps}: float arrays and the layer kernels
 * that training uses) and on a GPU ({@code org.xlstm4j.cuda.CudaXLstmOps}: device buffers, parameters uploaded once).
 *
 * <p>{@code A} is the backend's activation buffer, sized in float32 elements. Activations are rows-major
 * {@code [B·T, features]}; parameters are the model's {@link Param}s (a backend may keep copies of its own, made in
 * {@link #prepare}). Matrix products are {@code y = x·Wᵀ} with W [out, in] as stored.
 */
public interface XLstmOps<A> extends AutoCloseable {
    /** A buffer of at least {@code n} elements: {@code a} itself when it is large enough, else a new one. */
    A ensure(A a, long n);

    /** Called once per parameter before the first forward (a GPU backend uploads it here). */
    default void prepare(Param p) {}

    /** The token ids [B·T] that the next {@link #embed} reads. */
    void setTokens(int[] idx, int rows);

    /** x[rows, E] = embedding rows of the tokens given to {@link #setTokens}. */
    void embed(Param embedding, A x, int rows);

    /** y = LayerNorm(x) over rows (spec §1: weight as an offset from 1 where the layer says so). */
    void layerNorm(LayerNorm norm, A x, A y, int rows);

    /** y[rows, out] = x[rows, in]·W[r0 .. r0 + out)ᵀ (+ bias[r0 .. r0 + out) when bias is not null). */
    void linear(A x, Param weight, Param bias, int r0, int out, int in, A y, int rows);

    /** y = the block-diagonal product of a headwise projection (spec §1), bias included. */
    void headwise(HeadwiseLinear layer, A x, A y, int rows);

    /** y[B, T, C] = causal depthwise conv of x (spec §2.4), history from and into the block state's conv buffer. */
    void causalConv(CausalConv1d conv, A x, A y, int B, int T, BlockState state);

    /** y[i] = SiLU(x[i]), i &lt; n. */
    void silu(A x, A y, long n);

    /** gi, gf [rows, NH] = the mLSTM gate pre-activations from [q | k | v] (spec §4.1 step 4). */
    void mlstmGates(Linear igate, Linear fgate, A q, A k, A v, A gi, A gf, int rows, int I, int NH);

    /** The mLSTM cell over T tokens (spec §3; T = 1 a recurrent step), rows layout; the state is advanced. */
    void mlstmCell(MLstmLayer layer, A q, A k, A v, A gi, A gf, A h, int B, int T, BlockState state);

    /** y = the per-head LayerNorm of x (spec §2.4, §4.1 step 5). */
    void multiHeadNorm(MultiHeadLayerNorm norm, A x, A y, int rows);

    /** out = (hn + skip ⊙ xc) ⊙ SiLU(z) over rows of I values (spec §4.1 steps 6–7). */
    void mlstmOutput(Param skip, A hn, A xc, A z, A out, int rows, int I);

    /** gates[r] = [i | f | z | o] rows of E values each, gate-major (spec §2.2). */
    void interleaveGates(A i, A f, A z, A o, A gates, int rows, int E);

    /** The sLSTM cell over T tokens (spec §2.1–§2.5) from gate pre-activations [B·T, 4E]; the state is advanced. */
    void slstmCell(SLstmLayer layer, A gates, A h, int B, int T, BlockState state);

    /** h[rows, P] = act(up[:, :P]) ⊙ up[:, P:] (spec §2.6; GELU exact or SiLU). */
    void gatedAct(A up, A h, int rows, int P, boolean gelu);

    /** dst[i] += src[i], i &lt; n (a residual). */
    void add(A src, A dst, long n);

    /** y[i] = a[i] + b[i], i &lt; n. */
    void sum(A a, A b, A y, long n);

    /** dst[0 .. n) = src[0 .. n). */
    void copy(A src, A dst, long n);

    /** logits[rows, V] = xn[rows, E]·Wᵀ, into the host array here or kept until {@link #readLogits}. */
    void head(A xn, Param weight, float[] logits, int rows, int V, int E);

    /** After a forward or decoding step: the logits that {@link #head} kept are now in {@code logits}. */
    default void readLogits(float[] logits, int rows, int V) {}

    /** A zero state of one block for B sequences, of the type this backend's cell and conv operations take. */
    BlockState newState(Block block, int B);

    /** Frees what a state made by {@link #newState} holds (device memory); it must not be used afterwards. */
    default void release(BlockState state) {}

    /** Runs one decoding step's work; a backend may capture it once and replay it (a CUDA graph). */
    default void decodeStep(LMState s, int B, Runnable step) { step.run(); }

    /** A short description of the backend. */
    String name();

    @Override default void close() {}
}
