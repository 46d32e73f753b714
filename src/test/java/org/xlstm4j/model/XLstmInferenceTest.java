package org.xlstm4j.model;

import org.xlstm4j.ExactMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.model.PaperModelTest.tokens;
import static org.xlstm4j.model.PaperParityTest.fixture;
import static org.xlstm4j.model.PaperParityTest.ints;
import static org.xlstm4j.model.PaperParityTest.relErr;

/**
 * The backend-independent forward ({@link XLstmInference} over {@link CpuXLstmOps}) is the paper model: bit-identical
 * to {@link XLstmLM#forward} on every architecture variant (prompt, continuation, token steps), and within the
 * fixtures' tolerance of the official code.
 */
class XLstmInferenceTest {
    @ExactMath
    @Test
    void equalsTheTrainingForwardBitForBitOnEveryVariant() {
        try (Kernels k = new CpuKernels(2)) {
            int seed = 20;
            for (XLstmConfig c : XLstmInferenceTestSupport.variants()) {
                XLstmLM m = XLstmInferenceTestSupport.randomModel(c, k, seed++);
                XLstmInference<float[]> inf = XLstmInference.cpu(m);
                int B = 2, T1 = 11, T2 = 3, V = c.vocabSize;
                int[] a = tokens(B * T1, V, seed), b = tokens(B * T2, V, seed + 7);
                LMState sm = m.newState(B), si = inf.newState(B);
                assertArrayEquals(m.forward(a, B, T1, sm).clone(), inf.forward(a, B, T1, si).clone(), "prompt " + c.toJsonString());
                assertArrayEquals(m.forward(b, B, T2, sm).clone(), inf.forward(b, B, T2, si).clone(), "continuation");
                assertArrayEquals(m.stepSequence(a, B, 4, sm), inf.stepSequence(a, B, 4, si), "steps");
                for (int i = 0; i < sm.blocks.length; i++)
                    for (var e : sm.blocks[i].tensors().entrySet())
                        assertArrayEquals(e.getValue(), si.blocks[i].tensors().get(e.getKey()), "state " + i + " " + e.getKey());
                assertArrayEquals(m.forward(a, B, T1, null).clone(), inf.forward(a, B, T1, null).clone(), "no state");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"paper_m", "paper_s", "paper_mix"})
    void matchesTheOfficialLogits(String name) {
        Path dir = fixture(name);
        try (Kernels kernels = new CpuKernels(2); SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
            XLstmInference<float[]> inf = XLstmInference.cpu(Checkpoint.load(dir, kernels));
            long[] shape = io.info("input.idx").shape();
            int B = (int) shape[0], T = (int) shape[1];
            int[] idx = ints(io.longs("input.idx"));
            double err = relErr(inf.forward(idx, B, T, null).clone(), io.floats("output.logits"));
            assertTrue(err < 1e-4, name + " logits rel err " + err);
            double errStep = relErr(inf.stepSequence(idx, B, T, null), io.floats("output.step_logits"));
            assertTrue(errStep < 1e-4, name + " step logits rel err " + errStep);
        }
    }
}
