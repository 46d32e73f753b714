package org.xlstm4j.large;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.ExactMath;
import org.xlstm4j.Fixtures;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.train.Checkpoints;
import org.xlstm4j.train.TextDataset;
import org.xlstm4j.train.TrainConfig;
import org.xlstm4j.train.Tokens;
import org.xlstm4j.train.Trainer;
import org.xlstm4j.train.TrainerState;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.large.LargeParityTest.fixture;

/** Training xLSTM Large with the {@link Trainer} through the Java API: the loss falls, and a fine-tuning run resumes exactly. */
class LargeFineTuneTest {
    static CpuKernels kernels;

    @BeforeAll static void setUp() { kernels = new CpuKernels(2); }

    @AfterAll static void tearDown() { kernels.close(); }

    /** Token ids as a corpus (for vocabularies other than bytes). */
    record Ids(int vocabSize, int[] ids, String source) implements Tokens {}

    /** A learnable sequence: a noisy cycle through the vocabulary. */
    static Ids cycle(int vocab, int n, long seed) {
        Random r = new Random(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = r.nextInt(10) == 0 ? r.nextInt(vocab) : (i * 5) % vocab;
        return new Ids(vocab, ids, "test:cycle-" + vocab);
    }

    static TrainConfig config(int steps, double lr) {
        return new TrainConfig(steps, 4, 16, 1, lr, 0.1, 2, 0.1, 0.9, 0.95, 1e-8, 1.0, 10, 2, 100, 7, 1);
    }

    @Test void trainingATinyModelLowersTheLoss(@TempDir Path tmp) throws Exception {
        LargeConfig c = TinyLargeConfig.of(32, 32, 2, 8, 16).validate("test");
        Path init = tmp.resolve("init");
        LargeCheckpoints.createRandom(init, c, DType.F32, 1);
        LargeTrainable m = LargeTrainable.load(init, kernels);
        TrainConfig tc = config(40, 3e-3);
        TextDataset data = new TextDataset(cycle(32, 4000, 1), tc.contextLength(), tc.seed());
        Trainer t = new Trainer(tc, m, data, tmp.resolve("run"));
        double before = t.evaluate();
        t.run();
        double after = t.evaluate();
        System.out.printf("tiny xLSTM Large, 40 steps: validation loss %.3f -> %.3f%n", before, after);
        assertTrue(after < before - 1.0, "validation loss " + before + " -> " + after);
        Path ckpt = tmp.resolve("run").resolve(Checkpoints.DIR);
        for (String f : List.of("config.json", "model.safetensors", Checkpoints.OPTIMIZER, TrainerState.FILE))
            assertTrue(Files.exists(ckpt.resolve(f)), f);
        assertArrayEquals(Files.readAllBytes(init.resolve("config.json")), Files.readAllBytes(ckpt.resolve("config.json")));
        // the checkpoint is an ordinary xLSTM Large folder: the inference model gives the trained model's logits
        int[] x = new int[2 * 16], y = new int[2 * 16];
        data.validationBatch(x, y, 2, 16, 0, 1);
        LargeTrainableTest.assertLogitsAgree(m, ckpt, x, 2, 16);
    }

    /**
     * Fine-tunes the hf_tiny fixture (vocabulary 97) on token ids, stops after 3 of 5 steps, resumes from the saved
     * checkpoint to 5, and compares with 5 steps in one go: the checkpoints are bit-identical (AdamW state and data
     * order are restored exactly). Run without C2 ({@link ExactMath}), so that both runs take the same vector math.
     */
    @ExactMath
    @Test void fineTuningHfTinyOnIdsResumesBitIdentically(@TempDir Path tmp) throws Exception {
        Path[] runs = interruptedAndStraight(tmp);
        Path ca = runs[0], cb = runs[1];
        assertArrayEquals(Files.readAllBytes(cb.resolve("model.safetensors")), Files.readAllBytes(ca.resolve("model.safetensors")));
        assertArrayEquals(Files.readAllBytes(cb.resolve(Checkpoints.OPTIMIZER)), Files.readAllBytes(ca.resolve(Checkpoints.OPTIMIZER)));
    }

    /**
     * The same runs in the ordinary JVM, where the resumed steps may run in other JIT tiers than the straight ones
     * (see {@link ExactMath}): the parameters agree to rounding.
     */
    @Test void fineTuningHfTinyOnIdsResumesToRounding(@TempDir Path tmp) throws Exception {
        Path[] runs = interruptedAndStraight(tmp);
        try (SafetensorsFile a = SafetensorsFile.open(runs[0].resolve("model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(runs[1].resolve("model.safetensors"))) {
            assertEquals(b.names(), a.names());
            double worst = 0;
            for (String n : a.names()) worst = Math.max(worst, Fixtures.relErr(a.floats(n), b.floats(n)));
            System.out.printf("hf_tiny fine-tuning, resumed vs straight: worst parameter rel err %.2e%n", worst);
            assertTrue(worst < 1e-4, "resumed run drifted from the straight one: rel err " + worst);
        }
    }

    /** Runs a (interrupted after step 3, resumed to 5) and b (5 steps straight); returns their checkpoint folders. */
    private static Path[] interruptedAndStraight(Path tmp) throws Exception {
        Ids ids = cycle(97, 3000, 2);
        TrainConfig five = config(5, 1e-3);
        Path a = tmp.resolve("a"), b = tmp.resolve("b");

        LargeTrainable m = LargeTrainable.load(fixture("hf_tiny"), kernels);
        float[] before = m.parameters().get(1).data.clone();
        Trainer first = new Trainer(five, m, new TextDataset(ids, 16, 7), a);
        first.listener(new org.xlstm4j.train.TrainListener() {                    // interrupted after 3 of 5 steps
            @Override public void onStep(int step, int steps, double loss, double lr, double gradNorm, double tokensPerS) {
                if (step == 3) first.requestStop();
            }
        }).run();
        assertTrue(!java.util.Arrays.equals(before, m.parameters().get(1).data), "parameters moved");
        assertEquals(3, TrainerState.read(a.resolve(Checkpoints.DIR)).step());
        LargeTrainable resumed = LargeTrainable.load(a.resolve(Checkpoints.DIR), kernels);
        Trainer r = Trainer.resume(a, resumed, new TextDataset(ids, 16, 7), five);
        assertEquals(3, r.step());
        r.run();

        new Trainer(five, LargeTrainable.load(fixture("hf_tiny"), kernels), new TextDataset(ids, 16, 7), b).run();
        Path ca = a.resolve(Checkpoints.DIR), cb = b.resolve(Checkpoints.DIR);
        assertArrayEquals(Files.readAllBytes(fixture("hf_tiny").resolve("config.json")), Files.readAllBytes(ca.resolve("config.json")));
        try (SafetensorsFile f = SafetensorsFile.open(ca.resolve("model.safetensors"))) {
            assertEquals(33, f.names().size());                                  // as in the fixture
            assertEquals(DType.F32, f.info("backbone.embeddings.weight").dtype());
        }
        assertEquals(5, TrainerState.read(ca).step());
        assertEquals(5, TrainerState.read(cb).step());
        for (Param p : resumed.parameters()) assertTrue(Float.isFinite(p.data[0]), p.name);
        return new Path[] {ca, cb};
    }
}
