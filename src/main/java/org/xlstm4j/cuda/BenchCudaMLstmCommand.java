package org.xlstm4j.cuda;

import org.xlstm4j.UserError;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code xlstm bench cuda-mlstm}: the mLSTM chunkwise forward on the GPU ({@link CudaMLstm}), timed with CUDA events
 * (median and best of the timed runs after warm-up) at the TFLA paper's shape by default, with TFLOP/s by
 * {@link CudaMLstm#flops}; the step kernel's time per token at the xLSTM-7B head shape, plain and replayed from a
 * CUDA graph; and first the parity against the CPU cell on small random shapes (fp32 ≤ 1e-4, bf16 ≤ 2e-2 relative),
 * which fails the command (exit 1) when exceeded.
 */
@Command(name = "cuda-mlstm", mixinStandardHelpOptions = true,
        description = {"Time the mLSTM chunkwise forward and step kernels on the GPU (CUDA events), after a parity check.",
                "The parity check against the CPU cell comes first (fp32 ≤ 1e-4, bf16 ≤ 2e-2 relative; exit 1 when exceeded)."})
public final class BenchCudaMLstmCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--batch", defaultValue = "8", description = "B (default: ${DEFAULT-VALUE})") int batch;
    @Option(names = "--heads", defaultValue = "16", description = "NH (default: ${DEFAULT-VALUE})") int heads;
    @Option(names = "--seq", defaultValue = "8192", description = "T (default: ${DEFAULT-VALUE})") int seq;
    @Option(names = "--dk", defaultValue = "128", description = "query/key head dim (default: ${DEFAULT-VALUE})") int dk;
    @Option(names = "--dv", defaultValue = "256", description = "value head dim (default: ${DEFAULT-VALUE})") int dv;
    @Option(names = "--chunk", defaultValue = "64", description = "chunk size, 1..64 (default: ${DEFAULT-VALUE})") int chunk;
    @Option(names = "--dtype", defaultValue = "bf16", description = "q, k, v, h type: bf16 or fp32 (default: ${DEFAULT-VALUE})") String dtype;
    @Option(names = "--runs", defaultValue = "25", description = "timed runs, at least 20 (default: ${DEFAULT-VALUE})") int runs;
    @Option(names = "--warmup", defaultValue = "5", description = "untimed runs first (default: ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--parity", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "check parity against the CPU cell first (default: on)") boolean parity;
    @Option(names = "--steps", defaultValue = "200", description = "tokens of the step benchmark, even (default: ${DEFAULT-VALUE}; 0 skips it)") int steps;

    static final double FP32_TOL = 1e-4, BF16_TOL = 2e-2;

    @Override public Integer call() {
        CommandLine cl = spec.commandLine();
        PrintWriter out = cl.getOut();
        if (runs < 20) throw new CommandLine.ParameterException(cl, "--runs must be at least 20, got " + runs);
        if (warmup < 0) throw new CommandLine.ParameterException(cl, "--warmup must be at least 0, got " + warmup);
        if (chunk < 1 || chunk > CudaMLstm.MAX_CHUNK) throw new CommandLine.ParameterException(cl, "--chunk must be in 1..64, got " + chunk);
        if (steps < 0 || steps % 2 != 0) throw new CommandLine.ParameterException(cl, "--steps must be even and ≥ 0, got " + steps);
        DType type;
        try {
            type = DType.parse(dtype);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--dtype: " + e.getMessage());
        }
        CudaDevice dev = open("mlstm.cu", out);
        boolean ok = true;
        if (parity) ok = parity(dev, out);
        out.flush();
        if (!ok) {
            out.println("parity FAILED: not timing");
            return 1;
        }
        forward(dev, type, out);
        if (steps > 0) step(dev, type, out);
        return 0;
    }

    private boolean parity(CudaDevice dev, PrintWriter out) {
        boolean ok = true;
        for (DType t : DType.values()) {
            double tol = t == DType.FP32 ? FP32_TOL : BF16_TOL;
            for (boolean init : new boolean[] {false, true}) {
                MLstmParity.Errors e = MLstmParity.chunkwise(dev, 1, 2, 200, 16, 32, 64, init, t, 42);
                boolean pass = e.max() <= tol;
                ok &= pass;
                out.printf("parity chunkwise %s B=1 NH=2 T=200 DK=16 DV=32 L=64 %s: %s → %s (tol %.0e)%n", t,
                        init ? "initial state" : "zero state  ", e, pass ? "ok" : "FAIL", tol);
            }
            for (boolean init : new boolean[] {false, true}) {   // the benchmark's head shape (DK=128, DV=256), ragged T
                MLstmParity.Errors e = MLstmParity.chunkwise(dev, 1, 2, 300, 128, 256, 64, init, t, 44);
                boolean pass = e.max() <= tol;
                ok &= pass;
                out.printf("parity chunkwise %s B=1 NH=2 T=300 DK=128 DV=256 L=64 %s: %s → %s (tol %.0e)%n", t,
                        init ? "initial state" : "zero state  ", e, pass ? "ok" : "FAIL", tol);
            }
            for (boolean init : new boolean[] {false, true}) {   // the xLSTM-7B head shape (DK=256, DV=512), ragged T
                MLstmParity.Errors e = MLstmParity.chunkwise(dev, 1, 2, 150, 256, 512, 64, init, t, 45);
                boolean pass = e.max() <= tol;
                ok &= pass;
                out.printf("parity chunkwise %s B=1 NH=2 T=150 DK=256 DV=512 L=64 %s: %s → %s (tol %.0e)%n", t,
                        init ? "initial state" : "zero state  ", e, pass ? "ok" : "FAIL", tol);
            }
            MLstmParity.Errors e = MLstmParity.step(dev, 1, 2, 16, 32, 8, t, 43);
            boolean pass = e.max() <= tol;
            ok &= pass;
            out.printf("parity step      %s B=1 NH=2 DK=16 DV=32, 8 tokens: %s → %s (tol %.0e)%n", t, e, pass ? "ok" : "FAIL", tol);
        }
        return ok;
    }

    private void forward(CudaDevice dev, DType type, PrintWriter out) {
        long bht = (long) batch * heads * seq;
        CudaModule mod = dev.module("mlstm.cu");
        try (CudaStream s = dev.newStream(); CudaMLstm cell = new CudaMLstm(dev, heads, dk, dv);
             DeviceBuffer q = dev.allocate(bht * dk * type.bytes); DeviceBuffer k = dev.allocate(bht * dk * type.bytes);
             DeviceBuffer v = dev.allocate(bht * dv * type.bytes); DeviceBuffer h = dev.allocate(bht * dv * type.bytes);
             DeviceBuffer ig = dev.allocate(bht * 4); DeviceBuffer fg = dev.allocate(bht * 4);
             CudaEvent start = dev.newEvent(); CudaEvent mid = dev.newEvent(); CudaEvent stop = dev.newEvent()) {
            fill(mod, s, q, bht * dk, type, 1, -1f, 1f);
            fill(mod, s, k, bht * dk, type, 2, -1f, 1f);
            fill(mod, s, v, bht * dv, type, 3, -1f, 1f);
            fill(mod, s, ig, bht, DType.FP32, 4, -3f, 3f);
            fill(mod, s, fg, bht, DType.FP32, 5, 0f, 6f);
            final boolean fused = cell.fused(type);
            for (int i = 0; i < warmup; i++) cell.forwardChunkwise(s, type, q, k, v, ig, fg, h, batch, seq, chunk, null);
            s.synchronize();
            double[] ms = new double[runs], statesMs = new double[runs];
            for (int i = 0; i < runs; i++) {
                start.record(s);
                cell.forwardChunkwise(s, type, q, k, v, ig, fg, h, batch, seq, chunk, null, fused ? null : mid);
                stop.record(s);
                ms[i] = stop.elapsedSince(start);
                statesMs[i] = fused ? 0 : mid.elapsedSince(start);
            }
            double[] st = statesMs.clone();
            Arrays.sort(st);
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = runs % 2 == 1 ? sorted[runs / 2] : 0.5 * (sorted[runs / 2 - 1] + sorted[runs / 2]);
            double flops = CudaMLstm.flops(batch, heads, seq, chunk, dk, dv);
            out.printf("chunkwise forward %s B=%d NH=%d T=%d DK=%d DV=%d L=%d: median %.3f ms, best %.3f ms over %d runs"
                            + " (%d warm-up); %.1f TFLOP/s at the median (%.3g FLOP counted as B·NH·T·(2L(DK+DV) + 4·DK·DV))%n",
                    type, batch, heads, seq, dk, dv, chunk, median, sorted[0], runs, warmup, flops / (median * 1e-3) / 1e12, flops);
            if (fused) out.printf("  one fused tensor-core kernel (mlstm_chunkwise_tc_bf16_*)%n");
            else out.printf("  of which the inter-chunk state kernel: median %.3f ms; the intra-chunk output kernel: the rest%n",
                    runs % 2 == 1 ? st[runs / 2] : 0.5 * (st[runs / 2 - 1] + st[runs / 2]));
            float[] sample = new float[1024];
            if (type == DType.BF16) h.copyToFromBf16(sample); else h.copyTo(sample);
            for (float x : sample)
                if (!Float.isFinite(x)) throw new CudaException("chunkwise forward produced a non-finite output: " + x);
        }
    }

    /** Step kernel at the xLSTM-7B head shape (B=1, NH=8, DK=256, DV=512): plain launches and a CUDA graph of them. */
    private void step(CudaDevice dev, DType type, PrintWriter out) {
        int B = 1, NH = 8, DK = 256, DV = 512;
        CudaModule mod = dev.module("mlstm.cu");
        try (CudaStream s = dev.newStream(); CudaMLstm cell = new CudaMLstm(dev, NH, DK, DV);
             DeviceMLstmState st = new DeviceMLstmState(dev, B, NH, DK, DV);
             DeviceBuffer q = dev.allocate((long) B * NH * DK * type.bytes); DeviceBuffer k = dev.allocate((long) B * NH * DK * type.bytes);
             DeviceBuffer v = dev.allocate((long) B * NH * DV * type.bytes); DeviceBuffer h = dev.allocate((long) B * NH * DV * type.bytes);
             DeviceBuffer ig = dev.allocate(B * NH * 4L); DeviceBuffer fg = dev.allocate(B * NH * 4L);
             CudaEvent start = dev.newEvent(); CudaEvent stop = dev.newEvent()) {
            fill(mod, s, q, (long) B * NH * DK, type, 6, -1f, 1f);
            fill(mod, s, k, (long) B * NH * DK, type, 7, -1f, 1f);
            fill(mod, s, v, (long) B * NH * DV, type, 8, -1f, 1f);
            fill(mod, s, ig, B * NH, DType.FP32, 9, -3f, 3f);
            fill(mod, s, fg, B * NH, DType.FP32, 10, 0f, 6f);
            for (int i = 0; i < 10; i++) cell.step(s, type, q, k, v, ig, fg, h, B, st);
            start.record(s);
            for (int i = 0; i < steps; i++) cell.step(s, type, q, k, v, ig, fg, h, B, st);
            stop.record(s);
            double plain = stop.elapsedSince(start) * 1e3 / steps;
            try (CudaGraph g = CudaGraph.capture(dev, s, () -> {
                for (int i = 0; i < steps; i++) cell.step(s, type, q, k, v, ig, fg, h, B, st);
            })) {
                g.launch(s);
                start.record(s);
                g.launch(s);
                stop.record(s);
                double graph = stop.elapsedSince(start) * 1e3 / steps;
                double bytes = 2.0 * B * NH * DK * DV * 4;
                out.printf("step %s B=%d NH=%d DK=%d DV=%d: %.2f µs/token launched one by one, %.2f µs/token from a CUDA graph"
                        + " (state read+write %.1f MB/token: %.0f GB/s)%n", type, B, NH, DK, DV, plain, graph, bytes / 1e6,
                        bytes / (graph * 1e-6) / 1e9);
            }
        }
    }

    /** Seeded uniform values in [lo, hi) made on the device by mlstm.cu's fill kernels (no host transfer). */
    static void fill(CudaModule mod, CudaStream s, DeviceBuffer b, long n, DType type, int seed, float lo, float hi) {
        int blocks = (int) Math.min(65536, (n + 255) / 256);
        mod.kernel("fill_uniform_" + type.suffix).launch(s, blocks, 1, 1, 256, 1, 1, 0, b, n, seed, lo, hi);
    }

    /**
     * The device for a benchmark, with {@code module} compiled (or loaded from the kernel cache) first; prints the
     * device and the NVRTC line. No GPU or driver: one line (a {@link UserError}).
     */
    static CudaDevice open(String module, PrintWriter out) {
        if (!Cuda.available()) throw new UserError("CUDA is not available: " + Cuda.unavailableReason());
        CudaDevice dev = Cuda.device();
        long t0 = System.nanoTime();
        dev.module(module);
        out.printf("device: %s%n", dev.describe());
        out.printf("NVRTC %s (%s); kernels compiled or loaded from the cache in %.0f ms%n", dev.nvrtc().version(),
                dev.nvrtc().where(), (System.nanoTime() - t0) / 1e6);
        out.flush();
        return dev;
    }
}
