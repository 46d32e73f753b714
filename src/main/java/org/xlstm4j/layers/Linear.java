package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;

/**
 * Fully connected layer {@code y = x Wᵀ + b} with W stored (out, in) as in PyTorch (spec §1).
 * Params: {@code name + ".weight"} (out, in) and, if present, {@code name + ".bias"} (out,). Both start at zero;
 * see {@link Init} for initializers.
 */
public final class Linear {
    public final Param weight;
    /** null when the layer has no bias. */
    public final Param bias;
    private final int in, out;
    private float[] x; // input of the last forward (owned by the caller)

    public Linear(String name, int in, int out, boolean hasBias) {
        this.in = in;
        this.out = out;
        this.weight = Params.create(name + ".weight", out, in);
        this.bias = hasBias ? Params.create(name + ".bias", out) : null;
    }

    public int in() { return in; }

    public int out() { return out; }

    /** The parameters: weight, then bias if present. */
    public List<Param> params() { return bias == null ? List.of(weight) : List.of(weight, bias); }

    /** y[rows, out] = x[rows, in] · Wᵀ + b. Keeps a reference to x for {@link #backward}. */
    public void forward(Kernels k, float[] x, float[] y, int rows) {
        this.x = x;
        k.matmulXWt(x, 0, weight.data, 0, y, 0, rows, out, in, false);
        if (bias != null) {
            float[] b = bias.data;
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) y[o + j] += b[j];
            }
        }
    }

    /**
     * Given dy[rows, out] for the last forward: W.grad += dyᵀ x, b.grad += Σ_rows dy, and dx[rows, in] = dy W
     * (added into dx when accumulateDx; skipped when dx is null).
     */
    public void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx) {
        backward(k, dy, dx, rows, accumulateDx, x);
    }

    /**
     * As {@link #backward(Kernels, float[], float[], int, boolean)} with the forward's input given explicitly (for a
     * caller that recomputed it into another array instead of keeping the original).
     */
    public void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx, float[] x) {
        k.matmulDyTX(dy, 0, x, 0, weight.grad, 0, rows, out, in, true);
        if (bias != null) {
            float[] db = bias.grad;
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) db[j] += dy[o + j];
            }
        }
        if (dx != null) k.matmulDyW(dy, 0, weight.data, 0, dx, 0, rows, out, in, accumulateDx);
    }
}
