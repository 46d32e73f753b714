package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused element-wise and row-wise kernels of the xLSTM layers (SIMD, Vector API), each with a plain scalar twin
 * ({@code ...Scalar}, same signature and semantics) that the tests compare against on ragged shapes. Activations are
 * row-major {@code [rows, n]}; each kernel works on rows [r0, r1) so that callers can split rows over threads (kernels
 * that accumulate parameter gradients add into a caller-provided, per-thread buffer). Vectors never cross a method
 * boundary (an un-inlined call would box them), so activation formulas are written out in each loop.
 */
public final class RowOps {
    private RowOps() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    // ------------------------------------------------------------------ mLSTM output gate (spec §4.1 steps 6–7)

    /** hs = hn + skip ⊙ xc;  out = hs ⊙ silu(z)  (skip indexed by column). */
    public static void mlstmOutput(float[] hn, float[] xc, float[] z, float[] skip, float[] hs, float[] out,
                                   int r0, int r1, int n) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int i = 0; i < n; i += L) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector h = FloatVector.fromArray(S, hn, o + i, m)
                        .add(FloatVector.fromArray(S, skip, i, m).mul(FloatVector.fromArray(S, xc, o + i, m)));
                FloatVector zv = FloatVector.fromArray(S, z, o + i, m);
                FloatVector sg = FloatVector.broadcast(S, 1f).div(zv.neg().lanewise(VectorOperators.EXP).add(1f));
                h.intoArray(hs, o + i, m);
                h.mul(zv.mul(sg)).intoArray(out, o + i, m);
            }
        }
    }

    public static void mlstmOutputScalar(float[] hn, float[] xc, float[] z, float[] skip, float[] hs, float[] out,
                                         int r0, int r1, int n) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int i = 0; i < n; i++) {
                float h = hn[o + i] + skip[i] * xc[o + i];
                hs[o + i] = h;
                out[o + i] = h * Activations.silu(z[o + i]);
            }
        }
    }

    /**
     * Backward of {@link #mlstmOutput} given g = d out: dHs = g·silu(z), dZ = g·hs·silu'(z), dXc = dHs ⊙ skip,
     * dSkip += Σ_rows dHs ⊙ xc. dHs may be g itself (in place).
     */
    public static void mlstmOutputBackward(float[] g, float[] z, float[] hs, float[] xc, float[] skip,
                                           float[] dHs, float[] dZ, float[] dXc, float[] dSkip, int r0, int r1, int n) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int i = 0; i < n; i += L) {
                VectorMask<Float> m = S.indexInRange(i, n);
                FloatVector gv = FloatVector.fromArray(S, g, o + i, m), zv = FloatVector.fromArray(S, z, o + i, m);
                FloatVector sg = FloatVector.broadcast(S, 1f).div(zv.neg().lanewise(VectorOperators.EXP).add(1f));
                FloatVector silu = zv.mul(sg);
                FloatVector siluGrad = sg.mul(zv.mul(sg.neg().add(1f)).add(1f));       // σ(1 + z(1 − σ))
                FloatVector dh = gv.mul(silu);
                FloatVector xv = FloatVector.fromArray(S, xc, o + i, m);
                gv.mul(FloatVector.fromArray(S, hs, o + i, m)).mul(siluGrad).intoArray(dZ, o + i, m);
                dh.mul(FloatVector.fromArray(S, skip, i, m)).intoArray(dXc, o + i, m);
                dh.fma(xv, FloatVector.fromArray(S, dSkip, i, m)).intoArray(dSkip, i, m);
                dh.intoArray(dHs, o + i, m);
            }
        }
    }

    public static void mlstmOutputBackwardScalar(float[] g, float[] z, float[] hs, float[] xc, float[] skip,
                                                 float[] dHs, float[] dZ, float[] dXc, float[] dSkip, int r0, int r1, int n) {
        for (int r = r0; r < r1; r++) {
            int o = r * n;
            for (int i = 0; i < n; i++) {
                float zv = z[o + i], gv = g[o + i];
                float dh = gv * Activations.silu(zv);
                dZ[o + i] = gv * hs[o + i] * Activations.siluGrad(zv);
                dXc[o + i] = dh * skip[i];
                dSkip[i] += dh * xc[o + i];
                dHs[o + i] = dh;
            }
        }
    }

    // ------------------------------------------------------------------ SiLU

    /** y = silu(x) over [off, off + n). */
    public static void silu(float[] x, float[] y, int off, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, off + i, m);
            v.div(v.neg().lanewise(VectorOperators.EXP).add(1f)).intoArray(y, off + i, m);
        }
    }

    public static void siluScalar(float[] x, float[] y, int off, int n) {
        for (int i = off; i < off + n; i++) y[i] = Activations.silu(x[i]);
    }

    /** y = g ⊙ silu'(x) over [off, off + n) (y may be g). */
    public static void siluGradMul(float[] g, float[] x, float[] y, int off, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, off + i, m);
            FloatVector sg = FloatVector.broadcast(S, 1f).div(v.neg().lanewise(VectorOperators.EXP).add(1f));
            FloatVector.fromArray(S, g, off + i, m).mul(sg.mul(v.mul(sg.neg().add(1f)).add(1f))).intoArray(y, off + i, m);
        }
    }

    public static void siluGradMulScalar(float[] g, float[] x, float[] y, int off, int n) {
        for (int i = off; i < off + n; i++) y[i] = g[i] * Activations.siluGrad(x[i]);
    }

    // ------------------------------------------------------------------ gated FFN (spec §2.6)

    /** h[r, i] = act(up[r, i])·up[r, P + i] for i &lt; P (up rows are [gate | up], 2P wide); act GELU or SiLU. */
    public static void gatedAct(float[] up, float[] h, int r0, int r1, int P, boolean gelu) {
        final float invSqrt2 = (float) (1 / Math.sqrt(2));
        for (int r = r0; r < r1; r++) {
            int uo = r * 2 * P, ho = r * P;
            for (int i = 0; i < P; i += L) {
                VectorMask<Float> m = S.indexInRange(i, P);
                FloatVector x = FloatVector.fromArray(S, up, uo + i, m);
                FloatVector a;
                if (gelu) a = x.mul(VectorOps.erf(x.mul(invSqrt2)).add(1f).mul(0.5f));
                else a = x.div(x.neg().lanewise(VectorOperators.EXP).add(1f));
                a.mul(FloatVector.fromArray(S, up, uo + P + i, m)).intoArray(h, ho + i, m);
            }
        }
    }

    public static void gatedActScalar(float[] up, float[] h, int r0, int r1, int P, boolean gelu) {
        for (int r = r0; r < r1; r++) {
            int uo = r * 2 * P, ho = r * P;
            for (int i = 0; i < P; i++) {
                float x = up[uo + i];
                h[ho + i] = (gelu ? Activations.gelu(x) : Activations.silu(x)) * up[uo + P + i];
            }
        }
    }

    /** Backward of {@link #gatedAct}: dUp[gate] = dh·up·act'(gate), dUp[up] = dh·act(gate). */
    public static void gatedActBackward(float[] up, float[] dh, float[] dUp, int r0, int r1, int P, boolean gelu) {
        final float invSqrt2 = (float) (1 / Math.sqrt(2)), invSqrt2Pi = (float) (1 / Math.sqrt(2 * Math.PI));
        for (int r = r0; r < r1; r++) {
            int uo = r * 2 * P, ho = r * P;
            for (int i = 0; i < P; i += L) {
                VectorMask<Float> m = S.indexInRange(i, P);
                FloatVector x = FloatVector.fromArray(S, up, uo + i, m);
                FloatVector u = FloatVector.fromArray(S, up, uo + P + i, m);
                FloatVector g = FloatVector.fromArray(S, dh, ho + i, m);
                FloatVector a, da;
                if (gelu) {
                    FloatVector cdf = VectorOps.erf(x.mul(invSqrt2)).add(1f).mul(0.5f);
                    FloatVector pdf = x.mul(x).mul(-0.5f).lanewise(VectorOperators.EXP).mul(invSqrt2Pi);
                    a = x.mul(cdf);
                    da = x.fma(pdf, cdf);
                } else {
                    FloatVector sg = FloatVector.broadcast(S, 1f).div(x.neg().lanewise(VectorOperators.EXP).add(1f));
                    a = x.mul(sg);
                    da = sg.mul(x.mul(sg.neg().add(1f)).add(1f));
                }
                g.mul(u).mul(da).intoArray(dUp, uo + i, m);
                g.mul(a).intoArray(dUp, uo + P + i, m);
            }
        }
    }

    public static void gatedActBackwardScalar(float[] up, float[] dh, float[] dUp, int r0, int r1, int P, boolean gelu) {
        for (int r = r0; r < r1; r++) {
            int uo = r * 2 * P, ho = r * P;
            for (int i = 0; i < P; i++) {
                float x = up[uo + i], u = up[uo + P + i], g = dh[ho + i];
                dUp[uo + i] = g * u * (gelu ? Activations.geluGrad(x) : Activations.siluGrad(x));
                dUp[uo + P + i] = g * (gelu ? Activations.gelu(x) : Activations.silu(x));
            }
        }
    }

    // ------------------------------------------------------------------ group / layer norm (spec §1)

    /**
     * Per-group layer norm of rows [r0, r1) of x[rows, groups·gdim]: y = (x − μ)·rstd·(off + w) (+ bias), biased
     * variance (two passes), off = 1 for the NeurIPS offset scale else 0; saves μ, rstd per (row, group) into
     * mean/rstd[r·groups + g]. bias may be null.
     */
    public static void groupNorm(float[] x, float[] y, int r0, int r1, int groups, int gdim, float[] w, float off,
                                 float[] bias, float eps, float[] mean, float[] rstd) {
        int dim = groups * gdim;
        for (int r = r0; r < r1; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * dim + g * gdim, f0 = g * gdim;
                FloatVector acc = FloatVector.zero(S);
                for (int i = 0; i < gdim; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, gdim);
                    acc = acc.add(FloatVector.fromArray(S, x, o + i, m));
                }
                float mu = acc.reduceLanes(VectorOperators.ADD) / gdim;
                FloatVector ss = FloatVector.zero(S);
                for (int i = 0; i < gdim; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, gdim);
                    FloatVector d = FloatVector.fromArray(S, x, o + i, m).sub(mu);
                    ss = d.fma(d, ss).blend(ss, m.not());
                }
                float rs = (float) (1.0 / Math.sqrt(ss.reduceLanes(VectorOperators.ADD) / gdim + eps));
                for (int i = 0; i < gdim; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, gdim);
                    FloatVector v = FloatVector.fromArray(S, x, o + i, m).sub(mu).mul(rs)
                            .mul(FloatVector.fromArray(S, w, f0 + i, m).add(off));
                    if (bias != null) v = v.add(FloatVector.fromArray(S, bias, f0 + i, m));
                    v.intoArray(y, o + i, m);
                }
                mean[r * groups + g] = mu;
                rstd[r * groups + g] = rs;
            }
        }
    }

    public static void groupNormScalar(float[] x, float[] y, int r0, int r1, int groups, int gdim, float[] w, float off,
                                       float[] bias, float eps, float[] mean, float[] rstd) {
        int dim = groups * gdim;
        for (int r = r0; r < r1; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * dim + g * gdim, f0 = g * gdim;
                float s = 0f;
                for (int i = 0; i < gdim; i++) s += x[o + i];
                float mu = s / gdim, v = 0f;
                for (int i = 0; i < gdim; i++) { float d = x[o + i] - mu; v = Math.fma(d, d, v); }
                float rs = (float) (1.0 / Math.sqrt(v / gdim + eps));
                for (int i = 0; i < gdim; i++) {
                    float yi = (x[o + i] - mu) * rs * (w[f0 + i] + off);
                    y[o + i] = bias != null ? yi + bias[f0 + i] : yi;
                }
                mean[r * groups + g] = mu;
                rstd[r * groups + g] = rs;
            }
        }
    }

    /**
     * Backward of {@link #groupNorm}: with x̂ = (x − μ)·rstd and gy = dy·(off + w), dx = rstd·(gy − mean(gy) −
     * x̂·mean(gy·x̂)) per group (written, or added when accumulate; skipped when dx is null); dw += dy·x̂ and
     * dbias += dy into the caller's (per-thread) buffers (dbias may be null).
     */
    public static void groupNormBackward(float[] x, float[] dy, float[] dx, int r0, int r1, int groups, int gdim,
                                         float[] w, float off, float[] mean, float[] rstd, float[] dw, float[] dbias,
                                         boolean accumulate) {
        int dim = groups * gdim;
        for (int r = r0; r < r1; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * dim + g * gdim, f0 = g * gdim;
                float mu = mean[r * groups + g], rs = rstd[r * groups + g];
                FloatVector sg = FloatVector.zero(S), sgx = sg;
                for (int i = 0; i < gdim; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, gdim);
                    FloatVector d = FloatVector.fromArray(S, dy, o + i, m);
                    FloatVector n = FloatVector.fromArray(S, x, o + i, m).sub(mu).mul(rs);
                    FloatVector gi = d.mul(FloatVector.fromArray(S, w, f0 + i, m).add(off));
                    sg = sg.add(gi, m);
                    sgx = gi.fma(n, sgx).blend(sgx, m.not());
                    d.fma(n, FloatVector.fromArray(S, dw, f0 + i, m)).intoArray(dw, f0 + i, m);
                    if (dbias != null) d.add(FloatVector.fromArray(S, dbias, f0 + i, m)).intoArray(dbias, f0 + i, m);
                }
                if (dx == null) continue;
                float mg = sg.reduceLanes(VectorOperators.ADD) / gdim, mgx = sgx.reduceLanes(VectorOperators.ADD) / gdim;
                for (int i = 0; i < gdim; i += L) {
                    VectorMask<Float> m = S.indexInRange(i, gdim);
                    FloatVector n = FloatVector.fromArray(S, x, o + i, m).sub(mu).mul(rs);
                    FloatVector gi = FloatVector.fromArray(S, dy, o + i, m).mul(FloatVector.fromArray(S, w, f0 + i, m).add(off));
                    FloatVector d = gi.sub(mg).sub(n.mul(mgx)).mul(rs);
                    if (accumulate) d = d.add(FloatVector.fromArray(S, dx, o + i, m));
                    d.intoArray(dx, o + i, m);
                }
            }
        }
    }

    public static void groupNormBackwardScalar(float[] x, float[] dy, float[] dx, int r0, int r1, int groups, int gdim,
                                               float[] w, float off, float[] mean, float[] rstd, float[] dw, float[] dbias,
                                               boolean accumulate) {
        int dim = groups * gdim;
        for (int r = r0; r < r1; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * dim + g * gdim, f0 = g * gdim;
                float mu = mean[r * groups + g], rs = rstd[r * groups + g];
                float sg = 0f, sgx = 0f;
                for (int i = 0; i < gdim; i++) {
                    float n = (x[o + i] - mu) * rs, gi = dy[o + i] * (w[f0 + i] + off);
                    sg += gi;
                    sgx = Math.fma(gi, n, sgx);
                    dw[f0 + i] = Math.fma(dy[o + i], n, dw[f0 + i]);
                    if (dbias != null) dbias[f0 + i] += dy[o + i];
                }
                if (dx == null) continue;
                float mg = sg / gdim, mgx = sgx / gdim;
                for (int i = 0; i < gdim; i++) {
                    float n = (x[o + i] - mu) * rs, gi = dy[o + i] * (w[f0 + i] + off);
                    float d = (gi - mg - n * mgx) * rs;
                    dx[o + i] = accumulate ? dx[o + i] + d : d;
                }
            }
        }
    }

    // ------------------------------------------------------------------ misc

    /** y[i] += x[i] over [off, off + n). */
    public static void add(float[] x, float[] y, int off, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, y, off + i, m).add(FloatVector.fromArray(S, x, off + i, m)).intoArray(y, off + i, m);
        }
    }

    public static void addScalar(float[] x, float[] y, int off, int n) {
        for (int i = off; i < off + n; i++) y[i] += x[i];
    }

    /** z[i] = x[i] + y[i] over [off, off + n). */
    public static void sum(float[] x, float[] y, float[] z, int off, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, off + i, m).add(FloatVector.fromArray(S, y, off + i, m)).intoArray(z, off + i, m);
        }
    }

    public static void sumScalar(float[] x, float[] y, float[] z, int off, int n) {
        for (int i = off; i < off + n; i++) z[i] = x[i] + y[i];
    }
}
