package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * SIMD array kernels (Vector API): element-wise activations, softmax and log-sum-exp, layer and RMS norm, and the
 * BLAS-1 reductions. Each method has a scalar twin of the same signature in {@link ScalarOps}, which the tests use as
 * the reference. Arrays are addressed by element offsets; an output may be the input itself (same array and offset).
 * Loops run whole vectors and finish the ragged tail with a masked vector, so they allocate nothing.
 *
 * <p>exp, tanh and log1p use the Vector API's intrinsic lanewise operators (about 1 ulp); erf is implemented here.
 */
public final class VectorOps {
    private VectorOps() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    // ---------------------------------------------------------------- element-wise

    /** y = eˣ. */
    public static void exp(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, xOff + i, m).lanewise(VectorOperators.EXP).intoArray(y, yOff + i, m);
        }
    }

    /** y = σ(x) = 1 / (1 + e⁻ˣ). */
    public static void sigmoid(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            sigmoid(FloatVector.fromArray(S, x, xOff + i, m)).intoArray(y, yOff + i, m);
        }
    }

    /** y = x·σ(x) (SiLU / swish). */
    public static void silu(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xOff + i, m);
            v.mul(sigmoid(v)).intoArray(y, yOff + i, m);
        }
    }

    /** y = x·Φ(x) = ½·x·(1 + erf(x/√2)), PyTorch's exact (non-tanh) GELU. */
    public static void gelu(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xOff + i, m);
            FloatVector cdf = erf(v.mul((float) (1 / Math.sqrt(2)))).add(1f).mul(0.5f);
            v.mul(cdf).intoArray(y, yOff + i, m);
        }
    }

    /** y = erf(x), absolute error below 2e-7. */
    public static void erf(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            erf(FloatVector.fromArray(S, x, xOff + i, m)).intoArray(y, yOff + i, m);
        }
    }

    /** y = tanh(x). */
    public static void tanh(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, xOff + i, m).lanewise(VectorOperators.TANH).intoArray(y, yOff + i, m);
        }
    }

    /** y ← y·σ(g) (an output gate applied in place). */
    public static void mulSigmoid(float[] g, int gOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, y, yOff + i, m);
            v.mul(sigmoid(FloatVector.fromArray(S, g, gOff + i, m))).intoArray(y, yOff + i, m);
        }
    }

    /** g ← silu(g)·u (SwiGLU's gate, in place). */
    public static void siluMul(float[] g, int gOff, float[] u, int uOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, g, gOff + i, m);
            v.mul(sigmoid(v)).mul(FloatVector.fromArray(S, u, uOff + i, m)).intoArray(g, gOff + i, m);
        }
    }

    /** x ← cap·tanh(x / cap) in place (the soft cap of spec §6.1). */
    public static void softcap(float cap, float[] x, int off, int n) {
        float inv = 1f / cap;
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, off + i, m).mul(inv).lanewise(VectorOperators.TANH).mul(cap).intoArray(x, off + i, m);
        }
    }

    /** y = log σ(x) = min(x, 0) − log(1 + e^(−|x|)), which neither overflows nor loses small values. */
    public static void logSigmoid(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector v = FloatVector.fromArray(S, x, xOff + i, m);
            FloatVector tail = v.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P);
            v.min(0f).sub(tail).intoArray(y, yOff + i, m);
        }
    }

    /** y = α·x. */
    public static void scale(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, xOff + i, m).mul(alpha).intoArray(y, yOff + i, m);
        }
    }

    /** y += α·x. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector a = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (int bound = S.loopBound(n); i < bound; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(a, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        if (i < n) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector.fromArray(S, x, xOff + i, m).fma(a, FloatVector.fromArray(S, y, yOff + i, m)).intoArray(y, yOff + i, m);
        }
    }

    // ---------------------------------------------------------------- reductions

    /** Σ a[i]·b[i], in four independent vector accumulators. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
            s0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), s0);
            s1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), s1);
            s2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), s2);
            s3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), s3);
        }
        for (; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            s0 = FloatVector.fromArray(S, a, aOff + i, m).fma(FloatVector.fromArray(S, b, bOff + i, m), s0);
        }
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }

    /** Σ x[i], in four independent vector accumulators. */
    public static float sum(float[] x, int off, int n) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int i = 0;
        for (int bound = n - 4 * L; i <= bound; i += 4 * L) {
            s0 = s0.add(FloatVector.fromArray(S, x, off + i));
            s1 = s1.add(FloatVector.fromArray(S, x, off + i + L));
            s2 = s2.add(FloatVector.fromArray(S, x, off + i + 2 * L));
            s3 = s3.add(FloatVector.fromArray(S, x, off + i + 3 * L));
        }
        for (; i < n; i += L) s0 = s0.add(FloatVector.fromArray(S, x, off + i, S.indexInRange(i, n)));
        return s0.add(s1).add(s2.add(s3)).reduceLanes(VectorOperators.ADD);
    }

    /** max x[i] (−∞ for n = 0). */
    public static float max(float[] x, int off, int n) {
        FloatVector mx = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            mx = mx.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, x, off + i, m), m);
        }
        return mx.reduceLanes(VectorOperators.MAX);
    }

    /** log Σ eˣ⁽ⁱ⁾ computed as max + log Σ e^(x − max) (−∞ for n = 0 or all −∞). */
    public static float logSumExp(float[] x, int off, int n) {
        float mx = max(x, off, n);
        if (mx == Float.NEGATIVE_INFINITY) return mx;
        FloatVector s = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            VectorMask<Float> m = S.indexInRange(i, n);
            FloatVector e = FloatVector.fromArray(S, x, off + i, m).sub(mx).lanewise(VectorOperators.EXP);
            s = s.add(e, m);
        }
        return mx + (float) Math.log(s.reduceLanes(VectorOperators.ADD));
    }

    // ---------------------------------------------------------------- row-wise

    /** Row-wise softmax of x[rows, cols] into y: e^(x − max) / Σ e^(x − max). */
    public static void softmax(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xi = xOff + r * cols, yi = yOff + r * cols;
            float mx = max(x, xi, cols);
            FloatVector s = FloatVector.zero(S);
            for (int i = 0; i < cols; i += L) {
                VectorMask<Float> m = S.indexInRange(i, cols);
                FloatVector e = FloatVector.fromArray(S, x, xi + i, m).sub(mx).lanewise(VectorOperators.EXP);
                e.intoArray(y, yi + i, m);
                s = s.add(e, m);
            }
            scale(1f / s.reduceLanes(VectorOperators.ADD), y, yi, y, yi, cols);
        }
    }

    /**
     * Layer norm of each row of x[rows, cols]: y = (x − mean)·rstd·w + b with rstd = 1/√(var + eps) (biased variance,
     * two-pass). {@code w} and {@code b} may be null (no scale / no shift); {@code mean} and {@code rstd} may be null,
     * else row r's statistics go to {@code [statOff + r]} for the backward pass.
     */
    public static void layerNorm(float[] x, int xOff, float[] y, int yOff, int rows, int cols, float[] w, int wOff,
                                 float[] b, int bOff, float eps, float[] mean, float[] rstd, int statOff) {
        for (int r = 0; r < rows; r++) {
            int xi = xOff + r * cols, yi = yOff + r * cols;
            float mu = sum(x, xi, cols) / cols;
            FloatVector ss = FloatVector.zero(S);
            for (int i = 0; i < cols; i += L) {
                VectorMask<Float> m = S.indexInRange(i, cols);
                FloatVector d = FloatVector.fromArray(S, x, xi + i, m).sub(mu);
                ss = d.fma(d, ss).blend(ss, m.not());
            }
            float rs = (float) (1.0 / Math.sqrt(ss.reduceLanes(VectorOperators.ADD) / cols + eps));
            for (int i = 0; i < cols; i += L) {
                VectorMask<Float> m = S.indexInRange(i, cols);
                FloatVector v = FloatVector.fromArray(S, x, xi + i, m).sub(mu).mul(rs);
                if (w != null) v = v.mul(FloatVector.fromArray(S, w, wOff + i, m));
                if (b != null) v = v.add(FloatVector.fromArray(S, b, bOff + i, m));
                v.intoArray(y, yi + i, m);
            }
            if (mean != null) mean[statOff + r] = mu;
            if (rstd != null) rstd[statOff + r] = rs;
        }
    }

    /**
     * RMS norm of each row of x[rows, cols]: y = x·rstd·w with rstd = 1/√(mean(x²) + eps). {@code w} may be null;
     * {@code rstd} may be null, else row r's value goes to {@code rstd[statOff + r]}.
     */
    public static void rmsNorm(float[] x, int xOff, float[] y, int yOff, int rows, int cols, float[] w, int wOff,
                               float eps, float[] rstd, int statOff) {
        for (int r = 0; r < rows; r++) {
            int xi = xOff + r * cols, yi = yOff + r * cols;
            float rs = (float) (1.0 / Math.sqrt(dot(x, xi, x, xi, cols) / cols + eps));
            for (int i = 0; i < cols; i += L) {
                VectorMask<Float> m = S.indexInRange(i, cols);
                FloatVector v = FloatVector.fromArray(S, x, xi + i, m).mul(rs);
                if (w != null) v = v.mul(FloatVector.fromArray(S, w, wOff + i, m));
                v.intoArray(y, yi + i, m);
            }
            if (rstd != null) rstd[statOff + r] = rs;
        }
    }

    // ---------------------------------------------------------------- lane-wise math on vectors

    /** σ(v) = 1 / (1 + e⁻ᵛ); e⁻ᵛ overflowing to ∞ gives exactly 0. */
    public static FloatVector sigmoid(FloatVector v) {
        return FloatVector.broadcast(S, 1f).div(v.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    /**
     * erf(v), absolute error below 2e-7: the Maclaurin series x·Σ cₙ·x²ⁿ to n = 10 for |x| &lt; 1 (truncation
     * error 1.3e-9), else 1 − t·exp(−x² + P(t)) with t = 1/(1 + |x|/2), the Chebyshev fit of erfc whose relative error
     * is below 1.2e-7 (so below 2e-8 absolute since erfc(1) = 0.157).
     */
    public static FloatVector erf(FloatVector v) {
        FloatVector z = v.abs();
        FloatVector z2 = z.mul(z);
        // |x| < 1: odd Maclaurin series, coefficients 2/√π·(−1)ⁿ/(n!·(2n+1))
        FloatVector p = FloatVector.broadcast(S, 1.4807192815879218e-08f);
        p = horner(p, z2, -1.6365844691234924e-07f);
        p = horner(p, z2, 1.6462114365889246e-06f);
        p = horner(p, z2, -1.492565035840625e-05f);
        p = horner(p, z2, 0.00012055332981789664f);
        p = horner(p, z2, -0.0008548327023450852f);
        p = horner(p, z2, 0.005223977625442188f);
        p = horner(p, z2, -0.026866170645131252f);
        p = horner(p, z2, 0.11283791670955126f);
        p = horner(p, z2, -0.37612638903183754f);
        p = horner(p, z2, 1.1283791670955126f);
        FloatVector small = p.mul(z);
        // |x| >= 1: erfc(z) ≈ t·exp(−z² − 1.26551223 + t·(1.00002368 + t·(…)))
        FloatVector t = FloatVector.broadcast(S, 1f).div(z.fma(0.5f, 1f));
        FloatVector q = FloatVector.broadcast(S, 0.17087277f);
        q = horner(q, t, -0.82215223f);
        q = horner(q, t, 1.48851587f);
        q = horner(q, t, -1.13520398f);
        q = horner(q, t, 0.27886807f);
        q = horner(q, t, -0.18628806f);
        q = horner(q, t, 0.09678418f);
        q = horner(q, t, 0.37409196f);
        q = horner(q, t, 1.00002368f);
        q = horner(q, t, -1.26551223f).sub(z2);
        FloatVector large = t.mul(q.lanewise(VectorOperators.EXP)).neg().add(1f);
        FloatVector r = small.blend(large, z.compare(VectorOperators.GE, 1f));
        return r.blend(r.neg(), v.compare(VectorOperators.LT, 0f));
    }

    /** One Horner step p·x + c as a fused multiply-add. */
    private static FloatVector horner(FloatVector p, FloatVector x, float c) {
        return p.fma(x, FloatVector.broadcast(S, c));
    }
}
