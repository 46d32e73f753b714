package org.xlstm4j.cli;

import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.model.XLstmInit;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.train.AdamW;
import org.xlstm4j.train.TrainConfig;
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
 * {@code xlstm bench train --preset P}: training throughput of a preset model ({@link BenchPreset}) in tokens/s — one
 * step = zero the gradients, forward, cross-entropy, backward, AdamW update ({@link AdamW}, the defaults of
 * {@link TrainConfig}) over a batch of random byte tokens — as the median over timed steps after warm-up, with the
 * spread, the heap (live after GC, peak during the timed steps) and the bytes allocated per step.
 */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Training throughput of a preset model: tokens/s of forward + backward + AdamW step (median of the "
                + "timed steps after warm-up), heap and allocation per step.",
                "Presets (vocabulary 256, batch 8, sequence 256): m-tiny, ms-tiny, s-tiny, m-small, ms-small; see docs/PERFORMANCE.md."})
public final class BenchTrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--preset", required = true, description = "m-tiny, ms-tiny, s-tiny, m-small or ms-small")
    String preset;
    @Option(names = "--steps", defaultValue = "10", description = "timed steps (default: ${DEFAULT-VALUE})")
    int steps;
    @Option(names = "--warmup", defaultValue = "3", description = "untimed steps first, at least (default: ${DEFAULT-VALUE})")
    int warmup;
    @Option(names = "--warmup-seconds", defaultValue = "20",
            description = "warm-up lasts at least this long too, so that the JIT has compiled the hot loops (default: ${DEFAULT-VALUE})")
    double warmupSeconds;
    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;
    @Option(names = "--seq", defaultValue = "256", description = "sequence length (default: ${DEFAULT-VALUE})")
    int seq;
    @Option(names = "--batch", defaultValue = "8", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;
    @Option(names = "--form", defaultValue = "chunkwise", description = "mLSTM training form: chunkwise or parallel (default: ${DEFAULT-VALUE})")
    String form;
    @Option(names = "--chunk-size", defaultValue = "0",
            description = "chunk of the chunkwise mLSTM; 0 = auto: one chunk up to 64 + 1.5·head dim tokens, else 64 (default: ${DEFAULT-VALUE})")
    int chunkSize;
    @Option(names = "--seed", defaultValue = "1", description = "seed of the initialisation and the tokens (default: ${DEFAULT-VALUE})")
    long seed;

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new BenchTrainCommand());
        cl.setExecutionExceptionHandler(new Errors());
        System.exit(cl.execute(args));
    }

    @Override public Integer call() {
        CommandLine cl = spec.commandLine();
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) throw new CommandLine.ParameterException(cl, "--threads must be at least 1, got " + t);
        if (steps < 1) throw new CommandLine.ParameterException(cl, "--steps must be at least 1, got " + steps);
        if (warmup < 0) throw new CommandLine.ParameterException(cl, "--warmup must be at least 0, got " + warmup);
        if (seq < 1) throw new CommandLine.ParameterException(cl, "--seq must be at least 1, got " + seq);
        if (batch < 1) throw new CommandLine.ParameterException(cl, "--batch must be at least 1, got " + batch);
        if (chunkSize < 0) throw new CommandLine.ParameterException(cl, "--chunk-size must be at least 0 (auto), got " + chunkSize);
        MLstmLayer.Form f = switch (form) {
            case "chunkwise" -> MLstmLayer.Form.CHUNKWISE;
            case "parallel" -> MLstmLayer.Form.PARALLEL;
            default -> throw new CommandLine.ParameterException(cl, "--form must be chunkwise or parallel, got " + form);
        };
        BenchPreset p = BenchPreset.of(preset);
        PrintWriter out = cl.getOut();
        XLstmConfig cfg = p.config(seq);
        try (CpuKernels kernels = new CpuKernels(t)) {
            XLstmLM model = new XLstmLM(cfg, kernels);
            XLstmInit.apply(model, seed);
            model.setMLstmForm(f, chunkSize);
            TrainConfig tc = TrainConfig.defaults();
            AdamW opt = AdamW.of(model.parameters(), tc);
            int B = batch, T = seq, n = B * T;
            Random rnd = new Random(seed);
            int[] tokens = new int[n + 1];
            for (int i = 0; i < tokens.length; i++) tokens[i] = rnd.nextInt(cfg.vocabSize);
            int[] x = java.util.Arrays.copyOf(tokens, n), y = java.util.Arrays.copyOfRange(tokens, 1, n + 1);
            out.printf("train %s: %d blocks, E %d, sLSTM at %s, %.3g parameters; batch %d × sequence %d; mLSTM %s%s; %d thread%s, %s%n",
                    p.label, cfg.numBlocks, cfg.embeddingDim, java.util.Arrays.toString(cfg.slstmAt), (double) model.parameterCount(),
                    B, T, form, f == MLstmLayer.Form.CHUNKWISE ? " (chunk " + (chunkSize == 0 ? "auto" : chunkSize) + ")" : "", t, t == 1 ? "" : "s",
                    BenchMatmulCommand.cpuModel());
            out.printf("  load average at start: %.2f%n", BenchStats.loadAverage());
            out.flush();
            float loss = Float.NaN;
            long w0 = System.nanoTime();
            int warmSteps = 0;
            while (warmSteps < warmup || (System.nanoTime() - w0) * 1e-9 < warmupSeconds && warmSteps < 200) {
                loss = step(model, opt, x, y, B, T, tc.lr());
                warmSteps++;
            }
            long live = BenchStats.liveHeapAfterGc();
            BenchStats.resetPeakHeap();
            long alloc0 = BenchStats.totalAllocatedBytes(), cpu0 = BenchStats.processCpuNanos();
            double[] tps = new double[steps];
            for (int i = 0; i < steps; i++) {
                long t0 = System.nanoTime();
                loss = step(model, opt, x, y, B, T, tc.lr());
                tps[i] = n / ((System.nanoTime() - t0) * 1e-9);
            }
            long alloc = BenchStats.totalAllocatedBytes() - alloc0, cpu = BenchStats.processCpuNanos() - cpu0;
            long peak = BenchStats.peakHeap();
            double med = BenchStats.median(tps);
            out.printf("  throughput: %.1f tokens/s median (min %.1f, max %.1f; %d steps after %d warm-up), %.1f ms/step, loss %.4f%n",
                    med, BenchStats.min(tps), BenchStats.max(tps), steps, warmSteps, n / med * 1e3, loss);
            out.printf("  process CPU time %.2f s/step (%.2f cores busy on average)%n", cpu * 1e-9 / steps,
                    cpu * 1e-9 / Arrays.stream(tps).map(v -> n / v).sum());
            out.printf("  heap: %s live after warm-up, peak %s during the timed steps; allocated %s per step%n",
                    BenchStats.mib(live), BenchStats.mib(peak), alloc < 0 ? "n/a" : String.format("%.1f KiB", alloc / 1024.0 / steps));
            out.printf("  load average at end: %.2f%n", BenchStats.loadAverage());
            out.flush();
        }
        return 0;
    }

    private static float step(XLstmLM model, AdamW opt, int[] x, int[] y, int B, int T, double lr) {
        model.zeroGrad();
        float loss = model.forwardBackward(x, y, B, T);
        opt.step(lr);
        return loss;
    }
}
