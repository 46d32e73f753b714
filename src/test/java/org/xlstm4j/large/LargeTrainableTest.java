package org.xlstm4j.large;

import org.xlstm4j.ExactMath;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xlstm4j.io.BFloat16;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.CpuKernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.large.LargeParityTest.fixture;
import static org.xlstm4j.large.LargeParityTest.ints;
import static org.xlstm4j.large.LargeParityTest.relErr;

/**
 * {@link LargeTrainable} against the inference model and the Hugging Face fixtures: the same logits (the trainable one
 * runs the whole sequence chunkwise with a ragged last chunk where the reference steps through the remainder, which
 * agrees to float32 rounding), every checkpoint layout read and written back as it was, and save → load round trips.
 */
class LargeTrainableTest {
    static CpuKernels kernels;

    @BeforeAll static void setUp() { kernels = new CpuKernels(2); }

    @AfterAll static void tearDown() { kernels.close(); }

    @ParameterizedTest
    @ValueSource(strings = {"hf_tiny", "hf_tiny_bf16", "hf_tiny_bf16_sharded"})
    void logitsEqualTheInferenceModelAndTheFixture(String name) {
        Path dir = fixture(name);
        LargeTrainable t = LargeTrainable.load(dir, kernels);
        try (XLstmLarge ref = XLstmLarge.load(dir, kernels); SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
            long[] shape = io.info("input.idx").shape();
            int B = (int) shape[0], T = (int) shape[1];
            int[] idx = ints(io.longs("input.idx"));
            float[] got = t.forward(idx, B, T, null);
            double vsRef = relErr(got, ref.forward(idx, B, T, null)), vsHf = relErr(got, io.floats("output.logits"));
            System.out.printf("LargeTrainable %s (B=%d, T=%d, chunk %d): rel err vs XLstmLarge %.2e, vs HF %.2e%n",
                    name, B, T, t.config.chunkSize, vsRef, vsHf);
            assertTrue(vsRef < 1e-5, "vs XLstmLarge " + vsRef);
            assertTrue(vsHf < 1e-4, "vs the fixture " + vsHf);
            assertEquals(t.config.parameterCount(), t.parameterCount());

            // the LanguageModel side: a prompt then a continuation through the state equals one pass
            int TA = 7;
            int[] a = new int[B * TA], b = new int[B * (T - TA)];
            for (int s = 0; s < B; s++) {
                System.arraycopy(idx, s * T, a, s * TA, TA);
                System.arraycopy(idx, s * T + TA, b, s * (T - TA), T - TA);
            }
            float[] whole = got.clone();
            LMState state = t.newState(B);
            t.forward(a, B, TA, state);
            float[] cont = t.forward(b, B, T - TA, state);
            int V = t.vocabSize();
            float[] want = new float[B * (T - TA) * V];
            for (int s = 0; s < B; s++) System.arraycopy(whole, (s * T + TA) * V, want, s * (T - TA) * V, (T - TA) * V);
            assertTrue(relErr(cont, want) < 1e-5, "continuation through the state");
        }
    }

    @Test void weightDecayFollowsTheOfficialRule() {
        LargeTrainable t = LargeTrainable.load(fixture("hf_tiny"), kernels);
        List<Param> ps = t.parameters();
        assertEquals("backbone.embeddings.weight", ps.getFirst().name);
        for (Param p : ps) {
            boolean want = p.name.contains("weight") && !p.name.contains("norm") && !p.name.contains("embeddings");
            assertEquals(want, p.weightDecay, p.name);
        }
        assertTrue(ps.stream().anyMatch(p -> p.name.equals("lm_head.weight") && p.weightDecay));
        assertTrue(ps.stream().anyMatch(p -> p.name.endsWith("igate_preact.bias") && !p.weightDecay));
    }

    /** Loading then saving an untouched checkpoint reproduces every tensor bit for bit, in its dtype. */
    @ExactMath
    @ParameterizedTest
    @ValueSource(strings = {"hf_tiny", "hf_tiny_bf16", "hf_tiny_bf16_sharded"})
    void untouchedCheckpointSavesBitIdentical(String name, @TempDir Path tmp) throws IOException {
        Path dir = fixture(name), out = Files.createDirectories(tmp.resolve("out"));
        LargeTrainable.load(dir, kernels).saveCheckpoint(out);
        assertArrayEquals(Files.readAllBytes(dir.resolve("config.json")), Files.readAllBytes(out.resolve("config.json")));
        assertArrayEquals(Files.readAllBytes(dir.resolve("generation_config.json")), Files.readAllBytes(out.resolve("generation_config.json")));
        assertSameTensors(dir, out);
        try (XLstmLarge a = XLstmLarge.load(dir, kernels); XLstmLarge b = XLstmLarge.load(out, kernels)) {
            int[] idx = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4};
            assertArrayEquals(a.forward(idx, 2, 10, null).clone(), b.forward(idx, 2, 10, null));
        }
    }

    /** Fused weights, official names (config.yaml, numbered shards), query/key/value: read, trained on, written back alike. */
    @Test void everyLayoutIsWrittenBackAsItWasRead(@TempDir Path tmp) throws IOException {
        FixtureCopy fused = new FixtureCopy(fixture("hf_tiny"));
        fused.fuseAll(2);
        Path fusedDir = fused.write(tmp.resolve("fused"), DType.BF16);

        FixtureCopy official = new FixtureCopy(fixture("hf_tiny"));
        official.rename("backbone.embeddings.weight", "embedding.weight");
        for (int i = 0; i < 2; i++) {
            String m = "backbone.blocks." + i + ".mlstm_layer.";
            official.rename(m + "q.weight", m + "query.weight");
            official.rename(m + "k.weight", m + "key.weight");
            official.rename(m + "v.weight", m + "value.weight");
        }
        for (String hfOnly : new String[]{"model_type", "hidden_size", "num_hidden_layers", "architectures", "max_inference_chunksize"})
            official.config.remove(hfOnly);
        Path officialDir = official.write(tmp.resolve("official"), DType.F32);
        Files.delete(officialDir.resolve("config.json"));
        StringBuilder yaml = new StringBuilder();
        official.config.fields().forEachRemaining(e -> yaml.append(e.getKey()).append(": ")
                .append(e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()).append('\n'));
        Files.writeString(officialDir.resolve("config.yaml"), yaml);
        Files.delete(officialDir.resolve("model.safetensors"));
        org.xlstm4j.io.SafetensorsWriter[] shards = {new org.xlstm4j.io.SafetensorsWriter(), new org.xlstm4j.io.SafetensorsWriter()};
        int n = 0;
        for (var e : official.tensors.entrySet()) shards[n++ % 2].putFloats(e.getKey(), e.getValue().data(), e.getValue().shape());
        shards[0].write(officialDir.resolve("model_0.safetensors"));
        shards[1].write(officialDir.resolve("model_1.safetensors"));

        int[] x = new int[2 * 12], y = new int[2 * 12];
        for (int i = 0; i < x.length; i++) { x[i] = (i * 7) % 97; y[i] = (i * 7 + 7) % 97; }
        for (Path dir : List.of(fusedDir, officialDir)) {
            LargeTrainable t = LargeTrainable.load(dir, kernels);
            Path same = Files.createDirectories(tmp.resolve(dir.getFileName() + "-same"));
            t.saveCheckpoint(same);
            assertSameTensors(dir, same);
            String cfg = Files.exists(dir.resolve("config.json")) ? "config.json" : "config.yaml";
            assertArrayEquals(Files.readAllBytes(dir.resolve(cfg)), Files.readAllBytes(same.resolve(cfg)), cfg);

            // after an update the names and dtypes stay, the values change, and the inference model agrees
            sgd(t, x, y, 2, 12, 1e-2f);
            Path trained = Files.createDirectories(tmp.resolve(dir.getFileName() + "-trained"));
            t.saveCheckpoint(trained);
            try (TensorSource a = LargeCheckpoints.open(dir); TensorSource b = LargeCheckpoints.open(trained)) {
                assertEquals(new TreeSet<>(a.names()), new TreeSet<>(b.names()));
                for (String name : a.names()) assertEquals(a.info(name).dtype(), b.info(name).dtype(), name);
                int changed = 0;
                for (String name : a.names()) if (!java.util.Arrays.equals(a.floats(name), b.floats(name))) changed++;
                assertTrue(changed > a.names().size() / 2, "only " + changed + " of " + a.names().size() + " tensors changed");
            }
            // (the fused copy is BF16: compare with the saved, rounded weights)
            assertLogitsAgree(LargeTrainable.load(trained, kernels), trained, x, 2, 12);
        }
    }

    /**
     * Train a few SGD steps, save, load in the inference model: F32 weights are saved exactly (the same logits to
     * rounding, and bit-identical parameters when loaded back), BF16 ones rounded to nearest even.
     */
    @ParameterizedTest
    @ValueSource(strings = {"hf_tiny", "hf_tiny_bf16"})
    void saveLoadRoundTripAfterTraining(String name, @TempDir Path tmp) throws IOException {
        LargeTrainable t = LargeTrainable.load(fixture(name), kernels);
        int B = 2, T = 13;
        int[] x = new int[B * T], y = new int[B * T];
        Random r = new Random(3);
        for (int i = 0; i < x.length; i++) { x[i] = r.nextInt(97); y[i] = r.nextInt(97); }
        for (int s = 0; s < 3; s++) sgd(t, x, y, B, T, 1e-2f);
        Path out = Files.createDirectories(tmp.resolve("saved"));
        t.saveCheckpoint(out);
        boolean bf16 = name.contains("bf16");
        LargeTrainable back = LargeTrainable.load(out, kernels);
        for (int i = 0; i < t.parameters().size(); i++) {
            Param p = t.parameters().get(i), q = back.parameters().get(i);
            assertEquals(p.name, q.name);
            float[] want = p.data.clone();
            if (bf16) for (int j = 0; j < want.length; j++) want[j] = BFloat16.toFloat(BFloat16.fromFloat(want[j]));
            assertArrayEquals(want, q.data, p.name);
        }
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            for (String n : f.names()) assertEquals(bf16 ? DType.BF16 : DType.F32, f.info(n).dtype(), n);
        }
        if (!bf16) {
            assertLogitsAgree(t, out, x, B, T);
        } else {
            // the trainable model's own weights were rounded by the save: compare with the reloaded ones
            assertLogitsAgree(back, out, x, B, T);
            assertNotEquals(0, relErr(back.forward(x, B, T, null).clone(), t.forward(x, B, T, null)));
        }
    }

    /** Tied embeddings (no lm_head tensor), no out norm, no caps: trained and saved, the inference model agrees. */
    @Test void tiedHeadWithoutOutNormRoundTrips(@TempDir Path tmp) throws IOException {
        LargeConfig c = TinyLargeConfig.of(50, 64, 2, 16, 0);
        c.tieWordEmbeddings = true;
        c.addOutNorm = false;
        c.gateSoftCap = null;
        c.outputLogitSoftCap = null;
        Path dir = tmp.resolve("tied");
        LargeCheckpoints.createRandom(dir, c.validate("test"), DType.F32, 9);
        LargeTrainable t = LargeTrainable.load(dir, kernels);
        assertEquals(c.parameterCount(), t.parameterCount());
        int[] x = new int[2 * 20], y = new int[2 * 20];
        for (int i = 0; i < x.length; i++) { x[i] = (i * 3) % 50; y[i] = (i * 3 + 3) % 50; }
        sgd(t, x, y, 2, 20, 1e-2f);
        Path out = Files.createDirectories(tmp.resolve("saved"));
        t.saveCheckpoint(out);
        try (SafetensorsFile f = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertFalse(f.contains("lm_head.weight") || f.contains("backbone.out_norm.weight"));
        }
        assertLogitsAgree(t, out, x, 2, 20);
    }

    /** A plain gradient-descent step (enough to move every parameter). */
    static void sgd(LargeTrainable t, int[] x, int[] y, int B, int T, float lr) {
        for (Param p : t.parameters()) p.zeroGrad();
        t.forwardBackward(x, y, B, T);
        for (Param p : t.parameters()) for (int i = 0; i < p.size(); i++) p.data[i] -= lr * p.grad[i];
    }

    static void assertLogitsAgree(LargeTrainable t, Path saved, int[] x, int B, int T) {
        try (CpuKernels k = new CpuKernels(1); XLstmLarge m = XLstmLarge.load(saved, k)) {
            float[] a = t.forward(x, B, T, null).clone(), b = m.forward(x, B, T, null);
            double err = relErr(Arrays.copyOf(b, a.length), a);
            assertTrue(err < 1e-5, saved + ": XLstmLarge vs LargeTrainable rel err " + err);
        }
    }

    /** Same tensor names, dtypes, shapes and bytes. */
    static void assertSameTensors(Path a, Path b) {
        try (TensorSource x = LargeCheckpoints.open(a); TensorSource y = LargeCheckpoints.open(b)) {
            assertEquals(new TreeSet<>(x.names()), new TreeSet<>(y.names()));
            for (String n : x.names()) {
                assertEquals(x.info(n).dtype(), y.info(n).dtype(), n);
                assertArrayEquals(x.info(n).shape(), y.info(n).shape(), n);
                assertArrayEquals(x.segment(n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                        y.segment(n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE), n);
            }
            assertFalse(x.names().isEmpty());
        }
    }
}
