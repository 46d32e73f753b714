package org.xlstm4j.cells;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.SmallMatmul;

import java.util.Arrays;

import static org.xlstm4j.cells.MLstmCell.logSigmoid;
import static org.xlstm4j.cells.MLstmCell.sigmoid;
import static org.xlstm4j.tensor.SmallMatmul.A_LOWER;
import static org.xlstm4j.tensor.SmallMatmul.A_UPPER;
import static org.xlstm4j.tensor.SmallMatmul.C_LOWER;
import static org.xlstm4j.tensor.SmallMatmul.FULL;

/**
 * The chunkwise mLSTM form (spec §3.4), forward and backward, as matrix products over whole chunks: the same math and
 * the same stabilizer conventions as the token-by-token {@link MLstmChunkwise} (its equations are in that class's
 * comment), computed with float32 SIMD products ({@link SmallMatmul}) and with the gate scalars (cumulative log forget
 * gates, stabilizers, exponentials of log-gates) in double. Per head and chunk of L tokens, with Q, K, V the chunk's
 * rows, K̂ = K/√DHQK, P = (Q K̂ᵀ) ⊙ D' the stabilized causal gate matrix:
 * <pre>
 *   num = diag(α)·Q·C + P·V      r = α ⊙ (Q·n) + P·1      h = num / (max(|r|, e^(−stabilizer)) + eps)
 *   C' = β·C + (K̂ ⊙ w)ᵀ·V        n' = β·n + (K̂ ⊙ w)ᵀ·1
 * </pre>
 * and the backward the exact gradient of that, as in {@link MLstmChunkwise} (through both stabilizers and the
 * e^(−m) branch of the normalizer). Heads are independent: they are spread over the backend's threads with
 * {@link Kernels#parallelFor}, each worker with its own scratch.
 *
 * <p>Two input layouts: heads-major {@code [B, NH, T, D]} with gates {@code [B, NH, T]} (the cell's public layout), or
 * rows-major {@code [B, T, NH, D]} with gates {@code [B, T, NH]} (the layer's activations, so no transposes are
 * needed). The output h and the input gradients use the same layout as the inputs. Work that is structurally zero is
 * skipped: the inter-chunk term of a chunk entering with a zero state, the final state update when the final state is
 * not wanted, and the upper triangles of the causal matrices.
 */
final class MLstmChunkwiseBlocked {
    private static final VectorSpecies<Float> SF = FloatVector.SPECIES_PREFERRED;
    private static final int LF = SF.length();
    private static final VectorSpecies<Double> SD = DoubleVector.SPECIES_PREFERRED;
    private static final int LD = SD.length();
    private static final VectorSpecies<Float> SF8 = VectorSpecies.of(float.class, jdk.incubator.vector.VectorShape.forBitSize(32 * LD));

    private final int NH, DK, DV;
    private final float eps;
    private final double scale;

    // ---- saved by forward
    private float[] q, k, v, ig, fg;
    private int B, T, L, numChunks;
    private boolean rows;               // rows-major layout
    private boolean[] entersZero = new boolean[0];   // per head: the state entering chunk 0 was all zero
    private float[][] chunkC = new float[0][];       // per head: C entering chunk c, [numChunks, DK, DV]
    private float[][] chunkN = new float[0][];       // per head: n entering chunk c, [numChunks, DK]
    private double[] chunkM = new double[0];         // m entering chunk c, [heads · numChunks]
    private float[] hSaved = new float[0];           // heads-major [heads, T, DV], unless hRef is used
    private float[] hRef;                            // the caller's h, kept instead of a copy (keepOutput)
    private double[] rowSum = new double[0], denom = new double[0], stab = new double[0], alpha = new double[0]; // [heads · T]
    private int[] intraArg = new int[0];             // [heads · T]
    private float[] dh, dq, dk, dv, dIg, dFg;        // backward arguments while it runs
    private MLstmState state;
    private boolean wantFinalState;

    private Work[] work = new Work[0];
    private final Kernels.Task forwardTask = (bh, worker) -> forwardHead(bh, work[worker]);
    private final Kernels.Task backwardTask = (bh, worker) -> backwardHead(bh, work[worker]);

    MLstmChunkwiseBlocked(int NH, int DK, int DV, float eps) {
        this.NH = NH;
        this.DK = DK;
        this.DV = DV;
        this.eps = eps;
        this.scale = 1.0 / Math.sqrt(DK);
    }

    /** Per-worker scratch for one chunk of one head. */
    private static final class Work {
        final int L;
        final double[] b, colC, db, dIgC, dStab, dAlpha, dr;
        final float[] KT, QT, VT, Dp, P, dP, PT, num, dnum, tmpV, G, Tm, CT, dQc, dKc, dVc, dC, dn, w, rowBuf;

        Work(int L, int DK, int DV) {
            this.L = L;
            b = new double[L]; colC = new double[L]; db = new double[L]; dIgC = new double[L];
            dStab = new double[L]; dAlpha = new double[L]; dr = new double[L];
            KT = new float[DK * L]; QT = new float[DK * L]; VT = new float[DV * L];
            Dp = new float[L * L]; P = new float[L * L]; dP = new float[L * L]; PT = new float[L * L];
            num = new float[L * DV]; dnum = new float[L * DV]; tmpV = new float[L * DV];
            G = new float[L * DK]; Tm = new float[L * DK];
            CT = new float[DV * DK];
            dQc = new float[L * DK]; dKc = new float[L * DK]; dVc = new float[L * DV];
            dC = new float[DK * DV]; dn = new float[DK]; w = new float[L]; rowBuf = new float[Math.max(L, Math.max(DK, DV))];
        }
    }

    private void ensure(int heads, int T, int L, int numChunks, int workers) {
        int bht = heads * T;
        if (hRef == null && hSaved.length < bht * DV) hSaved = new float[bht * DV];
        if (rowSum.length < bht) {
            rowSum = new double[bht]; denom = new double[bht]; stab = new double[bht]; alpha = new double[bht];
            intraArg = new int[bht];
        }
        if (chunkM.length < heads * numChunks) chunkM = new double[heads * numChunks];
        if (entersZero.length < heads) entersZero = new boolean[heads];
        int cLen = Math.multiplyExact(numChunks, DK * DV);
        if (chunkC.length < heads) { chunkC = Arrays.copyOf(chunkC, heads); chunkN = Arrays.copyOf(chunkN, heads); }
        for (int bh = 0; bh < heads; bh++) {
            if (chunkC[bh] == null || chunkC[bh].length < cLen) chunkC[bh] = new float[cLen];
            if (chunkN[bh] == null || chunkN[bh].length < numChunks * DK) chunkN[bh] = new float[numChunks * DK];
        }
        if (work.length < workers) work = Arrays.copyOf(work, workers);
        for (int i = 0; i < workers; i++) if (work[i] == null || work[i].L < L) work[i] = new Work(L, DK, DV);
    }

    // ---- layout: element (t, d) of head bh lives at base + t·stride + d

    private int qkBase(int bh) { return rows ? (bh / NH) * T * NH * DK + (bh % NH) * DK : bh * T * DK; }

    private int qkStride() { return rows ? NH * DK : DK; }

    private int vBase(int bh) { return rows ? (bh / NH) * T * NH * DV + (bh % NH) * DV : bh * T * DV; }

    private int vStride() { return rows ? NH * DV : DV; }

    private int gBase(int bh) { return rows ? (bh / NH) * T * NH + (bh % NH) : bh * T; }

    private int gStride() { return rows ? NH : 1; }

    /**
     * Forward over [B, T] tokens from {@code state} (overwritten with the final state when {@code wantFinalState}; it
     * is left in an unspecified state otherwise). {@code k} may be null (serial).
     */
    void forward(Kernels kern, float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] h, int B, int T,
                 int chunkSize, MLstmState state, boolean wantFinalState, boolean rowsLayout, boolean keepOutput) {
        this.q = q; this.k = k; this.v = v; this.ig = ig; this.fg = fg; this.B = B; this.T = T;
        this.hRef = keepOutput ? h : null;
        this.rows = rowsLayout;
        this.L = Math.min(chunkSize, T);
        this.numChunks = (T + L - 1) / L;
        this.state = state;
        this.wantFinalState = wantFinalState;
        this.dh = h; // output, borrowed by forwardHead
        int workers = kern == null ? 1 : kern.threads();
        ensure(B * NH, T, L, numChunks, workers);
        if (kern == null) for (int bh = 0; bh < B * NH; bh++) forwardHead(bh, work[0]);
        else kern.parallelFor(B * NH, forwardTask);
        this.dh = null;
        this.state = null;
    }

    private void forwardHead(int bh, Work w) {
        final float[] q = this.q, k = this.k, v = this.v, ig = this.ig, fg = this.fg, h = this.dh;
        final int qb = qkBase(bh), qs = qkStride(), vb = vBase(bh), vs = vStride(), gb = gBase(bh), gs = gStride();
        final int L = this.L, co = bh * DK * DV, no = bh * DK;
        final float[] C = state.c, n = state.n;
        final float fscale = (float) scale;
        boolean zero = allZero(C, co, DK * DV) && allZero(n, no, DK);
        entersZero[bh] = zero;
        double mPrev = state.m[bh];
        for (int c = 0; c < numChunks; c++) {
            final int t0 = c * L, len = Math.min(L, T - t0), qc = qb + t0 * qs, vc = vb + t0 * vs, gc = gb + t0 * gs;
            final boolean last = c == numChunks - 1;
            System.arraycopy(C, co, chunkC[bh], c * DK * DV, DK * DV);
            System.arraycopy(n, no, chunkN[bh], c * DK, DK);
            chunkM[bh * numChunks + c] = mPrev;
            gateScalars(w, fg, ig, gc, gs, len);

            // per-token stabilizers (spec §3.4) and the stabilized gate matrix D'. logD[τ, σ] = b_τ + colC_σ, so the
            // row maximum over σ ≤ τ is at the running arg-max of colC (first one on ties)
            int go = bh * T + t0, arg = 0;
            for (int tau = 0; tau < len; tau++) {
                if (w.colC[tau] > w.colC[arg]) arg = tau;
                double mIntra = w.b[tau] + w.colC[arg], mInter = w.b[tau] + mPrev;
                double st = Math.max(mInter, mIntra);
                stab[go + tau] = st;
                alpha[go + tau] = Math.exp(mInter - st);
                intraArg[go + tau] = arg;
                gateRow(w, tau, len, L, st);
            }
            // P = (Q K̂ᵀ) ⊙ D', lower triangle
            SmallMatmul.transpose(len, DK, k, qc, qs, w.KT, 0, L);
            SmallMatmul.gemm(len, len, DK, q, qc, qs, w.KT, 0, L, w.P, 0, L, false, C_LOWER);
            maskedProduct(w.P, w.Dp, fscale, len, L);
            // num = diag(α)·Q·C + P·V ; r = α·(Q·n) + P·1
            if (!zero) {
                SmallMatmul.gemm(len, DV, DK, q, qc, qs, C, co, DV, w.num, 0, DV, false, FULL);
                for (int tau = 0; tau < len; tau++) scaleRow(w.num, tau * DV, DV, (float) alpha[go + tau]);
            }
            SmallMatmul.gemm(len, DV, len, w.P, 0, L, v, vc, vs, w.num, 0, DV, !zero, A_LOWER);
            for (int tau = 0; tau < len; tau++) {
                double r = 0;
                int pr = tau * L;
                for (int sg = 0; sg <= tau; sg++) r += w.P[pr + sg];
                if (!zero) r += alpha[go + tau] * dotStrided(q, qc + tau * qs, n, no, DK);
                double st = stab[go + tau];
                double den = Math.max(Math.abs(r), Math.exp(-st)) + eps;      // spec §3.4, §3.5
                rowSum[go + tau] = r;
                denom[go + tau] = den;
                divideRow(w.num, tau * DV, den, h, vc + tau * vs, hRef == null ? hSaved : null, (go + tau) * DV, DV);
            }

            // state update to the end of the chunk (spec §3.4 inter-chunk recurrence)
            if (last && !wantFinalState) break;
            double g = w.b[len - 1];
            int locArg = 0;
            double mLoc = Double.NEGATIVE_INFINITY;
            for (int sg = 0; sg < len; sg++) {
                double a = g + w.colC[sg];
                if (a > mLoc) { mLoc = a; locArg = sg; }
            }
            double mNew = Math.max(g + mPrev, mLoc);
            float beta = (float) Math.exp(g + mPrev - mNew);
            for (int sg = 0; sg < len; sg++) w.w[sg] = (float) (Math.exp(g + w.colC[sg] - mNew) * scale); // e^(a_σ − m')/√DHQK
            // KT ← (K̂ ⊙ w)ᵀ; C ← β·C + KTw·V; n ← β·n + KTw·1
            for (int a = 0; a < DK; a++) {
                int row = a * L;
                float s = 0f;
                for (int sg = 0; sg < len; sg++) {
                    float kw = (float) ((double) w.w[sg] * w.KT[row + sg]);
                    w.KT[row + sg] = kw;
                    s += kw;
                }
                n[no + a] = zero ? s : beta * n[no + a] + s;
            }
            if (!zero) scaleRow(C, co, DK * DV, beta);
            SmallMatmul.gemm(DK, DV, len, w.KT, 0, L, v, vc, vs, C, co, DV, !zero, FULL);
            mPrev = mNew;
            zero = false;
        }
        state.m[bh] = (float) mPrev;
    }

    /** b_τ = Σ_{u≤τ} logσ(f̃_u) and colC_σ = ĩ_σ − b_σ for one chunk (so logD[τ,σ] = b_τ + colC_σ). */
    private static void gateScalars(Work w, float[] fg, float[] ig, int gc, int gs, int len) {
        double s = 0;
        for (int tau = 0; tau < len; tau++) {
            s += logSigmoid(fg[gc + tau * gs]);                                        // spec §3.4: b_τ
            w.b[tau] = s;
            w.colC[tau] = ig[gc + tau * gs] - s;
        }
    }

    /** Row τ of D' = e^(logD − stabilizer) for σ ≤ τ (exponent and exp in double, rounded once), zeros after. */
    private static void gateRow(Work w, int tau, int len, int ld, double st) {
        int row = tau * ld, n = tau + 1, sg = 0;
        double base = w.b[tau] - st;
        for (int bound = SD.loopBound(n); sg < bound; sg += LD) {
            DoubleVector e = DoubleVector.fromArray(SD, w.colC, sg).add(base).lanewise(VectorOperators.EXP);
            ((FloatVector) e.convertShape(VectorOperators.D2F, SF8, 0)).intoArray(w.Dp, row + sg);
        }
        for (; sg < n; sg++) w.Dp[row + sg] = (float) Math.exp(base + w.colC[sg]);
        Arrays.fill(w.Dp, row + n, row + len, 0f);
    }

    /** P[τ, σ] = s·P[τ, σ]·D'[τ, σ] for σ ≤ τ and 0 above the diagonal (rows of length len, stride ld). */
    private static void maskedProduct(float[] P, float[] Dp, float s, int len, int ld) {
        for (int tau = 0; tau < len; tau++) {
            int row = tau * ld, n = tau + 1;
            for (int j = 0; j < n; j += LF) {
                VectorMask<Float> m = SF.indexInRange(j, n);
                FloatVector.fromArray(SF, P, row + j, m).mul(FloatVector.fromArray(SF, Dp, row + j, m)).mul(s)
                        .intoArray(P, row + j, m);
            }
            Arrays.fill(P, row + n, row + len, 0f);
        }
    }

    private static void scaleRow(float[] a, int off, int n, float s) {
        int i = 0;
        for (int bound = SF.loopBound(n); i < bound; i += LF)
            FloatVector.fromArray(SF, a, off + i).mul(s).intoArray(a, off + i);
        for (; i < n; i++) a[off + i] *= s;
    }

    /** out[o + d] = num[off + d] / den, also into saved[s + d] unless saved is null. */
    private static void divideRow(float[] num, int off, double den, float[] out, int o, float[] saved, int s, int n) {
        for (int d = 0; d < n; d++) {
            float hv = (float) (num[off + d] / den);
            out[o + d] = hv;
            if (saved != null) saved[s + d] = hv;
        }
    }

    private static float dotStrided(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(SF);
        int i = 0;
        for (int bound = SF.loopBound(n); i < bound; i += LF)
            acc = FloatVector.fromArray(SF, a, ao + i).fma(FloatVector.fromArray(SF, b, bo + i), acc);
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    private static boolean allZero(float[] a, int off, int n) {
        for (int i = off; i < off + n; i++) if (a[i] != 0f) return false;
        return true;
    }

    // ------------------------------------------------------------------------------------------------ backward

    /** Replaces the saved references to q, k, v (the caller recomputed them into other arrays, same layout and values). */
    void rebind(float[] q, float[] k, float[] v) {
        this.q = q; this.k = k; this.v = v;
    }

    void backward(Kernels kern, float[] dh, float[] dq, float[] dk, float[] dv, float[] dIgatePreact, float[] dFgatePreact) {
        if (q == null) throw new IllegalStateException("MLstmCell.backward: no chunkwise forward");
        long bht = (long) B * NH * T;
        MLstmCell.checkLen("dh", dh, bht * DV);
        MLstmCell.checkLen("dq", dq, bht * DK);
        MLstmCell.checkLen("dk", dk, bht * DK);
        MLstmCell.checkLen("dv", dv, bht * DV);
        MLstmCell.checkLen("dIgatePreact", dIgatePreact, bht);
        MLstmCell.checkLen("dFgatePreact", dFgatePreact, bht);
        this.dh = dh; this.dq = dq; this.dk = dk; this.dv = dv; this.dIg = dIgatePreact; this.dFg = dFgatePreact;
        int workers = kern == null ? 1 : kern.threads();
        ensure(B * NH, T, L, numChunks, workers);
        if (kern == null) for (int bh = 0; bh < B * NH; bh++) backwardHead(bh, work[0]);
        else kern.parallelFor(B * NH, backwardTask);
        this.dh = this.dq = this.dk = this.dv = this.dIg = this.dFg = null;
    }

    private void backwardHead(int bh, Work w) {
        final float[] q = this.q, k = this.k, v = this.v, ig = this.ig, fg = this.fg;
        final int qb = qkBase(bh), qs = qkStride(), vb = vBase(bh), vs = vStride(), gb = gBase(bh), gs = gStride();
        final int L = this.L;
        final float[] cH = chunkC[bh], nH = chunkN[bh];
        final float fscale = (float) scale;
        final float[] dC = w.dC, dn = w.dn;
        Arrays.fill(dC, 0f);
        Arrays.fill(dn, 0f);
        double dmNext = 0;
        for (int c = numChunks - 1; c >= 0; c--) {
            final int t0 = c * L, len = Math.min(L, T - t0), qc = qb + t0 * qs, vc = vb + t0 * vs, gc = gb + t0 * gs;
            final int cp = c * DK * DV, np = c * DK, go = bh * T + t0;
            final double mPrev = chunkM[bh * numChunks + c];
            final boolean zeroIn = c == 0 && entersZero[bh];
            gateScalars(w, fg, ig, gc, gs, len);
            Arrays.fill(w.db, 0, len, 0.0);
            Arrays.fill(w.dIgC, 0, len, 0.0);
            Arrays.fill(w.dQc, 0, len * DK, 0f);
            Arrays.fill(w.dKc, 0, len * DK, 0f);
            Arrays.fill(w.dVc, 0, len * DV, 0f);
            SmallMatmul.transpose(len, DK, k, qc, qs, w.KT, 0, L);
            double dmPrev = 0;

            // (1) state update, backward: (dC, dn, dmNext) is the gradient of the state leaving this chunk
            if (c < numChunks - 1) {
                double g = w.b[len - 1];
                int locArg = 0;
                double mLoc = Double.NEGATIVE_INFINITY;
                for (int sg = 0; sg < len; sg++) {
                    double a = g + w.colC[sg];
                    if (a > mLoc) { mLoc = a; locArg = sg; }
                }
                double mNew = Math.max(g + mPrev, mLoc);
                double beta = (float) Math.exp(g + mPrev - mNew);   // as rounded in the forward
                double dBeta = zeroIn ? 0 : (double) dotStrided(dC, 0, cH, cp, DK * DV) + dotStrided(dn, 0, nH, np, DK);
                // Tm = V·dCᵀ + 1·dnᵀ  [len, DK];  tmpV = K·dC  [len, DV]
                SmallMatmul.transpose(DK, DV, dC, 0, DV, w.CT, 0, DK);
                SmallMatmul.gemm(len, DK, DV, v, vc, vs, w.CT, 0, DK, w.Tm, 0, DK, false, FULL);
                SmallMatmul.gemm(len, DV, DK, k, qc, qs, dC, 0, DV, w.tmpV, 0, DV, false, FULL);
                double dMNew = dmNext, dg = 0;
                for (int sg = 0; sg < len; sg++) {
                    double ws = Math.exp(g + w.colC[sg] - mNew);
                    int tr = sg * DK, kr = qc + sg * qs;
                    addRow(w.Tm, tr, dn, 0, DK);
                    float f = (float) (ws * scale);
                    axpyRow(f, w.Tm, tr, w.dKc, sg * DK, DK);                    // dk_σ += w·(dC v_σ + dn)/√DHQK
                    axpyRow(f, w.tmpV, sg * DV, w.dVc, sg * DV, DV);             // dv_σ += w·dCᵀk̂_σ
                    double da = scale * dotStrided(k, kr, w.Tm, tr, DK) * ws;    // through w = e^(a_σ − m')
                    dMNew -= da;
                    dg += da;
                    w.db[sg] -= da;
                    w.dIgC[sg] += da;
                }
                dg += dBeta * beta;                                             // β = e^(g + m − m')
                dmPrev += dBeta * beta;
                dMNew -= dBeta * beta;
                double toDecay = g + mPrev > mLoc ? 1 : g + mPrev < mLoc ? 0 : 0.5; // m' = max(g + m, a_locArg)
                dg += dMNew;
                dmPrev += toDecay * dMNew;
                w.db[locArg] -= (1 - toDecay) * dMNew;
                w.dIgC[locArg] += (1 - toDecay) * dMNew;
                w.db[len - 1] += dg;
                if (!zeroIn) {
                    scaleRow(dC, 0, DK * DV, (float) beta);
                    scaleRow(dn, 0, DK, (float) beta);
                }
            }

            // (2) outputs, backward: dnum = dh/den, and the gradients of den through r and the stabilizer
            for (int tau = 0; tau < len; tau++) {
                int t = go + tau, ht = (vc + tau * vs);
                double den = denom[t], r = rowSum[t];
                float inv = (float) (1.0 / den);
                double ddenom = 0;
                int dr0 = tau * DV;
                float[] hv = hRef != null ? hRef : hSaved;
                int hs = hRef != null ? ht : t * DV;
                for (int d = 0; d < DV; d++) {
                    float dnv = (float) (dh[ht + d] / den);
                    w.dnum[dr0 + d] = dnv;
                    ddenom -= (double) dnv * hv[hs + d];
                }
                double floor = Math.exp(-stab[t]);
                double absR = Math.abs(r), dr = 0, dSt = 0;
                if (absR > floor) dr = ddenom * Math.signum(r);
                else if (absR < floor) dSt = -ddenom * floor;
                else { dr = 0.5 * ddenom * Math.signum(r); dSt = -0.5 * ddenom * floor; }
                w.dr[tau] = dr;
                w.dStab[tau] = dSt;
                w.dAlpha[tau] = 0;
                gateRow(w, tau, len, L, stab[t]);
            }
            // inter part: num += α·(Q C_prev), r += α·(Q n_prev)
            if (!zeroIn) {
                SmallMatmul.transpose(DK, DV, cH, cp, DV, w.CT, 0, DK);
                SmallMatmul.gemm(len, DK, DV, w.dnum, 0, DV, w.CT, 0, DK, w.G, 0, DK, false, FULL);   // G = dnum·C_prevᵀ
                for (int tau = 0; tau < len; tau++) {
                    int gr = tau * DK;
                    float drf = (float) w.dr[tau];
                    axpyRow(drf, nH, np, w.G, gr, DK);                                            // G += dr·n_prevᵀ
                    double a = alpha[go + tau];
                    w.dAlpha[tau] = dotStrided(q, qc + tau * qs, w.G, gr, DK);
                    axpyRow((float) a, w.G, gr, w.dQc, gr, DK);                                   // dq += α·G
                }
                if (c > 0) { // the gradient of the incoming state is only needed past chunk 0
                    SmallMatmul.transpose(len, DK, q, qc, qs, w.QT, 0, L);
                    for (int a = 0; a < DK; a++) {
                        int row = a * L;
                        float s = 0f;
                        for (int tau = 0; tau < len; tau++) {
                            float qa = w.QT[row + tau];
                            s += (float) (alpha[go + tau] * w.dr[tau]) * qa;
                            w.QT[row + tau] = (float) (alpha[go + tau] * qa);
                        }
                        dn[a] += s;                                                               // dn += Σ α·dr·q
                    }
                    SmallMatmul.gemm(DK, DV, len, w.QT, 0, L, w.dnum, 0, DV, dC, 0, DV, true, FULL); // dC += (αQ)ᵀ dnum
                }
            }
            // intra part: P = (Q K̂ᵀ) ⊙ D'
            SmallMatmul.gemm(len, len, DK, q, qc, qs, w.KT, 0, L, w.P, 0, L, false, C_LOWER);
            maskedProduct(w.P, w.Dp, fscale, len, L);
            SmallMatmul.transpose(len, DV, v, vc, vs, w.VT, 0, L);
            SmallMatmul.gemm(len, len, DV, w.dnum, 0, DV, w.VT, 0, L, w.dP, 0, L, false, C_LOWER); // dP = dnum·Vᵀ (+ dr)
            SmallMatmul.transpose(len, len, w.P, 0, L, w.PT, 0, L);
            SmallMatmul.gemm(len, DV, len, w.PT, 0, L, w.dnum, 0, DV, w.dVc, 0, DV, true, A_UPPER); // dV += Pᵀ·dnum
            // dLogD = dP ⊙ P (row sums → stabilizer and b_τ, column sums → ĩ_σ and b_σ); dS = dP ⊙ D'/√DHQK
            Arrays.fill(w.rowBuf, 0, len, 0f);
            for (int tau = 0; tau < len; tau++) {
                int row = tau * L, n = tau + 1;
                float drf = (float) w.dr[tau];
                FloatVector rsv = FloatVector.zero(SF);
                for (int sg = 0; sg < n; sg += LF) {
                    VectorMask<Float> m = SF.indexInRange(sg, n);
                    FloatVector dpv = FloatVector.fromArray(SF, w.dP, row + sg, m).add(drf);
                    FloatVector dl = dpv.mul(FloatVector.fromArray(SF, w.P, row + sg, m));    // dLogD = dP ⊙ P
                    rsv = rsv.add(dl, m);
                    FloatVector.fromArray(SF, w.rowBuf, sg, m).add(dl).intoArray(w.rowBuf, sg, m);
                    dpv.mul(FloatVector.fromArray(SF, w.Dp, row + sg, m)).mul(fscale).intoArray(w.dP, row + sg, m); // dS
                }
                java.util.Arrays.fill(w.dP, row + n, row + len, 0f);
                double rs = rsv.reduceLanes(VectorOperators.ADD);
                w.dStab[tau] -= rs;
                w.db[tau] += rs;
            }
            for (int sg = 0; sg < len; sg++) {
                w.dIgC[sg] += w.rowBuf[sg];
                w.db[sg] -= w.rowBuf[sg];
            }
            SmallMatmul.gemm(len, DK, len, w.dP, 0, L, k, qc, qs, w.dQc, 0, DK, true, A_LOWER);   // dQ += dS·K
            SmallMatmul.transpose(len, len, w.dP, 0, L, w.PT, 0, L);
            SmallMatmul.gemm(len, DK, len, w.PT, 0, L, q, qc, qs, w.dKc, 0, DK, true, A_UPPER);   // dK += dSᵀ·Q

            // stabilizer routing: stabilizer_τ = max(mInter_τ, logD[τ, intraArg]), α = e^(mInter − stabilizer)
            for (int tau = 0; tau < len; tau++) {
                int t = go + tau, arg = intraArg[t];
                double a = alpha[t], mInter = w.b[tau] + mPrev, mIntra = w.b[tau] + w.colC[arg];
                double dSt = w.dStab[tau] - w.dAlpha[tau] * a;
                double dMInter = w.dAlpha[tau] * a;
                double toInter = mInter > mIntra ? 1 : mInter < mIntra ? 0 : 0.5;
                dMInter += toInter * dSt;
                double toIntra = (1 - toInter) * dSt;
                w.dIgC[arg] += toIntra;
                w.db[tau] += toIntra;
                w.db[arg] -= toIntra;
                w.db[tau] += dMInter;                                                   // mInter = b_τ + m_prev
                dmPrev += dMInter;
            }

            // b_τ = Σ_{u≤τ} logσ(f̃_u): df̃_u = σ(−f̃_u)·Σ_{τ≥u} db_τ; and write the chunk's gradients out
            double run = 0;
            for (int tau = len - 1; tau >= 0; tau--) {
                run += w.db[tau];
                int gi = gc + tau * gs;
                dFg[gi] = (float) (run * sigmoid(-fg[gi]));
                dIg[gi] = (float) w.dIgC[tau];
            }
            for (int tau = 0; tau < len; tau++) {
                System.arraycopy(w.dQc, tau * DK, dq, qc + tau * qs, DK);
                System.arraycopy(w.dKc, tau * DK, dk, qc + tau * qs, DK);
                System.arraycopy(w.dVc, tau * DV, dv, vc + tau * vs, DV);
            }
            dmNext = dmPrev;
        }
    }

    private static void addRow(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        for (int bound = SF.loopBound(n); i < bound; i += LF)
            FloatVector.fromArray(SF, a, ao + i).add(FloatVector.fromArray(SF, b, bo + i)).intoArray(a, ao + i);
        for (; i < n; i++) a[ao + i] += b[bo + i];
    }

    /** y[yo..] += s·x[xo..] over n. */
    private static void axpyRow(float s, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        FloatVector sv = FloatVector.broadcast(SF, s);
        for (int bound = SF.loopBound(n); i < bound; i += LF)
            FloatVector.fromArray(SF, x, xo + i).fma(sv, FloatVector.fromArray(SF, y, yo + i)).intoArray(y, yo + i);
        for (; i < n; i++) y[yo + i] = Math.fma(s, x[xo + i], y[yo + i]);
    }
}
