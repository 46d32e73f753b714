package org.xlstm4j.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * numpy's float32 {@code a @ b.T} (BLAS sgemm, the same layout as y = x·Wᵀ) in a {@code python3} subprocess that
 * stays alive, so {@code xlstm bench matmul} can time it run for run, interleaved with our own runs: on a busy machine
 * both then see the same load. The subprocess gets OPENBLAS_NUM_THREADS (and OMP/MKL) equal to our thread count, and
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed so that OpenBLAS picks its own kernel for this processor. After each
 * run it sleeps 0.2 s before answering, so OpenBLAS's spinning worker threads are idle before our next run starts.
 * Nothing here throws: a missing python3 or numpy, or a failing run, is reported through {@link #problem()}.
 */
final class NumpyBlas implements AutoCloseable {
    private static final long TIMEOUT_SECONDS = 300;

    private static final String SCRIPT = """
            import sys, time
            try:
                import numpy as np
            except Exception as e:
                print("NO numpy:", e, flush=True); sys.exit(0)
            n, warm = int(sys.argv[1]), int(sys.argv[2])
            rng = np.random.default_rng(1)
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            t0, i = time.perf_counter(), 0
            while i < warm or time.perf_counter() - t0 < 1.0:
                a @ b.T; i += 1
            name, version, core = "unknown-BLAS", "-", "-"
            try:
                blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
                name, version = blas.get("name", name).replace(" ", "-"), blas.get("version", "-").replace(" ", "-")
            except Exception:
                pass
            try:
                import ctypes
                for lib in sorted({l.split()[-1] for l in open("/proc/self/maps") if "openblas" in l.lower()}):
                    dll = ctypes.CDLL(lib)
                    for sym in ("openblas_get_corename", "openblas_get_corename64_",
                                "scipy_openblas_get_corename64_", "scipy_openblas_get_corename"):
                        f = getattr(dll, sym, None)
                        if f is not None:
                            f.restype = ctypes.c_char_p; core = f().decode(); break
                    if core != "-":
                        break
            except Exception:
                pass
            print("READY", name, version, core, np.__version__, flush=True)
            for line in sys.stdin:
                if line.strip() != "run":
                    break
                t = time.perf_counter(); a @ b.T; dt = time.perf_counter() - t
                time.sleep(0.2)
                print("TIME", repr(dt), flush=True)
            """;

    private final Process process;
    private final PrintWriter toPython;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private String label;
    private boolean openBlas;
    private String problem;

    private NumpyBlas(Process process) {
        this.process = process;
        this.toPython = process == null ? null : new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
    }

    /**
     * Starts python3, builds N×N operands and warms numpy up (at least {@code warmup} products and 1 s) with
     * {@code threads} BLAS threads. Check {@link #problem()} before timing.
     */
    static NumpyBlas start(int n, int threads, int warmup) {
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", SCRIPT, Integer.toString(n), Integer.toString(Math.max(1, warmup)));
        Map<String, String> env = pb.environment();
        env.remove("OPENBLAS_CORETYPE");
        env.remove("OPENBLAS_L2_SIZE");
        String t = Integer.toString(threads);
        env.put("OPENBLAS_NUM_THREADS", t);
        env.put("OMP_NUM_THREADS", t);
        env.put("MKL_NUM_THREADS", t);
        pb.redirectErrorStream(true);
        NumpyBlas s;
        try {
            s = new NumpyBlas(pb.start());
        } catch (IOException e) {
            s = new NumpyBlas(null);
            s.problem = "no python3 on PATH";
            return s;
        }
        s.readLinesInBackground();
        s.awaitReady();
        return s;
    }

    private void readLinesInBackground() {
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) lines.add(line);
            } catch (IOException ignored) {
                // the process ended or was killed
            }
            lines.add("EOF");
        });
    }

    private void awaitReady() {
        String last = "no output";
        while (problem == null) {
            String line = next();
            if (line == null) problem = "python3 timed out";
            else if (line.startsWith("NO numpy")) problem = "python3 has no numpy";
            else if (line.equals("EOF")) problem = "python3 numpy run failed: " + last;
            else if (line.startsWith("READY ")) {
                String[] f = line.split(" ");
                if (f.length < 5) { problem = "python3 numpy run failed: " + line; break; }
                openBlas = f[1].toLowerCase().contains("openblas");
                label = (openBlas ? "OpenBLAS" : f[1]) + ("-".equals(f[2]) ? "" : " " + f[2])
                        + ("-".equals(f[3]) ? "" : " (" + f[3] + " kernel)") + ", numpy " + f[4];
                return;
            } else last = line;
        }
        close();
    }

    /** Runs one timed product in python; its seconds, or NaN (and a {@link #problem()}) if that failed. */
    double timeOne() {
        if (problem != null) return Double.NaN;
        toPython.println("run");
        String line = next();
        if (line != null && line.startsWith("TIME ")) {
            try {
                return Double.parseDouble(line.substring(5).trim());
            } catch (NumberFormatException e) {
                // falls through to the problem below
            }
        }
        problem = line == null ? "python3 timed out" : "python3 numpy run failed: " + line;
        close();
        return Double.NaN;
    }

    private String next() {
        try {
            return lines.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Why numpy's BLAS could not be timed, or null. */
    String problem() {
        return problem;
    }

    /** The library, its version and kernel, and numpy's version, e.g. "OpenBLAS 0.3.31 (SkylakeX kernel), numpy 2.4.6". */
    String label() {
        return label;
    }

    /** Whether numpy's BLAS is OpenBLAS. */
    boolean isOpenBlas() {
        return openBlas;
    }

    @Override public void close() {
        if (process == null || !process.isAlive()) return;
        toPython.println("quit");
        toPython.close();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
