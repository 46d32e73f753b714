package org.xlstm4j.cuda;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.Fixtures;
import org.xlstm4j.infer.Generator;
import org.xlstm4j.infer.Sampler;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.model.Checkpoint;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.model.XLstmInference;
import org.xlstm4j.model.XLstmInferenceTestSupport;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.CpuKernels;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The paper architecture on the GPU ({@link XLstmInference} over {@link CudaXLstmOps}; needs a GPU, skipped with the
 * reason otherwise): the official fixtures paper_m, paper_s, paper_mix within 1e-4 relative on logits and step logits;
 * CPU and GPU agree on random checkpoints of every architecture variant (prompt, continuation through the state,
 * token steps, greedy ids, the states themselves); a state saved on the GPU continues on the CPU and back.
 */
class CudaXLstmTest {
    static final double FP32_TOL = 1e-4;
    static CpuKernels kernels;

    @BeforeAll static void setUp() { kernels = new CpuKernels(2); }

    @AfterAll static void tearDown() { kernels.close(); }

    @BeforeEach void needsGpu() {
        assumeTrue(Cuda.available(), () -> "no CUDA GPU: " + Cuda.unavailableReason());
    }

    @Test void officialFixturesWithin1e4() {
        for (String name : new String[]{"paper_m", "paper_s", "paper_mix"}) {
            Path dir = Fixtures.fixture(name);
            try (XLstmInference<DeviceBuffer> model = CudaXLstmOps.load(dir);
                 SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
                long[] shape = io.info("input.idx").shape();
                int B = (int) shape[0], T = (int) shape[1];
                int[] idx = Fixtures.ints(io.longs("input.idx"));
                double err = Fixtures.relErr(model.forward(idx, B, T, null).clone(), io.floats("output.logits"));
                double errStep = Fixtures.relErr(model.stepSequence(idx, B, T, null), io.floats("output.step_logits"));
                long replays = ((CudaXLstmOps) model.ops()).graphReplays();
                System.out.printf("cuda %s: logits rel err %.2e, step logits %.2e (graph replays %d)%n", name, err, errStep, replays);
                assertTrue(replays > 0, "decoding steps were not replayed from a CUDA graph");
                assertTrue(err < FP32_TOL, name + " logits rel err " + err);
                assertTrue(errStep < FP32_TOL, name + " step logits rel err " + errStep);
            }
        }
    }

    @Test void cpuAndGpuAgreeOnEveryVariant() {
        int seed = 40;
        for (XLstmConfig c : XLstmInferenceTestSupport.variants()) {
            XLstmLM cpu = XLstmInferenceTestSupport.randomModel(c, kernels, seed++);
            try (XLstmInference<DeviceBuffer> gpu = new XLstmInference<>(cpu, new CudaXLstmOps(Cuda.device()))) {
                int B = 3, T1 = 70, T2 = 5, V = c.vocabSize;         // T1 > 64: several chunks on the GPU
                int[] a = tokens(B * T1, V, seed), b = tokens(B * T2, V, seed + 1);
                LMState sc = cpu.newState(B), sg = gpu.newState(B);
                check("prompt", cpu.forward(a, B, T1, sc).clone(), gpu.forward(a, B, T1, sg).clone(), c);
                check("continuation", cpu.forward(b, B, T2, sc).clone(), gpu.forward(b, B, T2, sg).clone(), c);
                check("steps", cpu.stepSequence(a, B, 6, sc), gpu.stepSequence(a, B, 6, sg), c);
                for (int i = 0; i < sc.blocks.length; i++)
                    for (var e : sc.blocks[i].tensors().entrySet())
                        check("state " + i + " " + e.getKey(), sg.blocks[i].tensors().get(e.getKey()), e.getValue(), c);
                int[] prompt = Arrays.copyOf(a, 2 * 9);
                int[] want = new Generator(cpu).generate(prompt, 2, 9, 12, Sampler.greedy(V), null, null);
                int[] got = new Generator(gpu).generate(prompt, 2, 9, 12, Sampler.greedy(V), null, null);
                assertArrayEquals(want, got, "greedy ids " + c.toJsonString());
            }
        }
    }

    @Test void stateMovesBetweenGpuAndCpu(@TempDir Path tmp) {
        XLstmLM cpu = XLstmInferenceTestSupport.randomModel(XLstmInferenceTestSupport.variants().getFirst(), kernels, 77);
        try (XLstmInference<DeviceBuffer> gpu = new XLstmInference<>(cpu, new CudaXLstmOps(Cuda.device()))) {
            int V = cpu.vocabSize();
            int[] prompt = tokens(2 * 12, V, 1), next = tokens(2 * 7, V, 2);
            LMState sg = gpu.newState(2);
            gpu.forward(prompt, 2, 12, sg);
            Path file = tmp.resolve("gpu-state.safetensors");
            sg.save(file);
            LMState sc = cpu.newState(2);
            sc.load(file);
            float[] onCpu = cpu.forward(next, 2, 7, sc).clone();
            float[] onGpu = gpu.forward(next, 2, 7, sg).clone();
            check("continued from a saved GPU state", onGpu, onCpu, cpu.config);
            LMState back = gpu.newState(2);                  // and a CPU state continues on the GPU
            back.copyFrom(sc);
            check("CPU state on the GPU", gpu.forward(next, 2, 7, back).clone(), cpu.forward(next, 2, 7, sc).clone(), cpu.config);
        }
    }

    @Test void checkpointLoadsOnTheGpu(@TempDir Path tmp) throws Exception {
        XLstmLM m = XLstmInferenceTestSupport.randomModel(XLstmInferenceTestSupport.variants().get(3), kernels, 91);
        Checkpoint.save(m, tmp.resolve("ckpt"));
        try (XLstmInference<DeviceBuffer> gpu = CudaXLstmOps.load(tmp.resolve("ckpt"))) {
            int[] t = tokens(2 * 20, m.vocabSize(), 5);
            check("saved checkpoint", gpu.forward(t, 2, 20, null).clone(), m.forward(t, 2, 20, null).clone(), m.config);
        }
    }

    @Test void statesAreFreedAndForeignStatesRejected() {
        XLstmLM cpu = XLstmInferenceTestSupport.randomModel(XLstmInferenceTestSupport.variants().getFirst(), kernels, 5);
        int blocks = cpu.blocks().size();
        try (XLstmInference<DeviceBuffer> a = new XLstmInference<>(cpu, new CudaXLstmOps(Cuda.device()));
             XLstmInference<DeviceBuffer> b = new XLstmInference<>(cpu, new CudaXLstmOps(Cuda.device()))) {
            CudaXLstmOps ops = (CudaXLstmOps) a.ops();
            int[] t = tokens(8 * 3, cpu.vocabSize(), 1);
            for (int B : new int[]{1, 2, 4, 8, 1}) a.forward(t, B, 3, null);     // the zeros state follows B
            assertEquals(blocks, ops.liveStates(), "states of earlier batch sizes were not freed");
            LMState s = a.newState(2);
            assertEquals(2 * blocks, ops.liveStates());
            a.release(s);
            assertEquals(blocks, ops.liveStates());
            LMState foreign = b.newState(2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.forward(t, 2, 3, foreign));
            assertTrue(e.getMessage().contains("not made by this CUDA model"), e.getMessage());
        }
    }

    private static void check(String what, float[] got, float[] want, XLstmConfig c) {
        double e = Fixtures.relErr(got, want);
        assertTrue(e < FP32_TOL, what + ": GPU vs CPU rel err " + e + " for " + c.toJsonString());
    }

    static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }
}
