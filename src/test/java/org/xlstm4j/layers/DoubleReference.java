package org.xlstm4j.layers;

/**
 * The layers' forward passes written directly from their definitions (spec §1, §2.4, §2.6, §6.1) in double precision:
 * the losses of the double-precision finite-difference checks ({@link GradCheck#assertGradDouble}). Inputs are the
 * float arrays the layers hold, read as doubles, or intermediate double activations (the block references compose
 * them); each function is checked against its float layer's forward first.
 */
public final class DoubleReference {
    private DoubleReference() {}

    /** y[rows, out] = x[rows, in]·Wᵀ (+ b). */
    public static double[] linear(float[] x, float[] w, float[] b, int rows, int in, int out) {
        return linear(d(x), w, b, rows, in, out);
    }

    /** (As above, on double activations.) */
    public static double[] linear(double[] x, float[] w, float[] b, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += (double) x[r * in + i] * w[o * in + i];
                y[r * out + o] = s;
            }
        return y;
    }

    /** Per-group layer norm of [rows, groups·dim] without bias, scale w (offset: 1 + w). */
    public static double[] groupNorm(float[] x, float[] w, float[] b, int rows, int groups, int dim, float eps, boolean offset) {
        return groupNorm(d(x), w, b, rows, groups, dim, eps, offset);
    }

    /** (As above, on double activations.) */
    public static double[] groupNorm(double[] x, float[] w, float[] b, int rows, int groups, int dim, float eps, boolean offset) {
        double[] y = new double[rows * groups * dim];
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < groups; g++) {
                int o = (r * groups + g) * dim;
                double mu = 0, var = 0;
                for (int i = 0; i < dim; i++) mu += x[o + i];
                mu /= dim;
                for (int i = 0; i < dim; i++) var += (x[o + i] - mu) * (x[o + i] - mu);
                var /= dim;
                for (int i = 0; i < dim; i++) {
                    int f = g * dim + i;
                    y[o + i] = (x[o + i] - mu) / Math.sqrt(var + eps) * ((offset ? 1.0 : 0.0) + w[f]) + (b == null ? 0 : b[f]);
                }
            }
        return y;
    }

    /** y = x / sqrt(mean(x²) + eps) · w per row of [rows, dim]. */
    public static double[] rmsNorm(float[] x, float[] w, int rows, int dim, float eps) {
        return rmsNorm(d(x), w, rows, dim, eps);
    }

    /** (As above, on double activations.) */
    public static double[] rmsNorm(double[] x, float[] w, int rows, int dim, float eps) {
        double[] y = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
            double rs = 1 / Math.sqrt(ss / dim + eps);
            for (int i = 0; i < dim; i++) y[r * dim + i] = x[r * dim + i] * rs * w[i];
        }
        return y;
    }

    /**
     * y_t[d] = b[d] + Σ_{j<K} w[d, j]·x_{t−K+1+j}[d] over [B, T, D]; before t = 0 zeros, or with a state [B, K, D] its
     * rows 1..K−1 (the K−1 previous inputs, oldest first).
     */
    public static double[] causalConv(float[] x, float[] w, float[] b, int B, int T, int D, int K, float[] state) {
        return causalConv(d(x), w, b, B, T, D, K, state);
    }

    /** (As above, on double activations.) */
    public static double[] causalConv(double[] x, float[] w, float[] b, int B, int T, int D, int K, float[] state) {
        double[] y = new double[B * T * D];
        for (int bt = 0; bt < B; bt++)
            for (int t = 0; t < T; t++)
                for (int d = 0; d < D; d++) {
                    double s = b == null ? 0 : b[d];
                    for (int j = 0; j < K; j++) {
                        int tt = t - K + 1 + j;
                        if (tt >= 0) s += (double) w[d * K + j] * x[(bt * T + tt) * D + d];
                        else if (state != null) s += (double) w[d * K + j] * state[(bt * K + K + tt) * D + d];
                    }
                    y[(bt * T + t) * D + d] = s;
                }
        return y;
    }

    /** y[h, o] = Σ_d x[h, d]·W[h, o, d] (+ b[h·out/nh + o]) per row. */
    public static double[] headwise(float[] x, float[] w, float[] b, int rows, int in, int out, int nh) {
        return headwise(d(x), w, b, rows, in, out, nh);
    }

    /** (As above, on double activations.) */
    public static double[] headwise(double[] x, float[] w, float[] b, int rows, int in, int out, int nh) {
        int ip = in / nh, op = out / nh;
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < nh; h++)
                for (int o = 0; o < op; o++) {
                    double s = b == null ? 0 : b[h * op + o];
                    for (int d = 0; d < ip; d++) s += (double) x[r * in + h * ip + d] * w[(h * op + o) * ip + d];
                    y[r * out + h * op + o] = s;
                }
        return y;
    }

    /** proj_down(act(gate) ⊙ up) with [gate | up] = proj_up(x); act exact GELU or SiLU. */
    public static double[] gatedFfn(float[] x, float[] wUp, float[] wDown, int rows, int dim, int hidden, GatedFFN.Act act) {
        return gatedFfn(d(x), wUp, wDown, rows, dim, hidden, act);
    }

    /** (As above, on double activations.) */
    public static double[] gatedFfn(double[] x, float[] wUp, float[] wDown, int rows, int dim, int hidden, GatedFFN.Act act) {
        double[] y = new double[rows * dim];
        double[] hid = new double[hidden];
        for (int r = 0; r < rows; r++) {
            for (int p = 0; p < hidden; p++) {
                double gate = 0, up = 0;
                for (int i = 0; i < dim; i++) {
                    gate += (double) x[r * dim + i] * wUp[p * dim + i];
                    up += (double) x[r * dim + i] * wUp[(hidden + p) * dim + i];
                }
                double a = act == GatedFFN.Act.GELU ? 0.5 * gate * (1 + erf(gate / Math.sqrt(2))) : gate / (1 + Math.exp(-gate));
                hid[p] = a * up;
            }
            for (int o = 0; o < dim; o++) {
                double s = 0;
                for (int p = 0; p < hidden; p++) s += hid[p] * wDown[o * hidden + p];
                y[r * dim + o] = s;
            }
        }
        return y;
    }

    /** erf to double precision: its Taylor series for |x| < 3, the continued fraction of erfc beyond. */
    public static double erf(double x) {
        double a = Math.abs(x), r;
        if (a < 3) {
            double term = a, sum = a;
            for (int n = 1; n < 200 && Math.abs(term) > 1e-18 * Math.abs(sum); n++) {
                term *= -a * a / n;
                sum += term / (2 * n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double f = 0;                                       // erfc(a) = e^{−a²}/√π · 1/(a + 1/2/(a + 1/(a + 3/2/(a + …))))
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (a + f);
            r = 1 - Math.exp(-a * a) / Math.sqrt(Math.PI) / (a + f);
        }
        return x < 0 ? -r : r;
    }

    /** Row gather: y[r] = W[ids[r]]. */
    public static double[] embedding(int[] ids, float[] w, int dim) {
        double[] y = new double[ids.length * dim];
        for (int r = 0; r < ids.length; r++)
            for (int i = 0; i < dim; i++) y[r * dim + i] = w[ids[r] * dim + i];
        return y;
    }

    public static double[] d(float[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) r[i] = a[i];
        return r;
    }

    public static double silu(double x) { return x / (1 + Math.exp(-x)); }

    /** Rows-major [B·T, NH·D] → heads-major [B, NH, T, D] (the cell references' layout). */
    public static double[] toHeads(double[] a, int B, int T, int NH, int D) {
        double[] r = new double[a.length];
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    for (int e = 0; e < D; e++) r[((b * NH + h) * T + t) * D + e] = a[(b * T + t) * NH * D + h * D + e];
        return r;
    }

    /** Heads-major [B, NH, T, D] → rows-major [B·T, NH·D]. */
    public static double[] toRows(double[] a, int B, int T, int NH, int D) {
        double[] r = new double[a.length];
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    for (int e = 0; e < D; e++) r[(b * T + t) * NH * D + h * D + e] = a[((b * NH + h) * T + t) * D + e];
        return r;
    }

    /** Σ y·R in double. */
    public static double dot(double[] y, float[] R) {
        double s = 0;
        for (int i = 0; i < y.length; i++) s += y[i] * R[i];
        return s;
    }
}
