package org.xlstm4j.layers;

import java.util.random.RandomGenerator;
import org.xlstm4j.model.Param;

/**
 * Parameter initializers of the official code (spec §2.3, §4.1, §4.3, §6.3). All random ones draw from the given
 * generator in index order, so a seeded generator gives the same values every run (not PyTorch's values: weights
 * meant to match PyTorch are loaded from checkpoints).
 */
public final class Init {
    private Init() {}

    /** small_init: N(0, sqrt(2 / (5·dim))) (spec §4.3). */
    public static void smallInit(Param p, int dim, RandomGenerator rng) {
        normal(p, Math.sqrt(2.0 / (5.0 * dim)), rng);
    }

    /** wang_init: N(0, 2 / (numBlocks·sqrt(dim))) (spec §4.3). */
    public static void wangInit(Param p, int dim, int numBlocks, RandomGenerator rng) {
        normal(p, 2.0 / (numBlocks * Math.sqrt(dim)), rng);
    }

    /** N(0, std²). */
    public static void normal(Param p, double std, RandomGenerator rng) {
        float[] d = p.data;
        for (int i = 0; i < d.length; i++) d[i] = (float) (std * rng.nextGaussian());
    }

    /** U(lo, hi). */
    public static void uniform(Param p, double lo, double hi, RandomGenerator rng) {
        float[] d = p.data;
        for (int i = 0; i < d.length; i++) d[i] = (float) (lo + (hi - lo) * rng.nextDouble());
    }

    /** Every element = value. */
    public static void constant(Param p, float value) {
        java.util.Arrays.fill(p.data, value);
    }

    /**
     * torch.linspace(start, end, n) over the flattened parameter: the first half counts up from start, the second
     * half down from end (as PyTorch does), so both end points are exact.
     */
    public static void linspace(Param p, double start, double end) {
        float[] d = p.data;
        int n = d.length;
        if (n == 1) { d[0] = (float) start; return; }
        double step = (end - start) / (n - 1);
        for (int i = 0; i < n; i++) d[i] = (float) (i < n / 2 ? start + step * i : end - step * (n - 1 - i));
    }

    /**
     * PyTorch's default Linear/Conv1d init: kaiming_uniform(a = √5) for the weight, which is U(±1/√fanIn), and
     * U(±1/√fanIn) for the bias (bias may be null).
     */
    public static void pytorchDefault(Param weight, Param bias, int fanIn, RandomGenerator rng) {
        double bound = 1.0 / Math.sqrt(fanIn);
        uniform(weight, -bound, bound, rng);
        if (bias != null) uniform(bias, -bound, bound, rng);
    }

    /** PyTorch default init of a Linear (fan_in = in). */
    public static void pytorchDefault(Linear l, RandomGenerator rng) {
        pytorchDefault(l.weight, l.bias, l.in(), rng);
    }

    /** PyTorch default init of a depthwise Conv1d (fan_in = in_channels/groups · K = K). */
    public static void pytorchDefault(CausalConv1d c, RandomGenerator rng) {
        pytorchDefault(c.weight, c.bias, c.kernelSize(), rng);
    }
}
