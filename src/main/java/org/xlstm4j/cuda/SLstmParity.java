package org.xlstm4j.cuda;

import org.xlstm4j.cells.SLstmCell;
import org.xlstm4j.cells.SLstmState;

import java.util.Random;

/**
 * Parity of {@link CudaSLstm} against the CPU {@link SLstmCell#forward} on random inputs. Errors are relative:
 * max |gpu − cpu| / max |cpu| per tensor. In bf16 mode both sides see the same bf16-rounded x and R. Used by the tests
 * and by {@code xlstm bench cuda-slstm}.
 */
public final class SLstmParity {
    private SLstmParity() {}

    /** Relative errors of h and of the final state's h, c, n, m (NaN where not compared). */
    public record Errors(double h, double hState, double c, double n, double m) {
        public double max() {
            double x = h;
            for (double e : new double[] {hState, c, n, m}) if (!Double.isNaN(e)) x = Math.max(x, e);
            return x;
        }

        @Override public String toString() {
            return String.format("h %.3g, final h %.3g, c %.3g, n %.3g, m %.3g", h, hState, c, n, m);
        }
    }

    /** A cell with random R ~ U(±1.5/√DH) and a bias with open-ish forget gates, plus random gate inputs. */
    record Inputs(SLstmCell cell, float[] x) {
        static Inputs random(Random rnd, int B, int NH, int DH, int T, boolean bf16) {
            SLstmCell cell = new SLstmCell("p.", NH, DH);
            float[] R = cell.recurrentKernel().data, b = cell.bias().data;
            double a = 1.5 / Math.sqrt(DH);
            for (int i = 0; i < R.length; i++) R[i] = (float) ((rnd.nextDouble() * 2 - 1) * a);
            int E = NH * DH;
            for (int i = 0; i < b.length; i++) b[i] = (float) (rnd.nextGaussian() * 0.5 + (i >= E && i < 2 * E ? 2.0 : 0.0));
            float[] x = new float[B * T * 4 * E];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 1.5);
            if (bf16) { Bf16.roundAll(R); Bf16.roundAll(x); }
            return new Inputs(cell, x);
        }
    }

    /** A realistic non-zero state: the CPU cell run over {@code prefix} random tokens from zeros. */
    static SLstmState randomState(Random rnd, SLstmCell cell, int B, int prefix) {
        int E = cell.E;
        float[] x = new float[B * prefix * 4 * E];
        for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * 1.5);
        SLstmState s = SLstmState.zeros(B, E);
        cell.forward(x, new float[B * prefix * E], B, prefix, s);
        return s;
    }

    /** Forward of shape (B, NH, DH, T), from a random initial state (final state compared) or from zeros (none kept). */
    public static Errors forward(CudaDevice dev, int B, int NH, int DH, int T, boolean init, DType dtype, long seed) {
        return forward(dev, B, NH, DH, T, init ? 1 : 0, dtype, seed);
    }

    /**
     * As {@link #forward(CudaDevice, int, int, int, int, boolean, DType, long)}; {@code init} 0: no state, 1: a random
     * state, 2: an explicit all-zero state (the device's all-zero test at t = 0; final state compared for 1 and 2).
     */
    public static Errors forward(CudaDevice dev, int B, int NH, int DH, int T, int initMode, DType dtype, long seed) {
        Random rnd = new Random(seed);
        Inputs in = Inputs.random(rnd, B, NH, DH, T, dtype == DType.BF16);
        int E = NH * DH;
        boolean init = initMode != 0;
        SLstmState s0 = initMode == 1 ? randomState(rnd, in.cell, B, 7) : initMode == 2 ? SLstmState.zeros(B, E) : null;
        SLstmState sCpu = s0 == null ? null : s0.copy(), sGpu = s0 == null ? null : s0.copy();
        float[] hCpu = new float[B * T * E], hGpu = new float[B * T * E];
        in.cell.forward(in.x, hCpu, B, T, sCpu);
        try (CudaSLstm gpu = new CudaSLstm(dev, NH, DH)) {
            gpu.forward(in.x, in.cell.recurrentKernel().data, in.cell.bias().data, hGpu, B, T, sGpu, dtype);
        }
        if (!init) return new Errors(relError(hGpu, hCpu), Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        return new Errors(relError(hGpu, hCpu), relError(sGpu.h, sCpu.h), relError(sGpu.c, sCpu.c),
                relError(sGpu.n, sCpu.n), relError(sGpu.m, sCpu.m));
    }

    /** max |a − b| / max |b| (NaN anywhere in a gives +∞). */
    public static double relError(float[] a, float[] b) {
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < b.length; i++) {
            if (!Float.isFinite(a[i])) return Double.POSITIVE_INFINITY;
            maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - b[i]));
            maxRef = Math.max(maxRef, Math.abs(b[i]));
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef;
    }
}
