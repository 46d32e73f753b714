package org.xlstm4j.tensor;

import org.xlstm4j.ExactMath;
import org.xlstm4j.AlsoExactMath;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@link RowOps} kernel against its scalar twin on widths that are and are not multiples of the vector length,
 * on a sub-range of rows (rows outside it must stay untouched). The twins use the double-precision activations of
 * {@link Activations} and the SIMD kernels float32 exp/tanh/erf (about 1 ulp), so values agree to a few float ulps:
 * tolerance 2e-6·(1 + |ref|), 1e-5 where a GELU derivative or a normalization is involved.
 */
@AlsoExactMath
class RowOpsTest {
    private static final int[] WIDTHS = {1, 3, 15, 16, 17, 33, 96, 100};
    private static final float SENTINEL = -333.25f;

    @Test
    void mlstmOutputForwardAndBackward() {
        Random rnd = new Random(1);
        for (int n : WIDTHS) {
            int rows = 5, r0 = 1, r1 = 4;
            float[] hn = g(rnd, rows * n, 1), xc = g(rnd, rows * n, 1), z = g(rnd, rows * n, 3), skip = g(rnd, n, 1);
            float[] hs = s(rows * n), out = s(rows * n), hsR = s(rows * n), outR = s(rows * n);
            RowOps.mlstmOutput(hn, xc, z, skip, hs, out, r0, r1, n);
            RowOps.mlstmOutputScalar(hn, xc, z, skip, hsR, outR, r0, r1, n);
            close("hs", hsR, hs, n, r0, r1, 2e-6);
            close("out", outR, out, n, r0, r1, 2e-6);
            float[] gOut = g(rnd, rows * n, 1);
            float[] dHs = s(rows * n), dZ = s(rows * n), dXc = s(rows * n), dSkip = g(rnd, n, 1);
            float[] dHsR = s(rows * n), dZR = s(rows * n), dXcR = s(rows * n), dSkipR = dSkip.clone();
            RowOps.mlstmOutputBackward(gOut, z, hsR, xc, skip, dHs, dZ, dXc, dSkip, r0, r1, n);
            RowOps.mlstmOutputBackwardScalar(gOut, z, hsR, xc, skip, dHsR, dZR, dXcR, dSkipR, r0, r1, n);
            close("dHs", dHsR, dHs, n, r0, r1, 2e-6);
            close("dZ", dZR, dZ, n, r0, r1, 2e-6);
            close("dXc", dXcR, dXc, n, r0, r1, 2e-6);
            close("dSkip", dSkipR, dSkip, n, 0, 1, 1e-5);
            // in place: dHs may be the incoming gradient itself
            float[] inPlace = gOut.clone();
            RowOps.mlstmOutputBackward(inPlace, z, hsR, xc, skip, inPlace, dZ, dXc, dSkip.clone(), r0, r1, n);
            if (ExactMath.IN_THIS_JVM) for (int i = r0 * n; i < r1 * n; i++) assertEquals(dHs[i], inPlace[i], 0f);
            else for (int i = r0 * n; i < r1 * n; i++) assertEquals(dHsR[i], inPlace[i], 2e-6 * (1 + Math.abs(dHsR[i])), "dHs in place");
        }
    }

    @Test
    void siluAndItsGradient() {
        Random rnd = new Random(2);
        for (int n : WIDTHS) {
            float[] x = g(rnd, n + 3, 4), y = s(n + 3), yR = s(n + 3), gr = g(rnd, n + 3, 1);
            RowOps.silu(x, y, 1, n);
            RowOps.siluScalar(x, yR, 1, n);
            close("silu", yR, y, 1, 1, n + 1, 2e-6);
            float[] d = s(n + 3), dR = s(n + 3);
            RowOps.siluGradMul(gr, x, d, 1, n);
            RowOps.siluGradMulScalar(gr, x, dR, 1, n);
            close("siluGradMul", dR, d, 1, 1, n + 1, 2e-6);
        }
    }

    @Test
    void gatedActivationsForwardAndBackward() {
        Random rnd = new Random(3);
        for (boolean gelu : new boolean[]{true, false})
            for (int P : WIDTHS) {
                int rows = 4, r0 = 1, r1 = 3;
                float[] up = g(rnd, rows * 2 * P, 3), h = s(rows * P), hR = s(rows * P);
                RowOps.gatedAct(up, h, r0, r1, P, gelu);
                RowOps.gatedActScalar(up, hR, r0, r1, P, gelu);
                close("gatedAct gelu=" + gelu, hR, h, P, r0, r1, 2e-6);
                float[] dh = g(rnd, rows * P, 1), dUp = s(rows * 2 * P), dUpR = s(rows * 2 * P);
                RowOps.gatedActBackward(up, dh, dUp, r0, r1, P, gelu);
                RowOps.gatedActBackwardScalar(up, dh, dUpR, r0, r1, P, gelu);
                close("gatedActBackward gelu=" + gelu, dUpR, dUp, 2 * P, r0, r1, 1e-5);
            }
    }

    @Test
    void groupNormForwardAndBackward() {
        Random rnd = new Random(4);
        for (int gdim : WIDTHS)
            for (int groups : new int[]{1, 3}) {
                int rows = 4, r0 = 1, r1 = 3, dim = groups * gdim;
                float[] x = g(rnd, rows * dim, 2), w = g(rnd, dim, 0.3f), bias = g(rnd, dim, 0.3f);
                for (int i = 0; i < x.length; i++) x[i] += 0.7f;   // a non-zero mean
                float[] y = s(rows * dim), yR = s(rows * dim);
                float[] mean = new float[rows * groups], rstd = new float[rows * groups];
                float[] meanR = new float[rows * groups], rstdR = new float[rows * groups];
                for (float off : new float[]{1f, 0f}) {
                    RowOps.groupNorm(x, y, r0, r1, groups, gdim, w, off, bias, 1e-5f, mean, rstd);
                    RowOps.groupNormScalar(x, yR, r0, r1, groups, gdim, w, off, bias, 1e-5f, meanR, rstdR);
                    close("groupNorm", yR, y, dim, r0, r1, 1e-5);
                    close("groupNorm mean", meanR, mean, groups, r0, r1, 1e-5);
                    close("groupNorm rstd", rstdR, rstd, groups, r0, r1, 1e-5);
                    float[] dy = g(rnd, rows * dim, 1), dx = g(rnd, rows * dim, 1), dxR = dx.clone();
                    float[] dw = new float[dim], dwR = new float[dim], db = new float[dim], dbR = new float[dim];
                    for (boolean acc : new boolean[]{false, true}) {
                        RowOps.groupNormBackward(x, dy, dx, r0, r1, groups, gdim, w, off, mean, rstd, dw, db, acc);
                        RowOps.groupNormBackwardScalar(x, dy, dxR, r0, r1, groups, gdim, w, off, meanR, rstdR, dwR, dbR, acc);
                        close("groupNormBackward dx", dxR, dx, dim, r0, r1, 1e-5);
                        close("groupNormBackward dw", dwR, dw, dim, 0, 1, 1e-5);
                        close("groupNormBackward db", dbR, db, dim, 0, 1, 1e-5);
                    }
                }
            }
    }

    @Test
    void addAndSum() {
        Random rnd = new Random(5);
        for (int n : WIDTHS) {
            float[] x = g(rnd, n + 2, 1), y = g(rnd, n + 2, 1), yR = y.clone(), z = s(n + 2), zR = s(n + 2);
            RowOps.add(x, y, 1, n);
            RowOps.addScalar(x, yR, 1, n);
            close("add", yR, y, 1, 0, n + 2, 0);
            RowOps.sum(x, yR, z, 1, n);
            RowOps.sumScalar(x, yR, zR, 1, n);
            close("sum", zR, z, 1, 0, n + 2, 0);
        }
    }

    /** Compares rows [r0, r1) of width n (ref vs got) to tol·(1 + |ref|), and that everything else is identical. */
    private static void close(String what, float[] ref, float[] got, int n, int r0, int r1, double tol) {
        for (int i = 0; i < ref.length; i++) {
            boolean inside = i >= r0 * n && i < r1 * n;
            double err = Math.abs(ref[i] - got[i]);
            if (!inside && Float.compare(ref[i], got[i]) != 0) fail(what + ": wrote outside rows at " + i);
            if (inside && !(err <= tol * (1 + Math.abs(ref[i])))) fail(what + ": at " + i + " got " + got[i] + " want " + ref[i]);
        }
    }

    private static float[] g(Random rnd, int n, float std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (std * rnd.nextGaussian());
        return a;
    }

    private static float[] s(int n) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, SENTINEL);
        return a;
    }
}
