package org.xlstm4j.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Times numpy's float32 {@code a @ b.T} (BLAS sgemm, the same layout as y = x·Wᵀ) in a {@code python3} subprocess,
 * so {@code xlstm bench matmul} can put our GFLOP/s next to OpenBLAS's on the same machine in the same run. The
 * subprocess gets OPENBLAS_NUM_THREADS (and OMP/MKL) equal to our thread count, and OPENBLAS_CORETYPE and
 * OPENBLAS_L2_SIZE removed so OpenBLAS picks its own best kernel for this processor. Never throws: a missing python3 or
 * numpy, or a failing run, comes back as a {@link Result} with a {@code problem}.
 */
final class NumpyBlas {
    private NumpyBlas() {}

    /** GFLOP/s of numpy's BLAS, or a problem saying why there is none. {@code label} names the library and kernel. */
    record Result(String label, double medianGflops, double bestGflops, boolean isOpenBlas, String problem) {
        static Result unavailable(String why) {
            return new Result(null, Double.NaN, Double.NaN, false, why);
        }
    }

    private static final long TIMEOUT_SECONDS = 300;

    private static final String SCRIPT = """
            import sys, time
            try:
                import numpy as np
            except Exception as e:
                print("NO numpy:", e); sys.exit(0)
            n, runs, warm = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
            rng = np.random.default_rng(1)
            a = rng.standard_normal((n, n), dtype=np.float32)
            b = rng.standard_normal((n, n), dtype=np.float32)
            t0, i = time.perf_counter(), 0
            while i < warm or time.perf_counter() - t0 < 1.0:
                a @ b.T; i += 1
            ts = []
            for _ in range(runs):
                t = time.perf_counter(); a @ b.T; ts.append(time.perf_counter() - t)
            ts.sort()
            med = ts[runs // 2] if runs % 2 else 0.5 * (ts[runs // 2 - 1] + ts[runs // 2])
            name, version, core = "unknown BLAS", "", ""
            try:
                blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
                name, version = blas.get("name", name), blas.get("version", "")
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
                    if core:
                        break
            except Exception:
                pass
            flops = 2.0 * n ** 3
            print("RESULT", flops / med / 1e9, flops / ts[0] / 1e9, name, version or "-", core or "-", np.__version__)
            """;

    /** Runs the measurement: N×N×N, {@code threads} BLAS threads, {@code runs} timed runs after {@code warmup}. */
    static Result measure(int n, int threads, int runs, int warmup) {
        ProcessBuilder pb = new ProcessBuilder("python3", "-c", SCRIPT, Integer.toString(n), Integer.toString(runs),
                Integer.toString(Math.max(1, warmup)));
        Map<String, String> env = pb.environment();
        env.remove("OPENBLAS_CORETYPE");
        env.remove("OPENBLAS_L2_SIZE");
        String t = Integer.toString(threads);
        env.put("OPENBLAS_NUM_THREADS", t);
        env.put("OMP_NUM_THREADS", t);
        env.put("MKL_NUM_THREADS", t);
        pb.redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            return Result.unavailable("no python3 on PATH");
        }
        try {
            p.getOutputStream().close();
            String out = readAll(p.getInputStream(), p);
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Result.unavailable("python3 timed out");
            }
            for (String line : out.split("\n")) {
                if (line.startsWith("NO numpy")) return Result.unavailable("python3 has no numpy");
                if (!line.startsWith("RESULT ")) continue;
                String[] f = line.trim().split(" ");
                if (f.length < 7) break;
                boolean openblas = f[3].toLowerCase().contains("openblas");
                String label = (openblas ? "OpenBLAS" : f[3]) + ("-".equals(f[4]) ? "" : " " + f[4])
                        + ("-".equals(f[5]) ? "" : " (" + f[5] + " kernel)") + ", numpy " + f[6];
                return new Result(label, Double.parseDouble(f[1]), Double.parseDouble(f[2]), openblas, null);
            }
            String last = out.strip();
            last = last.isEmpty() ? "no output" : last.substring(last.lastIndexOf('\n') + 1);
            return Result.unavailable("python3 numpy run failed: " + last);
        } catch (Exception e) {
            p.destroyForcibly();
            return Result.unavailable("python3 numpy run failed: " + e);
        }
    }

    /** Reads the subprocess's output until it ends, or kills it after the timeout. */
    private static String readAll(InputStream in, Process p) throws IOException, InterruptedException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                in.transferTo(buf);
            } catch (IOException ignored) {
                // the process was killed; keep what was read
            }
        });
        if (!reader.join(java.time.Duration.ofSeconds(TIMEOUT_SECONDS))) {
            p.destroyForcibly();
            reader.join(java.time.Duration.ofSeconds(5));
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
