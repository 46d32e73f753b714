package org.xlstm4j.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Device memory, the allocator, NVRTC errors, events, graphs and cuBLAS (needs a GPU; skipped otherwise). */
class CudaRuntimeTest {
    @BeforeEach void needsGpu() {
        assumeTrue(Cuda.available(), () -> "no CUDA GPU: " + Cuda.unavailableReason());
    }

    @Test void buffersRoundTripAndTheAllocatorReuses() {
        CudaDevice dev = Cuda.device();
        float[] a = new float[1000];
        for (int i = 0; i < a.length; i++) a[i] = i * 0.5f - 7;
        long reuses = dev.allocator().reuses();
        try (DeviceBuffer b = dev.allocate(4000)) {
            b.copyFrom(a);
            float[] back = new float[1000];
            b.copyTo(back);
            assertArrayEquals(a, back);
            b.zero();
            b.copyTo(back);
            assertArrayEquals(new float[1000], back);
        }
        try (DeviceBuffer b = dev.allocate(3999)) {           // same size class: served from the free list
            assertTrue(dev.allocator().reuses() > reuses);
            b.copyFromAsBf16(a);
            float[] back = new float[1000];
            b.copyToFromBf16(back);
            for (int i = 0; i < a.length; i++) assertEquals(Bf16.round(a[i]), back[i]);
        }
    }

    @Test void compileErrorCarriesTheLog() {
        CudaDevice dev = Cuda.device();
        CudaException e = assertThrows(CudaException.class, () -> dev.nvrtc().compileToCubin(
                "extern \"C\" __global__ void broken(float* p) { p[0] = undefined_name; }", "broken.cu", dev.compileOptions()));
        String first = e.getMessage().lines().findFirst().orElseThrow();
        assertTrue(first.startsWith("nvrtcCompileProgram failed: NVRTC_ERROR_COMPILATION"), first);
        assertTrue(e.getMessage().contains("undefined_name"), e.getMessage());
    }

    @Test void launchErrorNamesTheCall() {
        CudaDevice dev = Cuda.device();
        CudaKernel fill = dev.module("mlstm.cu").kernel("fill_uniform_f32");
        try (CudaStream s = dev.newStream()) {
            CudaException e = assertThrows(CudaException.class, () -> fill.launch(s, 1, 1, 1, 4096, 1, 1, 0, null, 0L, 1, 0f, 1f));
            assertTrue(e.getMessage().startsWith("cuLaunchKernel failed: CUDA_ERROR_INVALID_VALUE"), e.getMessage());
        }
        CudaException missing = assertThrows(CudaException.class, () -> dev.module("mlstm.cu").kernel("no_such_kernel"));
        assertTrue(missing.getMessage().startsWith("cuModuleGetFunction failed: CUDA_ERROR_NOT_FOUND"), missing.getMessage());
    }

    @Test void eventsAndGraphs() {
        CudaDevice dev = Cuda.device();
        CudaKernel fill = dev.module("mlstm.cu").kernel("fill_uniform_f32");
        try (CudaStream s = dev.newStream(); DeviceBuffer b = dev.allocate(4L << 20);
             CudaEvent e0 = dev.newEvent(); CudaEvent e1 = dev.newEvent()) {
            long n = (4L << 20) / 4;
            try (CudaGraph g = CudaGraph.capture(dev, s, () -> fill.launch(s, 256, 1, 1, 256, 1, 1, 0, b, n, 5, 2f, 3f))) {
                float[] x = new float[(int) n];
                b.zero();
                e0.record(s);
                g.launch(s);
                e1.record(s);
                assertTrue(e1.elapsedSince(e0) >= 0f);
                s.synchronize();
                b.copyTo(x);
                for (float v : x) assertTrue(v >= 2f && v <= 3f, "graph replay filled " + v);   // 2 + (1 − 2⁻²⁴) rounds to 3
            }
        }
    }

    @Test void cublasRowMajorGemmsMatchTheCpu() {
        CudaDevice dev = Cuda.device();
        Random r = new Random(5);
        int M = 37, N = 53, K = 29;
        float[] a = MLstmParity.gaussian(r, M * K, 1), bt = MLstmParity.gaussian(r, N * K, 1), b = new float[K * N];
        for (int k = 0; k < K; k++) for (int n = 0; n < N; n++) b[k * N + n] = bt[n * K + k];
        float[] ref = new float[M * N];
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double) a[m * K + k] * b[k * N + n];
                ref[m * N + n] = (float) s;
            }
        try (CuBlas blas = dev.newCuBlas(); CudaStream s = dev.newStream();
             DeviceBuffer da = dev.allocate(4L * M * K); DeviceBuffer db = dev.allocate(4L * K * N);
             DeviceBuffer dbt = dev.allocate(4L * N * K); DeviceBuffer dc = dev.allocate(4L * M * N)) {
            blas.setStream(s);
            da.copyFrom(a); db.copyFrom(b); dbt.copyFrom(bt);
            float[] c = new float[M * N];
            blas.sgemmRowMajor(false, false, M, N, K, 1f, da, K, db, N, 0f, dc, N);       // C = A·B
            s.synchronize();
            dc.copyTo(c);
            assertTrue(MLstmParity.relError(c, ref) < 1e-5, "sgemm A·B " + MLstmParity.relError(c, ref));
            blas.sgemmRowMajor(false, true, M, N, K, 1f, da, K, dbt, K, 0f, dc, N);       // C = A·(Bᵀ)ᵀ
            s.synchronize();
            dc.copyTo(c);
            assertTrue(MLstmParity.relError(c, ref) < 1e-5, "sgemm A·Btᵀ " + MLstmParity.relError(c, ref));
            // bf16 inputs, fp32 accumulation: compare against the product of the rounded inputs
            float[] ar = Bf16.roundAll(a.clone()), brr = Bf16.roundAll(b.clone());
            float[] ref16 = new float[M * N];
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double acc = 0;
                    for (int k = 0; k < K; k++) acc += (double) ar[m * K + k] * brr[k * N + n];
                    ref16[m * N + n] = (float) acc;
                }
            da.copyFromAsBf16(a);
            db.copyFromAsBf16(b);
            blas.gemmBf16RowMajor(false, false, M, N, K, 1f, da, K, db, N, 0f, dc, N, false);
            s.synchronize();
            dc.copyTo(c);
            assertTrue(MLstmParity.relError(c, ref16) < 1e-5, "gemmEx bf16 " + MLstmParity.relError(c, ref16));
        }
    }

    @Test void compileOptionsNameTheArchitecture() {
        CudaDevice dev = Cuda.device();
        List<String> o = dev.compileOptions();
        assertTrue(o.contains("--gpu-architecture=" + dev.arch()) && o.contains("-default-device") && o.contains("--std=c++17"), o.toString());
    }
}
