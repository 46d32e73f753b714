package org.xlstm4j.model;

import org.xlstm4j.ExactMath;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.cells.SLstmCell;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.model.PaperParityTest.fixture;
import static org.xlstm4j.model.PaperParityTest.relErr;

/** State hand-off, checkpoint round trips and config handling of the paper LM on shapes the fixtures do not cover. */
class PaperModelTest {
    static XLstmConfig mixed(int E, int blocks, int... slstmAt) {
        XLstmConfig c = new XLstmConfig();
        c.vocabSize = 37;
        c.embeddingDim = E;
        c.numBlocks = blocks;
        c.slstmAt = slstmAt;
        c.hasSLstm = slstmAt.length > 0;
        c.contextLength = 64;
        return c.validate();
    }

    static void perturb(XLstmLM m, long seed) {
        Random r = new Random(seed);
        for (Param p : m.parameters())
            for (int i = 0; i < p.size(); i++) p.data[i] += (float) (0.05 * r.nextGaussian());
    }

    static int[] tokens(int n, int vocab, long seed) {
        Random r = new Random(seed);
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(vocab);
        return t;
    }

    @Test
    void promptInPiecesThroughTheStateEqualsOnePass() {
        try (Kernels k = new CpuKernels(2)) {
            XLstmConfig c = mixed(32, 3, 1);
            c.mlstmNumHeads = 2;
            XLstmLM m = new XLstmLM(c, k);
            XLstmInit.apply(m, 3);
            perturb(m, 4);
            int B = 2, T1 = 13, T2 = 9, T = T1 + T2, V = c.vocabSize;
            int[] all = tokens(B * T, V, 5);
            m.setMLstmForm(MLstmLayer.Form.CHUNKWISE, 4);
            float[] full = m.forward(all, B, T, null).clone();
            int[] a = new int[B * T1], b = new int[B * T2];
            for (int bb = 0; bb < B; bb++) {
                System.arraycopy(all, bb * T, a, bb * T1, T1);
                System.arraycopy(all, bb * T + T1, b, bb * T2, T2);
            }
            LMState s = m.newState(B);
            m.forward(a, B, T1, s);
            float[] second = m.forward(b, B, T2, s).clone();
            float[] want = new float[B * T2 * V];
            for (int bb = 0; bb < B; bb++) System.arraycopy(full, (bb * T + T1) * V, want, bb * T2 * V, T2 * V);
            assertTrue(relErr(second, want) < 1e-5, "continued logits differ: " + relErr(second, want));
            // and the same continuation one token at a time from a copy of the state saved to disk
            LMState s2 = m.newState(B);
            m.forward(a, B, T1, s2);
            float[] stepped = m.stepSequence(b, B, T2, s2);
            assertTrue(relErr(stepped, want) < 1e-5, "stepped continuation differs: " + relErr(stepped, want));
        }
    }

    @ExactMath
    @Test
    void stateSavedToDiskContinuesIdentically(@TempDir Path tmp) {
        try (Kernels k = new CpuKernels(1)) {
            XLstmLM m = new XLstmLM(mixed(32, 2, 0), k);
            XLstmInit.apply(m, 7);
            perturb(m, 8);
            int[] prompt = tokens(10, 37, 9), next = tokens(6, 37, 10);
            LMState s = m.newState(1);
            m.forward(prompt, 1, 10, s);
            s.save(tmp.resolve("state.safetensors"));
            float[] want = m.stepSequence(next, 1, 6, s);
            LMState loaded = m.newState(1);
            loaded.load(tmp.resolve("state.safetensors"));
            assertArrayEquals(want, m.stepSequence(next, 1, 6, loaded));
            LMState wrongBatch = m.newState(2);
            UserError e = assertThrows(UserError.class, () -> wrongBatch.load(tmp.resolve("state.safetensors")));
            assertTrue(e.getMessage().contains("batch"), e.getMessage());
        }
    }

    @ExactMath
    @Test
    void saveThenLoadGivesTheSameModelAndConfig(@TempDir Path tmp) throws Exception {
        Kernels k = new ScalarKernels();
        for (boolean tied : new boolean[]{false, true}) {
            XLstmConfig c = mixed(64, 3, 0, 2);
            c.tieWeights = tied;
            c.addPostBlocksNorm = !tied;
            c.slstmConvKernel = 0;
            XLstmLM m = new XLstmLM(c, k);
            XLstmInit.apply(m, 11);
            perturb(m, 12);
            Path dir = tmp.resolve("ckpt-" + tied);
            Checkpoint.save(m, dir);
            XLstmLM back = Checkpoint.load(dir, k);
            assertEquals(c.toJsonString(), back.config.toJsonString());
            assertEquals(m.parameters().size(), back.parameters().size());
            for (int i = 0; i < m.parameters().size(); i++) {
                assertEquals(m.parameters().get(i).name, back.parameters().get(i).name);
                assertArrayEquals(m.parameters().get(i).data, back.parameters().get(i).data);
            }
            int[] t = tokens(20, 37, 13);
            assertArrayEquals(m.forward(t, 2, 10, null).clone(), back.forward(t, 2, 10, null).clone());
        }
    }

    @Test
    void configJsonRoundTripsTheOfficialFixtureConfig() throws Exception {
        for (String name : new String[]{"paper_m", "paper_s", "paper_mix"}) {
            XLstmConfig c = XLstmConfig.load(fixture(name).resolve("config.json"));
            XLstmConfig again = XLstmConfig.fromJson(c.toJson());
            assertEquals(c.toJsonString(), again.toJsonString());
            var official = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(fixture(name).resolve("config.json")));
            assertEquals(official.path("_block_map").asText(), c.toJson().path("_block_map").asText(), name);
            if (c.hasMLstm)
                assertEquals(official.path("mlstm_block").path("mlstm").path("_inner_embedding_dim").asInt(), c.mlstmInnerDim(), name);
        }
    }

    @ExactMath
    @Test
    void cudaLayoutCheckpointLoadsLikeTheVanillaOne(@TempDir Path tmp) throws Exception {
        // rewrite paper_s with the sLSTM recurrent kernel and bias in the cuda backend's layout (spec §2.2)
        Path src = fixture("paper_s"), dst = tmp.resolve("cuda");
        Files.createDirectories(dst);
        Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
        XLstmConfig c = XLstmConfig.load(src.resolve("config.json"));
        int NH = c.slstmNumHeads, DH = c.embeddingDim / NH;
        SafetensorsWriter w = new SafetensorsWriter();
        try (TensorSource in = TensorSource.openCheckpoint(src)) {
            for (String n : in.names()) {
                float[] v = in.floats(n);
                int[] shape = in.info(n).intShape();
                if (n.endsWith("_recurrent_kernel_")) { v = SLstmCell.recurrentKernelToCuda(v, NH, DH); shape = new int[]{NH, DH, 4 * DH}; }
                if (n.endsWith("_bias_")) v = SLstmCell.biasToCuda(v, NH, DH);
                w.putFloats(n, v, shape);
            }
        }
        w.write(dst.resolve("model.safetensors"));
        try (Kernels k = new ScalarKernels(); SafetensorsFile io = SafetensorsFile.open(src.resolve("io.safetensors"))) {
            XLstmLM vanilla = Checkpoint.load(src, k), cuda = Checkpoint.load(dst, k);
            int[] idx = PaperParityTest.ints(io.longs("input.idx"));
            long[] shape = io.info("input.idx").shape();
            float[] a = vanilla.forward(idx, (int) shape[0], (int) shape[1], null).clone();
            float[] b = cuda.forward(idx, (int) shape[0], (int) shape[1], null).clone();
            assertArrayEquals(a, b);
        }
    }

    @Test
    void mismatchedCheckpointsAreNamedInOneLine(@TempDir Path tmp) throws Exception {
        Path src = fixture("paper_m"), dst = tmp.resolve("bad");
        Files.createDirectories(dst);
        Files.copy(src.resolve("config.json"), dst.resolve("config.json"));
        SafetensorsWriter w = new SafetensorsWriter();
        try (TensorSource in = TensorSource.openCheckpoint(src)) {
            for (String n : in.names()) {
                if (n.equals("lm_head.weight")) continue;                       // missing
                int[] shape = in.info(n).intShape();
                float[] v = in.floats(n);
                if (n.endsWith("post_blocks_norm.weight")) { v = new float[v.length + 1]; shape = new int[]{v.length}; } // wrong shape
                w.putFloats(n, v, shape);
            }
            w.putFloats("extra.weight", new float[3], 3);                         // unknown
        }
        w.write(dst.resolve("model.safetensors"));
        UserError e = assertThrows(UserError.class, () -> Checkpoint.load(dst, new ScalarKernels()));
        String msg = e.getMessage();
        assertFalse(msg.contains("\n"), msg);
        assertTrue(msg.contains("missing lm_head.weight"), msg);
        assertTrue(msg.contains("post_blocks_norm.weight has shape [33]"), msg);
        assertTrue(msg.contains("unknown extra.weight"), msg);
    }

    @Test
    void officialInitMatchesTheSpec() {
        XLstmConfig c = mixed(64, 2, 1);
        c.slstmNumHeads = 4;
        XLstmLM m = new XLstmLM(c, new ScalarKernels());
        XLstmInit.apply(m, 1);
        int[] seen = new int[4];                                // each kind below must be found
        for (Param p : m.parameters()) {
            if (p.name.endsWith("slstm_cell._bias_")) {
                seen[0]++;
                // block 1 of 2 → r = 1: b_f[j] = −(−5 + 12·(j/(DH−1))^(1.6)), f slot = second quarter (spec §2.3)
                int E = 64, DH = 16;
                for (int h = 0; h < 4; h++)
                    for (int j = 0; j < DH; j++) {
                        double want = -(-5 + 12 * Math.pow(j / 15.0, 0.3 + 1.3));
                        assertEquals(want, p.data[E + h * DH + j], 1e-5);
                        assertEquals(0f, p.data[h * DH + j]);
                    }
                assertEquals(5.0f, p.data[E]);
                assertEquals(-7.0f, p.data[E + DH - 1], 1e-5);
            }
            if (p.name.endsWith("mlstm_cell.fgate.bias")) { seen[1]++; assertArrayEquals(new float[]{3f, 4f, 5f, 6f}, p.data, 1e-6f); }
            if (p.name.endsWith("learnable_skip")) { seen[2]++; for (float v : p.data) assertEquals(1f, v); }
            if (p.name.endsWith("norm.weight")) { seen[3]++; for (float v : p.data) assertEquals(0f, v); }
        }
        for (int i = 0; i < seen.length; i++)
            assertTrue(seen[i] > 0, "no parameter of kind " + i + " (slstm bias, fgate bias, skip, norm weight): " + java.util.Arrays.toString(seen));
    }
}
