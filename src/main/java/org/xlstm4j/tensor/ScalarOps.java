package org.xlstm4j.tensor;

/**
 * Plain scalar twins of {@link VectorOps}, same signatures: the reference the SIMD kernels are tested against.
 * Transcendentals go through {@link Math} or {@link Activations} in double precision, and reductions accumulate in
 * double, so these are as close to the exact result as a float output allows.
 */
public final class ScalarOps {
    private ScalarOps() {}

    /** y = eˣ. */
    public static void exp(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) Math.exp(x[xOff + i]);
    }

    /** y = σ(x). */
    public static void sigmoid(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = Activations.sigmoid(x[xOff + i]);
    }

    /** y = x·σ(x). */
    public static void silu(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            double v = x[xOff + i];
            y[yOff + i] = (float) (v / (1.0 + Math.exp(-v)));
        }
    }

    /** y ← y·σ(g). */
    public static void mulSigmoid(float[] g, int gOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) (y[yOff + i] / (1.0 + Math.exp(-(double) g[gOff + i])));
    }

    /** g ← silu(g)·u. */
    public static void siluMul(float[] g, int gOff, float[] u, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            double v = g[gOff + i];
            g[gOff + i] = (float) (v / (1.0 + Math.exp(-v)) * u[uOff + i]);
        }
    }

    /** x ← cap·tanh(x / cap). */
    public static void softcap(float cap, float[] x, int off, int n) {
        for (int i = 0; i < n; i++) x[off + i] = (float) (cap * Math.tanh(x[off + i] / (double) cap));
    }

    /** y = ½·x·(1 + erf(x/√2)). */
    public static void gelu(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = Activations.gelu(x[xOff + i]);
    }

    /** y = erf(x). */
    public static void erf(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) Activations.erf(x[xOff + i]);
    }

    /** y = tanh(x). */
    public static void tanh(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = (float) Math.tanh(x[xOff + i]);
    }

    /** y = log σ(x). */
    public static void logSigmoid(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = Activations.logSigmoid(x[xOff + i]);
    }

    /** y = α·x. */
    public static void scale(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] = alpha * x[xOff + i];
    }

    /** y += α·x. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) y[yOff + i] += alpha * x[xOff + i];
    }

    /** Σ a[i]·b[i]. */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[aOff + i] * b[bOff + i];
        return (float) s;
    }

    /** Σ x[i]. */
    public static float sum(float[] x, int off, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[off + i];
        return (float) s;
    }

    /** max x[i] (−∞ for n = 0). */
    public static float max(float[] x, int off, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }

    /** log Σ eˣ⁽ⁱ⁾ (−∞ for n = 0 or all −∞). */
    public static float logSumExp(float[] x, int off, int n) {
        float mx = max(x, off, n);
        if (mx == Float.NEGATIVE_INFINITY) return mx;
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.exp(x[off + i] - (double) mx);
        return (float) (mx + Math.log(s));
    }

    /** Row-wise softmax of x[rows, cols] into y. */
    public static void softmax(float[] x, int xOff, float[] y, int yOff, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int xi = xOff + r * cols, yi = yOff + r * cols;
            double mx = max(x, xi, cols), s = 0;
            for (int i = 0; i < cols; i++) s += Math.exp(x[xi + i] - mx);
            for (int i = 0; i < cols; i++) y[yi + i] = (float) (Math.exp(x[xi + i] - mx) / s);
        }
    }

    /** Layer norm of each row, as {@link VectorOps#layerNorm}. */
    public static void layerNorm(float[] x, int xOff, float[] y, int yOff, int rows, int cols, float[] w, int wOff,
                                 float[] b, int bOff, float eps, float[] mean, float[] rstd, int statOff) {
        for (int r = 0; r < rows; r++) {
            int xi = xOff + r * cols, yi = yOff + r * cols;
            double mu = 0, var = 0;
            for (int i = 0; i < cols; i++) mu += x[xi + i];
            mu /= cols;
            for (int i = 0; i < cols; i++) var += (x[xi + i] - mu) * (x[xi + i] - mu);
            double rs = 1.0 / Math.sqrt(var / cols + eps);
            for (int i = 0; i < cols; i++) {
                double v = (x[xi + i] - mu) * rs;
                if (w != null) v *= w[wOff + i];
                if (b != null) v += b[bOff + i];
                y[yi + i] = (float) v;
            }
            if (mean != null) mean[statOff + r] = (float) mu;
            if (rstd != null) rstd[statOff + r] = (float) rs;
        }
    }

    /** RMS norm of each row, as {@link VectorOps#rmsNorm}. */
    public static void rmsNorm(float[] x, int xOff, float[] y, int yOff, int rows, int cols, float[] w, int wOff,
                               float eps, float[] rstd, int statOff) {
        for (int r = 0; r < rows; r++) {
            int xi = xOff + r * cols, yi = yOff + r * cols;
            double ss = 0;
            for (int i = 0; i < cols; i++) ss += (double) x[xi + i] * x[xi + i];
            double rs = 1.0 / Math.sqrt(ss / cols + eps);
            for (int i = 0; i < cols; i++) {
                double v = x[xi + i] * rs;
                if (w != null) v *= w[wOff + i];
                y[yi + i] = (float) v;
            }
            if (rstd != null) rstd[statOff + r] = (float) rs;
        }
    }
}
