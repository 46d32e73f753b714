package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;

/**
 * Layer normalization over the last dim with the biased variance (spec §1). NeurIPS style: scale = 1 + weight
 * (weight starts at 0), eps 1e-5, no bias. xLSTM-7B style: scale = weight (starts at 1), eps 1e-6.
 * Params: {@code name + ".weight"} (dim,) and optionally {@code name + ".bias"} (dim,) starting at 0.
 */
public final class LayerNorm {
    public final Param weight;
    /** null when the norm has no bias. */
    public final Param bias;
    private final int dim;
    private final float eps;
    private final boolean offsetScale;
    private float[] x;            // input of the last forward (owned by the caller)
    private float[] mean, rstd;   // [rows] saved for backward

    public LayerNorm(String name, int dim, float eps, boolean offsetScale, boolean hasBias) {
        this.dim = dim;
        this.eps = eps;
        this.offsetScale = offsetScale;
        this.weight = Params.create(name + ".weight", dim);
        this.bias = hasBias ? Params.create(name + ".bias", dim) : null;
        if (!offsetScale) java.util.Arrays.fill(weight.data, 1f);
    }

    public int dim() { return dim; }

    /** The parameters: weight, then bias if present. */
    public List<Param> params() { return bias == null ? List.of(weight) : List.of(weight, bias); }

    /** y[rows, dim] = LN(x) (spec §1). Keeps a reference to x for {@link #backward}. */
    public void forward(float[] x, float[] y, int rows) {
        this.x = x;
        if (mean == null || mean.length < rows) { mean = new float[rows]; rstd = new float[rows]; }
        GroupNorms.forward(x, y, rows, 1, dim, weight.data, offsetScale, bias == null ? null : bias.data, eps, mean, rstd);
    }

    /** Params' grads +=; dx written (or added into when accumulateDx; skipped when dx is null). */
    public void backward(float[] dy, float[] dx, int rows, boolean accumulateDx) {
        GroupNorms.backward(x, dy, dx, rows, 1, dim, weight.data, offsetScale, weight.grad,
                bias == null ? null : bias.grad, mean, rstd, accumulateDx);
    }
}
