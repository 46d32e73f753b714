package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;

/**
 * RMS normalization of xLSTM-7B (spec §6.1): {@code y = x / sqrt(mean(x²) + eps) · w}, w starts at 1, eps 1e-6.
 * Param: {@code name + ".weight"} (dim,).
 */
public final class RMSNorm {
    public final Param weight;
    private final int dim;
    private final float eps;
    private float[] x;      // input of the last forward (owned by the caller)
    private float[] rstd;   // [rows] saved for backward

    public RMSNorm(String name, int dim, float eps) {
        this.dim = dim;
        this.eps = eps;
        this.weight = Params.create(name + ".weight", dim);
        java.util.Arrays.fill(weight.data, 1f);
    }

    public int dim() { return dim; }

    public List<Param> params() { return List.of(weight); }

    /** y[rows, dim] = RMSNorm(x). Keeps a reference to x for {@link #backward}. */
    public void forward(float[] x, float[] y, int rows) {
        this.x = x;
        if (rstd == null || rstd.length < rows) rstd = new float[rows];
        float[] w = weight.data;
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) x[o + i] * x[o + i];
            float rs = (float) (1.0 / Math.sqrt(ss / dim + eps)); // spec §6.1
            rstd[r] = rs;
            for (int i = 0; i < dim; i++) y[o + i] = (x[o + i] * rs) * w[i];
        }
    }

    /**
     * With x̂ = x·rstd and g = dy·w: dx = rstd·(g − x̂·mean(g·x̂)) (written, or added when accumulateDx; skipped when
     * dx is null); weight.grad += dy·x̂.
     */
    public void backward(float[] dy, float[] dx, int rows, boolean accumulateDx) {
        float[] w = weight.data, dw = weight.grad;
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            float rs = rstd[r];
            double sgx = 0;
            for (int i = 0; i < dim; i++) {
                float n = x[o + i] * rs;
                sgx += (double) dy[o + i] * w[i] * n;
                dw[i] += dy[o + i] * n;
            }
            if (dx == null) continue;
            float mgx = (float) (sgx / dim);
            for (int i = 0; i < dim; i++) {
                float n = x[o + i] * rs;
                float d = rs * (dy[o + i] * w[i] - n * mgx);
                dx[o + i] = accumulateDx ? dx[o + i] + d : d;
            }
        }
    }
}
