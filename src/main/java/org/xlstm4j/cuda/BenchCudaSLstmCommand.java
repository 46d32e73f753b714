package org.xlstm4j.cuda;

import org.xlstm4j.cells.SLstmCell;
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
 * {@code xlstm bench cuda-slstm}: the fused sLSTM forward on the GPU ({@link CudaSLstm}, one launch per sequence),
 * timed with CUDA events (median and best of the timed runs after warm-up) in fp32 and bf16 at the ms-small preset's
 * layer shape (B=8, NH=4, DH=96, T=256) and a large one (B=16, NH=4, DH=256, T=2048), tokens/s = B·T / time; the CPU
 * {@link SLstmCell#forward} on the same small shape for comparison (single thread; the large one with --cpu-large);
 * and first the parity against the CPU cell on random ragged shapes (fp32 ≤ 1e-4, bf16 ≤ 2e-2 relative), which fails
 * the command (exit 1) when exceeded.
 */
@Command(name = "cuda-slstm", mixinStandardHelpOptions = true,
        description = {"Time the fused sLSTM forward kernel on the GPU (CUDA events), after a parity check.",
                "The parity check against the CPU cell comes first (fp32 ≤ 1e-4, bf16 ≤ 2e-2 relative; exit 1 when exceeded)."})
public final class BenchCudaSLstmCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Option(names = "--shape", description = "B,NH,DH,T to time instead of the two default shapes (repeatable)")
    String[] shapes;
    @Option(names = "--dtype", description = "only this type: bf16 or fp32 (default: both)") String dtype;
    @Option(names = "--runs", defaultValue = "20", description = "timed runs, at least 5 (default: ${DEFAULT-VALUE})") int runs;
    @Option(names = "--warmup", defaultValue = "3", description = "untimed runs first (default: ${DEFAULT-VALUE})") int warmup;
    @Option(names = "--parity", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "check parity against the CPU cell first (default: on)") boolean parity;
    @Option(names = "--cpu", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "time the CPU cell on shapes with B·T·E ≤ 2^20 (default: on)") boolean cpu;
    @Option(names = "--tiles", description = "time every batch tile 1, 2, 4 (instead of the automatic choice)") boolean tiles;
    @Option(names = "--splits", description = "time every number of k slices 1, 2, 4 that fits (instead of the automatic choice)")
    boolean splits;

    static final double FP32_TOL = 1e-4, BF16_TOL = 2e-2;

    @Override public Integer call() {
        CommandLine cl = spec.commandLine();
        PrintWriter out = cl.getOut();
        if (runs < 5) throw new CommandLine.ParameterException(cl, "--runs must be at least 5, got " + runs);
        if (warmup < 0) throw new CommandLine.ParameterException(cl, "--warmup must be at least 0, got " + warmup);
        DType[] types;
        try {
            types = dtype == null ? DType.values() : new DType[] {DType.parse(dtype)};
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--dtype: " + e.getMessage());
        }
        int[][] sh;
        if (shapes == null) sh = new int[][] {{8, 4, 96, 256}, {16, 4, 256, 2048}};
        else {
            sh = new int[shapes.length][];
            for (int i = 0; i < shapes.length; i++) {
                String[] p = shapes[i].split(",");
                if (p.length != 4) throw new CommandLine.ParameterException(cl, "--shape wants B,NH,DH,T, got " + shapes[i]);
                sh[i] = new int[4];
                for (int j = 0; j < 4; j++) {
                    try {
                        sh[i][j] = Integer.parseInt(p[j].trim());
                    } catch (NumberFormatException e) {
                        throw new CommandLine.ParameterException(cl, "--shape: not a number: " + p[j]);
                    }
                    if (sh[i][j] < 1) throw new CommandLine.ParameterException(cl, "--shape: values must be ≥ 1: " + shapes[i]);
                }
            }
        }
        CudaDevice dev = BenchCudaMLstmCommand.open("slstm.cu", out);
        if (parity && !parity(dev, out)) {
            out.println("parity FAILED: not timing");
            return 1;
        }
        for (int[] s : sh) {
            for (DType t : types) {
                for (int bb : tiles ? new int[] {1, 2, 4} : new int[] {0})
                    for (int sp : splits ? new int[] {1, 2, 4} : new int[] {0}) {
                        int rpt = t == DType.FP32 ? 1 : 2, nrp = ((4 * s[2] + rpt - 1) / rpt + 31) / 32 * 32;
                        if (nrp * sp <= 1024) time(dev, t, s, bb, sp, out);
                    }
                out.flush();
            }
            if (cpu && (long) s[0] * s[3] * s[1] * s[2] <= (1 << 20)) cpuTime(s, out);
            out.flush();
        }
        return 0;
    }

    private boolean parity(CudaDevice dev, PrintWriter out) {
        boolean ok = true;
        int[][] shapes = {{3, 4, 96, 70}, {2, 2, 256, 33}};   // B, NH, DH, T: the benchmark's head sizes, ragged
        for (DType t : DType.values()) {
            double tol = t == DType.FP32 ? FP32_TOL : BF16_TOL;
            for (int[] s : shapes)
                for (boolean init : new boolean[] {false, true}) {
                    SLstmParity.Errors e = SLstmParity.forward(dev, s[0], s[1], s[2], s[3], init, t, 42 + s[2]);
                    boolean pass = e.max() <= tol;
                    ok &= pass;
                    out.printf("parity %s B=%d NH=%d DH=%d T=%d %s: %s → %s (tol %.0e)%n", t, s[0], s[1], s[2], s[3],
                            init ? "initial state" : "zero state  ", e, pass ? "ok" : "FAIL", tol);
                }
        }
        return ok;
    }

    private void time(CudaDevice dev, DType type, int[] s, int bb, int sp, PrintWriter out) {
        int B = s[0], NH = s[1], DH = s[2], T = s[3], E = NH * DH;
        long rows = (long) B * T;
        CudaModule mod = dev.module("mlstm.cu");               // (its seeded fill kernels)
        try (CudaStream st = dev.newStream(); CudaSLstm cell = new CudaSLstm(dev, NH, DH);
             DeviceBuffer x = dev.allocate(rows * 4 * E * type.bytes); DeviceBuffer h = dev.allocate(rows * E * type.bytes);
             DeviceBuffer R = dev.allocate((long) NH * 4 * DH * DH * type.bytes); DeviceBuffer bias = dev.allocate(4L * E * 4);
             CudaSLstm.State state = new CudaSLstm.State(dev, B, E);
             CudaEvent start = dev.newEvent(); CudaEvent stop = dev.newEvent()) {
            cell.forceBatchTile = bb;
            cell.forceSplits = sp;
            float a = (float) (1.0 / Math.sqrt(DH));
            BenchCudaMLstmCommand.fill(mod, st, x, rows * 4 * E, type, 1, -2f, 2f);
            BenchCudaMLstmCommand.fill(mod, st, R, (long) NH * 4 * DH * DH, type, 2, -a, a);
            BenchCudaMLstmCommand.fill(mod, st, bias, 4L * E, DType.FP32, 3, -1f, 1f);
            for (int i = 0; i < warmup; i++) cell.forward(st, type, x, R, bias, h, B, T, state);
            st.synchronize();
            double[] ms = new double[runs];
            for (int i = 0; i < runs; i++) {
                start.record(st);
                cell.forward(st, type, x, R, bias, h, B, T, state);
                stop.record(st);
                ms[i] = stop.elapsedSince(start);
            }
            Arrays.sort(ms);
            double median = runs % 2 == 1 ? ms[runs / 2] : 0.5 * (ms[runs / 2 - 1] + ms[runs / 2]);
            double flops = CudaSLstm.flops(B, T, NH, DH);
            out.printf("forward %s B=%d NH=%d DH=%d T=%d: median %.3f ms, best %.3f ms over %d runs (%d warm-up);"
                            + " %.3g tokens/s, %.2f µs/step, %.2f TFLOP/s in R·h%n", type, B, NH, DH, T, median, ms[0],
                    runs, warmup, rows / (median * 1e-3), median * 1e3 / T, flops / (median * 1e-3) / 1e12);
            out.printf("  %s%n", cell.plan(B, type));
            float[] sample = new float[(int) Math.min(4096, rows * E)];
            if (type == DType.BF16) h.copyToFromBf16(sample); else h.copyTo(sample);
            for (float v : sample) if (!Float.isFinite(v)) throw new CudaException("sLSTM forward produced a non-finite output: " + v);
        }
    }

    private static void cpuTime(int[] s, PrintWriter out) {
        int B = s[0], NH = s[1], DH = s[2], T = s[3], E = NH * DH;
        Random rnd = new Random(1);
        SLstmParity.Inputs in = SLstmParity.Inputs.random(rnd, B, NH, DH, T, false);
        float[] h = new float[B * T * E];
        in.cell().forward(in.x(), h, B, T, null);          // warm-up (JIT)
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            long t0 = System.nanoTime();
            in.cell().forward(in.x(), h, B, T, null);
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        out.printf("CPU SLstmCell.forward (one thread) B=%d NH=%d DH=%d T=%d: best %.3f ms of 3, %.3g tokens/s%n",
                B, NH, DH, T, best, (double) B * T / (best * 1e-3));
    }
}
