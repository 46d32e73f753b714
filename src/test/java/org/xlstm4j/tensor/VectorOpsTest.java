package org.xlstm4j.tensor;

import org.xlstm4j.ExactMath;
import org.xlstm4j.AlsoExactMath;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@link VectorOps} kernel against its {@link ScalarOps} twin on lengths 0, 1, 7, 15, 17, 33, 1000 (empty,
 * shorter than a vector, ragged tails on both AVX2 and AVX-512 widths, many vectors) at random offsets, checking that
 * nothing outside the output range is written. The twins compute in double, so each tolerance below is the SIMD
 * kernel's own float error. ε = 2⁻²⁴ ≈ 6e-8 is half an ulp; "1 ulp" relative is 1.2e-7.
 */
@AlsoExactMath
class VectorOpsTest {
    private static final int[] LENGTHS = {0, 1, 7, 15, 17, 33, 1000};
    private static final float SENTINEL = -777.25f;

    interface Unary { void apply(float[] x, int xOff, float[] y, int yOff, int n); }

    interface Tolerance { double of(double x, double ref); }

    /** Runs a SIMD element-wise kernel and its twin on the same inputs, out of place and in place. */
    private static void checkUnary(String name, Unary simd, Unary scalar, double lo, double hi, Tolerance tol) {
        Random rnd = new Random(name.hashCode());
        for (int n : LENGTHS) {
            int xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
            float[] x = new float[xOff + n + 2];
            for (int i = 0; i < x.length; i++) x[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
            if (n > 2) { x[xOff] = 0f; x[xOff + 1] = (float) lo; x[xOff + 2] = (float) hi; }
            float[] y = filled(yOff + n + 2), ref = filled(yOff + n + 2);
            simd.apply(x, xOff, y, yOff, n);
            scalar.apply(x, xOff, ref, yOff, n);
            for (int i = 0; i < y.length; i++) {
                boolean inside = i >= yOff && i < yOff + n;
                if (!inside) {
                    if (y[i] != SENTINEL) fail(name + " wrote outside its output, n=" + n);
                    continue;
                }
                double xv = x[xOff + i - yOff], t = tol.of(xv, ref[i]);
                if (!(Math.abs(y[i] - ref[i]) <= t)) fail(name + "(" + xv + ") = " + y[i] + ", twin " + ref[i] + ", tol " + t + ", n=" + n);
            }
            float[] inPlace = x.clone();
            simd.apply(inPlace, xOff, inPlace, xOff, n);
            for (int i = 0; i < n; i++) {
                if (ExactMath.IN_THIS_JVM) assertEquals(y[yOff + i], inPlace[xOff + i], 0f, name + " in place");
                else assertEquals(ref[yOff + i], inPlace[xOff + i], tol.of(x[xOff + i], ref[yOff + i]), name + " in place");
            }
        }
    }

    @Test void exp() {
        // intrinsic exp is within 1 ulp, the twin's rounding adds ½ ulp: 1.5 ulp = 1.8e-7 relative; 2.5e-7 allowed
        checkUnary("exp", VectorOps::exp, ScalarOps::exp, -87, 88, (x, r) -> 2.5e-7 * Math.abs(r));
    }

    @Test void sigmoid() {
        // 1/(1 + e^-x): exp 1 ulp, add ½ ulp, divide ½ ulp, twin ½ ulp → 2.5 ulp = 3e-7 relative; 4e-7 allowed.
        // Below x ≈ −87 the result is subnormal (absolute precision 1.2e-38) and e^-x overflows to give exactly 0.
        checkUnary("sigmoid", VectorOps::sigmoid, ScalarOps::sigmoid, -100, 100,
                (x, r) -> 4e-7 * Math.abs(r) + Float.MIN_NORMAL);
    }

    @Test void silu() {
        // sigmoid's 2.5 ulp plus the product's ½ ulp → 3 ulp = 3.6e-7 relative; 5e-7 allowed; sigmoid's subnormal
        // floor times |x| where it underflows
        checkUnary("silu", VectorOps::silu, ScalarOps::silu, -100, 100,
                (x, r) -> 5e-7 * Math.abs(r) + Math.abs(x) * Float.MIN_NORMAL);
    }

    /** The in-place binary ops of xLSTM-Large's decode path against their twins, with ragged lengths and offsets. */
    @Test void gateOps() {
        Random rnd = new Random(17);
        for (int n : LENGTHS) {
            int aOff = rnd.nextInt(4), bOff = rnd.nextInt(4);
            float[] a = new float[aOff + n + 2], b = new float[bOff + n + 2];
            for (int i = 0; i < a.length; i++) a[i] = (float) (rnd.nextGaussian() * 6);
            for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextGaussian() * 3);
            // y·σ(g): sigmoid 2.5 ulp + product ½ ulp
            float[] y1 = b.clone(), y2 = b.clone();
            VectorOps.mulSigmoid(a, aOff, y1, bOff, n);
            ScalarOps.mulSigmoid(a, aOff, y2, bOff, n);
            for (int i = 0; i < y1.length; i++)
                assertEquals(y2[i], y1[i], 5e-7 * Math.abs(y2[i]) + Float.MIN_NORMAL, "mulSigmoid n=" + n + " i=" + i);
            // silu(g)·u: silu 3 ulp + product ½ ulp
            float[] g1 = a.clone(), g2 = a.clone();
            VectorOps.siluMul(g1, aOff, b, bOff, n);
            ScalarOps.siluMul(g2, aOff, b, bOff, n);
            for (int i = 0; i < g1.length; i++)
                assertEquals(g2[i], g1[i], 6e-7 * Math.abs(g2[i]) + Float.MIN_NORMAL, "siluMul n=" + n + " i=" + i);
            // cap·tanh(x/cap): division ½ ulp, tanh 1 ulp, product ½ ulp
            float[] c1 = a.clone(), c2 = a.clone();
            VectorOps.softcap(5f, c1, aOff, n);
            ScalarOps.softcap(5f, c2, aOff, n);
            for (int i = 0; i < c1.length; i++) {
                boolean inside = i >= aOff && i < aOff + n;
                if (!inside) assertEquals(a[i], c1[i], 0f, "softcap wrote outside, n=" + n);
                assertEquals(c2[i], c1[i], 4e-7 * Math.abs(c2[i]) + 1e-45, "softcap n=" + n + " i=" + i);
            }
        }
    }

    @Test void tanh() {
        // intrinsic tanh within 1 ulp plus the twin's ½ ulp; 2.5e-7 relative allowed
        checkUnary("tanh", VectorOps::tanh, ScalarOps::tanh, -12, 12, (x, r) -> 2.5e-7 * Math.abs(r) + 1e-45);
    }

    @Test void logSigmoid() {
        // min(x,0) − log1p(e^−|x|): exp and log1p 1 ulp each, subtraction ½ ulp, twin ½ ulp: 3 ulp relative; for
        // x ≳ 87 the result −e^−x is subnormal, where float has only absolute precision 1.2e-38
        checkUnary("logSigmoid", VectorOps::logSigmoid, ScalarOps::logSigmoid, -100, 100,
                (x, r) -> 4e-7 * Math.abs(r) + Float.MIN_NORMAL);
    }

    @Test void erf() {
        // the spec: absolute error below 2e-7 (the twin is exact to 2e-15, then rounded: ½ ulp ≤ 6e-8 is included)
        checkUnary("erf", VectorOps::erf, ScalarOps::erf, -6, 6, (x, r) -> 2e-7);
    }

    @Test void erfDenseSweep() {
        int n = 200_001;
        float[] x = new float[n], y = new float[n];
        for (int i = 0; i < n; i++) x[i] = -5f + 10f * i / (n - 1);
        VectorOps.erf(x, 0, y, 0, n);
        double worst = 0;
        for (int i = 0; i < n; i++) worst = Math.max(worst, Math.abs(y[i] - Activations.erf(x[i])));
        assertTrue(worst < 2e-7, "max |erf error| = " + worst);
        // and erf is odd: the sign is handled exactly
        float[] negX = new float[n], negY = new float[n];
        for (int i = 0; i < n; i++) negX[i] = -x[i];
        VectorOps.erf(negX, 0, negY, 0, n);
        for (int i = 0; i < n; i++) {
            if (ExactMath.IN_THIS_JVM) assertEquals(-y[i], negY[i], 0f);
            else assertEquals(-Activations.erf(x[i]), negY[i], 2e-7);     // the same accuracy on the negated sweep
        }
    }

    @Test void gelu() {
        // ½·x·(1 + erf(x/√2)): erf's 2e-7 absolute error scaled by ½|x|, plus 3 ulp of the rounding steps
        checkUnary("gelu", VectorOps::gelu, ScalarOps::gelu, -10, 10, (x, r) -> 1e-7 * Math.abs(x) + 4e-7 * Math.abs(r));
    }

    @Test void scaleIsExact() {
        // one float multiply on both sides: bit-identical
        checkUnary("scale", (x, xo, y, yo, n) -> VectorOps.scale(-1.7f, x, xo, y, yo, n),
                (x, xo, y, yo, n) -> ScalarOps.scale(-1.7f, x, xo, y, yo, n), -1e3, 1e3, (x, r) -> 0);
    }

    @Test void axpy() {
        Random rnd = new Random(1);
        for (int n : LENGTHS) {
            int xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
            float[] x = random(xOff + n, rnd), y = filled(yOff + n + 2);
            for (int i = 0; i < n; i++) y[yOff + i] = (float) rnd.nextGaussian();
            float[] ref = y.clone(), y0 = y.clone();
            VectorOps.axpy(0.3f, x, xOff, y, yOff, n);
            ScalarOps.axpy(0.3f, x, xOff, ref, yOff, n);
            for (int i = 0; i < y.length; i++) {
                // FMA rounds once, the twin twice (α·x, then the sum): each within ½ ulp of the sum of the exact
                // result, plus the twin's ½ ulp of α·x: at most 1 ulp (1.2e-7 relative) + 6e-8·|α·x|
                double ax = Math.abs(0.3f * (i >= yOff && i < yOff + n ? x[xOff + i - yOff] : 0));
                double t = 1.2e-7 * Math.abs(ref[i]) + 6e-8 * ax + 1e-45;
                assertEquals(ref[i], y[i], t, "axpy n=" + n + " i=" + i);
            }
            assertEquals(SENTINEL, y[y.length - 1]);
            assertEquals(y0[y.length - 1], y[y.length - 1]);
        }
    }

    @Test void reductions() {
        Random rnd = new Random(2);
        for (int n : LENGTHS) {
            int off = rnd.nextInt(4);
            float[] a = random(off + n + 3, rnd), b = random(off + n + 3, rnd);
            double absDot = 0, absSum = 0;
            for (int i = 0; i < n; i++) { absDot += Math.abs(a[off + i] * b[off + i]); absSum += Math.abs(a[off + i]); }
            // float accumulation in 4·L lanes: each lane adds about n/(4L) terms, then a log₂(4L)-deep tree: error at
            // most (n/16 + 8)·ε·Σ|terms| for any L ≥ 4; the twin accumulates in double (exact enough)
            double g = (n / 16.0 + 8) * 6e-8;
            assertEquals(ScalarOps.dot(a, off, b, off, n), VectorOps.dot(a, off, b, off, n), g * absDot + 1e-30, "dot n=" + n);
            assertEquals(ScalarOps.sum(a, off, n), VectorOps.sum(a, off, n), g * absSum + 1e-30, "sum n=" + n);
            assertEquals(ScalarOps.max(a, off, n), VectorOps.max(a, off, n), 0f, "max n=" + n); // exact
        }
        assertEquals(Float.NEGATIVE_INFINITY, VectorOps.max(new float[0], 0, 0));
    }

    @Test void logSumExp() {
        Random rnd = new Random(3);
        for (int n : LENGTHS) {
            int off = rnd.nextInt(4);
            float[] x = new float[off + n];
            for (int i = 0; i < x.length; i++) x[i] = (float) (30 * rnd.nextGaussian());
            float ref = ScalarOps.logSumExp(x, off, n), got = VectorOps.logSumExp(x, off, n);
            if (n == 0) { assertEquals(Float.NEGATIVE_INFINITY, got); continue; }
            // the terms that matter have x − max near 0, where exp is within 1.5 ulp (2e-7 relative); the float sum
            // adds (n/16 + 8)·ε relative; log turns the sum's relative error into the same absolute error, and
            // max + log rounds by ½ ulp of the result (6e-8·|ref|)
            double t = 3e-7 + (n / 16.0 + 8) * 6e-8 + 1.2e-7 * Math.abs(ref);
            assertEquals(ref, got, t, "logSumExp n=" + n);
        }
        assertEquals(Float.NEGATIVE_INFINITY, VectorOps.logSumExp(new float[]{Float.NEGATIVE_INFINITY}, 0, 1));
    }

    @Test void softmax() {
        Random rnd = new Random(4);
        for (int cols : LENGTHS) {
            int rows = 3, xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
            float[] x = new float[xOff + rows * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (5 * rnd.nextGaussian());
            float[] y = filled(yOff + rows * cols + 2), ref = filled(yOff + rows * cols + 2);
            VectorOps.softmax(x, xOff, y, yOff, rows, cols);
            ScalarOps.softmax(x, xOff, ref, yOff, rows, cols);
            for (int r = 0; r < rows; r++) {
                float mx = ScalarOps.max(x, xOff + r * cols, cols);
                for (int i = 0; i < cols; i++) {
                    int yi = yOff + r * cols + i;
                    double d = Math.abs(x[xOff + r * cols + i] - mx);
                    // exp: 1.5 ulp + the rounding of x − max (½ ulp·|x − max| relative); the sum (float, n terms)
                    // (cols/16 + 8)·ε; the final scale ½ ulp: all relative to the element
                    double t = Math.abs(ref[yi]) * (2.5e-7 + 6e-8 * d + (cols / 16.0 + 8) * 6e-8);
                    assertEquals(ref[yi], y[yi], t, "softmax cols=" + cols);
                }
            }
            assertOnlyWrote(y, yOff, rows * cols, "softmax");
        }
    }

    @Test void layerNorm() {
        Random rnd = new Random(5);
        for (int cols : LENGTHS) {
            int rows = 3, xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
            float[] x = new float[xOff + rows * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (2 + 3 * rnd.nextGaussian());
            float[] w = random(cols + 1, rnd), b = random(cols + 1, rnd);
            for (boolean affine : new boolean[]{true, false}) {
                float[] y = filled(yOff + rows * cols + 2), ref = filled(yOff + rows * cols + 2);
                float[] mean = new float[rows + 1], rstd = new float[rows + 1], mRef = new float[rows + 1], rRef = new float[rows + 1];
                VectorOps.layerNorm(x, xOff, y, yOff, rows, cols, affine ? w : null, 1, affine ? b : null, 1, 1e-5f, mean, rstd, 1);
                ScalarOps.layerNorm(x, xOff, ref, yOff, rows, cols, affine ? w : null, 1, affine ? b : null, 1, 1e-5f, mRef, rRef, 1);
                // float sums over cols values: relative error of mean and variance ≤ (cols/16 + 8)·ε ≈ 4e-6 at
                // 1000; the normalized value x̂ = (x − μ)·rstd (|x̂| ≲ 4) inherits it: |Δy| ≤ 1e-5·(|x̂|·|w| + |w| + |b|)
                for (int i = 0; i < rows * cols; i++) {
                    int c = i % cols, yi = yOff + i;
                    double xhat = (x[xOff + i] - mRef[1 + i / cols]) * rRef[1 + i / cols];
                    double sw = affine ? Math.abs(w[1 + c]) : 1, sb = affine ? Math.abs(b[1 + c]) : 0;
                    assertEquals(ref[yi], y[yi], 1e-5 * (Math.abs(xhat) * sw + sw + sb), "layerNorm cols=" + cols);
                }
                for (int r = 1; r <= rows && cols > 0; r++) {
                    assertEquals(mRef[r], mean[r], 1e-5 * (Math.abs(mRef[r]) + 3), "mean");
                    assertEquals(rRef[r], rstd[r], 1e-5 * rRef[r], "rstd");
                }
                assertEquals(0f, mean[0]);
                assertOnlyWrote(y, yOff, rows * cols, "layerNorm");
            }
        }
    }

    @Test void rmsNorm() {
        Random rnd = new Random(6);
        for (int cols : LENGTHS) {
            int rows = 2, xOff = rnd.nextInt(4), yOff = rnd.nextInt(4);
            float[] x = random(xOff + rows * cols, rnd), w = random(cols + 2, rnd);
            for (boolean weighted : new boolean[]{true, false}) {
                float[] y = filled(yOff + rows * cols + 2), ref = filled(yOff + rows * cols + 2);
                float[] rstd = new float[rows + 2], rRef = new float[rows + 2];
                VectorOps.rmsNorm(x, xOff, y, yOff, rows, cols, weighted ? w : null, 2, 1e-6f, rstd, 2);
                ScalarOps.rmsNorm(x, xOff, ref, yOff, rows, cols, weighted ? w : null, 2, 1e-6f, rRef, 2);
                // Σx² in float: relative (cols/16 + 8)·ε ≤ 4e-6, halved by the square root, plus 2 ulp of rounding
                for (int i = 0; i < rows * cols; i++) {
                    int yi = yOff + i;
                    assertEquals(ref[yi], y[yi], 5e-6 * Math.abs(ref[yi]) + 1e-30, "rmsNorm cols=" + cols);
                }
                for (int r = 2; r < rows + 2 && cols > 0; r++) assertEquals(rRef[r], rstd[r], 5e-6 * rRef[r], "rstd");
                assertOnlyWrote(y, yOff, rows * cols, "rmsNorm");
            }
        }
    }

    /** The scalar reference erf itself, against values of erf computed by another implementation (CPython's math.erf). */
    @Test void activationsErfIsAccurate() {
        double[][] known = {{0.1, 0.1124629160182849}, {0.5, 0.5204998778130465}, {1.0, 0.8427007929497149},
                {1.5, 0.9661051464753108}, {2.0, 0.9953222650189527}, {2.5, 0.999593047982555},
                {3.0, 0.9999779095030014}, {4.0, 0.9999999845827421}, {-0.75, -0.7111556336535151},
                {-2.2, -0.9981371537020182}, {0.0, 0.0}, {7.0, 1.0}};
        for (double[] k : known) assertEquals(k[1], Activations.erf(k[0]), 2e-15, "erf(" + k[0] + ")");
        assertTrue(Double.isNaN(Activations.erf(Double.NaN)));
    }

    /** Everything outside y[off, off + n) still holds the sentinel. */
    private static void assertOnlyWrote(float[] y, int off, int n, String what) {
        for (int i = 0; i < y.length; i++)
            if ((i < off || i >= off + n) && y[i] != SENTINEL) fail(what + " wrote outside its output at " + i);
    }

    private static float[] filled(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, SENTINEL);
        return v;
    }

    private static float[] random(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }
}
