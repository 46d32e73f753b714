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
 * of numpy's OpenBLAS on the same machine in the same run ({@link NumpyBlas}), timed alternately with our y = x·Wᵀ
 * run for run, with our ratio to it.
 */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = {"GFLOP/s of N×N×N matrix products: SIMD kernels, scalar twin (N ≤ 256) and OpenBLAS.",
                "Times y = x·Wᵀ, dx = dy·W and dW = dyᵀ·x on the SIMD kernels; when python3 with numpy is found, numpy's "
                + "OpenBLAS (same thread count) is timed run for run alternately with our y = x·Wᵀ."})
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
        double[] ours, theirs = null;
        NumpyBlas numpy = null;
        try (CpuKernels k = new CpuKernels(t)) {
            if (warmup > 0) jitWarmup(k);
            warm(k, "x", a, b, c, n);
            if (blas) numpy = NumpyBlas.start(n, t, warmup);
            // y = x·Wᵀ run for run against numpy, so that both see the same load on a shared machine
            double[] sec = new double[runs], blasSec = new double[runs];
            for (int i = 0; i < runs; i++) {
                sec[i] = timeOne(k, "x", a, b, c, n);
                if (numpy != null) blasSec[i] = numpy.timeOne();
            }
            ours = gflops(sec, n);
            if (numpy != null && numpy.problem() == null) theirs = gflops(blasSec, n);
            if (numpy != null) numpy.close();
            report(out, "y = x·Wᵀ", ours, k.name());
            report(out, "dx = dy·W", measure(k, "dyw", a, b, c, n), k.name());
            report(out, "dW = dyᵀ·x", measure(k, "dytx", a, b, c, n), k.name());
        }
        if (n <= SCALAR_MAX) report(out, "y = x·Wᵀ", measure(new ScalarKernels(), "x", a, b, c, n), "scalar twin (1 thread)");
        else out.printf("  scalar twin: not timed for N > %d%n", SCALAR_MAX);
        if (numpy != null) {
            if (theirs == null) {
                out.println("  OpenBLAS: not available (" + numpy.problem() + ")");
            } else {
                report(out, "y = x·Wᵀ", theirs, numpy.label() + ", " + t + (t == 1 ? " thread" : " threads"));
                out.printf("  ratio cpu-simd / %s (y = x·Wᵀ, timed run for run alternately): %.2f median, %.2f best%n",
                        numpy.isOpenBlas() ? "OpenBLAS" : "numpy BLAS", ours[0] / theirs[0], ours[1] / theirs[1]);
            }
        }
        out.flush();
        return 0;
    }

    /** Minimum warm-up time (unless --warmup 0): the JIT compiles the kernels' hot loops within it. */
    static final long WARMUP_NANOS = 1_000_000_000L;

    /** {median, best} GFLOP/s of one layout: {@code warmup} untimed runs (and at least 1 s), then {@code runs} timed ones. */
    private double[] measure(Kernels k, String layout, float[] a, float[] b, float[] c, int n) {
        warm(k, layout, a, b, c, n);
        double[] sec = new double[runs];
        for (int i = 0; i < runs; i++) sec[i] = timeOne(k, layout, a, b, c, n);
        return gflops(sec, n);
    }

    /** {@code warmup} untimed runs, lasting at least 1 s unless warmup is 0. */
    private void warm(Kernels k, String layout, float[] a, float[] b, float[] c, int n) {
        long start = System.nanoTime();
        for (int i = 0; i < warmup || (warmup > 0 && System.nanoTime() - start < WARMUP_NANOS); i++) product(k, layout, a, b, c, n);
    }

    private static double timeOne(Kernels k, String layout, float[] a, float[] b, float[] c, int n) {
        long t0 = System.nanoTime();
        product(k, layout, a, b, c, n);
        return (System.nanoTime() - t0) * 1e-9;
    }

    /** {median, best} GFLOP/s = 2·N³ / seconds. */
    private static double[] gflops(double[] sec, int n) {
        double[] s = sec.clone();
        Arrays.sort(s);
        int r = s.length;
        double median = r % 2 == 1 ? s[r / 2] : 0.5 * (s[r / 2 - 1] + s[r / 2]);
        double flops = 2.0 * n * n * n;
        return new double[]{flops / median * 1e-9, flops / s[0] * 1e-9};
    }

    /**
     * Many small products of every layout before any timing: the JIT compiles a method after enough calls, and a
     * few large products (or a slow, busy machine) would otherwise leave parts of the kernels interpreted. Stops
     * after 30 000 products or 5 s.
     */
    private static void jitWarmup(Kernels k) {
        float[] a = new float[72 * 72], b = new float[72 * 72], c = new float[72 * 72];
        String[] layouts = {"x", "dyw", "dytx"};
        long start = System.nanoTime();
        for (int i = 0; i < 30_000 && System.nanoTime() - start < 5_000_000_000L; i++) {
            product(k, layouts[i % 3], a, b, c, i % 2 == 0 ? 72 : 40);
        }
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
