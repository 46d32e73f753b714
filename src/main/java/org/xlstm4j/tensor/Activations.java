package org.xlstm4j.tensor;

/**
 * Element-wise activation functions (scalar reference forms) and their derivatives, in the exact forms PyTorch uses.
 * Array versions that run over whole buffers live in {@link VectorOps} (SIMD) with these as their scalar twins.
 */
public final class Activations {
    private Activations() {}

    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;
    private static final double INV_SQRT_PI = 0.5641895835477563;

    public static float sigmoid(float x) {
        return (float) (1.0 / (1.0 + Math.exp(-x)));
    }

    /** log σ(x) = −softplus(−x), computed without overflow. */
    public static float logSigmoid(float x) {
        return x >= 0 ? (float) -Math.log1p(Math.exp(-x)) : (float) (x - Math.log1p(Math.exp(x)));
    }

    /** softplus(x) = log(1 + e^x), computed without overflow. */
    public static float softplus(float x) {
        return x > 0 ? (float) (x + Math.log1p(Math.exp(-x))) : (float) Math.log1p(Math.exp(x));
    }

    /** SiLU / swish: x·σ(x). */
    public static float silu(float x) {
        return x * sigmoid(x);
    }

    /** d silu(x) / dx = σ(x)·(1 + x·(1 − σ(x))). */
    public static float siluGrad(float x) {
        float s = sigmoid(x);
        return s * (1f + x * (1f - s));
    }

    /** Exact GELU as PyTorch's default: x·Φ(x) = 0.5·x·(1 + erf(x/√2)). */
    public static float gelu(float x) {
        return (float) (0.5 * x * (1.0 + erf(x * INV_SQRT2)));
    }

    /** d gelu(x)/dx = Φ(x) + x·φ(x). */
    public static float geluGrad(float x) {
        double cdf = 0.5 * (1.0 + erf(x * INV_SQRT2));
        double pdf = INV_SQRT_2PI * Math.exp(-0.5 * (double) x * x);
        return (float) (cdf + x * pdf);
    }

    /** Soft cap c·tanh(x/c) used by xLSTM-7B on gates and logits. */
    public static float softcap(float x, float cap) {
        return (float) (cap * Math.tanh(x / cap));
    }

    /**
     * erf(x) to double precision (absolute error below 2e-15): for |x| &lt; 2.5 the everywhere-positive series
     * erf(x) = 2/√π·e^(−x²)·Σₙ (2x²)ⁿ·x / (1·3·5···(2n+1)) (no cancellation), above that the continued fraction
     * erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + (3/2)/(x + …)))) evaluated 40 levels deep; 1 beyond 6.
     */
    public static double erf(double x) {
        double z = Math.abs(x), r;
        if (z < 2.5) {
            double term = z, sum = z, z2 = 2 * z * z;
            for (int n = 1; term > 1e-17 * sum; n++) {
                term *= z2 / (2 * n + 1);
                sum += term;
            }
            r = 2 * INV_SQRT_PI * Math.exp(-z * z) * sum;
        } else if (z < 6) {
            double f = z;
            for (int k = 40; k > 0; k--) f = z + 0.5 * k / f;
            r = 1.0 - Math.exp(-z * z) * INV_SQRT_PI / f;
        } else {
            r = z == z ? 1.0 : z; // NaN stays NaN
        }
        return x >= 0 ? r : -r;
    }
}
