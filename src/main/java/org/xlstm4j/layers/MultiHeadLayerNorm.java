package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;

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
    private final NormRows run;

    public MultiHeadLayerNorm(String name, int numHeads, int headDim, float eps, boolean offsetScale) {
        this.numHeads = numHeads;
        this.headDim = headDim;
        this.eps = eps;
        this.offsetScale = offsetScale;
        this.weight = Params.create(name + ".weight", numHeads * headDim);
        if (!offsetScale) java.util.Arrays.fill(weight.data, 1f);
        this.run = new NormRows(numHeads, headDim, eps, offsetScale, weight, null);
    }

    public int numHeads() { return numHeads; }

    public int headDim() { return headDim; }

    public float eps() { return eps; }

    /** Whether the scale is stored as an offset from 1 (y·(1 + w), the official residual weight). */
    public boolean offsetScale() { return offsetScale; }

    public List<Param> params() { return List.of(weight); }

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
