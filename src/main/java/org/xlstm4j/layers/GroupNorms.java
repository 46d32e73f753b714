package org.xlstm4j.layers;

/**
 * The shared math of {@link LayerNorm} (one group) and {@link MultiHeadLayerNorm} (one group per head): each row of
 * {@code groups·gdim} features is normalized per group of {@code gdim} contiguous features with the biased variance,
 * then scaled per feature. Statistics are accumulated in double.
 */
final class GroupNorms {
    private GroupNorms() {}

    /**
     * y = (x − μ)·rstd · scale + bias per group, rstd = 1/sqrt(var + eps); scale = 1 + w when offsetScale, else w.
     * Saves μ and rstd per (row, group) into mean/rstd [rows·groups].
     */
    static void forward(float[] x, float[] y, int rows, int groups, int gdim, float[] w, boolean offsetScale,
                        float[] bias, float eps, float[] mean, float[] rstd) {
        final float off = offsetScale ? 1f : 0f;
        final int dim = groups * gdim;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * dim + g * gdim, f0 = g * gdim;
                double s = 0;
                for (int i = 0; i < gdim; i++) s += x[o + i];
                double mu = s / gdim, v = 0;
                for (int i = 0; i < gdim; i++) { double c = x[o + i] - mu; v += c * c; }
                float m = (float) mu, rs = (float) (1.0 / Math.sqrt(v / gdim + eps)); // spec §1: biased variance
                mean[r * groups + g] = m;
                rstd[r * groups + g] = rs;
                for (int i = 0; i < gdim; i++) {
                    float n = (x[o + i] - m) * rs;
                    float yi = n * (off + w[f0 + i]);
                    y[o + i] = bias != null ? yi + bias[f0 + i] : yi;
                }
            }
        }
    }

    /**
     * With x̂ = (x − μ)·rstd and g = dy·scale: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per group (written, or added
     * when accumulateDx; skipped when dx is null); dw += dy·x̂; dbias += dy.
     */
    static void backward(float[] x, float[] dy, float[] dx, int rows, int groups, int gdim, float[] w,
                         boolean offsetScale, float[] dw, float[] dbias, float[] mean, float[] rstd,
                         boolean accumulateDx) {
        final float off = offsetScale ? 1f : 0f;
        final int dim = groups * gdim;
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int o = r * dim + g * gdim, f0 = g * gdim;
                float m = mean[r * groups + g], rs = rstd[r * groups + g];
                double sg = 0, sgx = 0;
                for (int i = 0; i < gdim; i++) {
                    float n = (x[o + i] - m) * rs;
                    float gi = dy[o + i] * (off + w[f0 + i]);
                    sg += gi;
                    sgx += (double) gi * n;
                    dw[f0 + i] += dy[o + i] * n;
                    if (dbias != null) dbias[f0 + i] += dy[o + i];
                }
                if (dx == null) continue;
                float mg = (float) (sg / gdim), mgx = (float) (sgx / gdim);
                for (int i = 0; i < gdim; i++) {
                    float n = (x[o + i] - m) * rs;
                    float gi = dy[o + i] * (off + w[f0 + i]);
                    float d = rs * (gi - mg - n * mgx);
                    dx[o + i] = accumulateDx ? dx[o + i] + d : d;
                }
            }
        }
    }
}
