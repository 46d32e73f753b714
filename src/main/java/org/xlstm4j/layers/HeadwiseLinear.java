package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;

/**
 * Block-diagonal linear layer, the official {@code LinearHeadwiseExpand} (spec §1): the input features are split
 * into {@code numHeads} contiguous chunks, each mapped by its own (out/nh × in/nh) matrix;
 * {@code y[h,o] = Σ_d x[h,d]·W[h,o,d] (+ b[h·out/nh + o])}.
 * Params: {@code name + ".weight"} (nh, out/nh, in/nh) and optionally {@code name + ".bias"} (out,).
 *
 * <p>Small blocks (the mLSTM's 4×4 q/k/v projections) run as plain loops; larger blocks (the sLSTM's DH×DH gate
 * projections) gather each head into a contiguous buffer and use the {@link Kernels} matmuls.
 */
public final class HeadwiseLinear {
    public final Param weight;
    /** null when the layer has no bias. */
    public final Param bias;
    private final int in, out, numHeads, inPerHead, outPerHead;
    private final boolean useKernels;
    private float[] x;           // input of the last forward (owned by the caller)
    private float[] xh, yh;      // per-head gather buffers [rows, in/nh], [rows, out/nh] (kernel path only)

    public HeadwiseLinear(String name, int in, int out, int numHeads, boolean hasBias) {
        if (numHeads <= 0 || in % numHeads != 0 || out % numHeads != 0)
            throw new UserError(name + ": in=" + in + " and out=" + out + " must be divisible by numHeads=" + numHeads);
        this.in = in;
        this.out = out;
        this.numHeads = numHeads;
        this.inPerHead = in / numHeads;
        this.outPerHead = out / numHeads;
        this.useKernels = inPerHead * outPerHead >= 256;
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
        if (useKernels) {
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
        final int iph = inPerHead, oph = outPerHead;
        float[] w = weight.data, dw = weight.grad;
        if (useKernels) {
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
