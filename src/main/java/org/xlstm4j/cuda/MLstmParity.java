package org.xlstm4j.cuda;

import org.xlstm4j.cells.MLstmCell;
import org.xlstm4j.cells.MLstmState;

import java.util.Random;

/**
 * Parity of {@link CudaMLstm} against the CPU {@link MLstmCell} on random inputs: the chunkwise forward (against the
 * CPU's double-precision chunkwise reference, same chunk size, so the same stabilizers) and the step. Errors are
 * relative: max |gpu − cpu| / max |cpu| per tensor. In bf16 mode both sides see the same bf16-rounded q, k, v.
 * Used by the tests and by {@code xlstm bench cuda-mlstm}.
 */
public final class MLstmParity {
    private MLstmParity() {}

    /** Relative errors of h and of the final state's C, n, m (NaN where not compared). */
    public record Errors(double h, double c, double n, double m) {
        public double max() {
            double x = h;
            for (double e : new double[] {c, n, m}) if (!Double.isNaN(e)) x = Math.max(x, e);
            return Double.isNaN(h) ? Double.NaN : x;
        }

        @Override public String toString() {
            return String.format("h %.3g, C %.3g, n %.3g, m %.3g", h, c, n, m);
        }
    }

    /** Random inputs of one sequence in the cell's layout. */
    record Inputs(float[] q, float[] k, float[] v, float[] ig, float[] fg) {
        static Inputs random(Random rnd, int B, int NH, int T, int DK, int DV, boolean bf16) {
            int bht = B * NH * T;
            float[] q = gaussian(rnd, bht * DK, 1), k = gaussian(rnd, bht * DK, 1), v = gaussian(rnd, bht * DV, 1);
            float[] ig = gaussian(rnd, bht, 2), fg = gaussian(rnd, bht, 1.5);
            for (int i = 0; i < bht; i++) fg[i] += 2.5f;                // forget gates mostly open, as after training
            if (bf16) { Bf16.roundAll(q); Bf16.roundAll(k); Bf16.roundAll(v); }
            return new Inputs(q, k, v, ig, fg);
        }
    }

    static float[] gaussian(Random rnd, int n, double sd) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextGaussian() * sd);
        return a;
    }

    /** A realistic non-zero state: the CPU cell run over {@code prefix} random tokens from zeros. */
    static MLstmState randomState(Random rnd, int B, int NH, int DK, int DV, int prefix) {
        MLstmCell cell = new MLstmCell(NH, DK, DV);
        Inputs in = Inputs.random(rnd, B, NH, prefix, DK, DV, false);
        MLstmState s = MLstmState.zeros(B, NH, DK, DV);
        cell.forwardRecurrent(in.q, in.k, in.v, in.ig, in.fg, new float[B * NH * prefix * DV], B, prefix, s);
        return s;
    }

    /**
     * Chunkwise forward of shape (B, NH, T, DK, DV) with chunk size {@code chunk}, from a random initial state or
     * from zeros; the final state is compared only when an initial state is given (otherwise there is none).
     */
    public static Errors chunkwise(CudaDevice device, int B, int NH, int T, int DK, int DV, int chunk,
                                   boolean initialState, DType dtype, long seed) {
        Random rnd = new Random(seed);
        Inputs in = Inputs.random(rnd, B, NH, T, DK, DV, dtype == DType.BF16);
        MLstmState s0 = initialState ? randomState(rnd, B, NH, DK, DV, 37) : null;
        MLstmCell cell = new MLstmCell(NH, DK, DV);
        cell.useReference(true);
        float[] hCpu = new float[B * NH * T * DV], hGpu = new float[hCpu.length];
        MLstmState sCpu = s0 == null ? null : s0.copy(), sGpu = s0 == null ? null : s0.copy();
        cell.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hCpu, B, T, chunk, sCpu);
        try (CudaMLstm gpu = new CudaMLstm(device, NH, DK, DV)) {
            gpu.forwardChunkwise(in.q, in.k, in.v, in.ig, in.fg, hGpu, B, T, chunk, sGpu, dtype);
        }
        if (sCpu == null) return new Errors(relError(hGpu, hCpu), Double.NaN, Double.NaN, Double.NaN);
        return new Errors(relError(hGpu, hCpu), relError(sGpu.c, sCpu.c), relError(sGpu.n, sCpu.n), relError(sGpu.m, sCpu.m));
    }

    /** {@code steps} recurrent steps from a random state, the step kernel against {@link MLstmCell#step}. */
    public static Errors step(CudaDevice device, int B, int NH, int DK, int DV, int steps, DType dtype, long seed) {
        Random rnd = new Random(seed);
        MLstmState sCpu = randomState(rnd, B, NH, DK, DV, 23), sGpu = sCpu.copy();
        MLstmCell cell = new MLstmCell(NH, DK, DV);
        float[] hCpu = new float[B * NH * DV], hGpu = new float[hCpu.length];
        double hErr = 0;
        try (CudaMLstm gpu = new CudaMLstm(device, NH, DK, DV)) {
            for (int t = 0; t < steps; t++) {
                Inputs in = Inputs.random(rnd, B, NH, 1, DK, DV, dtype == DType.BF16);
                cell.step(in.q, in.k, in.v, in.ig, in.fg, hCpu, B, sCpu);
                gpu.step(in.q, in.k, in.v, in.ig, in.fg, hGpu, B, sGpu, dtype);
                hErr = Math.max(hErr, relError(hGpu, hCpu));
            }
        }
        return new Errors(hErr, relError(sGpu.c, sCpu.c), relError(sGpu.n, sCpu.n), relError(sGpu.m, sCpu.m));
    }

    /** max |a − ref| / max |ref| (NaN anywhere in a gives NaN; a zero reference gives max |a|). */
    public static double relError(float[] a, float[] ref) {
        if (a.length != ref.length) throw new IllegalArgumentException("relError: lengths " + a.length + " != " + ref.length);
        double diff = 0, scale = 0;
        for (int i = 0; i < a.length; i++) {
            if (Float.isNaN(a[i]) || Float.isInfinite(a[i])) return Double.NaN;
            diff = Math.max(diff, Math.abs((double) a[i] - ref[i]));
            scale = Math.max(scale, Math.abs((double) ref[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
