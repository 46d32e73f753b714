package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.io.DType;
import org.xlstm4j.large.LargeCheckpoints;
import org.xlstm4j.large.LargeConfig;
import org.xlstm4j.large.XLstmLarge;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.Models;
import org.xlstm4j.tensor.ColumnPanels;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.HugePages;
import org.xlstm4j.tensor.MemoryBandwidth;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code xlstm bench decode}: batch-1 token-by-token decoding speed of an xLSTM-Large checkpoint, as a fraction of the
 * machine's memory bandwidth. Decoding reads every weight matrix once per token, so tokens/s × weight bytes per token
 * is the bandwidth it achieves; the same run measures the machine's streaming read bandwidth
 * ({@link MemoryBandwidth}) for comparison. {@code --create DIR --params 1B} first writes a random bf16 checkpoint.
 */
@Command(name = "decode", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Batch-1 decoding speed of an xLSTM-Large (7B-architecture) checkpoint against the memory bandwidth.",
                "Prints tokens/s, the weight bytes read per token, the bandwidth that achieves, and the machine's memory "
                + "read bandwidth measured in the same run (multi-threaded streaming sum over a buffer larger than the caches).",
                "With --preset P: batch-1 step decoding tokens/s of a preset model (issue 7's presets) with random weights."})
public final class BenchDecodeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--preset", paramLabel = "P",
            description = "instead of a checkpoint: a preset model with random weights (m-tiny, ms-tiny, s-tiny, m-small, ms-small), step decoding from a state")
    String preset;
    @Option(names = "--model", paramLabel = "DIR", description = "checkpoint folder (config.json + safetensors)")
    Path model;
    @Option(names = "--create", paramLabel = "DIR",
            description = "first write a randomly initialised bf16 checkpoint of --params size into DIR and benchmark it (kept when DIR already holds that configuration)")
    Path create;
    @Option(names = "--params", defaultValue = "1B", description = "size for --create: 125M, 350M, 1B or 7B (default: ${DEFAULT-VALUE})")
    String params;
    @Option(names = "--seed", defaultValue = "0", description = "seed for --create (default: ${DEFAULT-VALUE})")
    long seed;
    @Option(names = "--tokens", defaultValue = "16", description = "tokens per timed run (default: ${DEFAULT-VALUE}; with --preset 256)")
    int tokens;
    @Option(names = "--runs", defaultValue = "5", description = "timed runs, each followed by a bandwidth measurement; median and best are reported (default: ${DEFAULT-VALUE})")
    int runs;
    @Option(names = "--warmup", defaultValue = "8", description = "untimed tokens first, at least (default: ${DEFAULT-VALUE}; with --preset 256, and the warm-up also "
            + "lasts at least 5 s, so that the JIT has compiled the step path)")
    int warmup;
    @Option(names = "--device", defaultValue = "cpu", description = "with --preset: cpu or cuda (default: ${DEFAULT-VALUE})")
    String device;
    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;
    @Option(names = "--bandwidth-mb", defaultValue = "2048", description = "buffer size of the bandwidth measurement in MiB (default: ${DEFAULT-VALUE})")
    int bandwidthMb;

    @Override public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        int given = (model != null ? 1 : 0) + (create != null ? 1 : 0) + (preset != null ? 1 : 0);
        if (given != 1) throw new CommandLine.ParameterException(cl, "give exactly one of --preset P, --model DIR or --create DIR");
        if (tokens < 1) throw new CommandLine.ParameterException(cl, "--tokens must be at least 1, got " + tokens);
        if (runs < 1) throw new CommandLine.ParameterException(cl, "--runs must be at least 1, got " + runs);
        if (warmup < 0) throw new CommandLine.ParameterException(cl, "--warmup must be at least 0, got " + warmup);
        if (bandwidthMb < 1) throw new CommandLine.ParameterException(cl, "--bandwidth-mb must be at least 1, got " + bandwidthMb);
        int t = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (t < 1) throw new CommandLine.ParameterException(cl, "--threads must be at least 1, got " + t);
        PrintWriter out = cl.getOut();
        if (preset != null) {
            BenchDecodePresetSupport.run(out, preset, t,
                    spec.commandLine().getParseResult().hasMatchedOption("--tokens") ? tokens : BenchDecodePresetSupport.TOKENS,
                    spec.commandLine().getParseResult().hasMatchedOption("--runs") ? runs : BenchDecodePresetSupport.RUNS,
                    spec.commandLine().getParseResult().hasMatchedOption("--warmup") ? warmup : BenchDecodePresetSupport.WARMUP,
                    BenchDecodePresetSupport.WARMUP_SECONDS, device);
            return 0;
        }
        Path dir = create != null ? create(out) : model;
        if (Models.kind(dir) != Models.Kind.LARGE)
            throw new UserError(dir + ": bench decode needs an xLSTM-Large (\"xlstm\") checkpoint");

        try (CpuKernels kernels = new CpuKernels(t); XLstmLarge lm = XLstmLarge.load(dir, kernels)) {
            long bytesPerToken = lm.weightBytesPerToken();
            out.printf("decode %s: %s, %.3g parameters, %d thread%s, %s%n", dir, lm.config, (double) lm.config.parameterCount(),
                    t, t == 1 ? "" : "s", BenchMatmulCommand.cpuModel());
            out.printf("  weights read per token: %.3f GB (every block matrix, lm_head, one embedding row)%n", bytesPerToken / 1e9);
            out.printf("  column-panel copies: %s (-Dxlstm4j.panels=none|long|all); 2 MiB pages %s%n",
                    ColumnPanels.Policy.fromSystemProperty().name().toLowerCase(),
                    HugePages.available() ? "asked for (weights and the bandwidth buffer)" : "not available");
            out.flush();
            LMState state = lm.newState(1);
            int[] tok = {0};
            float[] logits = lm.forward(tok, 1, 1, state);
            for (int i = 0; i < warmup; i++) logits = lm.step(next(logits, lm.vocabSize(), tok), state);
            double[] tps = new double[runs], bw = new double[runs], ratio = new double[runs];
            try (MemoryBandwidth memory = new MemoryBandwidth((long) bandwidthMb << 20, t)) {
                for (int r = 0; r < runs; r++) {                         // decode and bandwidth back to back: same load
                    long t0 = System.nanoTime();
                    for (int i = 0; i < tokens; i++) logits = lm.step(next(logits, lm.vocabSize(), tok), state);
                    tps[r] = tokens / ((System.nanoTime() - t0) * 1e-9);
                    bw[r] = memory.measure(3);
                    ratio[r] = tps[r] * bytesPerToken / bw[r];
                }
            }
            out.printf("  decode: %.2f tokens/s median, %.2f best (%d runs × %d tokens after %d warm-up tokens)%n",
                    median(tps), max(tps), runs, tokens, warmup);
            out.printf("  achieved bandwidth: %.2f GB/s median, %.2f GB/s best%n",
                    median(tps) * bytesPerToken / 1e9, max(tps) * bytesPerToken / 1e9);
            out.printf("  memory read bandwidth: %.2f GB/s median, %.2f GB/s best (streaming sum over %d MiB, %d thread%s, best of 3 after each run)%n",
                    median(bw) / 1e9, max(bw) / 1e9, bandwidthMb, t, t == 1 ? "" : "s");
            out.printf("  ratio achieved / memory bandwidth: %.0f%% median, %.0f%% best (per run, decode and bandwidth measured back to back)%n",
                    100 * median(ratio), 100 * max(ratio));
            out.flush();
        }
        return 0;
    }

    /** Writes the random checkpoint unless the folder already holds one of the same configuration. */
    private Path create(PrintWriter out) {
        LargeConfig c = LargeCheckpoints.preset(params);
        String json = c.toHuggingFaceJson("bfloat16") + "\n";
        try {
            Path cfg = create.resolve("config.json");
            if (Files.exists(cfg) && Files.readString(cfg).equals(json) && Files.exists(create.resolve("model.safetensors"))) {
                out.printf("reusing the %s checkpoint in %s%n", params, create);
                return create;
            }
        } catch (java.io.IOException e) {
            throw new UserError(create + ": cannot read: " + e.getMessage());
        }
        out.printf("creating a random %s bf16 checkpoint (%.3g parameters) in %s ...%n", params, (double) c.parameterCount(), create);
        out.flush();
        long t0 = System.nanoTime();
        LargeCheckpoints.createRandom(create, c, DType.BF16, seed);
        out.printf("  written in %.1f s%n", (System.nanoTime() - t0) * 1e-9);
        // its pages are cached in 4 KiB pieces now; dropped, the benchmark's first read fills 2 MiB folios (HugePages)
        if (HugePages.uncache(create.resolve("model.safetensors")))
            out.println("  asked the kernel to drop it from the page cache, so that reading it maps 2 MiB pages");
        return create;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    /** Greedy choice: the argmax of the logits becomes the next input token. */
    private static int[] next(float[] logits, int V, int[] tok) {
        int best = 0;
        for (int i = 1; i < V; i++) if (logits[i] > logits[best]) best = i;
        tok[0] = best;
        return tok;
    }
}
