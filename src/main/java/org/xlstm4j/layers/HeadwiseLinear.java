package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.HeadwiseOps;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.VectorOps;

/**
 * Block-diagonal linear layer, the official {@code LinearHeadwiseExpand} (spec §1): the input features are split
 * into {@code numHeads} contiguous chunks, each mapped by its own (out/nh × in/nh) matrix;
 * {@code y[h,o] = Σ_d x[h,d]·W[h,o,d] (+ b[h·out/nh + o])}.
 * Params: {@code name + ".weight"} (nh, out/nh, in/nh) and optionally {@code name + ".bias"} (out,).
 *
 * <p>4×4 blocks (the mLSTM's q/k/v projections) run the SIMD kernels of {@link HeadwiseOps}, rows split over the
 * backend's threads; other small blocks run as plain loops; larger blocks (the sLSTM's DH×DH gate projections) gather
 * each head into a contiguous buffer and use the {@link Kernels} matmuls.
 */
public final class HeadwiseLinear {
    public final Param weight;
    /** null when the layer has no bias. */
    public final Param bias;
    private final int in, out, numHeads, inPerHead, outPerHead;
    private final boolean useKernels, useSimd;
    /** Row counts up to this (token-by-token decoding) take direct dot products instead of per-head products. */
    private static final int SMALL_ROWS = 2;
    private float[] x;           // input of the last forward (owned by the caller)
    private float[] xh, yh;      // per-head gather buffers [rows, in/nh], [rows, out/nh] (kernel path only)
    // SIMD path: re-laid-out weights, per-worker weight-gradient accumulators, and the arguments of the running call
    private float[] wLayout;
    private float[][] dwAcc = new float[0][];
    private float[] argIn, argOut, argX;
    private boolean argAccumulate;
    private int argRows, argTasks;
    private final Kernels.Task forwardTask = this::forwardRows;
    private final Kernels.Task dxTask = this::dxRows;
    private final Kernels.Task dwTask = this::dwRows;

    public HeadwiseLinear(String name, int in, int out, int numHeads, boolean hasBias) {
        if (numHeads <= 0 || in % numHeads != 0 || out % numHeads != 0)
            throw new UserError(name + ": in=" + in + " and out=" + out + " must be divisible by numHeads=" + numHeads);
        this.in = in;
        this.out = out;
        this.numHeads = numHeads;
        this.inPerHead = in / numHeads;
        this.outPerHead = out / numHeads;
        this.useKernels = inPerHead * outPerHead >= 256;
        this.useSimd = HeadwiseOps.supports(inPerHead, outPerHead);
        this.weight = Params.create(name + ".weight", numHeads, outPerHead, inPerHead);
        this.bias = hasBias ? Params.create(name + ".bias", out) : null;
    }

    public int in() { return in; }

    public int out() { return out; }

    public int numHeads() { return numHeads; }

    /** The parameters: weight, then bias if present. */
    public List<Param> params() { return bias == null ? List.of(weight) : List.of(weight, bias); }

    /** y[rows, out] = block-diagonal x[rows, in] (spec §1). Keeps a reference to x for {@link #backward}. */
    public void forward(Kernels k, float[] x, float[] y, int rows) {
        this.x = x;
        final int iph = inPerHead, oph = outPerHead;
        float[] w = weight.data;
        if (useSimd) {
            wLayout = org.xlstm4j.tensor.Buffers.ensure(wLayout, 4 * in);
            HeadwiseOps.prepareForward(w, in, wLayout);
            runRows(k, x, y, rows, false, forwardTask);
        } else if (useKernels && rows <= SMALL_ROWS) {
            // decoding: one dot product per output straight over the weight rows (no gather, no product set-up)
            for (int r = 0; r < rows; r++)
                for (int h = 0; h < numHeads; h++) {
                    int xo = r * in + h * iph, yo = r * out + h * oph, wo = h * oph * iph;
                    for (int o = 0; o < oph; o++) y[yo + o] = VectorOps.dot(x, xo, w, wo + o * iph, iph); // spec §1
                }
        } else if (useKernels) {
            ensureBuffers(rows);
            for (int h = 0; h < numHeads; h++) {
                gather(x, in, h * iph, xh, iph, rows);
                k.matmulXWt(xh, 0, w, h * oph * iph, yh, 0, rows, oph, iph, false);
                scatter(yh, oph, y, out, h * oph, rows, false);
            }
        } else {
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < numHeads; h++) {
                    int xo = r * in + h * iph, yo = r * out + h * oph, wo = h * oph * iph;
                    for (int o = 0; o < oph; o++) {
                        float s = 0f;
                        int wi = wo + o * iph;
                        for (int d = 0; d < iph; d++) s += x[xo + d] * w[wi + d]; // spec §1
                        y[yo + o] = s;
                    }
                }
            }
        }
        if (bias != null) {
            float[] b = bias.data;
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) y[o + j] += b[j];
            }
        }
    }

    /**
     * Given dy[rows, out] for the last forward: W.grad[h] += dy_hᵀ x_h, b.grad += Σ_rows dy, and dx_h = dy_h W_h
     * (added into dx when accumulateDx; skipped when dx is null).
     */
    public void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx) {
        backward(k, dy, dx, rows, accumulateDx, this.x);
    }

    /** As {@link #backward(Kernels, float[], float[], int, boolean)} with the forward's input given explicitly. */
    public void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx, float[] x) {
        final int iph = inPerHead, oph = outPerHead;
        argX = x;
        float[] w = weight.data, dw = weight.grad;
        if (useSimd) {
            int workers = 2 * k.threads();   // one accumulator per task (at most 2 per thread): the sum's order is fixed
            if (dwAcc.length < workers) dwAcc = java.util.Arrays.copyOf(dwAcc, workers);
            for (int i = 0; i < workers; i++) if (dwAcc[i] == null || dwAcc[i].length < 4 * in) dwAcc[i] = new float[4 * in];
            runRows(k, dy, null, rows, false, dwTask);
            for (int i = 0; i < workers; i++) HeadwiseOps.finishDw(dwAcc[i], dw, in);
            if (dx != null) {
                wLayout = org.xlstm4j.tensor.Buffers.ensure(wLayout, 4 * in);
                HeadwiseOps.prepareBackward(w, in, wLayout);
                runRows(k, dy, dx, rows, accumulateDx, dxTask);
            }
        } else if (useKernels) {
            ensureBuffers(rows);
            for (int h = 0; h < numHeads; h++) {
                int wo = h * oph * iph;
                gather(x, in, h * iph, xh, iph, rows);
                gather(dy, out, h * oph, yh, oph, rows);
                k.matmulDyTX(yh, 0, xh, 0, dw, wo, rows, oph, iph, true);
                if (dx != null) {
                    k.matmulDyW(yh, 0, w, wo, xh, 0, rows, oph, iph, false); // xh now holds dx_h
                    scatter(xh, iph, dx, in, h * iph, rows, accumulateDx);
                }
            }
        } else {
            for (int r = 0; r < rows; r++) {
                for (int h = 0; h < numHeads; h++) {
                    int xo = r * in + h * iph, yo = r * out + h * oph, wo = h * oph * iph;
                    if (dx != null && !accumulateDx) java.util.Arrays.fill(dx, xo, xo + iph, 0f);
                    for (int o = 0; o < oph; o++) {
                        float g = dy[yo + o];
                        int wi = wo + o * iph;
                        for (int d = 0; d < iph; d++) dw[wi + d] += g * x[xo + d];
                        if (dx != null) for (int d = 0; d < iph; d++) dx[xo + d] += g * w[wi + d];
                    }
                }
            }
        }
        if (bias != null) {
            float[] db = bias.grad;
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) db[j] += dy[o + j];
            }
        }
    }

    /** Runs a row-range task over [0, rows) in up to 2 pieces per thread (one piece on a serial backend). */
    private void runRows(Kernels k, float[] a, float[] b, int rows, boolean accumulate, Kernels.Task task) {
        argIn = a;
        argOut = b;
        argAccumulate = accumulate;
        argRows = rows;
        argTasks = k.parallelTasks() ? Math.max(1, Math.min(2 * k.threads(), rows / 32)) : 1;
        try {
            k.parallelFor(argTasks, task);
        } finally {
            argIn = argOut = null;
        }
    }

    private void forwardRows(int t, int w) {
        HeadwiseOps.forward(argIn, wLayout, argOut, lo(t), hi(t), in, false);
    }

    private void dxRows(int t, int w) {
        HeadwiseOps.backwardDx(argIn, wLayout, argOut, lo(t), hi(t), in, argAccumulate);
    }

    private void dwRows(int t, int w) {
        HeadwiseOps.backwardDw(argIn, argX, dwAcc[t], lo(t), hi(t), in);
    }

    private int lo(int t) { return (int) ((long) argRows * t / argTasks); }

    private int hi(int t) { return (int) ((long) argRows * (t + 1) / argTasks); }

    private void ensureBuffers(int rows) {
        if (xh == null || xh.length < rows * inPerHead) xh = new float[rows * inPerHead];
        if (yh == null || yh.length < rows * outPerHead) yh = new float[rows * outPerHead];
    }

    /** dst[r, 0:n] = src[r, off:off+n] for a source of row stride {@code stride}. */
    private static void gather(float[] src, int stride, int off, float[] dst, int n, int rows) {
        for (int r = 0; r < rows; r++) System.arraycopy(src, r * stride + off, dst, r * n, n);
    }

    /** dst[r, off:off+n] (+)= src[r, 0:n] for a destination of row stride {@code stride}. */
    private static void scatter(float[] src, int n, float[] dst, int stride, int off, int rows, boolean accumulate) {
        for (int r = 0; r < rows; r++) {
            if (accumulate) {
                int s = r * n, d = r * stride + off;
                for (int i = 0; i < n; i++) dst[d + i] += src[s + i];
            } else {
                System.arraycopy(src, r * n, dst, r * stride + off, n);
            }
        }
    }
}
