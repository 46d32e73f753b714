package org.xlstm4j.cells;

import java.util.SplittableRandom;

/**
 * Helpers for the mLSTM cell tests: random inputs, error measures, time slicing, and independent double-precision
 * reference implementations written directly from the spec's equations (§3.2, §3.3).
 */
public final class MLstmTestSupport {
    private MLstmTestSupport() {}

    /** Random inputs of one test case in the cell's layouts. */
    static final class Inputs {
        final int B, NH, T, DK, DV;
        final float[] q, k, v, ig, fg;

        Inputs(int B, int NH, int T, int DK, int DV) {
            this.B = B; this.NH = NH; this.T = T; this.DK = DK; this.DV = DV;
            q = new float[B * NH * T * DK];
            k = new float[B * NH * T * DK];
            v = new float[B * NH * T * DV];
            ig = new float[B * NH * T];
            fg = new float[B * NH * T];
        }

        /** q, k, v ~ N(0, 1); ĩ ~ N(igMean, igStd²); f̃ ~ U(fgLo, fgHi). */
        static Inputs random(long seed, int B, int NH, int T, int DK, int DV,
                             double igMean, double igStd, double fgLo, double fgHi) {
            Inputs in = new Inputs(B, NH, T, DK, DV);
            SplittableRandom r = new SplittableRandom(seed);
            fillGaussian(r, in.q, 1.0);
            fillGaussian(r, in.k, 1.0);
            fillGaussian(r, in.v, 1.0);
            for (int i = 0; i < in.ig.length; i++) in.ig[i] = (float) (igMean + igStd * gaussian(r));
            for (int i = 0; i < in.fg.length; i++) in.fg[i] = (float) (fgLo + (fgHi - fgLo) * r.nextDouble());
            return in;
        }

        /** Tokens [t0, t1) of every (b, head). */
        Inputs slice(int t0, int t1) {
            Inputs s = new Inputs(B, NH, t1 - t0, DK, DV);
            sliceTime(q, s.q, B * NH, T, DK, t0, t1);
            sliceTime(k, s.k, B * NH, T, DK, t0, t1);
            sliceTime(v, s.v, B * NH, T, DV, t0, t1);
            sliceTime(ig, s.ig, B * NH, T, 1, t0, t1);
            sliceTime(fg, s.fg, B * NH, T, 1, t0, t1);
            return s;
        }

        float[] newH() { return new float[B * NH * T * DV]; }
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }

    static void fillGaussian(SplittableRandom r, float[] a, double std) {
        for (int i = 0; i < a.length; i++) a[i] = (float) (std * gaussian(r));
    }

    /** Copies tokens [t0, t1) of x [heads, T, D] into out [heads, t1 − t0, D]. */
    static void sliceTime(float[] x, float[] out, int heads, int T, int D, int t0, int t1) {
        int n = t1 - t0;
        for (int h = 0; h < heads; h++)
            System.arraycopy(x, (h * T + t0) * D, out, h * n * D, n * D);
    }

    /** max |a − ref| / max |ref| (the fixture README's measure). */
    static double relErr(float[] a, float[] ref) {
        return relErr(a, ref, ref.length);
    }

    static double relErr(float[] a, float[] ref, int len) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < len; i++) {
            maxErr = Math.max(maxErr, Math.abs((double) a[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs((double) ref[i]));
        }
        return maxErr / Math.max(maxRef, 1e-30);
    }

    static double relErr(float[] a, double[] ref) {
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < ref.length; i++) {
            maxErr = Math.max(maxErr, Math.abs(a[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxErr / Math.max(maxRef, 1e-30);
    }

    static boolean allFinite(float[] a) {
        for (float x : a) if (!Float.isFinite(x)) return false;
        return true;
    }

    static double logSigmoid(double x) {
        return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** Parallel form (spec §3.3) in double from float inputs. */
    static double[] referenceParallel(Inputs in) {
        return referenceParallel(in.B, in.NH, in.T, in.DK, in.DV, toDouble(in.q), toDouble(in.k), toDouble(in.v),
                toDouble(in.ig), toDouble(in.fg), 1e-6);
    }

    /** Parallel form (spec §3.3) in double with full T×T matrices, row-max stabilizer. */
    public static double[] referenceParallel(int B, int NH, int T, int DK, int DV,
                                      double[] q, double[] k, double[] v, double[] ig, double[] fg, double eps) {
        double s = 1 / Math.sqrt(DK);
        double[] h = new double[B * NH * T * DV];
        for (int bh = 0; bh < B * NH; bh++) {
            double[] cum = new double[T + 1];
            for (int t = 0; t < T; t++) cum[t + 1] = cum[t] + logSigmoid(fg[bh * T + t]);
            double[][] logD = new double[T][T];
            for (int t = 0; t < T; t++)
                for (int j = 0; j < T; j++)
                    logD[t][j] = j <= t ? cum[t + 1] - cum[j + 1] + ig[bh * T + j] : Double.NEGATIVE_INFINITY;
            for (int t = 0; t < T; t++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < T; j++) m = Math.max(m, logD[t][j]);
                double[] c = new double[T];
                double sum = 0;
                for (int j = 0; j <= t; j++) {
                    double qk = 0;
                    for (int a = 0; a < DK; a++) qk += q[(bh * T + t) * DK + a] * k[(bh * T + j) * DK + a];
                    c[j] = qk * s * Math.exp(logD[t][j] - m);
                    sum += c[j];
                }
                double norm = Math.max(Math.abs(sum), Math.exp(-m)) + eps;
                for (int d = 0; d < DV; d++) {
                    double x = 0;
                    for (int j = 0; j <= t; j++) x += c[j] * v[(bh * T + j) * DV + d];
                    h[(bh * T + t) * DV + d] = x / norm;
                }
            }
        }
        return h;
    }

    /** Stabilized recurrence (spec §3.2) in double from the zero state; returns h, and C, n, m via the arrays. */
    static double[] referenceRecurrent(Inputs in, double[] finalC, double[] finalN, double[] finalM) {
        return referenceRecurrent(in.B, in.NH, in.T, in.DK, in.DV, toDouble(in.q), toDouble(in.k), toDouble(in.v),
                toDouble(in.ig), toDouble(in.fg), null, 1e-6, finalC, finalN, finalM);
    }

    /**
     * Stabilized recurrence (spec §3.2) in double from {@code init} (null = zeros, m = 0); returns h and, where the
     * arrays are non-null, the final C [B·NH, DK, DV], n [B·NH, DK], m [B·NH].
     */
    static double[] referenceRecurrent(int B, int NH, int T, int DK, int DV, double[] q, double[] k, double[] v,
                                       double[] ig, double[] fg, MLstmState init, double eps,
                                       double[] finalC, double[] finalN, double[] finalM) {
        double s = 1 / Math.sqrt(DK);
        double[] h = new double[B * NH * T * DV];
        for (int bh = 0; bh < B * NH; bh++) {
            double[][] C = new double[DK][DV];
            double[] n = new double[DK];
            double m = 0;
            if (init != null) {
                for (int a = 0; a < DK; a++) {
                    for (int d = 0; d < DV; d++) C[a][d] = init.c[(bh * DK + a) * DV + d];
                    n[a] = init.n[bh * DK + a];
                }
                m = init.m[bh];
            }
            for (int t = 0; t < T; t++) {
                double lf = logSigmoid(fg[bh * T + t]), it = ig[bh * T + t];
                double mNew = Math.max(lf + m, it);
                double f = Math.exp(lf + m - mNew), i = Math.exp(it - mNew);
                m = mNew;
                double qn = 0;
                double[] num = new double[DV];
                for (int a = 0; a < DK; a++) {
                    double ka = k[(bh * T + t) * DK + a] * s, qa = q[(bh * T + t) * DK + a];
                    for (int d = 0; d < DV; d++) {
                        C[a][d] = f * C[a][d] + i * ka * v[(bh * T + t) * DV + d];
                        num[d] += qa * C[a][d];
                    }
                    n[a] = f * n[a] + i * ka;
                    qn += qa * n[a];
                }
                double den = Math.max(Math.abs(qn), Math.exp(-m)) + eps;
                for (int d = 0; d < DV; d++) h[(bh * T + t) * DV + d] = num[d] / den;
            }
            if (finalC != null)
                for (int a = 0; a < DK; a++)
                    for (int d = 0; d < DV; d++) finalC[(bh * DK + a) * DV + d] = C[a][d];
            if (finalN != null) for (int a = 0; a < DK; a++) finalN[bh * DK + a] = n[a];
            if (finalM != null) finalM[bh] = m;
        }
        return h;
    }
}
