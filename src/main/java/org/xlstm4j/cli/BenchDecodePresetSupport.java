package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.cuda.Cuda;
import org.xlstm4j.cuda.CudaXLstmOps;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.XLstmInference;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.model.XLstmInit;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.CpuKernels;

import java.io.PrintWriter;
import java.util.Random;

/**
 * The {@code --preset} path of {@code xlstm bench decode}: batch-1 generation speed of a preset model
 * ({@link BenchPreset}) with random weights (official initialisation). A random prompt is read through the
 * full-sequence path into a recurrent state; then every token is one {@link XLstmLM#step} from that state, greedy
 * (the argmax becomes the next input), timed over {@code runs} runs of {@code tokens} tokens after {@code warmup}
 * untimed ones. Prints tokens/s (median, min, max), the state size and the bytes allocated per token.
 */
public final class BenchDecodePresetSupport {
    private BenchDecodePresetSupport() {}

    /** Default tokens per timed run, runs, warm-up tokens and prompt length. */
    public static final int TOKENS = 256, RUNS = 5, WARMUP = 256, PROMPT = 16;

    /**
     * Runs the benchmark and prints its report to {@code out}; returns the median tokens/s.
     *
     * @param preset  a preset name ({@link BenchPreset#names()}); an unknown one is a {@code UserError}
     * @param threads threads of the CPU kernels (at least 1)
     */
    public static double run(PrintWriter out, String preset, int threads, int tokens, int runs, int warmup) {
        return run(out, preset, threads, tokens, runs, warmup, WARMUP_SECONDS);
    }

    /** Default minimum warm-up time: the JIT compiles the step path within it. */
    public static final double WARMUP_SECONDS = 5;

    /** As {@link #run(PrintWriter, String, int, int, int, int)}; warm-up also lasts at least {@code warmupSeconds}. */
    public static double run(PrintWriter out, String preset, int threads, int tokens, int runs, int warmup, double warmupSeconds) {
        return run(out, preset, threads, tokens, runs, warmup, warmupSeconds, "cpu");
    }

    /**
     * As {@link #run(PrintWriter, String, int, int, int, int, double)} on {@code device}: "cpu" ({@link XLstmLM}) or
     * "cuda" (the same weights through {@link XLstmInference} on {@link CudaXLstmOps}; timed with the decoding steps
     * replayed from a CUDA graph, then again launched one by one, in the same run).
     */
    public static double run(PrintWriter out, String preset, int threads, int tokens, int runs, int warmup, double warmupSeconds,
                             String device) {
        boolean cuda = switch (device.toLowerCase()) {
            case "cpu" -> false;
            case "cuda", "gpu" -> true;
            default -> throw new UserError("--device must be cpu or cuda, got '" + device + "'");
        };
        if (cuda && !Cuda.available()) throw new UserError("--device cuda: CUDA is not available: " + Cuda.unavailableReason());
        if (threads < 1 || tokens < 1 || runs < 1 || warmup < 0)
            throw new IllegalArgumentException("bench decode --preset: threads, tokens and runs must be at least 1, warm-up at least 0");
        BenchPreset p = BenchPreset.of(preset);
        XLstmConfig cfg = p.config(BenchPreset.SEQUENCE);
        try (CpuKernels kernels = new CpuKernels(threads)) {
            XLstmLM cpuModel = new XLstmLM(cfg, kernels);
            XLstmInit.apply(cpuModel, 1);
            CudaXLstmOps ops = cuda ? new CudaXLstmOps(Cuda.device()) : null;
            LanguageModel model = cuda ? new XLstmInference<>(cpuModel, ops) : cpuModel;
            int V = cfg.vocabSize;
            LMState state = model.newState(1);
            out.printf("decode %s: %d blocks, E %d, sLSTM at %s, %.3g parameters; batch 1, step mode from a state of %d floats; %s%n",
                    p.label, cfg.numBlocks, cfg.embeddingDim, java.util.Arrays.toString(cfg.slstmAt), (double) cpuModel.parameterCount(),
                    state.size(), cuda ? ops.name() : threads + " thread" + (threads == 1 ? "" : "s") + ", " + BenchMatmulCommand.cpuModel());
            out.printf("  load average at start: %.2f%n", BenchStats.loadAverage());
            out.flush();
            Random rnd = new Random(1);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < prompt.length; i++) prompt[i] = rnd.nextInt(V);
            float[] logits = model.forward(prompt, 1, PROMPT, state);
            int[] tok = {argmax(logits, (PROMPT - 1) * V, V)};
            long w0 = System.nanoTime();
            int warmTokens = 0;   // at least `warmup` tokens and warmupSeconds, so that the JIT has compiled the step path
            while (warmTokens < warmup || (System.nanoTime() - w0) * 1e-9 < warmupSeconds && warmTokens < 100_000) {
                tok[0] = argmax(model.step(tok, state), 0, V);
                warmTokens++;
            }
            long alloc0 = BenchStats.threadAllocatedBytes();
            double[] tps = new double[runs];
            for (int r = 0; r < runs; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < tokens; i++) tok[0] = argmax(model.step(tok, state), 0, V);
                tps[r] = tokens / ((System.nanoTime() - t0) * 1e-9);
            }
            long alloc = BenchStats.threadAllocatedBytes() - alloc0;
            double med = BenchStats.median(tps);
            out.printf("  throughput: %.1f tokens/s median (min %.1f, max %.1f; %d runs × %d tokens after %d warm-up), %.3f ms/token%n",
                    med, BenchStats.min(tps), BenchStats.max(tps), runs, tokens, warmTokens, 1e3 / med);
            out.printf("  allocated %s per token (decoding thread)%n",
                    alloc < 0 ? "n/a" : String.format("%.1f bytes", (double) alloc / ((long) runs * tokens)));
            if (cuda) {
                ops.setUseGraphs(false);
                double[] eager = new double[runs];
                for (int r = 0; r < runs; r++) {
                    long t0 = System.nanoTime();
                    for (int i = 0; i < tokens; i++) tok[0] = argmax(model.step(tok, state), 0, V);
                    eager[r] = tokens / ((System.nanoTime() - t0) * 1e-9);
                }
                out.printf("  above with CUDA graphs (%d replays); launched one by one: %.1f tokens/s median (min %.1f, max %.1f), %.3f ms/token%n",
                        ops.graphReplays(), BenchStats.median(eager), BenchStats.min(eager), BenchStats.max(eager), 1e3 / BenchStats.median(eager));
                ops.close();
            }
            out.printf("  load average at end: %.2f%n", BenchStats.loadAverage());
            out.flush();
            return med;
        }
    }

    private static int argmax(float[] a, int off, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
        return best;
    }

    /** {@code java ... org.xlstm4j.cli.BenchDecodePresetSupport PRESET [THREADS [TOKENS [RUNS [WARMUP]]]]}. */
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: BenchDecodePresetSupport PRESET [THREADS [TOKENS [RUNS [WARMUP]]]]");
            System.exit(2);
        }
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : TOKENS;
        int runs = args.length > 3 ? Integer.parseInt(args[3]) : RUNS;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : WARMUP;
        PrintWriter out = new PrintWriter(System.out, true);
        run(out, args[0], threads, tokens, runs, warmup);
    }
}
