package org.xlstm4j.cells;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Activations;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.SmallMatmul;

import java.util.Arrays;

/**
 * The sLSTM cell (spec §2.1): scalar memory with exponential input gate, sigmoid forget gate, log-space stabilizer
 * and a head-local (block-diagonal) recurrence, exactly the official vanilla code path ({@code function="slstm"}).
 * Forward over a sequence, single-token step, and backpropagation through time.
 *
 * <p>Parameters, official names and the official <b>vanilla</b> layouts (spec §2.2), gate order i, f, z, o:
 * <ul>
 *   <li>{@code prefix + "_recurrent_kernel_"} (NH, 4·DH, DH) = (head h, gate g, out unit j, in unit k);
 *       recurrent contribution {@code Ry[g, h, j] = Σ_k h_{t−1}[h, k] · R[h, g, j, k]}.</li>
 *   <li>{@code prefix + "_bias_"} (4·NH·DH,) in (gate, head, unit) order.</li>
 * </ul>
 * Both are excluded from weight decay (spec §4.2). Checkpoints of the official <b>cuda</b> backend store other
 * layouts; convert them with {@link #recurrentKernelFromCuda} and {@link #biasFromCuda}.
 *
 * <p>Gate pre-activations are rows of width 4E, the concatenation {@code [i | f | z | o]}, each E = NH·DH wide and
 * head-major within a gate: column {@code g·E + h·DH + j}. The same column order indexes the bias.
 */
public final class SLstmCell {
    private static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();

    public final String prefix;
    public final int NH, DH, E;
    private final Param recurrentKernel;
    private final Param bias;

    // --- saved by forward for backward; time-major so that one step is one contiguous [B, E] slice
    private int savedB, savedT = -1;
    private float[] hs, cs, ns, ms;           // states, [T + 1, B, E]; slot 0 is the initial state
    private float[] iGates, fGates, zActs, oGates; // i', f', tanh(z̃), σ(õ), [T, B, E]
    private float[] fSlopes;                  // d f' / d f̃ with m held constant, [T, B, E]
    // --- scratch
    private float[] preact;                   // full pre-activations x + R h + b of one step, [B, 4E]
    private float[] dhRec, dcNext, dnNext;    // backward: gradient reaching h_t, c_t, n_t from step t+1, [B, E]
    private final float[] lanes = new float[4 * LANES], ry = new float[4]; // dot4 scratch

    /**
     * An sLSTM cell with zero recurrent kernel and bias (load or initialize them through {@link #recurrentKernel()}
     * and {@link #bias()}).
     *
     * @param prefix    state_dict prefix, e.g. {@code "xlstm_block_stack.blocks.1.xlstm.slstm_cell."}
     * @param numHeads  NH
     * @param headDim   DH; the embedding width is E = NH·DH
     */
    public SLstmCell(String prefix, int numHeads, int headDim) {
        if (numHeads < 1 || headDim < 1)
            throw new IllegalArgumentException("SLstmCell: bad shape numHeads=" + numHeads + " headDim=" + headDim);
        this.prefix = prefix;
        this.NH = numHeads;
        this.DH = headDim;
        this.E = Math.multiplyExact(numHeads, headDim);
        this.recurrentKernel = new Param(prefix + "_recurrent_kernel_", NH, 4 * DH, DH);
        this.bias = new Param(prefix + "_bias_", 4 * E);
        recurrentKernel.weightDecay = false; // spec §4.2: name contains no "weight"
        bias.weightDecay = false;
    }

    /** The recurrent kernel R, shape (NH, 4·DH, DH), vanilla layout (h, g, j, k). */
    public Param recurrentKernel() { return recurrentKernel; }

    /** The bias b, shape (4·NH·DH,), in (gate, head, unit) order. */
    public Param bias() { return bias; }

    // ------------------------------------------------------------------------------------------------------------
    // forward

    /**
     * Scalar twin of {@link #forward(Kernels, float[], float[], int, int, SLstmState)}: runs the cell over a sequence
     * with plain loops and double-precision activations, the same semantics (tests compare the two).
     *
     * @param gatesPreact [B, T, 4E] the input part W·x of the pre-activations, rows {@code [i | f | z | o]}; the cell
     *                    adds R·h_{t−1} + b. Not modified and not retained.
     * @param h           [B, T, E] output hidden states
     * @param state       initial state (null = zeros); when non-null it is overwritten with the final state
     */
    public void forwardScalar(float[] gatesPreact, float[] h, int B, int T, SLstmState state) {
        checkShapes(gatesPreact, h, B, T, state);
        int BE = B * E;
        ensureSaved(B, T);
        loadInitialState(state, BE);
        for (int t = 0; t < T; t++) {
            int prev = t * BE, cur = (t + 1) * BE;
            preactivations(gatesPreact, T, t, B, hs, prev);
            pointwiseForward(B, prev, cs, ns, ms, cur, hs, cs, ns, ms, prev);
            for (int b = 0; b < B; b++) System.arraycopy(hs, cur + b * E, h, (b * T + t) * E, E);
        }
        storeFinalState(state, T * BE, BE);
        savedB = B;
        savedT = T;
    }

    /**
     * Scalar twin of {@link #step}: one token with plain loops; gives bit-for-bit the same numbers as
     * {@link #forwardScalar} over the same tokens (plain scalar code: exact in every JIT tier).
     */
    public void stepScalar(float[] gatesPreact, float[] h, int B, SLstmState state) {
        if (state == null) throw new IllegalArgumentException("SLstmCell.step: state must not be null");
        checkShapes(gatesPreact, h, B, 1, state);
        preact = Buffers.ensure(preact, B * 4 * E);
        preactivations(gatesPreact, 1, 0, B, state.h, 0);
        // in place: every element reads its previous c, n, m before writing them (R·h_{t−1} is already in preact)
        pointwiseForward(B, 0, state.c, state.n, state.m, 0, state.h, state.c, state.n, state.m, -1);
        System.arraycopy(state.h, 0, h, 0, B * E);
    }

    /**
     * preact[b, g·E + h·DH + j] = x[b, t, ·] + Σ_k hPrev[b, h, k]·R[h, g, j, k] + bias — spec §2.1 / §2.2.
     * Four kernel rows at a time (rows r = g·DH + j of head h are contiguous over k), reused from L1 for all B rows.
     */
    private void preactivations(float[] x, int T, int t, int B, float[] hPrev, int hPrevOff) {
        float[] R = recurrentKernel.data, bv = bias.data;
        int G = 4 * E;
        for (int hd = 0; hd < NH; hd++) {
            for (int r = 0; r < 4 * DH; r += 4) { // 4·DH rows per head, a multiple of 4
                int rowOff = (hd * 4 * DH + r) * DH;
                for (int b = 0; b < B; b++) {
                    dot4(hPrev, hPrevOff + b * E + hd * DH, R, rowOff, DH);
                    for (int q = 0; q < 4; q++) {
                        int col = ((r + q) / DH) * E + hd * DH + (r + q) % DH; // row (g, j) → column g·E + h·DH + j
                        preact[b * G + col] = x[(b * T + t) * G + col] + ry[q] + bv[col]; // raw = Wx + Ry + b
                    }
                }
            }
        }
    }

    /**
     * The pointwise sLSTM update of one step for B rows (spec §2.1): reads c, n, m at {@code prevOff}, writes h, c, n,
     * m at {@code curOff} (may be the same arrays and offset: in place), and, when {@code actOff >= 0}, saves the
     * activations backward needs.
     */
    private void pointwiseForward(int B, int prevOff, float[] cPrev, float[] nPrev, float[] mPrev,
                                  int curOff, float[] hOut, float[] cOut, float[] nOut, float[] mOut, int actOff) {
        int G = 4 * E;
        // spec §2.5 (vanilla): "normalizer all zero" is tested over the whole [B, E] tensor, not per element
        boolean normalizerAllZero = allZero(nPrev, prevOff, B * E);
        for (int b = 0; b < B; b++) {
            for (int u = 0; u < E; u++) {
                int p = b * G + u, s = b * E + u;
                float igatePreact = preact[p], fgatePreact = preact[p + E];
                float zgatePreact = preact[p + 2 * E], ogatePreact = preact[p + 3 * E];
                float cP = cPrev[prevOff + s], nP = nPrev[prevOff + s];
                float forgetLog = mPrev[prevOff + s] + Activations.logSigmoid(fgatePreact); // spec §2.1: logf = m + logσ(f̃)
                float stabilizer = normalizerAllZero ? igatePreact : Math.max(igatePreact, forgetLog); // spec §2.1 / §2.5
                float fExp = (float) Math.exp(forgetLog - stabilizer);
                float iGate = Math.min((float) Math.exp(igatePreact - stabilizer), 1f); // spec §2.1: i' = min(exp(ĩ − m), 1)
                float fGate = Math.min(fExp, 1f);                                     // spec §2.1: f' = min(exp(logf − m), 1)
                float zAct = (float) Math.tanh(zgatePreact);
                float oGate = Activations.sigmoid(ogatePreact);
                float c = fGate * cP + iGate * zAct; // spec §2.1: c = f'c + i'z
                float n = fGate * nP + iGate;        // spec §2.1: n = f'n + i'
                float h = oGate * c / n;             // spec §2.1: h = o·c/n (no eps)
                hOut[curOff + s] = h;
                cOut[curOff + s] = c;
                nOut[curOff + s] = n;
                mOut[curOff + s] = stabilizer;
                if (actOff >= 0) {
                    int a = actOff + s;
                    iGates[a] = iGate;
                    fGates[a] = fGate;
                    zActs[a] = zAct;
                    oGates[a] = oGate;
                    // d f'/d f̃ = f'·(1 − σ(f̃)) with m constant; 0 where the min(·, 1) guard clamps (only possible on
                    // the all-zero first step, where m = ĩ instead of the max)
                    fSlopes[a] = fExp <= 1f ? fGate * Activations.sigmoid(-fgatePreact) : 0f;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // backward

    /*
     * Gradient through the stabilizer m (spec §2.1). m_t rescales c_t and n_t by exp(−m_t) and shifts
     * logf_{t+1} = m_t + logσ(f̃_{t+1}) by the same amount, which cancels inside c_{t+1}, n_{t+1}; so every h is a
     * function of the gate pre-activations alone and d loss / d m_t = 0 for t ≥ 1, whichever rule chose m_t.
     * We therefore hold m constant in backward (as the official CUDA backward does, spec §2.5):
     *     d i'/d ĩ = i',   d f'/d f̃ = f'·(1 − σ(f̃)).
     * This is the exact gradient, and it is what PyTorch autograd through the vanilla code returns up to rounding:
     * the adjoint autograd builds for m_t (−g_i'·i' − g_f'·f' + adjoint of logf_{t+1}) is that zero derivative, so
     * how torch.max splits it (whole to the larger argument, ½ each at a tie) and the first-step rule m = ĩ (which
     * routes it to ĩ) change nothing. The min(·, 1) guards never bind after the max (ĩ − m ≤ 0 exactly in IEEE
     * arithmetic). Every step has i' = 1 or f' = 1 exactly; torch.minimum's ½ slope at that tie cancels too (the
     * term it scales enters the gate and m with opposite signs and m passes it back to the same gate); only an
     * exact tie ĩ == logf (both gates = 1 at once) would give a different split, a measure-zero case we ignore.
     * SLstmGradientTest checks all this against a literal op-by-op autograd emulation. On an all-zero first step
     * f' may clamp (exp > 1); there its slope is 0 (with zero n and c no gradient reaches it anyway).
     */

    /**
     * Scalar twin of {@link #backward(Kernels, float[], float[])}; differentiates the most recent forward of either
     * kind. Backpropagation through time: accumulates (+=) into the recurrent kernel's
     * and the bias's gradients, and overwrites {@code dGatesPreact [B, T, 4E]} with d loss / d (input part of the
     * pre-activations), which equals d loss / d (full pre-activations). The gradient w.r.t. the initial state is not
     * computed (but a non-zero initial state is accounted for).
     *
     * @param dh [B, T, E] d loss / d h
     */
    public void backwardScalar(float[] dh, float[] dGatesPreact) {
        if (savedT < 0) throw new IllegalStateException("SLstmCell.backward: no forward to differentiate");
        int B = savedB, T = savedT, BE = B * E, G = 4 * E;
        if (dh.length < B * T * E || dGatesPreact.length < B * T * G)
            throw new IllegalArgumentException("SLstmCell.backward: dh needs " + B * T * E + " and dGatesPreact "
                    + B * T * G + " values, got " + dh.length + " and " + dGatesPreact.length);
        dhRec = Buffers.ensure(dhRec, BE);
        dcNext = Buffers.ensure(dcNext, BE);
        dnNext = Buffers.ensure(dnNext, BE);
        Arrays.fill(dhRec, 0, BE, 0f);
        Arrays.fill(dcNext, 0, BE, 0f);
        Arrays.fill(dnNext, 0, BE, 0f);
        float[] R = recurrentKernel.data, dR = recurrentKernel.grad, db = bias.grad;

        for (int t = T - 1; t >= 0; t--) {
            int prev = t * BE, cur = (t + 1) * BE;
            // pointwise: from d h_t (output + recurrence) and d c_t, d n_t (from step t+1) to d pre-activations
            for (int b = 0; b < B; b++) {
                int x = (b * T + t) * G;
                for (int u = 0; u < E; u++) {
                    int s = b * E + u;
                    float iGate = iGates[prev + s], fGate = fGates[prev + s];
                    float zAct = zActs[prev + s], oGate = oGates[prev + s];
                    float h = hs[cur + s], n = ns[cur + s];
                    float dH = dh[(b * T + t) * E + u] + dhRec[s];
                    float dC = dH * oGate / n + dcNext[s];          // h = o·c/n
                    float dN = -dH * h / n + dnNext[s];             //   ∂h/∂n = −o·c/n² = −h/n
                    float dIGate = dC * zAct + dN;                  // c = f'c + i'z, n = f'n + i'
                    float dFGate = dC * cs[prev + s] + dN * ns[prev + s];
                    float dI = dIGate * iGate;                      // i' = exp(ĩ − m), m held constant
                    float dF = dFGate * fSlopes[prev + s];          // f' = exp(m_{t−1} + logσ(f̃) − m)
                    float dZ = dC * iGate * (1f - zAct * zAct);     // z = tanh(z̃)
                    float dO = dH * h * (1f - oGate);               // h = σ(õ)·c/n → ∂h/∂õ = h·(1 − σ(õ))
                    dGatesPreact[x + u] = dI;
                    dGatesPreact[x + E + u] = dF;
                    dGatesPreact[x + 2 * E + u] = dZ;
                    dGatesPreact[x + 3 * E + u] = dO;
                    db[u] += dI;
                    db[E + u] += dF;
                    db[2 * E + u] += dZ;
                    db[3 * E + u] += dO;
                    dcNext[s] = dC * fGate;
                    dnNext[s] = dN * fGate;
                }
            }
            // recurrence Ry[g, h, j] = Σ_k h_{t−1}[h, k]·R[h, g, j, k]: dR += dpre ⊗ h_{t−1}, d h_{t−1} = Rᵀ dpre
            boolean needDh = t > 0; // the gradient w.r.t. the initial state is not needed
            if (needDh) Arrays.fill(dhRec, 0, BE, 0f);
            for (int hd = 0; hd < NH; hd++) {
                for (int g = 0; g < 4; g++) {
                    for (int j = 0; j < DH; j++) {
                        int row = ((hd * 4 + g) * DH + j) * DH;
                        int col = g * E + hd * DH + j;
                        for (int b = 0; b < B; b++) {
                            float d = dGatesPreact[(b * T + t) * G + col];
                            if (d == 0f) continue;
                            int hOff = b * E + hd * DH;
                            axpy(d, hs, prev + hOff, dR, row, DH);
                            if (needDh) axpy(d, R, row, dhRec, hOff, DH);
                        }
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // SIMD forward / step / backward, parallel over heads

    // The recurrence is head-local (block-diagonal R, element-wise gates), so each head runs the whole time loop as
    // one task: per step, R·h_{t−1} for all B rows is a (B × DH)·(DH × DH) product per gate (SmallMatmul) and the
    // gate math is vectorized over the head's units. The one global coupling, the vanilla rule "m = ĩ while the
    // normalizer is all zero over the whole [B, E] tensor" (spec §2.5), is exact at t = 0 (the initial state is known)
    // and assumed false afterwards; every head records whether its own part of n was zero, and in the (practically
    // impossible) case that all were zero at some t ≥ 1 the forward is redone serially with the exact rule.

    private float[] RT = new float[0];         // per head and gate: R_gᵀ (DH_k × DH_j), for h·R_gᵀ
    private boolean[] headZero = new boolean[0];
    private boolean zeroAtStart;
    private float[] fwdX, fwdH, bwdDh, bwdD, gatherP, gatherH, gatherPT;
    private int fwdT, fwdB;
    private final Kernels.Task forwardHeadTask = (hd, w) -> forwardHead(hd, fwdB, fwdT, true);
    private final Kernels.Task backwardHeadTask = (hd, w) -> backwardHead(hd);

    /**
     * Runs the cell over a sequence.
     *
     * @param gatesPreact [B, T, 4E] the input part W·x of the pre-activations, rows {@code [i | f | z | o]}; the cell
     *                    adds R·h_{t−1} + b. Not modified and not retained.
     * @param h           [B, T, E] output hidden states
     * @param state       initial state (null = zeros); when non-null it is overwritten with the final state
     */
    public void forward(float[] gatesPreact, float[] h, int B, int T, SLstmState state) {
        forward(null, gatesPreact, h, B, T, state);
    }

    /** As {@link #forward(float[], float[], int, int, SLstmState)}, heads spread over {@code kern}'s threads (null = serial). */
    public void forward(Kernels kern, float[] gatesPreact, float[] h, int B, int T, SLstmState state) {
        checkShapes(gatesPreact, h, B, T, state);
        int BE = B * E;
        ensureSaved(B, T);
        loadInitialState(state, BE);
        prepareRT();
        if (headZero.length < NH * T) headZero = new boolean[NH * T];
        zeroAtStart = allZero(ns, 0, BE);
        fwdX = gatesPreact; fwdH = h; fwdB = B; fwdT = T;
        if (kern == null || NH == 1) for (int hd = 0; hd < NH; hd++) forwardHead(hd, B, T, true);
        else kern.parallelFor(NH, forwardHeadTask);
        boolean exact = true;
        for (int t = 1; t < T && exact; t++) {
            boolean all = true;
            for (int hd = 0; hd < NH && all; hd++) all = headZero[hd * T + t];
            if (all) exact = false;
        }
        if (!exact) forwardExact(B, T);    // the normalizer was zero everywhere at some t ≥ 1: redo with the true rule
        fwdX = fwdH = null;
        rtValid = false;   // the weights may change before the next step (an optimizer step): step() re-derives RT
        storeFinalState(state, T * BE, BE);
        savedB = B;
        savedT = T;
    }

    /** Saved states at t = 0 (slot 0 of hs, cs, ns, ms): zeros, or a copy of {@code state}. */
    private void loadInitialState(SLstmState state, int BE) {
        if (state == null) {
            Arrays.fill(hs, 0, BE, 0f);
            Arrays.fill(cs, 0, BE, 0f);
            Arrays.fill(ns, 0, BE, 0f);
            Arrays.fill(ms, 0, BE, 0f);
        } else {
            System.arraycopy(state.h, 0, hs, 0, BE);
            System.arraycopy(state.c, 0, cs, 0, BE);
            System.arraycopy(state.n, 0, ns, 0, BE);
            System.arraycopy(state.m, 0, ms, 0, BE);
        }
    }

    /** Copies the saved states at offset {@code off} (the last step) into {@code state}, when one was given. */
    private void storeFinalState(SLstmState state, int off, int BE) {
        if (state == null) return;
        System.arraycopy(hs, off, state.h, 0, BE);
        System.arraycopy(cs, off, state.c, 0, BE);
        System.arraycopy(ns, off, state.n, 0, BE);
        System.arraycopy(ms, off, state.m, 0, BE);
    }

    /** The forward with the global all-zero test evaluated at every step (serial over heads). */
    private void forwardExact(int B, int T) {
        int BE = B * E;
        for (int t = 0; t < T; t++) {
            boolean zero = allZero(ns, t * BE, BE);
            for (int hd = 0; hd < NH; hd++) stepHead(hd, B, T, t, zero, fwdX, hs, cs, ns, ms, t * BE, (t + 1) * BE, true, fwdH);
        }
    }

    /** One head over all T steps; the all-zero rule as described above. */
    private void forwardHead(int hd, int B, int T, boolean save) {
        int BE = B * E;
        for (int t = 0; t < T; t++) {
            headZero[hd * T + t] = headAllZero(ns, t * BE, B, hd);
            boolean zero = t == 0 ? zeroAtStart : false;
            stepHead(hd, B, T, t, zero, fwdX, hs, cs, ns, ms, t * BE, (t + 1) * BE, save, fwdH);
        }
    }

    private boolean headAllZero(float[] n, int off, int B, int hd) {
        for (int b = 0; b < B; b++) {
            int o = off + b * E + hd * DH;
            for (int u = 0; u < DH; u++) if (n[o + u] != 0f) return false;
        }
        return true;
    }

    /** RT[(hd·4 + g)·DH·DH + k·DH + j] = R[hd, g·DH + j, k]. */
    private void prepareRT() {
        float[] R = recurrentKernel.data;
        if (RT.length < R.length) RT = new float[R.length];
        for (int hd = 0; hd < NH; hd++)
            for (int g = 0; g < 4; g++) {
                int blk = (hd * 4 + g) * DH * DH;
                SmallMatmul.transpose(DH, DH, R, blk, DH, RT, blk, DH);
            }
    }

    /**
     * One step of head hd for B rows (spec §2.1): reads h, c, n, m at {@code prevOff} of the state arrays, writes
     * them at {@code curOff} (may equal prevOff: in place; R·h_{t−1} is complete before any write), the outputs into
     * {@code hOut[(b·T + t)·E + u]}, and, when {@code save}, the activations backward needs at [t, b, u].
     */
    private void stepHead(int hd, int B, int T, int t, boolean zero, float[] x, float[] hS, float[] cS, float[] nS,
                          float[] mS, int prevOff, int curOff, boolean save, float[] hOut) {
        final int G = 4 * E, c0 = hd * DH;
        // preact[b, g·E + hd·DH + j] = Σ_k h_{t−1}[b, hd·DH + k]·R[hd, g·DH + j, k]
        for (int g = 0; g < 4; g++)
            SmallMatmul.gemm(B, DH, DH, hS, prevOff + c0, E, RT, (hd * 4 + g) * DH * DH, DH, preact, g * E + c0, G, false,
                    SmallMatmul.FULL);
        for (int b = 0; b < B; b++) pointwiseRow(b, T, t, c0, zero, x, hS, cS, nS, mS, prevOff, curOff, save, hOut, B);
    }

    /** The gate math of step t for row b and the units of one head (vectorized over units), see {@link #stepHead}. */
    private void pointwiseRow(int b, int T, int t, int c0, boolean zero, float[] x, float[] hS, float[] cS, float[] nS,
                              float[] mS, int prevOff, int curOff, boolean save, float[] hOut, int B) {
        // three passes over the head's units (all in L1), each small enough for C1 to compile quickly
        rawRow(b, T, t, c0, x);
        gatesRow(b, t, c0, zero, mS, prevOff, curOff, save, B);
        outputGatesRow(b, t, c0, save, B);
        stateRow(b, T, t, c0, hS, cS, nS, prevOff, curOff, hOut);
    }

    /** preact[b, g·E + c0 + u] = Wx + Ry + b (spec §2.1), in place over the Ry already there. */
    private void rawRow(int b, int T, int t, int c0, float[] x) {
        final int G = 4 * E, p = b * G + c0, xr = (b * T + t) * G + c0;
        final float[] bv = bias.data, pre = preact;
        for (int g = 0; g < 4; g++) {
            int o = g * E;
            for (int u = 0; u < DH; u += LANES) {
                VectorMask<Float> mk = SPECIES.indexInRange(u, DH);
                FloatVector.fromArray(SPECIES, x, xr + o + u, mk).add(FloatVector.fromArray(SPECIES, pre, p + o + u, mk))
                        .add(FloatVector.fromArray(SPECIES, bv, o + c0 + u, mk)).intoArray(pre, p + o + u, mk);
            }
        }
    }

    /**
     * The gates from the raw pre-activations (spec §2.1): replaces [ĩ | f̃ | z̃ | õ] in preact by [i' | f' | z | o],
     * writes the new stabilizer m at curOff (after reading the old one at prevOff: may be in place) and, when saving,
     * the gates and d f'/d f̃ for the backward.
     */
    private void gatesRow(int b, int t, int c0, boolean zero, float[] mS, int prevOff, int curOff, boolean save, int B) {
        final int G = 4 * E, p = b * G + c0, s0 = b * E + c0;
        final float[] pre = preact;
        for (int u = 0; u < DH; u += LANES) {
            VectorMask<Float> mk = SPECIES.indexInRange(u, DH);
            FloatVector iRaw = FloatVector.fromArray(SPECIES, pre, p + u, mk);
            FloatVector fRaw = FloatVector.fromArray(SPECIES, pre, p + E + u, mk);
            FloatVector mP = FloatVector.fromArray(SPECIES, mS, prevOff + s0 + u, mk);
            // logσ(f̃) = min(f̃, 0) − log1p(e^(−|f̃|)); logf = m + logσ(f̃)  (spec §2.1)
            FloatVector logSigF = fRaw.min(0f).sub(fRaw.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P));
            FloatVector forgetLog = mP.add(logSigF);
            FloatVector stab = zero ? iRaw : iRaw.max(forgetLog);                       // spec §2.1 / §2.5
            FloatVector fExp = forgetLog.sub(stab).lanewise(VectorOperators.EXP);
            FloatVector iGate = iRaw.sub(stab).lanewise(VectorOperators.EXP).min(1f);   // i' = min(e^(ĩ − m), 1)
            FloatVector fGate = fExp.min(1f);                                            // f' = min(e^(logf − m), 1)
            stab.intoArray(mS, curOff + s0 + u, mk);
            iGate.intoArray(pre, p + u, mk);
            fGate.intoArray(pre, p + E + u, mk);
            if (save) {
                int a = t * B * E + s0 + u;
                iGate.intoArray(iGates, a, mk);
                fGate.intoArray(fGates, a, mk);
                // d f'/d f̃ = f'·σ(−f̃) with m constant; 0 where the min(·, 1) guard clamps
                FloatVector sigNegF = FloatVector.broadcast(SPECIES, 1f).div(fRaw.lanewise(VectorOperators.EXP).add(1f));
                fGate.mul(sigNegF).blend(0f, fExp.compare(VectorOperators.GT, 1f)).intoArray(fSlopes, a, mk);
            }
        }
    }

    /** z = tanh(z̃), o = σ(õ) in place in preact (and saved for the backward). */
    private void outputGatesRow(int b, int t, int c0, boolean save, int B) {
        final int G = 4 * E, p = b * G + c0, s0 = b * E + c0;
        final float[] pre = preact;
        for (int u = 0; u < DH; u += LANES) {
            VectorMask<Float> mk = SPECIES.indexInRange(u, DH);
            FloatVector zAct = FloatVector.fromArray(SPECIES, pre, p + 2 * E + u, mk).lanewise(VectorOperators.TANH);
            FloatVector oRaw = FloatVector.fromArray(SPECIES, pre, p + 3 * E + u, mk);
            FloatVector oGate = FloatVector.broadcast(SPECIES, 1f).div(oRaw.neg().lanewise(VectorOperators.EXP).add(1f));
            zAct.intoArray(pre, p + 2 * E + u, mk);
            oGate.intoArray(pre, p + 3 * E + u, mk);
            if (save) {
                int a = t * B * E + s0 + u;
                zAct.intoArray(zActs, a, mk);
                oGate.intoArray(oGates, a, mk);
            }
        }
    }

    /** c = f'c + i'z, n = f'n + i', h = o·c/n (spec §2.1) from the gates in preact; reads c, n at prevOff first. */
    private void stateRow(int b, int T, int t, int c0, float[] hS, float[] cS, float[] nS, int prevOff, int curOff, float[] hOut) {
        final int G = 4 * E, p = b * G + c0, s0 = b * E + c0;
        final float[] pre = preact;
        for (int u = 0; u < DH; u += LANES) {
            VectorMask<Float> mk = SPECIES.indexInRange(u, DH);
            int sp = prevOff + s0 + u, sc = curOff + s0 + u;
            FloatVector iGate = FloatVector.fromArray(SPECIES, pre, p + u, mk), fGate = FloatVector.fromArray(SPECIES, pre, p + E + u, mk);
            FloatVector zAct = FloatVector.fromArray(SPECIES, pre, p + 2 * E + u, mk), oGate = FloatVector.fromArray(SPECIES, pre, p + 3 * E + u, mk);
            FloatVector c = fGate.mul(FloatVector.fromArray(SPECIES, cS, sp, mk)).add(iGate.mul(zAct)); // c = f'c + i'z
            FloatVector n = fGate.mul(FloatVector.fromArray(SPECIES, nS, sp, mk)).add(iGate);           // n = f'n + i'
            FloatVector hv = oGate.mul(c).div(n);                                                         // h = o·c/n
            hv.intoArray(hS, sc, mk);
            c.intoArray(cS, sc, mk);
            n.intoArray(nS, sc, mk);
            hv.intoArray(hOut, (b * T + t) * E + c0 + u, mk);
        }
    }

    /**
     * One token: {@code gatesPreact [B, 4E] → h [B, E]}, advancing {@code state} (non-null) in place. Saves nothing
     * for backward. Same arithmetic as {@link #forward} over the same tokens: bit-for-bit equal when both take the same
     * vector math (checked in the tests' C1-only JVM; C2's exp/tanh intrinsics may differ from it in the last bit).
     */
    public void step(float[] gatesPreact, float[] h, int B, SLstmState state) {
        step(null, gatesPreact, h, B, state);
    }

    /** As {@link #step(float[], float[], int, SLstmState)}, heads spread over {@code kern}'s threads (null = serial). */
    public void step(Kernels kern, float[] gatesPreact, float[] h, int B, SLstmState state) {
        if (state == null) throw new IllegalArgumentException("SLstmCell.step: state must not be null");
        checkShapes(gatesPreact, h, B, 1, state);
        preact = Buffers.ensure(preact, B * 4 * E);
        if (!rtValid) {
            prepareRT();
            rtValid = true;
        }
        boolean zero = allZero(state.n, 0, B * E);
        // R·h_{t−1} of every head is computed before its state is overwritten (heads do not read each other's h)
        if (kern == null || NH == 1 || kern.threads() == 1) {
            for (int hd = 0; hd < NH; hd++)
                stepHead(hd, B, 1, 0, zero, gatesPreact, state.h, state.c, state.n, state.m, 0, 0, false, h);
            return;
        }
        stepX = gatesPreact; stepH = h; stepB = B; stepZero = zero; stepState = state;
        kern.parallelFor(NH, stepHeadTask);
        stepX = stepH = null; stepState = null;
    }

    private float[] stepX, stepH;
    private int stepB;
    private boolean stepZero;
    private SLstmState stepState;
    private final Kernels.Task stepHeadTask = (hd, w) -> stepHead(hd, stepB, 1, 0, stepZero, stepX, stepState.h, stepState.c,
            stepState.n, stepState.m, 0, 0, false, stepH);

    /**
     * Declares that the recurrent kernel was changed in place since the last {@link #forward}/{@link #step}: the next
     * step recomputes its transposed copy. (A forward always recomputes it; step() reuses the copy it made, so that
     * decoding does not transpose R per token. Weights changed between two steps without a forward in between must
     * be announced with this method.)
     */
    public void weightsChanged() {
        rtValid = false;
    }

    private boolean rtValid;

    /**
     * Backpropagation through time for the most recent forward: accumulates (+=) into the recurrent kernel's and the
     * bias's gradients, and overwrites {@code dGatesPreact [B, T, 4E]} with d loss / d (input part of the
     * pre-activations), which equals d loss / d (full pre-activations). The gradient w.r.t. the initial state is not
     * computed (but a non-zero initial state is accounted for). See the comment above {@link #backwardScalar} for why
     * m is held constant.
     *
     * @param dh [B, T, E] d loss / d h
     */
    public void backward(float[] dh, float[] dGatesPreact) {
        backward(null, dh, dGatesPreact);
    }

    /** As {@link #backward(float[], float[])}, heads spread over {@code kern}'s threads and dR as one product per gate. */
    public void backward(Kernels kern, float[] dh, float[] dGatesPreact) {
        if (savedT < 0) throw new IllegalStateException("SLstmCell.backward: no forward to differentiate");
        int B = savedB, T = savedT, BE = B * E, G = 4 * E, rows = B * T;
        if (dh.length < rows * E || dGatesPreact.length < rows * G)
            throw new IllegalArgumentException("SLstmCell.backward: dh needs " + rows * E + " and dGatesPreact "
                    + rows * G + " values, got " + dh.length + " and " + dGatesPreact.length);
        dhRec = Buffers.ensure(dhRec, BE);
        dcNext = Buffers.ensure(dcNext, BE);
        dnNext = Buffers.ensure(dnNext, BE);
        Arrays.fill(dhRec, 0, BE, 0f);
        Arrays.fill(dcNext, 0, BE, 0f);
        Arrays.fill(dnNext, 0, BE, 0f);
        bwdDh = dh;
        bwdD = dGatesPreact;
        if (kern == null || NH == 1) for (int hd = 0; hd < NH; hd++) backwardHead(hd);
        else kern.parallelFor(NH, backwardHeadTask);
        bwdDh = bwdD = null;
        // db += Σ_rows dpre;  dR[hd, g·DH + j, k] += Σ_{b,t} dpre[b, t, g·E + hd·DH + j]·h_{t−1}[b, hd·DH + k]
        float[] db = bias.grad;
        for (int r = 0; r < rows; r++) addRowTo(dGatesPreact, r * G, db, G);
        gatherP = Buffers.ensure(gatherP, rows * DH);
        gatherH = Buffers.ensure(gatherH, rows * DH);
        float[] dR = recurrentKernel.grad;
        for (int hd = 0; hd < NH; hd++) {
            for (int b = 0; b < B; b++)
                for (int t = 0; t < T; t++) System.arraycopy(hs, t * BE + b * E + hd * DH, gatherH, (b * T + t) * DH, DH);
            for (int g = 0; g < 4; g++) {
                for (int r = 0; r < rows; r++) System.arraycopy(dGatesPreact, r * G + g * E + hd * DH, gatherP, r * DH, DH);
                int blk = (hd * 4 + g) * DH * DH;
                if (kern != null) {
                    kern.matmulDyTX(gatherP, 0, gatherH, 0, dR, blk, rows, DH, DH, true);
                } else {
                    gatherPT = Buffers.ensure(gatherPT, rows * DH);
                    SmallMatmul.transpose(rows, DH, gatherP, 0, DH, gatherPT, 0, rows);
                    SmallMatmul.gemm(DH, DH, rows, gatherPT, 0, rows, gatherH, 0, DH, dR, blk, DH, true, SmallMatmul.FULL);
                }
            }
        }
    }

    /** y[0..n) += x[xo..xo+n). */
    private static void addRowTo(float[] x, int xo, float[] y, int n) {
        int i = 0;
        for (int bound = SPECIES.loopBound(n); i < bound; i += LANES)
            FloatVector.fromArray(SPECIES, y, i).add(FloatVector.fromArray(SPECIES, x, xo + i)).intoArray(y, i);
        for (; i < n; i++) y[i] += x[xo + i];
    }

    /** Backward through time for head hd (pointwise SIMD; d h_{t−1} = Σ_g dpre_g·R_g as small products). */
    private void backwardHead(int hd) {
        final int B = savedB, T = savedT, BE = B * E, G = 4 * E, c0 = hd * DH;
        final float[] dh = bwdDh, d = bwdD, R = recurrentKernel.data;
        for (int t = T - 1; t >= 0; t--) {
            int prev = t * BE, cur = (t + 1) * BE;
            for (int b = 0; b < B; b++) pointwiseBackwardRow(b, t, c0, dh, d);
            // d h_{t−1}[b, hd·DH + k] = Σ_g Σ_j dpre[b, t, g·E + hd·DH + j]·R[hd, g·DH + j, k] (not needed at t = 0)
            if (t > 0)
                for (int g = 0; g < 4; g++)
                    SmallMatmul.gemm(B, DH, DH, d, t * G + g * E + c0, T * G, R, (hd * 4 + g) * DH * DH, DH, dhRec, c0, E,
                            g > 0, SmallMatmul.FULL);
        }
    }

    /** The pointwise backward of step t for row b and the units of one head (vectorized over units), in two passes. */
    private void pointwiseBackwardRow(int b, int t, int c0, float[] dh, float[] d) {
        cellGradRow(b, t, c0, dh, d);
        gateGradRow(b, t, c0, d);
    }

    /**
     * From d h_t (output + recurrence) and d c_t, d n_t (from step t+1): d c_t and d n_t in full, kept in the
     * z and o slots of dGatesPreact until {@link #gateGradRow} turns them into gate gradients; d õ written.
     */
    private void cellGradRow(int b, int t, int c0, float[] dh, float[] d) {
        final int B = savedB, T = savedT, BE = B * E, G = 4 * E;
        final int prev = t * BE, cur = (t + 1) * BE, x = (b * T + t) * G + c0, s0 = b * E + c0;
        for (int u = 0; u < DH; u += LANES) {
            VectorMask<Float> mk = SPECIES.indexInRange(u, DH);
            int s = s0 + u, a = prev + s;
            FloatVector oGate = FloatVector.fromArray(SPECIES, oGates, a, mk);
            FloatVector hv = FloatVector.fromArray(SPECIES, hs, cur + s, mk), n = FloatVector.fromArray(SPECIES, ns, cur + s, mk);
            FloatVector dH = FloatVector.fromArray(SPECIES, dh, (b * T + t) * E + c0 + u, mk).add(FloatVector.fromArray(SPECIES, dhRec, s, mk));
            FloatVector dC = dH.mul(oGate).div(n).add(FloatVector.fromArray(SPECIES, dcNext, s, mk));   // h = o·c/n
            FloatVector dN = dH.neg().mul(hv).div(n).add(FloatVector.fromArray(SPECIES, dnNext, s, mk)); // ∂h/∂n = −h/n
            dC.intoArray(d, x + u, mk);
            dN.intoArray(d, x + E + u, mk);
            dH.mul(hv).mul(oGate.neg().add(1f)).intoArray(d, x + 3 * E + u, mk);         // ∂h/∂õ = h·(1 − σ(õ))
        }
    }

    /** From d c_t, d n_t (in the i and f slots): the gate gradients, and d c, d n handed to step t−1. */
    private void gateGradRow(int b, int t, int c0, float[] d) {
        final int B = savedB, T = savedT, BE = B * E, G = 4 * E;
        final int prev = t * BE, x = (b * T + t) * G + c0, s0 = b * E + c0;
        for (int u = 0; u < DH; u += LANES) {
            VectorMask<Float> mk = SPECIES.indexInRange(u, DH);
            int s = s0 + u, a = prev + s;
            FloatVector dC = FloatVector.fromArray(SPECIES, d, x + u, mk), dN = FloatVector.fromArray(SPECIES, d, x + E + u, mk);
            FloatVector iGate = FloatVector.fromArray(SPECIES, iGates, a, mk), fGate = FloatVector.fromArray(SPECIES, fGates, a, mk);
            FloatVector zAct = FloatVector.fromArray(SPECIES, zActs, a, mk);
            FloatVector dIGate = dC.mul(zAct).add(dN);                                   // c = f'c + i'z, n = f'n + i'
            FloatVector dFGate = dC.mul(FloatVector.fromArray(SPECIES, cs, a, mk)).add(dN.mul(FloatVector.fromArray(SPECIES, ns, a, mk)));
            dIGate.mul(iGate).intoArray(d, x + u, mk);                                   // i' = e^(ĩ − m), m constant
            dFGate.mul(FloatVector.fromArray(SPECIES, fSlopes, a, mk)).intoArray(d, x + E + u, mk);
            dC.mul(iGate).mul(zAct.mul(zAct).neg().add(1f)).intoArray(d, x + 2 * E + u, mk); // z = tanh(z̃)
            dC.mul(fGate).intoArray(dcNext, s, mk);
            dN.mul(fGate).intoArray(dnNext, s, mk);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // official cuda-backend layouts (spec §2.2)

    /** Recurrent kernel, cuda layout (NH, DH, 4·DH) = R_ext (h, k, g, j) → vanilla (NH, 4·DH, DH) = (h, g, j, k). */
    public static float[] recurrentKernelFromCuda(float[] cuda, int NH, int DH) {
        checkLength("_recurrent_kernel_ (cuda layout)", cuda.length, NH * 4 * DH * DH);
        float[] vanilla = new float[cuda.length];
        for (int h = 0; h < NH; h++)
            for (int k = 0; k < DH; k++)
                for (int g = 0; g < 4; g++)
                    for (int j = 0; j < DH; j++)
                        vanilla[((h * 4 + g) * DH + j) * DH + k] = cuda[((h * DH + k) * 4 + g) * DH + j];
        return vanilla;
    }

    /** Recurrent kernel, vanilla layout (h, g, j, k) → cuda layout (h, k, g, j). Inverse of {@link #recurrentKernelFromCuda}. */
    public static float[] recurrentKernelToCuda(float[] vanilla, int NH, int DH) {
        checkLength("_recurrent_kernel_ (vanilla layout)", vanilla.length, NH * 4 * DH * DH);
        float[] cuda = new float[vanilla.length];
        for (int h = 0; h < NH; h++)
            for (int k = 0; k < DH; k++)
                for (int g = 0; g < 4; g++)
                    for (int j = 0; j < DH; j++)
                        cuda[((h * DH + k) * 4 + g) * DH + j] = vanilla[((h * 4 + g) * DH + j) * DH + k];
        return cuda;
    }

    /** Bias, cuda order (NH, 4, DH) → vanilla order (4, NH, DH). */
    public static float[] biasFromCuda(float[] cuda, int NH, int DH) {
        checkLength("_bias_ (cuda layout)", cuda.length, NH * 4 * DH);
        float[] vanilla = new float[cuda.length];
        for (int h = 0; h < NH; h++)
            for (int g = 0; g < 4; g++)
                System.arraycopy(cuda, (h * 4 + g) * DH, vanilla, (g * NH + h) * DH, DH);
        return vanilla;
    }

    /** Bias, vanilla order (4, NH, DH) → cuda order (NH, 4, DH). Inverse of {@link #biasFromCuda}. */
    public static float[] biasToCuda(float[] vanilla, int NH, int DH) {
        checkLength("_bias_ (vanilla layout)", vanilla.length, NH * 4 * DH);
        float[] cuda = new float[vanilla.length];
        for (int h = 0; h < NH; h++)
            for (int g = 0; g < 4; g++)
                System.arraycopy(vanilla, (g * NH + h) * DH, cuda, (h * 4 + g) * DH, DH);
        return cuda;
    }

    // ------------------------------------------------------------------------------------------------------------
    // helpers

    private void checkShapes(float[] gatesPreact, float[] h, int B, int T, SLstmState state) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("SLstmCell: bad B=" + B + " T=" + T);
        if (gatesPreact.length < B * T * 4 * E || h.length < B * T * E)
            throw new IllegalArgumentException("SLstmCell: gatesPreact needs " + B * T * 4 * E + " and h " + B * T * E
                    + " values for B=" + B + " T=" + T + " E=" + E + ", got " + gatesPreact.length + " and " + h.length);
        if (state != null && (state.B != B || state.E != E))
            throw new IllegalArgumentException("SLstmCell: state " + state + " does not match B=" + B + " E=" + E);
    }

    private void ensureSaved(int B, int T) {
        int steps = B * T * E, states = (T + 1) * B * E;
        hs = Buffers.ensure(hs, states);
        cs = Buffers.ensure(cs, states);
        ns = Buffers.ensure(ns, states);
        ms = Buffers.ensure(ms, states);
        iGates = Buffers.ensure(iGates, steps);
        fGates = Buffers.ensure(fGates, steps);
        zActs = Buffers.ensure(zActs, steps);
        oGates = Buffers.ensure(oGates, steps);
        fSlopes = Buffers.ensure(fSlopes, steps);
        preact = Buffers.ensure(preact, B * 4 * E);
    }

    private static void checkLength(String what, int got, int expected) {
        if (got != expected) throw new UserError("sLSTM " + what + ": expected " + expected + " values, got " + got);
    }

    private static boolean allZero(float[] a, int off, int len) {
        for (int i = off; i < off + len; i++) if (a[i] != 0f) return false;
        return true;
    }

    /**
     * ry[q] = Σ_i x[xOff + i]·w[wOff + q·len + i] for the four consecutive rows q = 0..3 of w. SIMD lanes are summed
     * in a fixed order, so the result does not depend on whether the JIT has compiled the Vector API yet.
     */
    private void dot4(float[] x, int xOff, float[] w, int wOff, int len) {
        int i = 0;
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f;
        if (len >= LANES) {
            FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0;
            for (; i <= len - LANES; i += LANES) {
                FloatVector xv = FloatVector.fromArray(SPECIES, x, xOff + i);
                a0 = FloatVector.fromArray(SPECIES, w, wOff + i).fma(xv, a0);
                a1 = FloatVector.fromArray(SPECIES, w, wOff + len + i).fma(xv, a1);
                a2 = FloatVector.fromArray(SPECIES, w, wOff + 2 * len + i).fma(xv, a2);
                a3 = FloatVector.fromArray(SPECIES, w, wOff + 3 * len + i).fma(xv, a3);
            }
            a0.intoArray(lanes, 0);
            a1.intoArray(lanes, LANES);
            a2.intoArray(lanes, 2 * LANES);
            a3.intoArray(lanes, 3 * LANES);
            for (int l = 0; l < LANES; l++) {
                s0 += lanes[l];
                s1 += lanes[LANES + l];
                s2 += lanes[2 * LANES + l];
                s3 += lanes[3 * LANES + l];
            }
        }
        for (; i < len; i++) {
            float xi = x[xOff + i];
            s0 = Math.fma(xi, w[wOff + i], s0);
            s1 = Math.fma(xi, w[wOff + len + i], s1);
            s2 = Math.fma(xi, w[wOff + 2 * len + i], s2);
            s3 = Math.fma(xi, w[wOff + 3 * len + i], s3);
        }
        ry[0] = s0;
        ry[1] = s1;
        ry[2] = s2;
        ry[3] = s3;
    }

    /** y[i] += alpha·x[i] over len elements. */
    private static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int len) {
        int i = 0;
        FloatVector va = FloatVector.broadcast(SPECIES, alpha);
        for (; i <= len - LANES; i += LANES)
            FloatVector.fromArray(SPECIES, x, xOff + i).fma(va, FloatVector.fromArray(SPECIES, y, yOff + i))
                    .intoArray(y, yOff + i);
        for (; i < len; i++) y[yOff + i] = Math.fma(alpha, x[xOff + i], y[yOff + i]);
    }

    @Override public String toString() { return "SLstmCell[" + prefix + ", NH=" + NH + ", DH=" + DH + "]"; }
}
