package org.xlstm4j.baselines;

/**
 * Independent double-precision forward passes written straight from the textbook definitions (no buffers, no
 * time-major tricks), used as the oracle of the layer tests and as the function whose finite differences check the
 * hand-written backward passes.
 */
final class Reference {
    private Reference() {}

    static double sigmoid(double x) { return 1 / (1 + Math.exp(-x)); }

    /**
     * LSTM layer, PyTorch gate order i, f, g, o: x [B, T, in] → h [B, T, H]; wih (4H, in), whh (4H, H), biases (4H).
     */
    static double[] lstm(double[] x, double[] wih, double[] whh, double[] bih, double[] bhh, int B, int T, int in, int H) {
        double[] y = new double[B * T * H];
        for (int b = 0; b < B; b++) {
            double[] h = new double[H], c = new double[H];
            for (int t = 0; t < T; t++) {
                double[] a = new double[4 * H];
                for (int j = 0; j < 4 * H; j++) {
                    double s = bih[j] + bhh[j];
                    for (int k = 0; k < in; k++) s += wih[j * in + k] * x[(b * T + t) * in + k];
                    for (int k = 0; k < H; k++) s += whh[j * H + k] * h[k];
                    a[j] = s;
                }
                for (int j = 0; j < H; j++) {
                    double i = sigmoid(a[j]), f = sigmoid(a[H + j]), g = Math.tanh(a[2 * H + j]), o = sigmoid(a[3 * H + j]);
                    c[j] = f * c[j] + i * g;
                    h[j] = o * Math.tanh(c[j]);
                    y[(b * T + t) * H + j] = h[j];
                }
            }
        }
        return y;
    }

    /**
     * Causal multi-head attention with rotate-half RoPE (base 10000): x [B, T, E] → y [B, T, E]; weights (E, E).
     */
    static double[] attention(double[] x, double[] wq, double[] wk, double[] wv, double[] wo, int B, int T, int E, int NH) {
        int D = E / NH;
        double[] q = linear(x, wq, B * T, E, E), k = linear(x, wk, B * T, E, E), v = linear(x, wv, B * T, E, E);
        rope(q, B, T, NH, D);
        rope(k, B, T, NH, D);
        double[] o = new double[B * T * E];
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++) {
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int u = 0; u <= t; u++) {
                        double dot = 0;
                        for (int d = 0; d < D; d++) dot += q[(b * T + t) * E + h * D + d] * k[(b * T + u) * E + h * D + d];
                        s[u] = dot / Math.sqrt(D);
                        max = Math.max(max, s[u]);
                    }
                    for (int u = 0; u <= t; u++) sum += Math.exp(s[u] - max);
                    for (int u = 0; u <= t; u++) {
                        double p = Math.exp(s[u] - max) / sum;
                        for (int d = 0; d < D; d++) o[(b * T + t) * E + h * D + d] += p * v[(b * T + u) * E + h * D + d];
                    }
                }
        return linear(o, wo, B * T, E, E);
    }

    /** Rotate-half RoPE in place: pair (i, i + D/2) of each head rotated by t·10000^(−2i/D). */
    static void rope(double[] x, int B, int T, int NH, int D) {
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < NH; h++)
                    for (int i = 0; i < D / 2; i++) {
                        int o = ((b * T + t) * NH + h) * D;
                        double th = t * Math.pow(10000, -2.0 * i / D), a = x[o + i], c = x[o + D / 2 + i];
                        x[o + i] = a * Math.cos(th) - c * Math.sin(th);
                        x[o + D / 2 + i] = a * Math.sin(th) + c * Math.cos(th);
                    }
    }

    /** y[rows, out] = x[rows, in] · Wᵀ with W (out, in). */
    static double[] linear(double[] x, double[] w, int rows, int in, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < out; j++) {
                double s = 0;
                for (int k = 0; k < in; k++) s += x[r * in + k] * w[j * in + k];
                y[r * out + j] = s;
            }
        return y;
    }

    static double[] toDouble(float[] a, int n) {
        double[] d = new double[n];
        for (int i = 0; i < n; i++) d[i] = a[i];
        return d;
    }

    static double dot(double[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /**
     * Central difference of f with respect to element i of {@code arr} (in double: the reference is double precision,
     * so a small step gives ~1e-9 accuracy).
     */
    static double numericGrad(double[] arr, int i, java.util.function.DoubleSupplier f) {
        double old = arr[i], h = 1e-5;
        arr[i] = old + h;
        double lp = f.getAsDouble();
        arr[i] = old - h;
        double lm = f.getAsDouble();
        arr[i] = old;
        return (lp - lm) / (2 * h);
    }

    /** max |num − ana| / max |num| over every element of {@code arr}. */
    static double relError(double[] arr, float[] analytic, java.util.function.DoubleSupplier f) {
        double maxDiff = 0, maxNum = 1e-12;
        for (int i = 0; i < arr.length; i++) {
            double num = numericGrad(arr, i, f);
            maxDiff = Math.max(maxDiff, Math.abs(num - analytic[i]));
            maxNum = Math.max(maxNum, Math.abs(num));
        }
        return maxDiff / maxNum;
    }
}
