package org.xlstm4j.cells;

import java.util.Arrays;

import static org.xlstm4j.cells.MLstmCell.dot;
import static org.xlstm4j.cells.MLstmCell.logSigmoid;
import static org.xlstm4j.cells.MLstmCell.sigmoid;

/**
 * The parallel (quadratic) mLSTM form, spec §3.3, forward and backward, one row t of the T×T gate matrix at a time.
 * Per head, with forgetLog_u = logσ(f̃_u) and its prefix sum Fc_t:
 * <pre>
 *   logD[t,j] = Fc_t − Fc_j + ĩ_j  (j ≤ t)       stabilizer m_t = max_j logD[t,j]
 *   Ctil[t,j] = (q_t·k_j / sqrt(DHQK)) · exp(logD[t,j] − m_t)
 *   r_t = Σ_j Ctil[t,j]    den_t = max(|r_t|, exp(−m_t)) + eps    h_t = Σ_j Ctil[t,j] v_j / den_t
 * </pre>
 * The backward recomputes each row (memory O(T) per head, work O(T²·D)) and follows autograd of the official code
 * exactly: gradients flow through m_t (to the arg-max entry of the row) and through the exp(−m_t) branch.
 */
final class MLstmParallel {
    private final int NH, DK, DV;
    private final float eps;
    private final double scale;

    // saved by forward: the inputs (references), h and the per-token scalars
    private float[] q, k, v, ig, fg;
    private int B, T;
    private float[] hSaved = new float[0];
    private double[] rowSum = new double[0];    // r_t, [B*NH*T]
    private double[] denom = new double[0];     // den_t, [B*NH*T]

    // scratch, per head
    private double[] fc = new double[0];        // Fc_t [T]
    private double[] logD = new double[0];      // one row of logD [T]
    private double[] ctil = new double[0];      // one row of Ctil [T]
    private double[] dFc = new double[0];       // [T]
    private double[] dIg = new double[0];       // [T]
    private double[] dkAcc = new double[0];     // [T*DK]
    private double[] dvAcc = new double[0];     // [T*DV]
    private final double[] acc;                 // [max(DK, DV)]
    private final double[] dnum;                // [DV]

    MLstmParallel(int NH, int DK, int DV, float eps) {
        this.NH = NH;
        this.DK = DK;
        this.DV = DV;
        this.eps = eps;
        this.scale = 1.0 / Math.sqrt(DK);
        this.acc = new double[Math.max(DK, DV)];
        this.dnum = new double[DV];
    }

    private void ensure(int B, int T) {
        int bht = B * NH * T;
        if (hSaved.length < bht * DV) hSaved = new float[bht * DV];
        if (rowSum.length < bht) { rowSum = new double[bht]; denom = new double[bht]; }
        if (fc.length < T) {
            fc = new double[T]; logD = new double[T]; ctil = new double[T]; dFc = new double[T]; dIg = new double[T];
        }
    }

    /** Prefix sums of the log forget gates for one head: Fc_t = Σ_{u≤t} logσ(f̃_u). */
    private void forgetCumsum(float[] fg, int go, int T) {
        double s = 0;
        for (int t = 0; t < T; t++) {
            s += logSigmoid(fg[go + t]);                                            // spec §3.3: F_u = logσ(f̃_u)
            fc[t] = s;
        }
    }

    /** Fills logD[0..t] for row t and returns the index of the row maximum (the stabilizer). */
    private int logDRow(float[] ig, int go, int t) {
        int arg = 0;
        double best = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= t; j++) {
            double l = fc[t] - fc[j] + ig[go + j];                                 // spec §3.3 step 1
            logD[j] = l;
            if (l > best) { best = l; arg = j; }
        }
        return arg;
    }

    void forward(float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] h, int B, int T) {
        this.q = q; this.k = k; this.v = v; this.ig = ig; this.fg = fg; this.B = B; this.T = T;
        ensure(B, T);
        for (int bh = 0; bh < B * NH; bh++) {
            final int qo = bh * T * DK, vo = bh * T * DV, go = bh * T;
            forgetCumsum(fg, go, T);
            for (int t = 0; t < T; t++) {
                double stabilizer = logD[logDRow(ig, go, t)];                      // spec §3.3 step 2
                double r = 0;
                for (int j = 0; j <= t; j++) {
                    double d = Math.exp(logD[j] - stabilizer);                      // D'
                    double c = scale * dot(q, qo + t * DK, k, qo + j * DK, DK) * d;  // Ctil = (q·k̂) D'
                    ctil[j] = c;
                    r += c;
                }
                double den = Math.max(Math.abs(r), Math.exp(-stabilizer)) + eps;  // spec §3.3 step 5, §3.5
                Arrays.fill(acc, 0, DV, 0.0);
                for (int j = 0; j <= t; j++) {
                    double c = ctil[j];
                    int vj = vo + j * DV;
                    for (int d = 0; d < DV; d++) acc[d] += c * v[vj + d];
                }
                int ht = vo + t * DV;
                for (int d = 0; d < DV; d++) {
                    float hv = (float) (acc[d] / den);
                    h[ht + d] = hv;
                    hSaved[ht + d] = hv;
                }
                rowSum[go + t] = r;
                denom[go + t] = den;
            }
        }
    }

    void backward(float[] dh, float[] dq, float[] dk, float[] dv, float[] dIgatePreact, float[] dFgatePreact) {
        if (q == null) throw new IllegalStateException("MLstmCell.backward: no parallel forward");
        final int B = this.B, T = this.T;
        long bht = (long) B * NH * T;
        MLstmCell.checkLen("dh", dh, bht * DV);
        MLstmCell.checkLen("dq", dq, bht * DK);
        MLstmCell.checkLen("dk", dk, bht * DK);
        MLstmCell.checkLen("dv", dv, bht * DV);
        MLstmCell.checkLen("dIgatePreact", dIgatePreact, bht);
        MLstmCell.checkLen("dFgatePreact", dFgatePreact, bht);
        if (dkAcc.length < T * DK) dkAcc = new double[T * DK];
        if (dvAcc.length < T * DV) dvAcc = new double[T * DV];
        for (int bh = 0; bh < B * NH; bh++) {
            final int qo = bh * T * DK, vo = bh * T * DV, go = bh * T;
            forgetCumsum(fg, go, T);
            Arrays.fill(dFc, 0, T, 0.0);
            Arrays.fill(dIg, 0, T, 0.0);
            Arrays.fill(dkAcc, 0, T * DK, 0.0);
            Arrays.fill(dvAcc, 0, T * DV, 0.0);
            for (int t = 0; t < T; t++) {
                int argMax = logDRow(ig, go, t);
                double stabilizer = logD[argMax];
                double r = rowSum[go + t], den = denom[go + t];
                int ht = vo + t * DV;
                // h = num / den  →  dnum = dh/den, dden = −dh·h/den
                double ddenom = 0;
                for (int d = 0; d < DV; d++) {
                    dnum[d] = dh[ht + d] / den;
                    ddenom -= dnum[d] * hSaved[ht + d];
                }
                // den = max(|r|, exp(−m)) + eps (torch.maximum splits a tie evenly; d|r|/dr = sign r)
                double floor = Math.exp(-stabilizer);
                double absR = Math.abs(r), dr = 0, dStab = 0;
                if (absR > floor) dr = ddenom * Math.signum(r);
                else if (absR < floor) dStab = -ddenom * floor;
                else { dr = 0.5 * ddenom * Math.signum(r); dStab = -0.5 * ddenom * floor; }
                // row t of Ctil = S ⊙ D', D' = exp(logD − m)
                Arrays.fill(acc, 0, DK, 0.0);                                        // dq_t accumulator
                for (int j = 0; j <= t; j++) {
                    double dprime = Math.exp(logD[j] - stabilizer);
                    double s = scale * dot(q, qo + t * DK, k, qo + j * DK, DK);
                    double c = s * dprime;
                    int vj = vo + j * DV;
                    double dc = dot(dnum, 0, v, vj, DV) + dr;                        // dCtil[t,j]
                    int dvj = j * DV;
                    for (int d = 0; d < DV; d++) dvAcc[dvj + d] += c * dnum[d];      // dv_j += Ctil[t,j]/den · dh_t
                    double dS = dc * dprime * scale;                                 // d(q·k) incl. the key scale
                    double dLogD = dc * c;                                           // through exp(logD − m)
                    dStab -= dLogD;
                    dIg[j] += dLogD;
                    dFc[t] += dLogD;
                    dFc[j] -= dLogD;
                    int kj = qo + j * DK, qt = qo + t * DK, dkj = j * DK;
                    for (int a = 0; a < DK; a++) {
                        acc[a] += dS * k[kj + a];
                        dkAcc[dkj + a] += dS * q[qt + a];
                    }
                }
                // m_t = max_j logD[t,j]: the gradient goes to the arg-max entry
                dIg[argMax] += dStab;
                dFc[t] += dStab;
                dFc[argMax] -= dStab;
                for (int a = 0; a < DK; a++) dq[qo + t * DK + a] = (float) acc[a];
            }
            // Fc_t = Σ_{u≤t} F_u  →  dF_u = Σ_{t≥u} dFc_t;  dF/df̃ = σ(−f̃)
            double run = 0;
            for (int t = T - 1; t >= 0; t--) {
                run += dFc[t];
                dFgatePreact[go + t] = (float) (run * sigmoid(-fg[go + t]));
                dIgatePreact[go + t] = (float) dIg[t];
            }
            for (int i = 0; i < T * DK; i++) dk[qo + i] = (float) dkAcc[i];
            for (int i = 0; i < T * DV; i++) dv[vo + i] = (float) dvAcc[i];
        }
    }
}
