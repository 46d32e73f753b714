package org.xlstm4j.large;

import org.xlstm4j.cli.CliRun.Result;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.train.Checkpoints;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.xlstm4j.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.large.LargeParityTest.fixture;

/**
 * {@code xlstm train --resume DIR} on an xLSTM-Large checkpoint folder: a fine-tuning run whose checkpoint keeps the
 * input's format (config file as it was, BF16 tensors with the same names), continued by a later {@code --resume RUN},
 * byte-level or through the folder's tokenizer.json, and the one-line errors of this mode.
 */
class LargeFineTuneCliTest {

    static LargeConfig tiny(int vocab) {
        return TinyLargeConfig.of(vocab, 32, 2, 8, 16).validate("test");
    }

    static final String[] SMALL = {"--batch-size", "2", "--context", "16", "--eval-interval", "3", "--eval-batches", "1",
            "--log-interval", "1", "--warmup", "1", "--lr", "1e-3", "--threads", "1"};

    static String[] args(String... more) {
        String[] r = new String[SMALL.length + more.length];
        System.arraycopy(more, 0, r, 0, more.length);
        System.arraycopy(SMALL, 0, r, more.length, SMALL.length);
        return r;
    }

    static Path text(Path tmp) throws Exception {
        Path data = tmp.resolve("data.txt");
        Files.writeString(data, "the cat sat on the mat. the dog sat on the log.\n".repeat(40));
        return data;
    }

    @Test void fineTunesAByteLevelCheckpointAndResumesTheRun(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base"), runDir = tmp.resolve("run");
        LargeCheckpoints.createRandom(base, tiny(256), DType.BF16, 5);
        Path data = text(tmp);
        Result r = run(args("train", "--resume", base.toString(), "--data", data.toString(), "--out", runDir.toString(),
                "--steps", "3", "--sample-tokens", "8", "--sample-prompt", "the "));
        assertEquals(0, r.code(), r.err() + r.out());
        assertTrue(r.out().contains("fine-tuning") && r.out().contains("sample"), r.out());
        Path ckpt = runDir.resolve(Checkpoints.DIR);
        for (String f : List.of("config.json", "model.safetensors", Checkpoints.OPTIMIZER, "trainer.json"))
            assertTrue(Files.exists(ckpt.resolve(f)), f);
        assertArrayEquals(Files.readAllBytes(base.resolve("config.json")), Files.readAllBytes(ckpt.resolve("config.json")));
        try (SafetensorsFile a = SafetensorsFile.open(base.resolve("model.safetensors"));
             SafetensorsFile b = SafetensorsFile.open(ckpt.resolve("model.safetensors"))) {
            assertEquals(new java.util.TreeSet<>(a.names()), new java.util.TreeSet<>(b.names()));
            for (String n : b.names()) assertEquals(DType.BF16, b.info(n).dtype(), n);
            assertTrue(!java.util.Arrays.equals(a.floats("lm_head.weight"), b.floats("lm_head.weight")), "weights were trained");
        }
        assertEquals(3, Files.readAllLines(runDir.resolve("metrics.jsonl")).size());

        Result resumed = run("train", "--resume", runDir.toString(), "--steps", "5", "--sample-tokens", "0", "--threads", "1");
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
        assertTrue(resumed.out().contains("resuming") && resumed.out().contains("at step 3 of 5"), resumed.out());
        assertEquals(5, new ObjectMapper().readTree(Files.readString(ckpt.resolve("trainer.json"))).path("step").asInt());

        // the run's checkpoint is an ordinary model folder for the other commands
        Result gen = run("generate", "--model", runDir.toString(), "--prompt", "the cat", "--max-new-tokens", "5", "--seed", "1", "--threads", "1");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().startsWith("the cat"), gen.out());
        try (CpuKernels k = new CpuKernels(1); XLstmLarge m = XLstmLarge.load(ckpt, k)) {
            assertEquals(256, m.vocabSize());
        }
    }

    @Test void usesTheFoldersTokenizerJson(@TempDir Path tmp) throws Exception {
        Path base = tmp.resolve("base"), runDir = tmp.resolve("run");
        LargeCheckpoints.createRandom(base, tiny(416), DType.F32, 6);
        Files.copy(fixture("bpe_small").resolve("tokenizer.json"), base.resolve("tokenizer.json"));
        Result r = run(args("train", "--resume", base.toString(), "--data", text(tmp).toString(), "--out", runDir.toString(),
                "--steps", "2", "--sample-tokens", "4"));
        assertEquals(0, r.code(), r.err() + r.out());
        Path ckpt = runDir.resolve(Checkpoints.DIR);
        assertArrayEquals(Files.readAllBytes(base.resolve("tokenizer.json")), Files.readAllBytes(ckpt.resolve("tokenizer.json")));
        assertTrue(Files.readString(ckpt.resolve("trainer.json")).contains("tokenizer:"), "trained on BPE ids");
        Result resumed = run("train", "--resume", runDir.toString(), "--steps", "3", "--sample-tokens", "0", "--threads", "1");
        assertEquals(0, resumed.code(), resumed.err() + resumed.out());
    }

    @Test void oneLineErrors(@TempDir Path tmp) throws Exception {
        Path data = text(tmp), hf = fixture("hf_tiny");
        Result noData = run("train", "--resume", hf.toString(), "--out", tmp.resolve("r1").toString());
        assertEquals(2, noData.code());
        assertTrue(noData.err().contains("needs --data"), noData.err());
        Result noOut = run("train", "--resume", hf.toString(), "--data", data.toString());
        assertEquals(2, noOut.code());
        assertTrue(noOut.err().contains("needs --out"), noOut.err());
        Result vocab = run("train", "--resume", hf.toString(), "--data", data.toString(), "--out", tmp.resolve("r2").toString());
        assertEquals(2, vocab.code());
        assertTrue(vocab.err().contains("vocabulary of 97") && vocab.err().contains("--tokenizer"), vocab.err());
        assertEquals(1, vocab.err().strip().lines().count(), vocab.err());
        Result big = run("train", "--resume", hf.toString(), "--data", data.toString(), "--out", tmp.resolve("r3").toString(),
                "--tokenizer", fixture("bpe_small").resolve("tokenizer.json").toString());
        assertEquals(2, big.code());
        assertTrue(big.err().contains("tokenizer.json: the tokenizer has 400 tokens") && big.err().contains("vocabulary is 97"), big.err());
    }
}
