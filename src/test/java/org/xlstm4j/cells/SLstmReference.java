package org.xlstm4j.cells;

/**
 * An independent, deliberately naive double-precision sLSTM (spec §2.1, vanilla rules of §2.5) for tests. It indexes
 * the external layouts of spec §2.2 directly: R_ext (NH, DH_in, 4, DH_out), i.e. the cuda-backend storage, and the
 * bias b_ext (NH, 4, DH), so it shares no indexing with the cell under test (which stores the vanilla layouts).
 */
public final class SLstmReference {
    final int NH, DH, E;
    final double[] rExt;   // (NH, DH, 4, DH): [h, k, g, j]
    final double[] bExt;   // (NH, 4, DH):     [h, g, j]

    /** Final state after {@link #forward}, each [B, E]. */
    double[] h, c, n, m;

    // tape of the last forward, per step t: [t][B·E] (raw: [t][B·E·4], gate-minor), for autogradBackward
    private int tapeB, tapeT;
    private double[][] tRaw, tLogf, tIExp, tFExp, tCPrev, tNPrev, tC, tN;
    private boolean[] tAllZero;

    public SLstmReference(int NH, int DH, double[] rExt, double[] bExt) {
        this.NH = NH;
        this.DH = DH;
        this.E = NH * DH;
        this.rExt = rExt;
        this.bExt = bExt;
    }

    static double logSigmoid(double x) {
        return x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x));
    }

    static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /**
     * @param x    [B, T, 4E] input part of the pre-activations, columns g·E + h·DH + j (gates i, f, z, o)
     * @param init {h, c, n, m}, each [B, E], or null for zeros
     * @return h [B, T, E]
     */
    public double[] forward(double[] x, int B, int T, double[][] init) {
        h = new double[B * E];
        c = new double[B * E];
        n = new double[B * E];
        m = new double[B * E];
        if (init != null) {
            h = init[0].clone();
            c = init[1].clone();
            n = init[2].clone();
            m = init[3].clone();
        }
        double[] out = new double[B * T * E];
        tapeB = B;
        tapeT = T;
        tRaw = new double[T][];
        tLogf = new double[T][];
        tIExp = new double[T][];
        tFExp = new double[T][];
        tCPrev = new double[T][];
        tNPrev = new double[T][];
        tC = new double[T][];
        tN = new double[T][];
        tAllZero = new boolean[T];
        for (int t = 0; t < T; t++) {
            boolean allZero = true;
            for (double v : n) if (v != 0.0) allZero = false;
            tAllZero[t] = allZero;
            tRaw[t] = new double[B * E * 4];
            tLogf[t] = new double[B * E];
            tIExp[t] = new double[B * E];
            tFExp[t] = new double[B * E];
            tCPrev[t] = c;
            tNPrev[t] = n;
            double[] h2 = new double[B * E], c2 = new double[B * E], n2 = new double[B * E], m2 = new double[B * E];
            for (int b = 0; b < B; b++) {
                for (int hd = 0; hd < NH; hd++) {
                    for (int j = 0; j < DH; j++) {
                        double[] raw = new double[4];
                        for (int g = 0; g < 4; g++) {
                            double ry = 0;
                            for (int k = 0; k < DH; k++)
                                ry += h[b * E + hd * DH + k] * rExt[((hd * DH + k) * 4 + g) * DH + j];
                            raw[g] = x[(b * T + t) * 4 * E + g * E + hd * DH + j] + ry + bExt[(hd * 4 + g) * DH + j];
                        }
                        int u = b * E + hd * DH + j;
                        double logf = m[u] + logSigmoid(raw[1]);
                        double mNew = allZero ? raw[0] : Math.max(raw[0], logf);
                        double iExp = Math.exp(raw[0] - mNew), fExp = Math.exp(logf - mNew);
                        double iG = Math.min(iExp, 1.0);
                        double fG = Math.min(fExp, 1.0);
                        for (int g = 0; g < 4; g++) tRaw[t][u * 4 + g] = raw[g];
                        tLogf[t][u] = logf;
                        tIExp[t][u] = iExp;
                        tFExp[t][u] = fExp;
                        c2[u] = fG * c[u] + iG * Math.tanh(raw[2]);
                        n2[u] = fG * n[u] + iG;
                        h2[u] = sigmoid(raw[3]) * c2[u] / n2[u];
                        m2[u] = mNew;
                        out[(b * T + t) * E + hd * DH + j] = h2[u];
                    }
                }
            }
            h = h2;
            c = c2;
            n = n2;
            m = m2;
            tC[t] = c2;
            tN[t] = n2;
        }
        return out;
    }

    /** d/dx of torch.minimum(x, 1) (halfMinTies: PyTorch's ½ at a tie; else the clamp rule, 1 at a tie). */
    private static double minSlope(double x, boolean halfMinTies) {
        return x < 1.0 ? 1.0 : x == 1.0 ? (halfMinTies ? 0.5 : 1.0) : 0.0;
    }

    /**
     * Reverse-mode differentiation of the last {@link #forward}, op by op, exactly as PyTorch autograd runs through
     * the vanilla pointwise code: the stabilizer m is differentiated like any other value, torch.max(a, b) sends the
     * gradient to the larger argument (½ each at a tie), the first-step rule m = ĩ routes it to ĩ, and the
     * min(·, 1) guards use {@link #minSlope}. Independent of the cell's analytic (m held constant) backward.
     *
     * @return d loss / d x [B, T, 4E] for upstream dh [B, T, E]
     */
    double[] autogradBackward(double[] dh, boolean halfMinTies) {
        int B = tapeB, T = tapeT;
        double[] dx = new double[B * T * 4 * E];
        double[] dhRec = new double[B * E], dcNext = new double[B * E], dnNext = new double[B * E], dmNext = new double[B * E];
        for (int t = T - 1; t >= 0; t--) {
            double[] dRaw = new double[B * E * 4];
            double[] dhPrev = new double[B * E];
            for (int b = 0; b < B; b++) {
                for (int u0 = 0; u0 < E; u0++) {
                    int u = b * E + u0;
                    double iraw = tRaw[t][u * 4], fraw = tRaw[t][u * 4 + 1], zraw = tRaw[t][u * 4 + 2], oraw = tRaw[t][u * 4 + 3];
                    double logf = tLogf[t][u], iExp = tIExp[t][u], fExp = tFExp[t][u];
                    double iG = Math.min(iExp, 1.0), fG = Math.min(fExp, 1.0);
                    double z = Math.tanh(zraw), o = sigmoid(oraw), cc = tC[t][u], nn = tN[t][u];
                    // h = o * c / n
                    double gh = dh[(b * T + t) * E + u0] + dhRec[u];
                    double go = gh * cc / nn;
                    double gc = gh * o / nn + dcNext[u];
                    double gn = -gh * o * cc / (nn * nn) + dnNext[u];
                    // c = fG*c' + iG*z ; n = fG*n' + iG
                    double gfG = gc * tCPrev[t][u] + gn * tNPrev[t][u];
                    double giG = gc * z + gn;
                    double gz = gc * iG;
                    dcNext[u] = gc * fG;
                    dnNext[u] = gn * fG;
                    // iG = minimum(exp(iraw - m), 1) ; fG = minimum(exp(logf - m), 1)
                    double giExp = giG * minSlope(iExp, halfMinTies), gfExp = gfG * minSlope(fExp, halfMinTies);
                    double gIraw = giExp * iExp, gLogf = gfExp * fExp;
                    double gm = -giExp * iExp - gfExp * fExp + dmNext[u]; // m_t is used by i', f' and logf_{t+1}
                    // m = iraw (all-zero n) or max(iraw, logf)
                    if (tAllZero[t] || iraw > logf) gIraw += gm;
                    else if (iraw < logf) gLogf += gm;
                    else { gIraw += gm / 2; gLogf += gm / 2; }
                    // logf = m_{t-1} + logsigmoid(fraw)
                    dmNext[u] = gLogf;
                    dRaw[u * 4] = gIraw;
                    dRaw[u * 4 + 1] = gLogf * sigmoid(-fraw);
                    dRaw[u * 4 + 2] = gz * (1 - z * z);
                    dRaw[u * 4 + 3] = go * o * (1 - o);
                }
                for (int hd = 0; hd < NH; hd++)
                    for (int j = 0; j < DH; j++)
                        for (int g = 0; g < 4; g++) {
                            double d = dRaw[(b * E + hd * DH + j) * 4 + g];
                            dx[(b * T + t) * 4 * E + g * E + hd * DH + j] = d;
                            for (int k = 0; k < DH; k++)
                                dhPrev[b * E + hd * DH + k] += d * rExt[((hd * DH + k) * 4 + g) * DH + j];
                        }
            }
            dhRec = dhPrev;
        }
        return dx;
    }
}
