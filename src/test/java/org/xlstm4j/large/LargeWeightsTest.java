package org.xlstm4j.large;

import org.xlstm4j.ExactMath;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.tensor.CpuKernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.large.LargeParityTest.fixture;
import static org.xlstm4j.large.LargeParityTest.ints;
import static org.xlstm4j.large.LargeParityTest.relErr;

/**
 * Checkpoint layouts: "fused" weight mode, official names and config, query/key/value aliases and F16 storage give the
 * same model as the hf_tiny fixture; mismatches are one-line errors naming the tensor or config field.
 */
class LargeWeightsTest {
    static CpuKernels kernels;
    static int B, T;
    static int[] idx;
    static float[] reference;   // our logits on hf_tiny (F32, single mode)
    static float[] hfLogits;    // Hugging Face's

    @BeforeAll static void setUp() {
        kernels = new CpuKernels(2);
        Path dir = fixture("hf_tiny");
        try (SafetensorsFile io = SafetensorsFile.open(dir.resolve("io.safetensors"))) {
            long[] s = io.info("input.idx").shape();
            B = (int) s[0];
            T = (int) s[1];
            idx = ints(io.longs("input.idx"));
            hfLogits = io.floats("output.logits");
        }
        reference = logits(dir);
    }

    @AfterAll static void tearDown() { kernels.close(); }

    static float[] logits(Path dir) {
        try (XLstmLarge m = XLstmLarge.load(dir, kernels)) {
            return Arrays.copyOf(m.forward(idx, B, T, null), B * T * m.vocabSize());
        }
    }

    @ExactMath
    @Test void fusedWeightModeGivesIdenticalLogits(@TempDir Path tmp) {
        FixtureCopy c = new FixtureCopy(fixture("hf_tiny"));
        c.fuseAll(2);
        assertEquals(List2.of(64 + 64 + 128 + 128, 128), shape(c, "backbone.blocks.0.mlstm_layer.qkv_opreact.weight"));
        assertArrayEquals(reference, logits(c.write(tmp.resolve("fused"), DType.F32)));
    }

    @ExactMath
    @Test void officialNamesAndConfigLoad(@TempDir Path tmp) throws IOException {
        FixtureCopy c = new FixtureCopy(fixture("hf_tiny"));
        c.rename("backbone.embeddings.weight", "embedding.weight");
        for (String hfOnly : new String[]{"model_type", "hidden_size", "num_hidden_layers", "architectures", "max_inference_chunksize"})
            c.config.remove(hfOnly);
        Path json = c.write(tmp.resolve("official-json"), DType.F32);
        double err = relErr(logits(json), hfLogits);            // official split: chunk 8 < 16, so all steps
        assertTrue(err < 1e-4, "official names rel err " + err);

        // the official checkpoints' config.yaml (flat OmegaConf dump) instead of config.json
        Path yaml = c.write(tmp.resolve("official-yaml"), DType.F32);
        StringBuilder y = new StringBuilder("# written by OmegaConf\n");
        for (Iterator<Map.Entry<String, com.fasterxml.jackson.databind.JsonNode>> it = c.config.fields(); it.hasNext(); ) {
            var e = it.next();
            y.append(e.getKey()).append(": ").append(e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString()).append('\n');
        }
        Files.delete(yaml.resolve("config.json"));
        Files.writeString(yaml.resolve("config.yaml"), y);
        assertArrayEquals(logits(json), logits(yaml));

        // the official loader's unindexed shards model_0.safetensors, model_1.safetensors
        Files.delete(yaml.resolve("model.safetensors"));
        org.xlstm4j.io.SafetensorsWriter[] shards = {new org.xlstm4j.io.SafetensorsWriter(), new org.xlstm4j.io.SafetensorsWriter()};
        int i = 0;
        for (Map.Entry<String, FixtureCopy.Tensor> e : c.tensors.entrySet())
            shards[i++ % 2].putFloats(e.getKey(), e.getValue().data(), e.getValue().shape());
        shards[0].write(yaml.resolve("model_0.safetensors"));
        shards[1].write(yaml.resolve("model_1.safetensors"));
        assertArrayEquals(logits(json), logits(yaml));
    }

    @ExactMath
    @Test void queryKeyValueNamesAreAliases(@TempDir Path tmp) {
        FixtureCopy c = new FixtureCopy(fixture("hf_tiny"));
        for (int i = 0; i < 2; i++) {
            String m = "backbone.blocks." + i + ".mlstm_layer.";
            c.rename(m + "q.weight", m + "query.weight");
            c.rename(m + "k.weight", m + "key.weight");
            c.rename(m + "v.weight", m + "value.weight");
        }
        assertArrayEquals(reference, logits(c.write(tmp.resolve("qkv"), DType.F32)));
    }

    @Test void float16StorageEqualsItsFloat32Widening(@TempDir Path tmp) {
        FixtureCopy c = new FixtureCopy(fixture("hf_tiny"));
        Path f16 = c.write(tmp.resolve("f16"), DType.F16);
        for (FixtureCopy.Tensor t : c.tensors.values())
            for (int i = 0; i < t.data().length; i++) t.data()[i] = Float.float16ToFloat(Float.floatToFloat16(t.data()[i]));
        Path widened = c.write(tmp.resolve("f16-as-f32"), DType.F32);
        float[] a = logits(f16), b = logits(widened);
        double err = relErr(a, b), rounding = relErr(a, reference);
        // the same values summed in another order (pair-split) vs the effect of rounding the weights to f16
        assertTrue(err < 1e-5, "f16 storage vs its f32 widening rel err " + err);
        assertTrue(rounding > 30 * err && rounding < 1e-2, "f16 rounding of the weights moves logits by " + rounding);
    }

    @Test void checkpointMismatchesNameTheTensor(@TempDir Path tmp) {
        assertError(tmp, "missing", c -> c.tensors.remove("backbone.blocks.1.ffn.proj_up.weight"),
                "missing backbone.blocks.1.ffn.proj_up.weight");
        assertError(tmp, "shape", c -> {
            FixtureCopy.Tensor t = c.tensors.get("backbone.blocks.0.mlstm_layer.k.weight");
            c.tensors.put("backbone.blocks.0.mlstm_layer.k.weight", new FixtureCopy.Tensor(t.data(), new int[]{128, 64}));
        }, "backbone.blocks.0.mlstm_layer.k.weight has shape [128, 64], expected [64, 128]");
        assertError(tmp, "unknown", c -> c.tensors.put("backbone.blocks.0.extra.weight", new FixtureCopy.Tensor(new float[3], new int[]{3})),
                "unknown backbone.blocks.0.extra.weight");
        assertError(tmp, "bias", c -> c.config.put("use_bias", true), "use_bias");
        assertError(tmp, "mode", c -> c.config.put("weight_mode", "split"), "weight_mode 'split' is not supported");
        assertError(tmp, "siging", c -> c.config.put("chunkwise_kernel", "chunkwise--triton_xl_chunk_siging"), "chunkwise_kernel");
        assertError(tmp, "heads", c -> c.config.put("num_heads", 3), "not a positive multiple of num_heads 3");
        assertError(tmp, "dims", c -> c.config.put("hidden_size", 64), "embedding_dim 128 and hidden_size 64 disagree");
        assertError(tmp, "type", c -> c.config.put("chunk_size", "eight"), "chunk_size must be an integer");
    }

    private static void assertError(Path tmp, String name, Consumer<FixtureCopy> edit, String expected) {
        FixtureCopy c = new FixtureCopy(fixture("hf_tiny"));
        edit.accept(c);
        Path dir = c.write(tmp.resolve(name), DType.F32);
        UserError e = assertThrows(UserError.class, () -> XLstmLarge.load(dir, kernels).close());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    private static java.util.List<Integer> shape(FixtureCopy c, String name) {
        return Arrays.stream(c.tensors.get(name).shape()).boxed().toList();
    }

    private static final class List2 {
        static java.util.List<Integer> of(int... v) { return Arrays.stream(v).boxed().toList(); }
    }
}
