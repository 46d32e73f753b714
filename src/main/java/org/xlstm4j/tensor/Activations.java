package org.xlstm4j.tensor;

/**
 * Element-wise activation functions (scalar reference forms) and their derivatives, in the exact forms PyTorch uses.
 * Array versions that run over whole buffers live in {@link VectorOps} (SIMD) with these as their scalar twins.
 */
public final class Activations {
    private Activations() {}

    private static final double INV_SQRT2 = 0.7071067811865476;
    private static final double INV_SQRT_2PI = 0.3989422804014327;

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

    /** erf with absolute error below 1.2e-7 (Numerical Recipes erfc Chebyshev form), enough for float32 GELU. */
    public static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }
}
