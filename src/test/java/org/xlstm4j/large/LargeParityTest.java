package org.xlstm4j.large;

import org.xlstm4j.ExactMath;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xlstm4j.Fixtures;
import org.xlstm4j.infer.Generator;
import org.xlstm4j.infer.Sampler;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.Models;
import org.xlstm4j.tensor.CpuKernels;

import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parity of {@link XLstmLarge} with Hugging Face {@code xLSTMForCausalLM} (transformers 5.17, float32, CPU) on the
 * fixtures hf_tiny (F32 weights), hf_tiny_bf16 (BF16 weights, the released 7B's storage) and hf_tiny_bf16_sharded (the
 * same split over three shards with an index): full-sequence logits (chunkwise prefill, chunk 8, remainder step by
 * step), token-by-token logits, and greedy generation. Tolerance: 1e-4 relative (max abs error / max abs value); the
 * fixtures README puts float32-port agreement at about 1e-5.
 */
class LargeParityTest {
    static CpuKernels kernels;

    @BeforeAll static void setUp() { kernels = new CpuKernels(2); }

    @AfterAll static void tearDown() { kernels.close(); }

    static Path fixture(String name) { return Fixtures.fixture(name); }

    static double relErr(float[] got, float[] want) { return Fixtures.relErr(got, want); }

    static int[] ints(long[] a) { return Fixtures.ints(a); }

    @ParameterizedTest
    @ValueSource(strings = {"hf_tiny", "hf_tiny_bf16", "hf_tiny_bf16_sharded"})
    void logitsStepLogitsAndGreedyIdsMatchHuggingFace(String name) {
        Path dir = fixture(name);
        LanguageModel lm = Models.load(dir, kernels);
        assertInstanceOf(XLstmLarge.class, lm);
        try (XLstmLarge model = (XLstmLarge) lm; SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
            long[] shape = io.info("input.idx").shape();
            int B = (int) shape[0], T = (int) shape[1], V = model.vocabSize();
            int[] idx = ints(io.longs("input.idx"));

            double errLogits = relErr(model.forward(idx, B, T, null), io.floats("output.logits"));
            assertTrue(errLogits < 1e-4, name + " logits rel err " + errLogits);

            double errStep = relErr(model.stepSequence(idx, B, T, null), io.floats("output.step_logits"));
            assertTrue(errStep < 1e-4, name + " step logits rel err " + errStep);

            long[] greedyShape = io.info("output.greedy_ids").shape();
            int n = (int) greedyShape[1] - T;
            int[] ids = new Generator(model).generate(idx, B, T, n, Sampler.greedy(V), null, null);
            assertArrayEquals(ints(io.longs("output.greedy_ids")), ids, name + " greedy ids");
            System.out.printf("%s: logits rel err %.2e, step logits %.2e, greedy ids equal (B=%d, T=%d, +%d)%n",
                    name, errLogits, errStep, B, T, n);
        }
    }

    @ExactMath
    @Test void promptThenContinuationEqualsOneGoAndSurvivesSaveLoad(@TempDir Path tmp) {
        try (XLstmLarge model = XLstmLarge.load(fixture("hf_tiny"), kernels)) {
            int B = 2, TA = 11, TB = 13, T = TA + TB, V = model.vocabSize();
            int[] all = new int[B * T], a = new int[B * TA], b = new int[B * TB];
            java.util.Random rnd = new java.util.Random(1);
            for (int i = 0; i < all.length; i++) all[i] = rnd.nextInt(V);
            for (int s = 0; s < B; s++) {
                System.arraycopy(all, s * T, a, s * TA, TA);
                System.arraycopy(all, s * T + TA, b, s * TB, TB);
            }
            float[] whole = model.forward(all, B, T, null).clone();
            LMState state = model.newState(B);
            model.forward(a, B, TA, state);
            Path saved = tmp.resolve("state.safetensors");
            state.save(saved);
            float[] cont = model.forward(b, B, TB, state).clone();
            float[] wantB = new float[B * TB * V];
            for (int s = 0; s < B; s++) System.arraycopy(whole, (s * T + TA) * V, wantB, s * TB * V, TB * V);
            // the split changes which tokens go chunkwise (8 + 3 step | 8 + 5 step vs 16 + 8 step): equal to rounding
            double err = relErr(cont, wantB);
            assertTrue(err < 1e-5, "continuation vs one go rel err " + err);

            LMState loaded = model.newState(B);
            loaded.load(saved);
            float[] again = model.forward(b, B, TB, loaded);
            assertArrayEquals(cont, Arrays.copyOf(again, cont.length), "continuation from the loaded state");
            assertArrayEquals(state.blocks[1].tensors().get("mlstm.C"), loaded.blocks[1].tensors().get("mlstm.C"));
        }
    }

    @Test void decodingStepsAllocateNothing() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        try (XLstmLarge model = XLstmLarge.load(fixture("hf_tiny_bf16"), kernels)) {
            LMState state = model.newState(1);
            int[] tok = {5};
            // until the JIT has compiled the step path (boxed vectors before that) some windows allocate; a per-token
            // allocation would show in every window
            long least = Long.MAX_VALUE;
            for (int window = 0; window < 100 && least > 0; window++) {
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 250; i++) model.step(tok, state);
                least = Math.min(least, threads.getCurrentThreadAllocatedBytes() - before);
            }
            assertEquals(0, least, "250 decoding steps allocate " + least + " bytes");
        }
    }

    @Test void passesOfAnyLengthGiveTheSameLogits() {
        Path dir = fixture("hf_tiny");
        try (XLstmLarge model = XLstmLarge.load(dir, kernels); SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
            long[] shape = io.info("input.idx").shape();
            int B = (int) shape[0], T = (int) shape[1];
            int[] idx = ints(io.longs("input.idx"));
            float[] one = model.forward(idx, B, T, null).clone();
            for (int pass : new int[]{1, 5, 8, 16}) {
                model.setPassTokens(pass);
                double err = relErr(model.forward(idx, B, T, null), one);
                assertTrue(err < 1e-6, "passTokens " + pass + " rel err " + err);
            }
        }
    }
}
