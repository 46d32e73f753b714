package org.xlstm4j.cells;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;

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
     * Runs the cell over a sequence.
     *
     * @param gatesPreact [B, T, 4E] the input part W·x of the pre-activations, rows {@code [i | f | z | o]}; the cell
     *                    adds R·h_{t−1} + b. Not modified and not retained.
     * @param h           [B, T, E] output hidden states
     * @param state       initial state (null = zeros); when non-null it is overwritten with the final state
     */
    public void forward(float[] gatesPreact, float[] h, int B, int T, SLstmState state) {
        checkShapes(gatesPreact, h, B, T, state);
        int BE = B * E;
        ensureSaved(B, T);
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
        for (int t = 0; t < T; t++) {
            int prev = t * BE, cur = (t + 1) * BE;
            preactivations(gatesPreact, T, t, B, hs, prev);
            pointwiseForward(B, prev, cs, ns, ms, cur, hs, cs, ns, ms, prev);
            for (int b = 0; b < B; b++) System.arraycopy(hs, cur + b * E, h, (b * T + t) * E, E);
        }
        if (state != null) {
            System.arraycopy(hs, T * BE, state.h, 0, BE);
            System.arraycopy(cs, T * BE, state.c, 0, BE);
            System.arraycopy(ns, T * BE, state.n, 0, BE);
            System.arraycopy(ms, T * BE, state.m, 0, BE);
        }
        savedB = B;
        savedT = T;
    }

    /**
     * One token: {@code gatesPreact [B, 4E] → h [B, E]}, advancing {@code state} (non-null) in place. Saves nothing
     * for backward. Gives bit-for-bit the same numbers as {@link #forward} over the same tokens.
     */
    public void step(float[] gatesPreact, float[] h, int B, SLstmState state) {
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
     * Backpropagation through time for the most recent {@link #forward}: accumulates (+=) into the recurrent kernel's
     * and the bias's gradients, and overwrites {@code dGatesPreact [B, T, 4E]} with d loss / d (input part of the
     * pre-activations), which equals d loss / d (full pre-activations). The gradient w.r.t. the initial state is not
     * computed (but a non-zero initial state is accounted for).
     *
     * @param dh [B, T, E] d loss / d h
     */
    public void backward(float[] dh, float[] dGatesPreact) {
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
