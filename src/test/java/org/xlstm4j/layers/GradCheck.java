package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;
import org.xlstm4j.model.Param;

/**
 * Test helpers: random tensors, the probe loss L = Σ y·R (in double), central finite differences, and the
 * accumulate/overwrite contract of backward.
 *
 * <p>Error metric: max_i |num_i − ana_i| / max_i |ana_i| (error relative to the gradient's scale). With a float32
 * forward, only the outputs touched by the perturbed element change their rounding, so the finite-difference noise is
 * about ε_f32·Σ_touched |y·R| / (2h) ≈ 6e-8·(a few tens)/(2h); with h = 1e-2 that is ~1e-4, and the h² truncation
 * term of smooth layers is of the same order. Tolerances of 1e-3 (2e-3 for the GELU/SiLU FFN) are therefore
 * ~10× above the noise but far below what a wrong term (an O(1) relative error) would give.
 */
public final class GradCheck {
    private GradCheck() {}

    public static float[] randn(Random rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * rng.nextGaussian());
        return a;
    }

    public static float[] rand(Random rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (2 * rng.nextDouble() - 1);
        return a;
    }

    public static void randomize(Param p, Random rng, double std) {
        for (int i = 0; i < p.data.length; i++) p.data[i] = (float) (std * rng.nextGaussian());
    }

    /** Σ y·r over the first n elements, in double. */
    public static double dot(float[] y, float[] r, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) y[i] * r[i];
        return s;
    }

    /** max |num − ana| / max |ana| over all elements of arr, with central differences of step h. */
    public static double relError(float[] arr, float[] analytic, DoubleSupplier loss, float h) {
        return relError(arr, analytic, loss, h, 1e-12);
    }

    /** As above with max |ana| taken at least {@code floor} (for gradients that are near zero by construction). */
    public static double relError(float[] arr, float[] analytic, DoubleSupplier loss, float h, double floor) {
        double maxDiff = 0, maxAna = floor;
        for (int i = 0; i < arr.length; i++) {
            float orig = arr[i];
            float xp = orig + h, xm = orig - h;
            arr[i] = xp;
            double lp = loss.getAsDouble();
            arr[i] = xm;
            double lm = loss.getAsDouble();
            arr[i] = orig;
            double num = (lp - lm) / ((double) xp - xm);
            maxDiff = Math.max(maxDiff, Math.abs(num - analytic[i]));
            maxAna = Math.max(maxAna, Math.abs(analytic[i]));
        }
        loss.getAsDouble(); // leave the layer's saved state as after an unperturbed forward
        return maxDiff / maxAna;
    }

    public static void assertGrad(String what, float[] arr, float[] analytic, DoubleSupplier loss, float h, double tol) {
        double err = relError(arr, analytic, loss, h);
        if (Boolean.getBoolean("gradcheck.verbose")) System.out.printf("gradcheck %-40s %.2e%n", what, err);
        assertTrue(err < tol, what + ": finite-difference rel. error " + err + " >= " + tol);
    }

    /**
     * The double-precision check: {@code doubleLoss} evaluates the layer's definition in double precision
     * ({@link DoubleReference}), so the finite differences carry no float32 rounding noise. The step h = 1e-5 keeps the
     * h² truncation small where the mLSTM normalizer curves sharply (one k-bias entry: 1.1e-4 off at h = 1e-4, 1e-6 at
     * 1e-5), the double loss's rounding (≈ 1e-16·|L|/h) stays far below that, and the float32 backward's own rounding is
     * ≈ 1e-6. A tolerance of 1e-4 is orders below what a wrong term gives.
     */
    public static void assertGradDouble(String what, float[] arr, float[] analytic, DoubleSupplier doubleLoss) {
        assertGradDouble(what, arr, analytic, doubleLoss, 1e-12);
    }

    /**
     * As above, the error taken relative to at least {@code scale}: for a parameter whose exact gradient is near zero
     * by construction (the mLSTM input-gate bias: h is invariant to a common shift of a head's input gates wherever
     * the normalizer is |n|), the float backward's rounding is relative to the size of the terms it sums, not to their
     * near-cancelling total, so it is measured against the block's gradient scale.
     */
    public static void assertGradDouble(String what, float[] arr, float[] analytic, DoubleSupplier doubleLoss, double scale) {
        double err = relError(arr, analytic, doubleLoss, 1e-5f, scale);
        if (Boolean.getBoolean("gradcheck.verbose")) System.out.printf("gradcheck %-40s %.2e%n", what + " (double)", err);
        assertTrue(err < 1e-4, what + " (double): finite-difference rel. error " + err + " >= 1e-4");
    }

    /** A backward call: writes dx (or adds into it when acc; dx may be null) and accumulates into param grads. */
    interface Backward { void run(float[] dx, boolean acc); }

    /**
     * Checks the contract of backward: params' grads accumulate (+=) across calls; dx is overwritten when !acc
     * (whatever it held), added into when acc, and may be null.
     */
    static void assertAccumulation(Backward b, int dxLength, List<Param> params) {
        for (Param p : params) p.zeroGrad();
        float[] dx1 = new float[dxLength];
        b.run(dx1, false);
        float[][] g1 = params.stream().map(p -> p.grad.clone()).toArray(float[][]::new);
        b.run(null, false);
        for (int i = 0; i < params.size(); i++) assertScaled(params.get(i).name, g1[i], 2, params.get(i).grad);
        float[] dx2 = new float[dxLength];
        Arrays.fill(dx2, 1f);
        b.run(dx2, true);
        for (int i = 0; i < dxLength; i++) assertEquals(1f + dx1[i], dx2[i], 1e-6f * (1 + Math.abs(dx1[i])), "acc dx");
        float[] dx3 = new float[dxLength];
        Arrays.fill(dx3, 7f);
        b.run(dx3, false);
        for (int i = 0; i < dxLength; i++) assertEquals(dx1[i], dx3[i], 1e-6f * (1 + Math.abs(dx1[i])), "overwrite dx");
        for (int i = 0; i < params.size(); i++) assertScaled(params.get(i).name, g1[i], 4, params.get(i).grad);
    }

    private static void assertScaled(String name, float[] g, int times, float[] actual) {
        for (int j = 0; j < g.length; j++)
            assertEquals(times * g[j], actual[j], 1e-5f * (1 + Math.abs(times * g[j])), name + " grad accumulation");
    }

    public static void assertClose(float[] expected, float[] actual, int n, double tol, String what) {
        double[] e = new double[n];
        for (int i = 0; i < n; i++) e[i] = expected[i];
        assertClose(e, actual, n, tol, what);
    }

    /** max |expected − actual| / max |expected| < tol over the first n elements. */
    public static void assertClose(double[] expected, float[] actual, int n, double tol, String what) {
        double scale = 1e-12, maxDiff = 0;
        for (int i = 0; i < n; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(maxDiff / scale < tol, what + ": rel. difference " + maxDiff / scale + " >= " + tol);
    }
}
