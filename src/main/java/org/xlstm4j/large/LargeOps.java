package org.xlstm4j.large;

import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.LMState;
import org.xlstm4j.tensor.MappedWeight;

/**
 * The operations of the xLSTM-Large forward (spec §6.1) on one backend, so that {@link XLstmLarge} is written once and
 * runs on the CPU ({@link CpuLargeOps}: float arrays, memory-mapped weights) and on a GPU
 * ({@code org.xlstm4j.cuda.CudaLargeOps}: device buffers, weights uploaded once in their stored dtype).
 *
 * <p>{@code A} is the backend's activation buffer; sizes are counted in float32 elements (a backend may store some
 * buffers narrower). Activations use the model's layouts: rows {@code [B, Ts, ·]} for a pass of Ts tokens per sequence,
 * the cell's head layout {@code [B, NH, n, ·]} for a segment of n tokens. Weights are the checkpoint's
 * {@link MappedWeight}s and the norms/biases the model holds; a backend may map them to copies of its own once, in
 * {@link #prepare}. Matrix products are {@code y = x·Wᵀ} with W [out, in] as stored.
 */
public interface LargeOps<A> extends AutoCloseable {
    /** A buffer of at least {@code n} elements: {@code a} itself when it is large enough, else a new one (contents undefined). */
    A ensure(A a, long n);

    /** Called once per weight before the first forward (a GPU backend uploads it here). */
    default void prepare(MappedWeight w) {}

    /** As {@link #prepare} for an embedding whose rows are only looked up (no head shares it). */
    default void prepareLookup(MappedWeight w) { prepare(w); }

    /** The ids [B, T] of the tokens [p0, p0 + Ts) of every sequence that the next {@link #embed} reads. */
    void setTokens(int[] idx, int B, int T, int p0, int Ts);

    /** x[B·Ts, E] = embedding rows of the tokens given to {@link #setTokens}. */
    void embed(MappedWeight embedding, A x, int B, int Ts);

    /** y = RMSNorm(x) over rows of norm.dim() values (spec §6.1). */
    void rmsNorm(RMSNorm norm, A x, A y, int rows);

    /** dst[0 .. n) = src[0 .. n). */
    void copy(A src, A dst, long n);

    /** y[rows, W.rows] = x[rows, W.cols]·Wᵀ. */
    void matmul(A x, MappedWeight w, A y, int rows);

    /** Gate pre-activations g[rows, NH]: g ← cap·tanh((g + bias)/cap), or g + bias when cap is null (spec §6.1). */
    void gatePreactivations(A g, float[] bias, int rows, int NH, Double cap);

    /**
     * The cell's inputs for pass-local tokens [a, b): q, k [B, Ts, NH·DK], v [B, Ts, NH·DV] and the gates [B, Ts, NH] into
     * the head layout [B, NH, b − a, ·] (qh, kh, vh, igh, fgh).
     */
    void toHeads(A q, A k, A v, A ig, A fg, A qh, A kh, A vh, A igh, A fgh, int B, int Ts, int a, int b, int NH, int DK, int DV);

    /**
     * The mLSTM cell over n tokens of every sequence from {@code state} (advanced): chunk &gt; 0 the chunkwise form
     * (spec §3.4), chunk = 0 the recurrence (spec §3.2; n = 1 a decoding step). hh [B, NH, n, DV].
     */
    void mlstm(A qh, A kh, A vh, A igh, A fgh, A hh, int B, int n, int chunk, BlockState state);

    /** h[B, Ts, NH·DV] tokens [a, b) = hh [B, NH, b − a, DV]. */
    void fromHeads(A hh, A h, int B, int Ts, int a, int b, int NH, int DV);

    /** hn = MultiHeadLayerNorm(h) over rows (spec §6.1). */
    void multiHeadNorm(MultiHeadLayerNorm norm, A h, A hn, int rows);

    /** hn[i] ← σ(o[i])·hn[i], i &lt; n: the output gate. */
    void outputGate(A o, A hn, long n);

    /** x[i] += d[i], i &lt; n: a residual. */
    void addInPlace(A x, A d, long n);

    /** gate[i] ← SiLU(gate[i])·up[i], i &lt; n: SwiGLU. */
    void swiGlu(A gate, A up, long n);

    /**
     * logits of the pass: {@code softcap(xn[B·Ts, E]·lm_headᵀ)} into rows {@code (b·T + p0 + t)} of {@code logits}
     * [B·T, V] (a backend may keep them and write them in {@link #finishPass}); cap null = none.
     */
    void head(A xn, MappedWeight lmHead, float[] logits, int B, int T, int p0, int Ts, Double cap);

    /** Whether {@link #head} writes into the host logits array itself (else {@link #finishPass} brings them, when asked). */
    default boolean headWritesHostLogits() { return true; }

    /** After a pass: logits that {@link #head} kept are now in {@code logits} (when it is not null). */
    default void finishPass(float[] logits, int B, int T, int p0, int Ts) {}

    /**
     * Runs one decoding step's work ({@code step}: embedding, blocks, head) for the state {@code s}; a backend may
     * capture it once and replay it (a CUDA graph).
     */
    default void decodeStep(LMState s, int B, Runnable step) { step.run(); }

    /** A zero recurrent state of one block for B sequences, of the type {@link #mlstm} takes. */
    BlockState newBlockState(int B, int NH, int DK, int DV);

    /** Frees what a state made by {@link #newBlockState} holds (device memory); it must not be used afterwards. */
    default void release(BlockState state) {}

    /** Releases what the backend holds. */
    @Override void close();
}
