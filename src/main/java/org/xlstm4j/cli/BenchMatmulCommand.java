package org.xlstm4j.cli;

import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code xlstm bench matmul}: GFLOP/s (2·N³ / time, median and best of several timed runs after warm-up) of the
 * square matrix products of the three linear-layer layouts on {@link CpuKernels}, of the scalar twin for N ≤ 256, and
 * of numpy's OpenBLAS on the same machine in the same run ({@link NumpyBlas}), with our ratio to it.
 */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = {"GFLOP/s of the N×N×N matrix products y = x·Wᵀ, dx = dy·W and dW = dyᵀ·x on the SIMD kernels,",
                "the scalar twin (N ≤ 256) and, when python3 with numpy is found, OpenBLAS with the same thread count."})
public final class BenchMatmulCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--size", defaultValue = "1024", description = "N: the products are N×N×N (default: ${DEFAULT-VALUE})")
    int size;
    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;
    @Option(names = "--runs", defaultValue = "10", description = "timed runs; the median and best are reported (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--warmup", defaultValue = "5",
            description = "untimed runs first, for the JIT; when not 0, warm-up also lasts at least 1 s (default: ${DEFAULT-VALUE})")
    int warmup;
    @Option(names = "--blas", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "also measure numpy's BLAS in a python3 subprocess (default: on; --no-blas skips it)")
    boolean blas;

    /** Sizes up to this also time the scalar twin (it runs about 1 GFLOP/s). */
    static final int SCALAR_MAX = 256;

    @Override public Integer call() {
        int n = size, t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        CommandLine cl = spec.commandLine();
        if (n < 1) throw new CommandLine.ParameterException(cl, "--size must be at least 1, got " + n);
        if (t < 1) throw new CommandLine.ParameterException(cl, "--threads must be at least 1, got " + t);
        if (runs < 1) throw new CommandLine.ParameterException(cl, "--runs must be at least 1, got " + runs);
        if (warmup < 0) throw new CommandLine.ParameterException(cl, "--warmup must be at least 0, got " + warmup);
        PrintWriter out = cl.getOut();
        out.printf("matmul %d×%d×%d, %d thread%s, %s; GFLOP/s = 2·N³/time, median (best) of %d runs after %s%n",
                n, n, n, t, t == 1 ? "" : "s", cpuModel(), runs, warmup == 0 ? "no warm-up" : "≥ " + warmup + " warm-up runs and ≥ 1 s");
        Random rnd = new Random(1);
        float[] a = random(n * n, rnd), b = random(n * n, rnd), c = new float[n * n];
        double[] ours;
        try (CpuKernels k = new CpuKernels(t)) {
            ours = measure(k, "x", a, b, c, n);
            report(out, "y = x·Wᵀ", ours, k.name());
            report(out, "dx = dy·W", measure(k, "dyw", a, b, c, n), k.name());
            report(out, "dW = dyᵀ·x", measure(k, "dytx", a, b, c, n), k.name());
        }
        if (n <= SCALAR_MAX) report(out, "y = x·Wᵀ", measure(new ScalarKernels(), "x", a, b, c, n), "scalar twin (1 thread)");
        else out.printf("  scalar twin: not timed for N > %d%n", SCALAR_MAX);
        if (blas) {
            out.flush();
            NumpyBlas.Result r = NumpyBlas.measure(n, t, runs, warmup);
            if (r.problem() != null) {
                out.println("  OpenBLAS: not available (" + r.problem() + ")");
            } else {
                report(out, "y = x·Wᵀ", new double[]{r.medianGflops(), r.bestGflops()}, r.label() + ", " + t + (t == 1 ? " thread" : " threads"));
                out.printf("  ratio cpu-simd / %s (y = x·Wᵀ): %.2f median, %.2f best%n",
                        r.isOpenBlas() ? "OpenBLAS" : "numpy BLAS", ours[0] / r.medianGflops(), ours[1] / r.bestGflops());
            }
        }
        out.flush();
        return 0;
    }

    /** Minimum warm-up time (unless --warmup 0): the JIT compiles the kernels' hot loops within it. */
    static final long WARMUP_NANOS = 1_000_000_000L;

    /** {median, best} GFLOP/s of one layout: {@code warmup} untimed runs (and at least 1 s), then {@code runs} timed ones. */
    private double[] measure(Kernels k, String layout, float[] a, float[] b, float[] c, int n) {
        long start = System.nanoTime();
        for (int i = 0; i < warmup || (warmup > 0 && System.nanoTime() - start < WARMUP_NANOS); i++) product(k, layout, a, b, c, n);
        double[] sec = new double[runs];
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            product(k, layout, a, b, c, n);
            sec[i] = (System.nanoTime() - t0) * 1e-9;
        }
        Arrays.sort(sec);
        double median = runs % 2 == 1 ? sec[runs / 2] : 0.5 * (sec[runs / 2 - 1] + sec[runs / 2]);
        double flops = 2.0 * n * n * n;
        return new double[]{flops / median * 1e-9, flops / sec[0] * 1e-9};
    }

    private static void product(Kernels k, String layout, float[] a, float[] b, float[] c, int n) {
        switch (layout) {
            case "dyw" -> k.matmulDyW(a, 0, b, 0, c, 0, n, n, n, false);
            case "dytx" -> k.matmulDyTX(a, 0, b, 0, c, 0, n, n, n, false);
            default -> k.matmulXWt(a, 0, b, 0, c, 0, n, n, n, false);
        }
    }

    private static void report(PrintWriter out, String what, double[] g, String who) {
        out.printf("  %-10s %8.2f GFLOP/s (best %8.2f)  %s%n", what, g[0], g[1], who);
    }

    private static float[] random(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    /** The processor's model name from /proc/cpuinfo, or the OS architecture where that is not readable. */
    static String cpuModel() {
        try (var lines = java.nio.file.Files.lines(java.nio.file.Path.of("/proc/cpuinfo"))) {
            return lines.filter(l -> l.startsWith("model name")).map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse(System.getProperty("os.arch"));
        } catch (Exception e) {
            return System.getProperty("os.arch");
        }
    }
}
