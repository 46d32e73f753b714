package org.xlstm4j.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.ExactMath;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.train.Checkpoints;
import org.xlstm4j.train.TextDataset;
import org.xlstm4j.train.TrainConfig;
import org.xlstm4j.train.TrainListener;
import org.xlstm4j.train.Trainer;
import org.xlstm4j.train.TrainerState;
import org.xlstm4j.train.Tokens;
import org.xlstm4j.train.XLstmTrainable;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The paper model (mLSTM and sLSTM blocks, chunkwise training form) stopped after 3 of 6 steps and resumed from its
 * checkpoint ends bit-identical to 6 steps in one go: parameters, AdamW moments and trainer state are restored
 * exactly. Runs in the C1-only JVM ({@link ExactMath}); in an ordinary JVM the two agree to rounding
 * ({@code cli.ResumeAcrossProcessesTest}).
 */
@ExactMath
class PaperResumeExactTest {
    record Ids(int vocabSize, int[] ids, String source) implements Tokens {}

    @Test void stopAndResumeIsBitIdentical(@TempDir Path tmp) throws Exception {
        Random r = new Random(3);
        int[] ids = new int[3000];
        for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(8) == 0 ? r.nextInt(37) : (i * 3) % 37;
        Ids data = new Ids(37, ids, "test:cycle-37");
        TrainConfig six = new TrainConfig(6, 4, 16, 2, 2e-3, 0.1, 2, 0.1, 0.9, 0.95, 1e-8, 1.0, 10, 2, 100, 7, 1);
        try (CpuKernels k = new CpuKernels(2)) {
            Path a = tmp.resolve("a"), b = tmp.resolve("b");
            Trainer first = new Trainer(six, new XLstmTrainable(model(k)), new TextDataset(data, 16, 7), a);
            first.listener(new TrainListener() {
                @Override public void onStep(int step, int steps, double loss, double lr, double gradNorm, double tokensPerS) {
                    if (step == 3) first.requestStop();
                }
            }).run();
            assertEquals(3, TrainerState.read(a.resolve(Checkpoints.DIR)).step());
            XLstmLM resumed = Checkpoint.load(a.resolve(Checkpoints.DIR), k);
            resumed.setMLstmForm(org.xlstm4j.blocks.MLstmLayer.Form.CHUNKWISE, 4);
            Trainer.resume(a, new XLstmTrainable(resumed), new TextDataset(data, 16, 7), six).run();
            new Trainer(six, new XLstmTrainable(model(k)), new TextDataset(data, 16, 7), b).run();
            Path ca = a.resolve(Checkpoints.DIR), cb = b.resolve(Checkpoints.DIR);
            assertEquals(6, TrainerState.read(ca).step());
            for (String f : new String[]{"model.safetensors", Checkpoints.OPTIMIZER})
                assertArrayEquals(Files.readAllBytes(cb.resolve(f)), Files.readAllBytes(ca.resolve(f)), f);
        }
    }

    /** xLSTM[1:1] of width 16 (an mLSTM block, then an sLSTM block), official init, chunkwise form with chunks of 4. */
    private static XLstmLM model(CpuKernels k) {
        XLstmLM m = new XLstmLM(PaperModelTest.mixed(16, 2, 1), k);
        XLstmInit.apply(m, 5);
        m.setMLstmForm(org.xlstm4j.blocks.MLstmLayer.Form.CHUNKWISE, 4);
        return m;
    }
}
