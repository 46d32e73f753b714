package org.xlstm4j.train;

import org.xlstm4j.model.Param;

import java.util.List;

/** Gradient clipping by the global L2 norm over all parameters (PyTorch's {@code clip_grad_norm_}). */
public final class GradClip {
    private GradClip() {}

    /** The L2 norm of all gradients together, accumulated in double. */
    public static double globalNorm(List<Param> params) {
        double sum = 0;
        for (int i = 0, n = params.size(); i < n; i++) {
            float[] g = params.get(i).grad;
            for (float x : g) sum += (double) x * x;
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales all gradients by {@code maxNorm / (norm + 1e-6)} when that is below 1 and returns the norm before
     * clipping. A non-finite norm is returned as is and the gradients are left untouched: the caller must treat it as
     * divergence rather than train on. {@code maxNorm <= 0} or infinite disables clipping (the norm is still returned).
     */
    public static double clip(List<Param> params, double maxNorm) {
        double norm = globalNorm(params);
        if (!Double.isFinite(norm) || !(maxNorm > 0) || Double.isInfinite(maxNorm)) return norm;
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            float c = (float) coef;
            for (int i = 0, n = params.size(); i < n; i++) {
                float[] g = params.get(i).grad;
                for (int j = 0; j < g.length; j++) g[j] *= c;
            }
        }
        return norm;
    }
}
