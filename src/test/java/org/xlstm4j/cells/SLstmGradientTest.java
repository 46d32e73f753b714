package org.xlstm4j.cells;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.cells.SLstmCellTest.*;

/**
 * sLSTM backward (BPTT) against central finite differences of loss = Σ h·W (W fixed, random), w.r.t. the gate
 * pre-activations, the recurrent kernel and the bias.
 *
 * <p>Two finite-difference references:
 * <ol>
 *   <li>FD of the independent double-precision reference ({@link SLstmReference}), step 1e-5: truncation ~1e-10 and
 *       rounding ~1e-11, so it is the exact gradient to far below float32 resolution. The float32 backward accumulates
 *       a few ulps (6e-8 each) per operation over T ≤ 17 steps, observed ≤ 6e-7; tolerance 1e-5 (max abs error / max
 *       abs gradient).</li>
 *   <li>FD of the float32 cell forward itself, step ≈ 1e-2 (the exact float32 step is used as denominator): truncation
 *       ε²/6·|L'''| ~ 2e-5 for pre-activations of scale 2, plus float32 rounding of the loss, ~6e-8·√(#outputs)·|W|/(2ε)
 *       ~ 1e-5 absolute; observed ≤ 7e-5, tolerance 5e-4 relative leaves room for both.</li>
 * </ol>
 */
class SLstmGradientTest {

    record Case(int B, int T, int NH, int DH, boolean initState) {}

    /** Everything one case needs: parameters, inputs, initial state, W. */
    static final class Problem {
        final Case k;
        final Setup s;
        final float[] x, w;
        final SLstmState init;

        Problem(Case k, long seed) {
            this.k = k;
            Random rnd = new Random(seed);
            s = new Setup(k.NH(), k.DH(), rnd, 0.5);
            x = gaussian(rnd, k.B() * k.T() * 4 * s.E, 2.0);
            w = gaussian(rnd, k.B() * k.T() * s.E, 1.0);
            init = k.initState() ? randomState(rnd, k.B(), s.E, false) : null;
        }

        /** Σ h·W of the float32 cell, accumulated in double. */
        double cellLoss() {
            float[] h = new float[x.length / 4];
            s.cell.forward(x, h, k.B(), k.T(), init == null ? null : init.copy());
            double L = 0;
            for (int i = 0; i < h.length; i++) L += (double) h[i] * w[i];
            return L;
        }

        /** Σ h·W of the double reference at the given inputs and parameters (external layouts). */
        double refLoss(double[] xd, SLstmReference ref) {
            double[] h = ref.forward(xd, k.B(), k.T(), init == null ? null : stateToDouble(init));
            double L = 0;
            for (int i = 0; i < h.length; i++) L += h[i] * w[i];
            return L;
        }
    }

    /** Cell gradients: {dx, dR (vanilla), db (vanilla)}. */
    static float[][] cellGradients(Problem p) {
        SLstmCell cell = p.s.cell;
        cell.recurrentKernel().zeroGrad();
        cell.bias().zeroGrad();
        int B = p.k.B(), T = p.k.T();
        float[] h = new float[B * T * p.s.E];
        cell.forward(p.x, h, B, T, p.init == null ? null : p.init.copy());
        float[] dx = new float[p.x.length];
        Arrays.fill(dx, Float.NaN); // must be overwritten
        cell.backward(p.w, dx);
        return new float[][] {dx, cell.recurrentKernel().grad.clone(), cell.bias().grad.clone()};
    }

    /** Central difference of f over every entry of a (perturbed in place and restored). */
    static double[] fdDouble(double[] a, double eps, Supplier<Double> f) {
        double[] g = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double old = a[i];
            a[i] = old + eps;
            double lp = f.get();
            a[i] = old - eps;
            double lm = f.get();
            a[i] = old;
            g[i] = (lp - lm) / (2 * eps);
        }
        return g;
    }

    static double[] fdFloat(float[] a, float eps, Supplier<Double> f) {
        double[] g = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            float old = a[i];
            float up = old + eps, down = old - eps;
            a[i] = up;
            double lp = f.get();
            a[i] = down;
            double lm = f.get();
            a[i] = old;
            g[i] = (lp - lm) / ((double) up - (double) down);
        }
        return g;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = (float) a[i];
        return f;
    }

    static final Case[] CASES = {
            new Case(2, 6, 2, 3, false),
            new Case(2, 5, 2, 4, true),
            new Case(1, 17, 1, 16, false),
            new Case(3, 4, 1, 2, true),
    };

    @Test
    void backwardMatchesFiniteDifferencesOfDoubleReference() {
        double worst = 0;
        for (int ci = 0; ci < CASES.length; ci++) {
            Problem p = new Problem(CASES[ci], 100 + ci);
            int NH = p.k.NH(), DH = p.k.DH();
            float[][] got = cellGradients(p);
            SLstmReference ref = p.s.ref;
            double[] xd = toDouble(p.x);
            double[] gx = fdDouble(xd, 1e-5, () -> p.refLoss(xd, ref));
            double[] gr = fdDouble(ref.rExt, 1e-5, () -> p.refLoss(xd, ref));
            double[] gb = fdDouble(ref.bExt, 1e-5, () -> p.refLoss(xd, ref));
            // reference gradients are in the cuda layouts; bring them to the cell's vanilla layouts
            double[] grV = toDouble(SLstmCell.recurrentKernelFromCuda(toFloat(gr), NH, DH));
            double[] gbV = toDouble(SLstmCell.biasFromCuda(toFloat(gb), NH, DH));
            double ex = relErr(got[0], gx), er = relErr(got[1], grV), eb = relErr(got[2], gbV);
            System.out.printf("sLSTM backward vs FD(double ref) %s: dx %.2e  dR %.2e  db %.2e (tol 1e-5)%n", p.k, ex, er, eb);
            assertTrue(ex < 1e-5 && er < 1e-5 && eb < 1e-5, p.k + ": " + ex + " " + er + " " + eb);
            worst = Math.max(worst, Math.max(ex, Math.max(er, eb)));
        }
        System.out.printf("sLSTM backward vs FD(double ref): worst %.2e%n", worst);
    }

    @Test
    void backwardMatchesAutogradThroughTheStabilizer() {
        // the cell holds m constant (see SLstmCell); autograd differentiates through m, max and min — same numbers
        double worst = 0;
        for (int ci = 0; ci < CASES.length; ci++) {
            Problem p = new Problem(CASES[ci], 400 + ci);
            float[][] got = cellGradients(p);
            for (boolean halfMinTies : new boolean[] {true, false}) {
                p.s.ref.forward(toDouble(p.x), p.k.B(), p.k.T(), p.init == null ? null : stateToDouble(p.init));
                double[] dx = p.s.ref.autogradBackward(toDouble(p.w), halfMinTies);
                double e = relErr(got[0], dx);
                worst = Math.max(worst, e);
                assertTrue(e < 1e-5, p.k + " halfMinTies=" + halfMinTies + ": " + e);
            }
        }
        System.out.printf("sLSTM backward (m constant) vs emulated autograd through m: max rel err %.2e (tol 1e-5)%n", worst);
    }

    @Test
    void backwardMatchesFiniteDifferencesOfFloatForward() {
        for (int ci = 0; ci < CASES.length; ci++) {
            Problem p = new Problem(CASES[ci], 200 + ci);
            float[][] got = cellGradients(p);
            float eps = 1e-2f;
            double[] gx = fdFloat(p.x, eps, p::cellLoss);
            double[] gr = fdFloat(p.s.cell.recurrentKernel().data, eps, p::cellLoss);
            double[] gb = fdFloat(p.s.cell.bias().data, eps, p::cellLoss);
            double ex = relErr(got[0], gx), er = relErr(got[1], gr), eb = relErr(got[2], gb);
            System.out.printf("sLSTM backward vs FD(float32 cell) %s: dx %.2e  dR %.2e  db %.2e (tol 5e-4)%n", p.k, ex, er, eb);
            assertTrue(ex < 5e-4 && er < 5e-4 && eb < 5e-4, p.k + ": " + ex + " " + er + " " + eb);
        }
    }

    @Test
    void backwardAccumulatesParameterGradientsAndOverwritesInputGradient() {
        Problem p = new Problem(CASES[1], 300);
        float[][] once = cellGradients(p);
        float[] dx = new float[p.x.length];
        Arrays.fill(dx, 7f);
        p.s.cell.backward(p.w, dx); // second backward of the same forward: += into grads, = into dx
        assertArrayEquals(once[0], dx, 0f);
        float[] r2 = p.s.cell.recurrentKernel().grad, b2 = p.s.cell.bias().grad;
        for (int i = 0; i < r2.length; i++) assertEquals(2 * once[1][i], r2[i], 1e-6f * Math.abs(r2[i]) + 1e-30f);
        for (int i = 0; i < b2.length; i++) assertEquals(2 * once[2][i], b2[i], 1e-6f * Math.abs(b2[i]) + 1e-30f);
    }
}
