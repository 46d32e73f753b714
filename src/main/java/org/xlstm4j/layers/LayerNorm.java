package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;

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
    private final NormRows run;

    public LayerNorm(String name, int dim, float eps, boolean offsetScale, boolean hasBias) {
        this.dim = dim;
        this.eps = eps;
        this.offsetScale = offsetScale;
        this.weight = Params.create(name + ".weight", dim);
        this.bias = hasBias ? Params.create(name + ".bias", dim) : null;
        if (!offsetScale) java.util.Arrays.fill(weight.data, 1f);
        this.run = new NormRows(1, dim, eps, offsetScale, weight, bias);
    }

    public int dim() { return dim; }

    public float eps() { return eps; }

    /** Whether the scale is stored as an offset from 1 (y·(1 + w), the official residual weight). */
    public boolean offsetScale() { return offsetScale; }

    /** The parameters: weight, then bias if present. */
    public List<Param> params() { return bias == null ? List.of(weight) : List.of(weight, bias); }

    /** y[rows, ·] = the norm of x (spec §1). Keeps a reference to x for {@link #backward}. */
    public void forward(float[] x, float[] y, int rows) {
        forward(null, x, y, rows);
    }

    /** As {@link #forward(float[], float[], int)}, rows split over {@code k}'s threads (null = the calling thread). */
    public void forward(Kernels k, float[] x, float[] y, int rows) {
        run.forward(k, x, y, rows);
    }

    /** Params' grads +=; dx written (or added into when accumulateDx; skipped when dx is null). */
    public void backward(float[] dy, float[] dx, int rows, boolean accumulateDx) {
        backward(null, dy, dx, rows, accumulateDx);
    }

    /** As {@link #backward(float[], float[], int, boolean)}, rows split over {@code k}'s threads. */
    public void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx) {
        run.backward(k, dy, dx, rows, accumulateDx);
    }
}
