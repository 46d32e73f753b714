package org.xlstm4j.large;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.io.BFloat16;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.TensorInfo;
import org.xlstm4j.model.LMState;
import org.xlstm4j.tensor.CpuKernels;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Random checkpoints written tensor by tensor, and the streaming writer they use. */
class LargeCheckpointsTest {
    static LargeConfig small() {
        return TinyLargeConfig.of(300, 64, 3, 16, 0).validate("test");
    }

    @Test void streamingWriterRoundTrips(@TempDir Path tmp) {
        int n = StreamingSafetensorsWriter.CHUNK + 77;                   // crosses a chunk border
        StreamingSafetensorsWriter w = new StreamingSafetensorsWriter().metadata("format", "pt");
        StreamingSafetensorsWriter.Values ramp = (start, out, k) -> { for (int i = 0; i < k; i++) out[i] = (start + i) * 0.001f - 3f; };
        w.add("a", DType.BF16, new long[]{n}, ramp).add("b", DType.F32, new long[]{3, 5}, ramp).add("c", DType.F16, new long[]{7}, ramp);
        assertEquals(2L * n + 60 + 14, w.dataBytes());
        Path f = tmp.resolve("x.safetensors");
        w.write(f);
        try (SafetensorsFile s = SafetensorsFile.open(f)) {
            assertEquals("pt", s.metadata().get("format"));
            float[] a = s.floats("a"), b = s.floats("b"), c = s.floats("c");
            for (int i = 0; i < n; i++) assertEquals(BFloat16.toFloat(BFloat16.fromFloat(i * 0.001f - 3f)), a[i]);
            for (int i = 0; i < 15; i++) assertEquals(i * 0.001f - 3f, b[i]);
            for (int i = 0; i < 7; i++) assertEquals(Float.float16ToFloat(Float.floatToFloat16(i * 0.001f - 3f)), c[i]);
            assertArrayEquals(new long[]{3, 5}, s.info("b").shape());
        }
    }

    @Test void randomCheckpointLoadsAndRuns(@TempDir Path tmp) {
        LargeConfig c = small();
        Path dir = tmp.resolve("rnd");
        LargeCheckpoints.createRandom(dir, c, DType.BF16, 42);
        long params = 0;
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            for (String n : f.names()) {
                TensorInfo t = f.info(n);
                assertEquals(DType.BF16, t.dtype(), n);
                params += t.numel();
            }
            float[] fb = f.floats("backbone.blocks.0.mlstm_layer.fgate_preact.bias");
            assertEquals(3f, fb[0]);
            assertEquals(6f, fb[1]);
            float[] q = f.floats("backbone.blocks.2.mlstm_layer.q.weight");
            double ss = 0;
            for (float v : q) ss += v * v;
            double std = Math.sqrt(ss / q.length), want = Math.sqrt(2.0 / (5 * 64));
            assertEquals(want, std, 0.05 * want, "small_init std");
        }
        assertEquals(c.parameterCount(), params);
        try (CpuKernels k = new CpuKernels(2); XLstmLarge m = XLstmLarge.load(dir, k)) {
            assertEquals(LargeConfig.Flavor.HUGGING_FACE, m.config.flavor);
            assertEquals(c.ffnDim(), m.config.ffnDim());
            long E = c.embeddingDim, perBlock = 2 * c.qkDim() * E + 2 * c.vDim() * E + 2 * c.numHeads * E + E * c.vDim() + 3L * c.ffnDim() * E;
            assertEquals(2 * (c.numBlocks * perBlock + c.vocabSize * E + E), m.weightBytesPerToken(), "bf16 bytes per token");
            int T = 40;
            int[] idx = new int[T];
            for (int i = 0; i < T; i++) idx[i] = (i * 37) % c.vocabSize;
            float[] full = m.forward(idx, 1, T, null).clone();
            LMState s = m.newState(1);
            float[] steps = m.stepSequence(idx, 1, T, s);
            double err = LargeParityTest.relErr(steps, full);
            assertTrue(err < 1e-5, "step vs chunkwise rel err " + err);
            for (float v : full) assertTrue(Math.abs(v) <= 30f, "logits are soft-capped at 30");
        }
        // the same seed gives the same file
        Path again = tmp.resolve("again");
        LargeCheckpoints.createRandom(again, c, DType.BF16, 42);
        try {
            assertArrayEquals(Files.readAllBytes(dir.resolve("model.safetensors")), Files.readAllBytes(again.resolve("model.safetensors")));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
