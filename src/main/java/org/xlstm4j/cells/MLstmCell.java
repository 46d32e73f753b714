package org.xlstm4j.cells;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import org.xlstm4j.tensor.Kernels;

import java.util.Arrays;

/**
 * The mLSTM cell (spec §3) of one layer, in its three equivalent formulations, with hand-written backward passes:
 * <ul>
 *   <li>{@link #forwardParallel}: quadratic attention-like form with the row-max stabilizer (spec §3.3), no state;</li>
 *   <li>{@link #forwardChunkwise}: chunks of L tokens, recurrent across chunks (spec §3.4), any T, state in/out;</li>
 *   <li>{@link #step} / {@link #forwardRecurrent}: the stabilized recurrence one token at a time (spec §3.2).</li>
 * </ul>
 * Layouts: q, k {@code [B, NH, T, DHQK]}, v, h {@code [B, NH, T, DHV]}, gate pre-activations {@code [B, NH, T]}.
 * NeurIPS convention: keys are scaled by 1/sqrt(DHQK) before entering the state; input gate exp(ĩ), forget gate
 * σ(f̃) in log space; eps = 1e-6 added after stabilization (spec §3.5).
 *
 * <p>{@link #backward} differentiates the most recent {@code forwardParallel} or {@code forwardChunkwise} exactly,
 * including the paths through the stabilizers and the {@code exp(-m)} branch of the normalizer (as PyTorch autograd
 * does for the official code). The forward keeps references to its input arrays: leave them unchanged until the
 * matching backward. All buffers are owned by this object and grown on demand; nothing is allocated per token.
 */
public final class MLstmCell {
    public final int numHeads, dhqk, dhv;
    public final float eps;

    private enum Mode { NONE, PARALLEL, CHUNKWISE, BLOCKED }

    private Mode lastForward = Mode.NONE;
    private final MLstmParallel parallel;
    private final MLstmChunkwise chunkwise;
    private final MLstmChunkwiseBlocked blocked;
    private boolean reference;
    private Kernels lastKernels;
    // scratch for the recurrent step: q·C accumulator [DHV]
    private final double[] stepNum;
    private MLstmState scratchState;

    /** A cell with {@code numHeads} heads of query/key size {@code dhqk} and value size {@code dhv}; eps = 1e-6. */
    public MLstmCell(int numHeads, int dhqk, int dhv) {
        this(numHeads, dhqk, dhv, 1e-6f);
    }

    /** As {@link #MLstmCell(int, int, int)} with an explicit eps (the official code uses 1e-6). */
    public MLstmCell(int numHeads, int dhqk, int dhv, float eps) {
        if (numHeads < 1 || dhqk < 1 || dhv < 1)
            throw new IllegalArgumentException("MLstmCell: bad shape NH=" + numHeads + " DHQK=" + dhqk + " DHV=" + dhv);
        this.numHeads = numHeads;
        this.dhqk = dhqk;
        this.dhv = dhv;
        this.eps = eps;
        this.parallel = new MLstmParallel(numHeads, dhqk, dhv, eps);
        this.chunkwise = new MLstmChunkwise(numHeads, dhqk, dhv, eps);
        this.blocked = new MLstmChunkwiseBlocked(numHeads, dhqk, dhv, eps);
        this.stepNum = new double[dhv];
    }

    /**
     * Parallel (quadratic) form over a whole sequence from the zero state, row-max stabilizer (spec §3.3).
     * Writes {@code h [B, NH, T, DHV]}. Work O(T²·(DHQK + DHV)) per head, memory O(T).
     */
    public void forwardParallel(float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact,
                                float[] h, int B, int T) {
        checkSequence(q, k, v, igatePreact, fgatePreact, h, B, T);
        parallel.forward(q, k, v, igatePreact, fgatePreact, h, B, T);
        lastForward = Mode.PARALLEL;
    }

    /**
     * Chunkwise form (spec §3.4): recurrent over chunks of {@code chunkSize} tokens (the last chunk may be shorter),
     * quadratic inside a chunk. {@code state} is the initial state (null = zeros with m = 0); when non-null it is
     * overwritten with the final state. Saves only chunk-boundary states for the backward. Runs the blocked SIMD
     * implementation ({@link MLstmChunkwiseBlocked}) on the calling thread, or the token-by-token double-precision
     * reference after {@link #useReference}.
     */
    public void forwardChunkwise(float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact,
                                 float[] h, int B, int T, int chunkSize, MLstmState state) {
        forwardChunkwise(null, q, k, v, igatePreact, fgatePreact, h, B, T, chunkSize, state, false);
    }

    /**
     * As {@link #forwardChunkwise(float[], float[], float[], float[], float[], float[], int, int, int, MLstmState)},
     * with the heads spread over {@code kern}'s threads ({@link Kernels#parallelFor}; null = the calling thread), and
     * in the rows-major layout when {@code rowsLayout}: q, k {@code [B, T, NH, DHQK]}, v, h {@code [B, T, NH, DHV]},
     * gate pre-activations {@code [B, T, NH]} (the layer's activations as they are; the backward then uses it too).
     */
    public void forwardChunkwise(Kernels kern, float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact,
                                 float[] h, int B, int T, int chunkSize, MLstmState state, boolean rowsLayout) {
        forwardChunkwise(kern, q, k, v, igatePreact, fgatePreact, h, B, T, chunkSize, state, rowsLayout, false);
    }

    /**
     * As {@link #forwardChunkwise(Kernels, float[], float[], float[], float[], float[], float[], int, int, int, MLstmState, boolean)};
     * with {@code keepOutput} the backward reads h from the caller's array instead of a private copy (the caller then
     * leaves h unchanged until the backward, as it does with the inputs).
     */
    public void forwardChunkwise(Kernels kern, float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact,
                                 float[] h, int B, int T, int chunkSize, MLstmState state, boolean rowsLayout,
                                 boolean keepOutput) {
        checkSequence(q, k, v, igatePreact, fgatePreact, h, B, T);
        if (chunkSize < 1) throw new IllegalArgumentException("MLstmCell: chunkSize " + chunkSize + " < 1");
        MLstmState s = stateOrZeros(state, B);
        if (reference) {
            if (rowsLayout) throw new IllegalArgumentException("MLstmCell: the reference chunkwise form takes the heads layout");
            chunkwise.forward(q, k, v, igatePreact, fgatePreact, h, B, T, chunkSize, s);
            lastForward = Mode.CHUNKWISE;
        } else {
            blocked.forward(kern, q, k, v, igatePreact, fgatePreact, h, B, T, chunkSize, s, state != null, rowsLayout, keepOutput);
            lastForward = Mode.BLOCKED;
            lastKernels = kern;
        }
    }

    /**
     * Before {@link #backward}: q, k, v of the last blocked chunkwise forward now live in these arrays (recomputed by the
     * caller with the same values and layout, so that it need not keep them between forward and backward).
     */
    public void rebindInputs(float[] q, float[] k, float[] v) {
        if (lastForward != Mode.BLOCKED) throw new IllegalStateException("MLstmCell.rebindInputs: the last forward was not the blocked chunkwise form");
        blocked.rebind(q, k, v);
    }

    /**
     * Whether {@link #forwardChunkwise} runs the token-by-token double-precision reference ({@code MLstmChunkwise})
     * instead of the blocked SIMD form (the default); for tests that compare the two.
     */
    public void useReference(boolean reference) {
        this.reference = reference;
    }

    /**
     * Gradient of the most recent {@link #forwardParallel} or {@link #forwardChunkwise} given {@code dh} (same shape
     * and layout as h). Overwrites dq, dk, dv, dIgatePreact, dFgatePreact (the layout of the forward's inputs).
     * No gradient flows into the initial state.
     */
    public void backward(float[] dh, float[] dq, float[] dk, float[] dv, float[] dIgatePreact, float[] dFgatePreact) {
        switch (lastForward) {
            case PARALLEL -> parallel.backward(dh, dq, dk, dv, dIgatePreact, dFgatePreact);
            case CHUNKWISE -> chunkwise.backward(dh, dq, dk, dv, dIgatePreact, dFgatePreact);
            case BLOCKED -> blocked.backward(lastKernels, dh, dq, dk, dv, dIgatePreact, dFgatePreact);
            case NONE -> throw new IllegalStateException(
                    "MLstmCell.backward: no forwardParallel/forwardChunkwise to differentiate");
        }
    }

    /**
     * One token of the stabilized recurrence (spec §3.2): q, k {@code [B, NH, DHQK]}, v, h {@code [B, NH, DHV]},
     * gate pre-activations {@code [B, NH]}. {@code state} (non-null) is updated in place.
     */
    public void step(float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact, float[] h,
                     int B, MLstmState state) {
        step(null, q, k, v, igatePreact, fgatePreact, h, B, state);
    }

    /**
     * As {@link #step(float[], float[], float[], float[], float[], float[], int, MLstmState)}, float32 SIMD over the
     * value dimension, heads spread over {@code kern}'s threads (null = the calling thread). {@code h} must not overlap
     * q, k or v (it accumulates in place).
     */
    public void step(Kernels kern, float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact, float[] h,
                     int B, MLstmState state) {
        checkSequence(q, k, v, igatePreact, fgatePreact, h, B, 1);
        if (state == null) throw new IllegalArgumentException("MLstmCell.step: state must not be null");
        checkState(state, B);
        sq = q; sk = k; sv = v; sig = igatePreact; sfg = fgatePreact; sh = h; sState = state;
        // small states (a few µs of work) are not worth waking another thread for
        boolean serial = kern == null || B * numHeads == 1 || (long) B * numHeads * dhqk * dhv < PARALLEL_STATE;
        if (serial) for (int bh = 0; bh < B * numHeads; bh++) stepHeadSimd(bh);
        else kern.parallelFor(B * numHeads, stepTask);
        sq = sk = sv = sig = sfg = sh = null;
        sState = null;
        lastForward = Mode.NONE;
    }

    /** State sizes (floats over all heads) from which {@link #step} spreads heads over threads. */
    static final long PARALLEL_STATE = 1 << 16;
    private float[] sq, sk, sv, sig, sfg, sh;
    private MLstmState sState;
    private final Kernels.Task stepTask = (bh, w) -> stepHeadSimd(bh);

    /** One recurrent step of head slice bh (spec §3.2), the state update fused with the read-out q·C. */
    private void stepHeadSimd(int bh) {
        final int DK = dhqk, DV = dhv;
        final float[] q = sq, k = sk, v = sv, h = sh, c = sState.c, n = sState.n;
        final int qo = bh * DK, vo = bh * DV, co = bh * DK * DV, no = bh * DK;
        double forgetLog = logSigmoid(sfg[bh]);
        double igatePreact = sig[bh];
        double mPrev = sState.m[bh];
        double stabilizer = Math.max(forgetLog + mPrev, igatePreact);              // spec §3.2
        float fAct = (float) Math.exp(forgetLog + mPrev - stabilizer);
        float iAct = (float) (Math.exp(igatePreact - stabilizer) / Math.sqrt(DK));  // i' · 1/sqrt(DHQK) (key scale)
        double qn = 0;
        for (int a = 0; a < DK; a++) {
            float nv = fAct * n[no + a] + iAct * k[qo + a];                          // n = f'n + i' k̂
            n[no + a] = nv;
            qn += (double) q[qo + a] * nv;
        }
        sState.m[bh] = (float) stabilizer;
        float inv = (float) (1.0 / (Math.max(Math.abs(qn), Math.exp(-stabilizer)) + eps));  // spec §3.5
        if ((long) DK * DV <= COLUMN_TILED_MAX) {          // the head's state stays in cache: register accumulators
            stepColumns(q, k, v, h, c, qo, vo, co, fAct, iAct, inv);
            return;
        }
        // C = f'C + i' k̂ vᵀ and h = Cᵀq, row by row: the rows of C are contiguous, so the state is read and written as
        // one sequential stream; h (DV floats, this head's own output slice) accumulates in L1 in the same order
        // (a = 0..DK−1, one FMA per row) as a register accumulator would, so the result is the same bit for bit.
        java.util.Arrays.fill(h, vo, vo + DV, 0f);
        final int dv = SF.loopBound(DV);
        for (int a = 0; a < DK; a++) {
            final float ka = iAct * k[qo + a];
            final FloatVector qv = FloatVector.broadcast(SF, q[qo + a]);
            final int row = co + a * DV;
            int d = 0;
            for (; d < dv; d += SL) {
                FloatVector c0 = FloatVector.fromArray(SF, c, row + d).mul(fAct).add(FloatVector.fromArray(SF, v, vo + d).mul(ka));
                c0.intoArray(c, row + d);
                c0.fma(qv, FloatVector.fromArray(SF, h, vo + d)).intoArray(h, vo + d);
            }
            if (d < DV) {
                VectorMask<Float> m = SF.indexInRange(d, DV);
                FloatVector c0 = FloatVector.fromArray(SF, c, row + d, m).mul(fAct).add(FloatVector.fromArray(SF, v, vo + d, m).mul(ka));
                c0.intoArray(c, row + d, m);
                c0.fma(qv, FloatVector.fromArray(SF, h, vo + d, m)).intoArray(h, vo + d, m);
            }
        }
        for (int d = 0; d < DV; d += SL) {
            VectorMask<Float> m = SF.indexInRange(d, DV);
            FloatVector.fromArray(SF, h, vo + d, m).mul(inv).intoArray(h, vo + d, m);
        }
    }

    /**
     * States of at most this many floats per head take {@link #stepColumns} (they stay in the caches, where register
     * accumulators win); larger ones are streamed row by row (DRAM-bound, where one sequential pass wins). Both give
     * the same result bit for bit (the same FMAs in the same order).
     */
    static final long COLUMN_TILED_MAX = 1L << 16;

    /** The state update and read-out of {@link #stepHeadSimd} in column tiles of 4 vectors, accumulating in registers. */
    private void stepColumns(float[] q, float[] k, float[] v, float[] h, float[] c, int qo, int vo, int co, float fAct,
                             float iAct, float inv) {
        final int DK = dhqk, DV = dhv;
        for (int d = 0; d < DV; d += 4 * SL) {
            int dEnd = Math.min(DV, d + 4 * SL);
            if (dEnd - d == 4 * SL) {
                FloatVector v0 = FloatVector.fromArray(SF, v, vo + d), v1 = FloatVector.fromArray(SF, v, vo + d + SL);
                FloatVector v2 = FloatVector.fromArray(SF, v, vo + d + 2 * SL), v3 = FloatVector.fromArray(SF, v, vo + d + 3 * SL);
                FloatVector a0 = FloatVector.zero(SF), a1 = a0, a2 = a0, a3 = a0;
                for (int a = 0; a < DK; a++) {
                    float ka = iAct * k[qo + a], qa = q[qo + a];
                    int row = co + a * DV + d;
                    FloatVector c0 = FloatVector.fromArray(SF, c, row).mul(fAct).add(v0.mul(ka));   // C = f'C + i' k̂ vᵀ
                    FloatVector c1 = FloatVector.fromArray(SF, c, row + SL).mul(fAct).add(v1.mul(ka));
                    FloatVector c2 = FloatVector.fromArray(SF, c, row + 2 * SL).mul(fAct).add(v2.mul(ka));
                    FloatVector c3 = FloatVector.fromArray(SF, c, row + 3 * SL).mul(fAct).add(v3.mul(ka));
                    c0.intoArray(c, row); c1.intoArray(c, row + SL); c2.intoArray(c, row + 2 * SL); c3.intoArray(c, row + 3 * SL);
                    FloatVector qv = FloatVector.broadcast(SF, qa);
                    a0 = c0.fma(qv, a0); a1 = c1.fma(qv, a1); a2 = c2.fma(qv, a2); a3 = c3.fma(qv, a3);
                }
                a0.mul(inv).intoArray(h, vo + d); a1.mul(inv).intoArray(h, vo + d + SL);
                a2.mul(inv).intoArray(h, vo + d + 2 * SL); a3.mul(inv).intoArray(h, vo + d + 3 * SL);
            } else {
                for (int dd = d; dd < dEnd; dd += SL) {
                    VectorMask<Float> m = SF.indexInRange(dd, dEnd);
                    FloatVector v0 = FloatVector.fromArray(SF, v, vo + dd, m), a0 = FloatVector.zero(SF);
                    for (int a = 0; a < DK; a++) {
                        float ka = iAct * k[qo + a], qa = q[qo + a];
                        int row = co + a * DV + dd;
                        FloatVector c0 = FloatVector.fromArray(SF, c, row, m).mul(fAct).add(v0.mul(ka));
                        c0.intoArray(c, row, m);
                        a0 = c0.fma(FloatVector.broadcast(SF, qa), a0);
                    }
                    a0.mul(inv).intoArray(h, vo + dd, m);
                }
            }
        }
    }

    private static final VectorSpecies<Float> SF = FloatVector.SPECIES_PREFERRED;
    private static final int SL = SF.length();

    /**
     * The recurrent form over a sequence, token by token (same layouts and state semantics as
     * {@link #forwardChunkwise}; {@code state} may be null = zeros). Has no backward.
     */
    public void forwardRecurrent(float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact,
                                 float[] h, int B, int T, MLstmState state) {
        checkSequence(q, k, v, igatePreact, fgatePreact, h, B, T);
        MLstmState s = stateOrZeros(state, B);
        for (int bh = 0; bh < B * numHeads; bh++)
            for (int t = 0; t < T; t++)
                stepHead(q, k, v, igatePreact, fgatePreact, h, bh, T, t, s);
        lastForward = Mode.NONE;
    }

    /** One recurrent step for head slice {@code bh} at position t of a length-T sequence. */
    private void stepHead(float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] h,
                          int bh, int T, int t, MLstmState s) {
        final int DK = dhqk, DV = dhv;
        final int qo = (bh * T + t) * DK, vo = (bh * T + t) * DV, go = bh * T + t;
        final int co = bh * DK * DV, no = bh * DK;
        final double scale = 1.0 / Math.sqrt(DK);
        double forgetLog = logSigmoid(fg[go]);
        double igatePreact = ig[go];
        double mPrev = s.m[bh];
        double stabilizer = Math.max(forgetLog + mPrev, igatePreact);              // spec §3.2
        float fAct = (float) Math.exp(forgetLog + mPrev - stabilizer);
        float iAct = (float) (Math.exp(igatePreact - stabilizer) * scale);         // i' · 1/sqrt(DHQK) (key scale)
        float[] c = s.c, n = s.n;
        double[] num = stepNum;
        Arrays.fill(num, 0.0);
        double qn = 0;
        for (int a = 0; a < DK; a++) {
            float ka = iAct * k[qo + a];
            float qa = q[qo + a];
            int row = co + a * DV;
            for (int d = 0; d < DV; d++) {
                float cv = fAct * c[row + d] + ka * v[vo + d];                       // C = f'C + i' k̂ vᵀ
                c[row + d] = cv;
                num[d] += (double) qa * cv;
            }
            float nv = fAct * n[no + a] + ka;                                        // n = f'n + i' k̂
            n[no + a] = nv;
            qn += (double) qa * nv;
        }
        s.m[bh] = (float) stabilizer;
        double den = Math.max(Math.abs(qn), Math.exp(-stabilizer)) + eps;          // spec §3.5
        for (int d = 0; d < DV; d++) h[vo + d] = (float) (num[d] / den);
    }

    private MLstmState stateOrZeros(MLstmState state, int B) {
        if (state != null) {
            checkState(state, B);
            return state;
        }
        if (scratchState == null || !scratchState.sameShape(B, numHeads, dhqk, dhv))
            scratchState = MLstmState.zeros(B, numHeads, dhqk, dhv);
        else
            scratchState.reset();
        return scratchState;
    }

    private void checkState(MLstmState s, int B) {
        if (!s.sameShape(B, numHeads, dhqk, dhv))
            throw new IllegalArgumentException("MLstmCell: state " + s.shapeString() + " does not match [B=" + B
                    + ", NH=" + numHeads + ", DHQK=" + dhqk + ", DHV=" + dhv + "]");
    }

    private void checkSequence(float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] h, int B, int T) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("MLstmCell: bad B=" + B + " T=" + T);
        long bht = (long) B * numHeads * T;
        checkLen("q", q, bht * dhqk);
        checkLen("k", k, bht * dhqk);
        checkLen("v", v, bht * dhv);
        checkLen("h", h, bht * dhv);
        checkLen("igatePreact", ig, bht);
        checkLen("fgatePreact", fg, bht);
    }

    static void checkLen(String name, float[] a, long expected) {
        if (a == null || a.length < expected)
            throw new IllegalArgumentException("MLstmCell: " + name + " has length " + (a == null ? "null" : a.length)
                    + ", needs " + expected);
    }

    // ---- scalar helpers shared by the formulations (double precision) ----

    /** log σ(x) = −softplus(−x), without overflow. */
    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    /** σ(x). */
    static double sigmoid(double x) {
        return x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
    }

    /** Σ a[ao+i]·b[bo+i] for i < len, accumulated in double. */
    static double dot(float[] a, int ao, float[] b, int bo, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) s += (double) a[ao + i] * b[bo + i];
        return s;
    }

    /** Σ a[ao+i]·b[bo+i] for a double vector a. */
    static double dot(double[] a, int ao, float[] b, int bo, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) s += a[ao + i] * b[bo + i];
        return s;
    }
}
