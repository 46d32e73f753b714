package org.xlstm4j.baselines;

/**
 * Rotary position embedding (Su et al. 2021) in Llama's "rotate half" form: within each head of size D, the pair
 * (x_i, x_{i+D/2}) at position t is rotated by the angle t·θ_i with θ_i = base^(−2i/D):
 * <pre>  (a, b) → (a·cos − b·sin, a·sin + b·cos)  </pre>
 * The rotation is orthogonal, so the backward is the rotation by −t·θ_i ({@link #apply} with {@code inverse}).
 */
public final class RotaryEmbedding {
    private final int headDim;
    private final double base;
    private float[] cos, sin;   // [T, D/2]
    private int cachedT;

    public RotaryEmbedding(int headDim, double base) {
        if (headDim % 2 != 0) throw new IllegalArgumentException("rotary head dim must be even, got " + headDim);
        this.headDim = headDim;
        this.base = base;
    }

    private void ensure(int T) {
        if (T <= cachedT) return;
        int half = headDim / 2;
        cos = new float[T * half];
        sin = new float[T * half];
        for (int t = 0; t < T; t++)
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(base, -2.0 * i / headDim);
                cos[t * half + i] = (float) Math.cos(angle);
                sin[t * half + i] = (float) Math.sin(angle);
            }
        cachedT = T;
    }

    /**
     * Rotates x [B, T, NH·D] (heads contiguous within a row) into y (may be x), position t = index within the sequence;
     * {@code inverse} rotates by the negative angle (the transpose, used for gradients).
     */
    public void apply(float[] x, float[] y, int B, int T, int NH, boolean inverse) {
        ensure(T);
        int D = headDim, half = D / 2;
        float sign = inverse ? -1f : 1f;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < NH; h++) {
                    int o = ((b * T + t) * NH + h) * D, ct = t * half;
                    for (int i = 0; i < half; i++) {
                        float a = x[o + i], c = x[o + half + i];
                        float co = cos[ct + i], si = sign * sin[ct + i];
                        y[o + i] = a * co - c * si;
                        y[o + half + i] = a * si + c * co;
                    }
                }
    }
}
