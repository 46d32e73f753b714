package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;

/**
 * Per-head layer normalization (spec §1 MultiHeadLayerNorm, §6.1): the input [rows, NH·DH] is normalized over each
 * head's DH features independently (PyTorch group_norm with NH groups), then scaled per feature by 1 + w (NeurIPS,
 * eps 1e-5, w starts at 0) or w (7B, eps 1e-6, w starts at 1). No bias. Param: {@code name + ".weight"} (NH·DH,).
 */
public final class MultiHeadLayerNorm {
    public final Param weight;
    private final int numHeads, headDim;
    private final float eps;
    private final boolean offsetScale;
    private float[] x;            // input of the last forward (owned by the caller)
    private float[] mean, rstd;   // [rows·NH] saved for backward

    public MultiHeadLayerNorm(String name, int numHeads, int headDim, float eps, boolean offsetScale) {
        this.numHeads = numHeads;
        this.headDim = headDim;
        this.eps = eps;
        this.offsetScale = offsetScale;
        this.weight = Params.create(name + ".weight", numHeads * headDim);
        if (!offsetScale) java.util.Arrays.fill(weight.data, 1f);
    }

    public int numHeads() { return numHeads; }

    public int headDim() { return headDim; }

    public List<Param> params() { return List.of(weight); }

    /** y[rows, NH·DH] = per-head LN(x). Keeps a reference to x for {@link #backward}. */
    public void forward(float[] x, float[] y, int rows) {
        this.x = x;
        int n = rows * numHeads;
        if (mean == null || mean.length < n) { mean = new float[n]; rstd = new float[n]; }
        GroupNorms.forward(x, y, rows, numHeads, headDim, weight.data, offsetScale, null, eps, mean, rstd);
    }

    /** weight.grad +=; dx written (or added into when accumulateDx; skipped when dx is null). */
    public void backward(float[] dy, float[] dx, int rows, boolean accumulateDx) {
        GroupNorms.backward(x, dy, dx, rows, numHeads, headDim, weight.data, offsetScale, weight.grad, null,
                mean, rstd, accumulateDx);
    }
}
