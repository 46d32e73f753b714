package org.xlstm4j.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xlstm4j.Fixtures;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Parity of the whole paper LM with the official xlstm package (fixtures paper_m, paper_s, paper_mix): full-sequence
 * logits (parallel and chunkwise mLSTM), token-by-token step logits, the loss and every parameter gradient.
 */
class PaperParityTest {
    static Path fixture(String name) { return Fixtures.fixture(name); }

    /** max |a − b| / max |b| with equal lengths: the fixtures README's relative error. */
    static double relErr(float[] got, float[] want) {
        assertEquals(want.length, got.length, "length");
        return Fixtures.relErr(got, want);
    }

    static int[] ints(long[] a) { return Fixtures.ints(a); }

    @ParameterizedTest
    @ValueSource(strings = {"paper_m", "paper_s", "paper_mix"})
    void logitsStepLogitsLossAndGradientsMatchTheOfficialCode(String name) {
        Path dir = fixture(name);
        try (Kernels kernels = new CpuKernels(2); SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
            XLstmLM model = Checkpoint.load(dir, kernels);
            long[] shape = io.info("input.idx").shape();
            int B = (int) shape[0], T = (int) shape[1], V = model.config.vocabSize;
            int[] idx = ints(io.longs("input.idx"));
            int[] targets = ints(io.longs("input.targets"));
            float[] wantLogits = io.floats("output.logits");

            model.setMLstmForm(MLstmLayer.Form.PARALLEL, 64);
            double errParallel = relErr(model.forward(idx, B, T, null).clone(), wantLogits);
            assertTrue(errParallel < 1e-4, name + " parallel logits rel err " + errParallel);

            for (int chunk : new int[]{1, 4, 64}) {
                model.setMLstmForm(MLstmLayer.Form.CHUNKWISE, chunk);
                double err = relErr(model.forward(idx, B, T, null).clone(), wantLogits);
                assertTrue(err < 1e-4, name + " chunkwise(" + chunk + ") logits rel err " + err);
            }

            LMState state = model.newState(B);
            float[] stepLogits = new float[B * T * V];
            int[] tok = new int[B];
            for (int t = 0; t < T; t++) {
                for (int b = 0; b < B; b++) tok[b] = idx[b * T + t];
                float[] l = model.step(tok, state);
                for (int b = 0; b < B; b++) System.arraycopy(l, b * V, stepLogits, (b * T + t) * V, V);
            }
            double errStep = relErr(stepLogits, io.floats("output.step_logits"));
            assertTrue(errStep < 1e-4, name + " step logits rel err " + errStep);

            // the loss and every gradient, through the parallel form and through the chunkwise form that training uses
            float wantLoss = io.floats("output.loss")[0];
            for (int chunk : new int[]{0, 1, 4, 64}) {
                String form = chunk == 0 ? "parallel" : "chunkwise(" + chunk + ")";
                model.setMLstmForm(chunk == 0 ? MLstmLayer.Form.PARALLEL : MLstmLayer.Form.CHUNKWISE, chunk == 0 ? 64 : chunk);
                model.zeroGrad();
                float loss = model.forwardBackward(idx, targets, B, T);
                assertEquals(wantLoss, loss, 1e-4 * Math.abs(wantLoss), name + " " + form + " loss");
                double worst = 0;
                String worstName = "";
                for (Param p : model.parameters()) {
                    double e = relErr(p.grad, io.floats("grad." + p.name));
                    if (e > worst) { worst = e; worstName = p.name; }
                }
                assertTrue(worst < 1e-3, name + " " + form + " worst gradient " + worstName + " rel err " + worst);
                System.out.printf("%s %s: logits %.2e, step %.2e, loss %.2e, worst grad %.2e (%s)%n",
                        name, form, errParallel, errStep, Math.abs(loss - wantLoss), worst, worstName);
            }
        }
    }
}
