package org.xlstm4j.cells;

import java.util.Arrays;

import static org.xlstm4j.cells.MLstmCell.dot;
import static org.xlstm4j.cells.MLstmCell.logSigmoid;
import static org.xlstm4j.cells.MLstmCell.sigmoid;

/**
 * The chunkwise mLSTM form, spec §3.4, forward and backward. Per head and chunk of length L (the last one may be
 * shorter), with forgetLog_τ = logσ(f̃_τ), b_τ = Σ_{u≤τ} forgetLog_u (restarted per chunk), g = b_{L−1}, and the state
 * (C, n, m) entering the chunk:
 * <pre>
 *   outputs:  logD[τ,σ] = b_τ − b_σ + ĩ_σ (σ ≤ τ)   mInter_τ = b_τ + m   stabilizer_τ = max(mInter_τ, max_σ logD[τ,σ])
 *             α_τ = exp(mInter_τ − stabilizer_τ)     E[τ,σ] = (q_τ·k̂_σ)·exp(logD[τ,σ] − stabilizer_τ)
 *             num_τ = α_τ·(q_τᵀC) + Σ_σ E[τ,σ] v_σ    r_τ = α_τ·(q_τ·n) + Σ_σ E[τ,σ]
 *             h_τ = num_τ / (max(|r_τ|, exp(−stabilizer_τ)) + eps)
 *   state:    a_σ = g − b_σ + ĩ_σ    m' = max(g + m, max_σ a_σ)    β = exp(g + m − m')
 *             C' = β·C + Σ_σ exp(a_σ − m')·k̂_σ v_σᵀ     n' = β·n + Σ_σ exp(a_σ − m')·k̂_σ
 * </pre>
 * with k̂ = k/sqrt(DHQK). The forward saves the state entering every chunk (O(T/L·DHQK·DHV) per head) plus per-token
 * scalars and h; the backward walks the chunks in reverse carrying (dC, dn, dm) and recomputes the L×L intra-chunk
 * quantities. It is the exact gradient of this forward, stabilizer paths included.
 */
final class MLstmChunkwise {
    private final int NH, DK, DV;
    private final float eps;
    private final double scale;

    // saved by forward
    private float[] q, k, v, ig, fg;
    private int B, T, L, numChunks;
    private float[][] chunkC = new float[0][];   // per head: C entering chunk c, [numChunks, DK, DV]
    private float[][] chunkN = new float[0][];   // per head: n entering chunk c, [numChunks, DK]
    private double[] chunkM = new double[0];     // m entering chunk c, [B*NH*numChunks]
    private float[] hSaved = new float[0];       // [B, NH, T, DV]
    private double[] rowSum = new double[0];     // r_τ, [B*NH*T]
    private double[] denom = new double[0];      // den_τ, [B*NH*T]

    // scratch
    private double[] b = new double[0];          // [L] in-chunk cumulative log forget gates
    private double[] logD = new double[0];       // [L] one row of logD
    private double[] db = new double[0], dIgC = new double[0];             // [L]
    private double[] dqC = new double[0], dkC = new double[0];             // [L*DK]
    private double[] dvC = new double[0];                                    // [L*DV]
    private final double[] acc, dnum, tmpK, dC, dn;

    MLstmChunkwise(int NH, int DK, int DV, float eps) {
        this.NH = NH;
        this.DK = DK;
        this.DV = DV;
        this.eps = eps;
        this.scale = 1.0 / Math.sqrt(DK);
        this.acc = new double[DV];
        this.dnum = new double[DV];
        this.tmpK = new double[DK];
        this.dC = new double[Math.multiplyExact(DK, DV)];
        this.dn = new double[DK];
    }

    private void ensure(int B, int T, int L, int numChunks) {
        int heads = B * NH, bht = heads * T;
        if (hSaved.length < bht * DV) hSaved = new float[bht * DV];
        if (rowSum.length < bht) { rowSum = new double[bht]; denom = new double[bht]; }
        if (chunkM.length < heads * numChunks) chunkM = new double[heads * numChunks];
        int cLen = Math.multiplyExact(numChunks, DK * DV);
        if (chunkC.length < heads) { chunkC = Arrays.copyOf(chunkC, heads); chunkN = Arrays.copyOf(chunkN, heads); }
        for (int bh = 0; bh < heads; bh++) {
            if (chunkC[bh] == null || chunkC[bh].length < cLen) chunkC[bh] = new float[cLen];
            if (chunkN[bh] == null || chunkN[bh].length < numChunks * DK) chunkN[bh] = new float[numChunks * DK];
        }
        if (b.length < L) {
            b = new double[L]; logD = new double[L]; db = new double[L]; dIgC = new double[L];
            dqC = new double[L * DK]; dkC = new double[L * DK]; dvC = new double[L * DV];
        }
    }

    /** b_τ = Σ_{u≤τ} logσ(f̃_u) for the chunk starting at global offset {@code go0}. */
    private void forgetCumsum(float[] fg, int go0, int len) {
        double s = 0;
        for (int tau = 0; tau < len; tau++) {
            s += logSigmoid(fg[go0 + tau]);                                         // spec §3.4: b_τ
            b[tau] = s;
        }
    }

    /** Fills logD[0..tau] for row tau of the chunk and returns the arg-max σ. */
    private int logDRow(float[] ig, int go0, int tau) {
        int arg = 0;
        double best = Double.NEGATIVE_INFINITY;
        for (int sg = 0; sg <= tau; sg++) {
            double l = b[tau] - b[sg] + ig[go0 + sg];                               // spec §3.4: logD[τ,σ]
            logD[sg] = l;
            if (l > best) { best = l; arg = sg; }
        }
        return arg;
    }

    /** Arg-max over σ of a_σ = g − b_σ + ĩ_σ (the chunk's local stabilizer for the state update). */
    private int stateArgMax(float[] ig, int go0, int len) {
        double g = b[len - 1], best = Double.NEGATIVE_INFINITY;
        int arg = 0;
        for (int sg = 0; sg < len; sg++) {
            double a = g - b[sg] + ig[go0 + sg];
            if (a > best) { best = a; arg = sg; }
        }
        return arg;
    }

    void forward(float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] h, int B, int T, int chunkSize,
                 MLstmState state) {
        this.q = q; this.k = k; this.v = v; this.ig = ig; this.fg = fg; this.B = B; this.T = T;
        final int L = Math.min(chunkSize, T), numChunks = (T + L - 1) / L;
        this.L = L;
        this.numChunks = numChunks;
        ensure(B, T, L, numChunks);
        final float[] C = state.c, n = state.n;
        for (int bh = 0; bh < B * NH; bh++) {
            final int co = bh * DK * DV, no = bh * DK;
            double mPrev = state.m[bh];
            for (int c = 0; c < numChunks; c++) {
                final int t0 = c * L, len = Math.min(L, T - t0), go0 = bh * T + t0;
                // save the state entering this chunk for the backward
                System.arraycopy(C, co, chunkC[bh], c * DK * DV, DK * DV);
                System.arraycopy(n, no, chunkN[bh], c * DK, DK);
                chunkM[bh * numChunks + c] = mPrev;
                forgetCumsum(fg, go0, len);

                // outputs: inter-chunk part from (C, n, m) plus intra-chunk part (spec §3.4)
                for (int tau = 0; tau < len; tau++) {
                    final int qt = (go0 + tau) * DK, ht = (go0 + tau) * DV;
                    double mInter = b[tau] + mPrev;
                    double mIntra = logD[logDRow(ig, go0, tau)];
                    double stabilizer = Math.max(mInter, mIntra);
                    double alpha = Math.exp(mInter - stabilizer);
                    Arrays.fill(acc, 0.0);
                    double qn = 0;
                    for (int a = 0; a < DK; a++) {
                        double qa = q[qt + a];
                        int row = co + a * DV;
                        for (int d = 0; d < DV; d++) acc[d] += qa * C[row + d];
                        qn += qa * n[no + a];
                    }
                    double r = alpha * qn;
                    for (int d = 0; d < DV; d++) acc[d] *= alpha;
                    for (int sg = 0; sg <= tau; sg++) {
                        int ks = (go0 + sg) * DK, vs = (go0 + sg) * DV;
                        double e = scale * dot(q, qt, k, ks, DK) * Math.exp(logD[sg] - stabilizer);
                        r += e;
                        for (int d = 0; d < DV; d++) acc[d] += e * v[vs + d];
                    }
                    double den = Math.max(Math.abs(r), Math.exp(-stabilizer)) + eps;  // spec §3.4, §3.5
                    for (int d = 0; d < DV; d++) {
                        float hv = (float) (acc[d] / den);
                        h[ht + d] = hv;
                        hSaved[ht + d] = hv;
                    }
                    rowSum[go0 + tau] = r;
                    denom[go0 + tau] = den;
                }

                // state update to the end of the chunk (spec §3.4 inter-chunk recurrence)
                double g = b[len - 1];
                int locArg = stateArgMax(ig, go0, len);
                double mLoc = g - b[locArg] + ig[go0 + locArg];
                double mNew = Math.max(g + mPrev, mLoc);
                float beta = (float) Math.exp(g + mPrev - mNew);
                for (int i = 0; i < DK * DV; i++) C[co + i] *= beta;
                for (int a = 0; a < DK; a++) n[no + a] *= beta;
                for (int sg = 0; sg < len; sg++) {
                    int ks = (go0 + sg) * DK, vs = (go0 + sg) * DV;
                    double w = Math.exp(g - b[sg] + ig[go0 + sg] - mNew) * scale;     // exp(a_σ − m')/sqrt(DHQK)
                    for (int a = 0; a < DK; a++) {
                        float ka = (float) (w * k[ks + a]);
                        n[no + a] += ka;
                        int row = co + a * DV;
                        for (int d = 0; d < DV; d++) C[row + d] += ka * v[vs + d];
                    }
                }
                mPrev = mNew;
            }
            state.m[bh] = (float) mPrev;
        }
    }

    void backward(float[] dh, float[] dq, float[] dk, float[] dv, float[] dIgatePreact, float[] dFgatePreact) {
        if (q == null) throw new IllegalStateException("MLstmCell.backward: no chunkwise forward");
        final int B = this.B, T = this.T, L = this.L, numChunks = this.numChunks;
        long bht = (long) B * NH * T;
        MLstmCell.checkLen("dh", dh, bht * DV);
        MLstmCell.checkLen("dq", dq, bht * DK);
        MLstmCell.checkLen("dk", dk, bht * DK);
        MLstmCell.checkLen("dv", dv, bht * DV);
        MLstmCell.checkLen("dIgatePreact", dIgatePreact, bht);
        MLstmCell.checkLen("dFgatePreact", dFgatePreact, bht);
        for (int bh = 0; bh < B * NH; bh++) {
            final float[] cH = chunkC[bh], nH = chunkN[bh];
            Arrays.fill(dC, 0.0);
            Arrays.fill(dn, 0.0);
            double dmNext = 0;                // d loss / d m of the state leaving the current chunk
            for (int c = numChunks - 1; c >= 0; c--) {
                final int t0 = c * L, len = Math.min(L, T - t0), go0 = bh * T + t0;
                final int cp = c * DK * DV, np = c * DK;   // entering state C_prev, n_prev in cH, nH
                final double mPrev = chunkM[bh * numChunks + c];
                forgetCumsum(fg, go0, len);
                Arrays.fill(db, 0, len, 0.0);
                Arrays.fill(dIgC, 0, len, 0.0);
                Arrays.fill(dqC, 0, len * DK, 0.0);
                Arrays.fill(dkC, 0, len * DK, 0.0);
                Arrays.fill(dvC, 0, len * DV, 0.0);

                // (1) state update, backward: (dC, dn, dmNext) is the gradient of the state leaving this chunk
                double g = b[len - 1];
                int locArg = stateArgMax(ig, go0, len);
                double mLoc = g - b[locArg] + ig[go0 + locArg];
                double mNew = Math.max(g + mPrev, mLoc);
                double beta = (float) Math.exp(g + mPrev - mNew);   // as rounded in the forward
                double dBeta = 0;
                for (int i = 0; i < DK * DV; i++) dBeta += dC[i] * cH[cp + i];
                for (int a = 0; a < DK; a++) dBeta += dn[a] * nH[np + a];
                double dMNew = dmNext, dg = 0, dmPrev = 0;
                for (int sg = 0; sg < len; sg++) {
                    int ks = (go0 + sg) * DK, vs = (go0 + sg) * DV;
                    double w = Math.exp(g - b[sg] + ig[go0 + sg] - mNew);
                    double dw = 0;
                    for (int a = 0; a < DK; a++) {
                        int row = a * DV;
                        double t = dn[a];
                        double ka = scale * k[ks + a];
                        for (int d = 0; d < DV; d++) {
                            t += dC[row + d] * v[vs + d];
                            dvC[sg * DV + d] += w * ka * dC[row + d];          // dv_σ += w·dCᵀk̂_σ
                        }
                        tmpK[a] = t;
                        dw += ka * t;
                    }
                    for (int a = 0; a < DK; a++) dkC[sg * DK + a] += w * scale * tmpK[a];   // dk_σ += w·(dC v_σ + dn)/sqrt(DHQK)
                    double da = dw * w;                                           // through w = exp(a_σ − m')
                    dMNew -= da;
                    dg += da;
                    db[sg] -= da;
                    dIgC[sg] += da;
                }
                // β = exp(g + m − m')
                dg += dBeta * beta;
                dmPrev += dBeta * beta;
                dMNew -= dBeta * beta;
                // m' = max(g + m, a_locArg) (torch.maximum splits a tie evenly); a_σ contains g as well
                double toDecay = g + mPrev > mLoc ? 1 : g + mPrev < mLoc ? 0 : 0.5;
                dg += dMNew;
                dmPrev += toDecay * dMNew;
                db[locArg] -= (1 - toDecay) * dMNew;
                dIgC[locArg] += (1 - toDecay) * dMNew;
                db[len - 1] += dg;
                // gradient w.r.t. the entering state through C' = βC + ..., n' = βn + ...
                for (int i = 0; i < DK * DV; i++) dC[i] *= beta;
                for (int a = 0; a < DK; a++) dn[a] *= beta;

                // (2) outputs, backward
                for (int tau = 0; tau < len; tau++) {
                    final int qt = (go0 + tau) * DK, ht = (go0 + tau) * DV;
                    double mInter = b[tau] + mPrev;
                    int intraArg = logDRow(ig, go0, tau);
                    double mIntra = logD[intraArg];
                    double stabilizer = Math.max(mInter, mIntra);
                    double alpha = Math.exp(mInter - stabilizer);
                    double r = rowSum[go0 + tau], den = denom[go0 + tau];
                    // h = num / den
                    double ddenom = 0;
                    for (int d = 0; d < DV; d++) {
                        dnum[d] = dh[ht + d] / den;
                        ddenom -= dnum[d] * hSaved[ht + d];
                    }
                    // den = max(|r|, exp(−stabilizer)) + eps
                    double floor = Math.exp(-stabilizer);
                    double absR = Math.abs(r), dr = 0, dStab = 0;
                    if (absR > floor) dr = ddenom * Math.signum(r);
                    else if (absR < floor) dStab = -ddenom * floor;
                    else { dr = 0.5 * ddenom * Math.signum(r); dStab = -0.5 * ddenom * floor; }
                    // inter part: num += α·(C_prevᵀq), r += α·(q·n_prev)
                    double dAlpha = 0;
                    for (int a = 0; a < DK; a++) {
                        double qa = q[qt + a];
                        int row = cp + a * DV, drow = a * DV;
                        double cd = 0;
                        for (int d = 0; d < DV; d++) {
                            cd += cH[row + d] * dnum[d];
                            dC[drow + d] += alpha * qa * dnum[d];
                        }
                        dAlpha += qa * (cd + dr * nH[np + a]);
                        dqC[tau * DK + a] += alpha * (cd + dr * nH[np + a]);
                        dn[a] += alpha * dr * qa;
                    }
                    // intra part: E[τ,σ] = (q_τ·k̂_σ)·exp(logD − stabilizer)
                    for (int sg = 0; sg <= tau; sg++) {
                        int ks = (go0 + sg) * DK, vs = (go0 + sg) * DV;
                        double dprime = Math.exp(logD[sg] - stabilizer);
                        double e = scale * dot(q, qt, k, ks, DK) * dprime;
                        double dE = dot(dnum, 0, v, vs, DV) + dr;
                        for (int d = 0; d < DV; d++) dvC[sg * DV + d] += e * dnum[d];
                        double dS = dE * dprime * scale;
                        double dLogD = dE * e;
                        dStab -= dLogD;
                        dIgC[sg] += dLogD;
                        db[tau] += dLogD;
                        db[sg] -= dLogD;
                        for (int a = 0; a < DK; a++) {
                            dqC[tau * DK + a] += dS * k[ks + a];
                            dkC[sg * DK + a] += dS * q[qt + a];
                        }
                    }
                    // α = exp(mInter − stabilizer)
                    double dMInter = dAlpha * alpha;
                    dStab -= dAlpha * alpha;
                    // stabilizer = max(mInter, logD[τ, intraArg])
                    double toInter = mInter > mIntra ? 1 : mInter < mIntra ? 0 : 0.5;
                    dMInter += toInter * dStab;
                    double toIntra = (1 - toInter) * dStab;
                    dIgC[intraArg] += toIntra;
                    db[tau] += toIntra;
                    db[intraArg] -= toIntra;
                    // mInter = b_τ + m_prev
                    db[tau] += dMInter;
                    dmPrev += dMInter;
                }

                // b_τ = Σ_{u≤τ} forgetLog_u, forgetLog = logσ(f̃): df̃_u = σ(−f̃_u)·Σ_{τ≥u} db_τ
                double run = 0;
                for (int tau = len - 1; tau >= 0; tau--) {
                    run += db[tau];
                    dFgatePreact[go0 + tau] = (float) (run * sigmoid(-fg[go0 + tau]));
                    dIgatePreact[go0 + tau] = (float) dIgC[tau];
                }
                for (int i = 0; i < len * DK; i++) {
                    dq[go0 * DK + i] = (float) dqC[i];
                    dk[go0 * DK + i] = (float) dkC[i];
                }
                for (int i = 0; i < len * DV; i++) dv[go0 * DV + i] = (float) dvC[i];
                dmNext = dmPrev;
            }
        }
    }
}
