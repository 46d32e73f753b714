package org.xlstm4j.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.xlstm4j.tensor.CpuKernels;

import java.util.Collection;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * JMH benchmark of {@link CpuKernels} square matrix products N×N×N in the three linear-layer layouts. Run it with
 * <pre>
 * mvn -q -o test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
 * java --add-modules jdk.incubator.vector -cp "target/test-classes:target/classes:$(cat target/test-classpath.txt)" \
 *     org.xlstm4j.bench.MatMulBenchmark [JMH options, e.g. -p n=1024 -p layout=xwt -p threads=2]
 * </pre>
 * It prints JMH's table (ms per product) and then the same results as GFLOP/s = 2·N³/time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class MatMulBenchmark {
    @Param({"256", "1024"})
    public int n;
    @Param({"xwt", "dyw", "dytx"})
    public String layout;
    /** 0 = all available processors. */
    @Param({"0"})
    public int threads;

    private CpuKernels kernels;
    private float[] a, b, c;

    @Setup(Level.Trial) public void setUp() {
        kernels = threads == 0 ? new CpuKernels() : new CpuKernels(threads);
        Random rnd = new Random(1);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        for (int i = 0; i < n * n; i++) {
            a[i] = (float) rnd.nextGaussian();
            b[i] = (float) rnd.nextGaussian();
        }
    }

    @TearDown(Level.Trial) public void tearDown() {
        kernels.close();
    }

    @Benchmark public float[] matmul() {
        switch (layout) {
            case "dyw" -> kernels.matmulDyW(a, 0, b, 0, c, 0, n, n, n, false);
            case "dytx" -> kernels.matmulDyTX(a, 0, b, 0, c, 0, n, n, n, false);
            default -> kernels.matmulXWt(a, 0, b, 0, c, 0, n, n, n, false);
        }
        return c;
    }

    public static void main(String[] args) throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder().parent(new CommandLineOptions(args))
                .include(MatMulBenchmark.class.getName()).build()).run();
        System.out.println();
        System.out.println("GFLOP/s = 2·N³ / time:");
        for (RunResult r : results) {
            var p = r.getParams();
            double n = Double.parseDouble(p.getParam("n")), ms = r.getPrimaryResult().getScore();
            double err = r.getPrimaryResult().getScoreError();
            System.out.printf("  n=%5s layout=%-4s threads=%s  %7.1f GFLOP/s  (%.3f ± %.3f ms)%n", p.getParam("n"),
                    p.getParam("layout"), p.getParam("threads"), 2 * n * n * n / (ms * 1e6), ms, err);
        }
    }
}
