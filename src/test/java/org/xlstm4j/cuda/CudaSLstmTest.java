package org.xlstm4j.cuda;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.xlstm4j.cells.SLstmCell;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fused GPU sLSTM forward (one launch per sequence, {@link CudaSLstm}) against the CPU {@link SLstmCell} (needs a
 * GPU; skipped with the reason otherwise): random ragged shapes including DH = 96 (all of R in shared memory) and
 * DH = 256 (part of R streamed from L2), batch tiles 1, 2 and 4 with a partial last tile, 1, 2 and 4 k slices, no state / random initial
 * state / explicit all-zero state (final state compared), fp32 within 1e-4 and bf16 within 2e-2 relative.
 */
class CudaSLstmTest {
    static final double FP32_TOL = 1e-4, BF16_TOL = 2e-2;

    @BeforeEach void needsGpu() {
        assumeTrue(Cuda.available(), () -> "no CUDA GPU: " + Cuda.unavailableReason());
    }

    private static void check(String what, SLstmParity.Errors e, double tol) {
        System.out.println(what + ": " + e);
        assertTrue(e.max() <= tol, what + ": " + e);
    }

    @Test void forwardRaggedShapesFp32AndBf16() {
        Random r = new Random(17);
        CudaDevice dev = Cuda.device();
        int[][] shapes = { // B, NH, DH, T
                {2, 4, 96, 70}, {3, 2, 256, 37}, {1, 3, 20, 33}, {5, 1, 130, 17}, {1, 1, 1, 5}, {2, 2, 7, 41},
                {1, 2, 160, 25}, {2, 1, 250, 12}};
        for (int[] s : shapes)
            for (int init = 0; init <= 2; init++)
                for (DType t : DType.values()) {
                    String what = String.format("forward %s B=%d NH=%d DH=%d T=%d %s", t, s[0], s[1], s[2], s[3],
                            init == 0 ? "no state" : init == 1 ? "initial state" : "zero state");
                    check(what, SLstmParity.forward(dev, s[0], s[1], s[2], s[3], init, t, r.nextLong()),
                            t == DType.FP32 ? FP32_TOL : BF16_TOL);
                }
    }

    @Test void everyBatchTileAndKSplitMatches() {
        CudaDevice dev = Cuda.device();
        for (int bb : new int[] {1, 2, 4})
            for (int splits : new int[] {1, 2, 4})
            for (DType t : DType.values()) {
                int B = 7, NH = 2, DH = 48, T = 30;
                Random rnd = new Random(5 + bb + 10 * splits);
                SLstmParity.Inputs in = SLstmParity.Inputs.random(rnd, B, NH, DH, T, t == DType.BF16);
                org.xlstm4j.cells.SLstmState s0 = SLstmParity.randomState(rnd, in.cell(), B, 5);
                org.xlstm4j.cells.SLstmState sCpu = s0.copy(), sGpu = s0.copy();
                float[] hCpu = new float[B * T * NH * DH], hGpu = new float[hCpu.length];
                in.cell().forward(in.x(), hCpu, B, T, sCpu);
                try (CudaSLstm gpu = new CudaSLstm(dev, NH, DH)) {
                    gpu.forceBatchTile = bb;
                    gpu.forceSplits = splits;
                    gpu.forward(in.x(), in.cell().recurrentKernel().data, in.cell().bias().data, hGpu, B, T, sGpu, t);
                }
                double tol = t == DType.FP32 ? FP32_TOL : BF16_TOL;
                SLstmParity.Errors e = new SLstmParity.Errors(SLstmParity.relError(hGpu, hCpu),
                        SLstmParity.relError(sGpu.h, sCpu.h), SLstmParity.relError(sGpu.c, sCpu.c),
                        SLstmParity.relError(sGpu.n, sCpu.n), SLstmParity.relError(sGpu.m, sCpu.m));
                check("batch tile " + bb + ", " + splits + " k slices " + t + " B=7 NH=2 DH=48 T=30", e, tol);
            }
    }

    @Test void largeHeadKeepsPartOfRInSharedMemory() {
        CudaDevice dev = Cuda.device();
        try (CudaSLstm gpu = new CudaSLstm(dev, 4, 256)) {
            CudaSLstm.Plan p32 = gpu.plan(16, DType.FP32), p16 = gpu.plan(16, DType.BF16);
            System.out.println("DH=256: " + p32 + "; " + p16);
            assertTrue(p16.smemRows() > 0 && p16.smemRows() < 256 && p16.smemRows() % 4 == 0, p16.toString());
            assertTrue(p16.smemBytes() <= dev.maxSharedPerBlockOptin, p16.toString());
        }
        try (CudaSLstm gpu = new CudaSLstm(dev, 4, 96)) {
            CudaSLstm.Plan p = gpu.plan(8, DType.FP32);
            assertTrue(p.smemRows() == 96, "DH=96 fp32 must keep all of R on chip: " + p);
        }
    }

    @Test void parityCheckCanFail() {
        // the comparison must notice a wrong result: a different bias on the GPU side
        CudaDevice dev = Cuda.device();
        Random rnd = new Random(3);
        int B = 2, NH = 2, DH = 16, T = 20;
        SLstmParity.Inputs in = SLstmParity.Inputs.random(rnd, B, NH, DH, T, false);
        float[] hCpu = new float[B * T * NH * DH], hGpu = new float[hCpu.length];
        in.cell().forward(in.x(), hCpu, B, T, null);
        float[] bias = in.cell().bias().data.clone();
        for (int i = 0; i < bias.length; i++) bias[i] += 0.5f;
        try (CudaSLstm gpu = new CudaSLstm(dev, NH, DH)) {
            gpu.forward(in.x(), in.cell().recurrentKernel().data, bias, hGpu, B, T, null, DType.FP32);
        }
        assertTrue(SLstmParity.relError(hGpu, hCpu) > FP32_TOL, "different inputs must give a parity failure");
    }

    @Test void badArgumentsAreRejected() {
        CudaDevice dev = Cuda.device();
        try (CudaSLstm gpu = new CudaSLstm(dev, 2, 8)) {
            float[] x = new float[10 * 4 * 16], h = new float[10 * 16], R = new float[2 * 4 * 8 * 8], b = new float[64];
            assertThrows(IllegalArgumentException.class, () -> gpu.forward(x, R, b, h, 1, 11, null, DType.FP32));
            assertThrows(IllegalArgumentException.class, () -> gpu.forward(x, R, b, h, 1, 0, null, DType.FP32));
        }
        try (CudaSLstm gpu = new CudaSLstm(dev, 1, 300)) {
            int E = 300;
            float[] x = new float[4 * E], h = new float[E], R = new float[4 * E * E], b = new float[4 * E];
            assertThrows(IllegalArgumentException.class, () -> gpu.forward(x, R, b, h, 1, 1, null, DType.FP32));
        }
    }
}
