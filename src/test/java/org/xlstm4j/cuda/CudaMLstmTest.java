package org.xlstm4j.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The GPU mLSTM kernels against the CPU cell (needs a GPU; skipped with the reason otherwise): chunkwise forward on
 * random ragged shapes (T not a multiple of the chunk), with and without an initial state (final state compared too),
 * fp32 within 1e-4 and bf16 within 2e-2 relative (bf16 runs the fused tensor-core kernel on every shape here except
 * DK=130 and DV=70, which take the two-kernel path; DK=256/DV=512 and DK=192 the 8-warp DK ≤ 256 variant); the step
 * kernel over several tokens.
 */
class CudaMLstmTest {
    static final double FP32_TOL = 1e-4, BF16_TOL = 2e-2;

    @BeforeEach void needsGpu() {
        assumeTrue(Cuda.available(), () -> "no CUDA GPU: " + Cuda.unavailableReason());
    }

    private static void check(String what, MLstmParity.Errors e, double tol, boolean withState) {
        assertTrue(e.h() <= tol, what + ": h " + e);
        if (withState) assertTrue(e.c() <= tol && e.n() <= tol && e.m() <= tol, what + ": state " + e);
        System.out.println(what + ": " + e);
    }

    @Test void chunkwiseRaggedShapesFp32AndBf16() {
        Random r = new Random(7);
        CudaDevice dev = Cuda.device();
        int[][] shapes = { // B, NH, T, DK, DV, chunk
                {1, 2, 200, 16, 32, 64}, {2, 3, 77, 24, 40, 16}, {1, 1, 5, 8, 8, 64}, {2, 2, 130, 64, 96, 64},
                {1, 2, 150, 130, 70, 32}, {1, 1, 33, 16, 200, 7}, {3, 1, 64, 32, 32, 64}, {1, 2, 1, 16, 16, 64},
                {1, 2, 300, 128, 256, 64}, {2, 1, 190, 128, 136, 48}, {1, 1, 100, 40, 24, 64},
                {1, 2, 150, 256, 512, 64}, {2, 1, 97, 192, 72, 32}};   // DK > 128: the 8-warp kernel (7B heads first)
        for (int[] s : shapes)
            for (boolean init : new boolean[] {false, true})
                for (DType t : DType.values()) {
                    String what = String.format("chunkwise %s B=%d NH=%d T=%d DK=%d DV=%d L=%d %s", t, s[0], s[1], s[2],
                            s[3], s[4], s[5], init ? "initial state" : "zero state");
                    MLstmParity.Errors e = MLstmParity.chunkwise(dev, s[0], s[1], s[2], s[3], s[4], s[5], init, t, r.nextLong());
                    check(what, e, t == DType.FP32 ? FP32_TOL : BF16_TOL, init);
                }
    }

    @Test void stepMatchesTheCpuStep() {
        CudaDevice dev = Cuda.device();
        int[][] shapes = {{1, 2, 16, 32}, {2, 3, 24, 200}, {1, 8, 256, 512}, {1, 1, 300, 5}}; // B, NH, DK, DV
        for (int[] s : shapes)
            for (DType t : DType.values()) {
                MLstmParity.Errors e = MLstmParity.step(dev, s[0], s[1], s[2], s[3], 6, t, 11 + s[2]);
                check(String.format("step %s B=%d NH=%d DK=%d DV=%d", t, s[0], s[1], s[2], s[3]), e,
                        t == DType.FP32 ? FP32_TOL : BF16_TOL, true);
            }
    }

    @Test void parityCheckCanFail() {
        // the comparison must notice a wrong result: perturb the eps (1e-2 instead of 1e-6) on the GPU side
        CudaDevice dev = Cuda.device();
        Random rnd = new Random(3);
        int B = 1, NH = 2, T = 50, DK = 8, DV = 8;
        MLstmParity.Inputs in = MLstmParity.Inputs.random(rnd, B, NH, T, DK, DV, false);
        float[] hCpu = new float[B * NH * T * DV], hGpu = new float[hCpu.length];
        org.xlstm4j.cells.MLstmCell cell = new org.xlstm4j.cells.MLstmCell(NH, DK, DV);
        cell.forwardChunkwise(in.q(), in.k(), in.v(), in.ig(), in.fg(), hCpu, B, T, 16, null);
        for (int i = 0; i < in.fg().length; i++) in.fg()[i] -= 8f;      // strongly closing forget gates: large e^{-m}
        try (CudaMLstm gpu = new CudaMLstm(dev, NH, DK, DV)) {
            gpu.forwardChunkwise(in.q(), in.k(), in.v(), in.ig(), in.fg(), hGpu, B, T, 16, null, DType.FP32);
        }
        assertTrue(MLstmParity.relError(hGpu, hCpu) > FP32_TOL, "different inputs must give a parity failure");
    }

    @Test void badArgumentsAreRejected() {
        CudaDevice dev = Cuda.device();
        try (CudaMLstm gpu = new CudaMLstm(dev, 2, 8, 8)) {
            float[] q = new float[2 * 10 * 8], g = new float[2 * 10];
            assertThrows(IllegalArgumentException.class,
                    () -> gpu.forwardChunkwise(q, q, q, g, g, q, 1, 10, 65, null, DType.FP32));
            assertThrows(IllegalArgumentException.class,
                    () -> gpu.forwardChunkwise(q, q, q, g, g, q, 1, 11, 8, null, DType.FP32));
        }
    }
}
