package org.xlstm4j.cli;

import org.xlstm4j.cli.CliRun.Result;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.io.SafetensorsFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.xlstm4j.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/** End to end through the CLI: train a tiny model, resume it, generate from it, and the one-line errors. */
class TrainGenerateCommandTest {

    static final String[] TINY = {"--embedding-dim", "32", "--num-blocks", "2", "--slstm-at", "1", "--batch-size", "4",
            "--context", "32", "--eval-interval", "10", "--eval-batches", "2", "--log-interval", "5", "--warmup", "5",
            "--lr", "3e-3", "--threads", "1", "--sample-tokens", "20"};

    static String[] args(String[] base, String... more) {
        String[] r = new String[base.length + more.length];
        System.arraycopy(base, 0, r, 0, base.length);
        System.arraycopy(more, 0, r, base.length, more.length);
        return r;
    }

    @Test
    void trainWritesCheckpointAndMetricsWithFallingLossThenResumesAndGenerates(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data.txt");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 400; i++) sb.append("the cat sat on the mat. the dog sat on the log.\n");
        Files.writeString(data, sb);
        Path run = tmp.resolve("run");
        Result r = run(args(args(new String[]{"train"}, TINY), "--data", data.toString(), "--out", run.toString(), "--steps", "20"));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("sample"), r.out());
        Path ckpt = run.resolve("checkpoint");
        for (String f : List.of("config.json", "model.safetensors", "optimizer.safetensors", "trainer.json"))
            assertTrue(Files.exists(ckpt.resolve(f)), f);
        assertTrue(Files.size(run.resolve("loss.png")) > 1000);
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        ObjectMapper json = new ObjectMapper();
        JsonNode first = json.readTree(lines.get(0)), last = json.readTree(lines.get(lines.size() - 1));
        for (String key : List.of("step", "loss", "lr", "grad_norm", "tokens_per_s")) assertTrue(first.has(key), key);
        assertTrue(last.path("loss").asDouble() < first.path("loss").asDouble() - 0.5,
                "loss did not fall: " + first + " → " + last);
        assertTrue(last.has("val_loss"), last.toString());

        Result resumed = run("train", "--resume", run.toString(), "--steps", "25", "--sample-tokens", "0", "--threads", "1");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(25, json.readTree(Files.readString(ckpt.resolve("trainer.json"))).path("step").asInt());

        Result gen = run("generate", "--model", run.toString(), "--prompt", "the cat", "--max-new-tokens", "30", "--seed", "3", "--threads", "1");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().startsWith("the cat") && gen.out().length() >= "the cat".length() + 20, gen.out());
        Result again = run("generate", "--model", run.toString(), "--prompt", "the cat", "--max-new-tokens", "30", "--seed", "3", "--threads", "1");
        assertEquals(gen.out(), again.out(), "same seed, same text");

        // id mode with the fixtures' layout, and the parity tool on the trained checkpoint
        Path ids = tmp.resolve("ids.safetensors");
        new org.xlstm4j.io.SafetensorsWriter().putLongs("input.idx", new long[]{116, 104, 101, 32, 99, 97, 116, 32}, 2, 4)
                .putLongs("input.targets", new long[]{104, 101, 32, 99, 97, 116, 32, 115}, 2, 4).write(ids);
        Path out = tmp.resolve("greedy.safetensors");
        Result g2 = run("generate", "--model", ckpt.toString(), "--input", ids.toString(), "--out", out.toString(), "--greedy", "--max-new-tokens", "5");
        assertEquals(0, g2.code(), g2.err());
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertArrayEquals(new long[]{2, 9}, f.info("output.greedy_ids").shape());
            long[] g = f.longs("output.greedy_ids");
            assertEquals(116, g[0]);
            assertEquals(99, g[9]);
        }
        Path fw = tmp.resolve("fw.safetensors");
        Result f = run("forward", "--model", ckpt.toString(), "--input", ids.toString(), "--out", fw.toString(), "--backward", "--form", "chunkwise");
        assertEquals(0, f.code(), f.err());
        try (SafetensorsFile o = SafetensorsFile.open(fw)) {
            assertArrayEquals(new long[]{2, 4, 256}, o.info("output.logits").shape());
            assertTrue(o.contains("grad.token_embedding.weight"));
            float[] a = o.floats("output.logits"), b = o.floats("output.step_logits");
            for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 1e-4f * (1 + Math.abs(a[i])));
        }
    }

    @Test
    void trainsOnBpeIdsWithATokenizerJsonAndGeneratesText(@TempDir Path tmp) throws Exception {
        Path tokenizer = Path.of(getClass().getResource("/fixtures/bpe_small/tokenizer.json").toURI());
        Path data = tmp.resolve("data.txt");
        Files.writeString(data, "Hello world, the quick brown fox jumps over the lazy dog.\n".repeat(200));
        Path run = tmp.resolve("bpe");
        Result r = run(args(args(new String[]{"train"}, TINY), "--data", data.toString(), "--tokenizer", tokenizer.toString(),
                "--out", run.toString(), "--steps", "12", "--sample-prompt", "Hello"));
        assertEquals(0, r.code(), r.err());
        Path ckpt = run.resolve("checkpoint");
        assertTrue(Files.exists(ckpt.resolve("tokenizer.json")));
        int vocab = new ObjectMapper().readTree(Files.readString(ckpt.resolve("config.json"))).path("vocab_size").asInt();
        assertEquals(org.xlstm4j.tokenizer.BpeTokenizer.load(tokenizer).vocabSize(), vocab);
        Result gen = run("generate", "--model", run.toString(), "--prompt", "Hello", "--max-new-tokens", "10", "--threads", "1");
        assertEquals(0, gen.code(), gen.err());
        assertTrue(gen.out().startsWith("Hello") && gen.out().strip().length() > 5, gen.out());
        Result resumed = run("train", "--resume", run.toString(), "--steps", "14", "--sample-tokens", "0", "--threads", "1");
        assertEquals(0, resumed.code(), resumed.err());
    }

    @Test
    void userMistakesGetOneLineAndExitCode2(@TempDir Path tmp) throws Exception {
        Path empty = tmp.resolve("empty.txt");
        Files.writeString(empty, "");
        Path shortFile = tmp.resolve("short.txt");
        Files.writeString(shortFile, "just a few words");
        String[][] cases = {
                {"train", "--data", tmp.resolve("missing.txt").toString(), "--out", tmp.resolve("a").toString()},
                {"train", "--data", empty.toString(), "--out", tmp.resolve("b").toString()},
                {"train", "--data", shortFile.toString(), "--out", tmp.resolve("c").toString()},
                {"train", "--slstm-at", "7", "--num-blocks", "2", "--out", tmp.resolve("d").toString(), "--steps", "1"},
                {"generate", "--model", tmp.resolve("nothing").toString()},
                {"forward", "--model", tmp.toString(), "--input", empty.toString(), "--out", tmp.resolve("o").toString()},
        };
        for (String[] c : cases) {
            Result r = run(c);
            assertEquals(2, r.code(), String.join(" ", c) + " → " + r.err());
            String line = r.err().strip();
            assertFalse(line.isEmpty(), String.join(" ", c));
            assertFalse(line.contains("\n"), "more than one line for " + String.join(" ", c) + ":\n" + r.err());
            assertTrue(line.startsWith("xlstm: error: "), line);
            assertFalse(line.contains("Exception"), line);
        }
    }
    /**
     * The mistakes a first review found: caught before any work or output, one line (plus, for a bad option, where to
     * read the usage instead of the whole page), exit 2; and the folder forms that should simply work.
     */
    @Test
    void optionMistakesAreCaughtBeforeWorkStarts(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data.txt");
        Files.writeString(data, "the cat sat on the mat. ".repeat(200));
        Path run = tmp.resolve("run"), file = Files.writeString(tmp.resolve("file.txt"), "x");
        String[] tiny = args(TINY, "--data", data.toString(), "--steps", "2");
        Result trained = run(args(args(new String[]{"train"}, tiny), "--out", run.toString()));
        assertEquals(0, trained.code(), trained.err());
        String m = run.toString();
        String[][] oneLine = {
                args(args(new String[]{"train"}, tiny), "--out", file.toString()),                       // --out is a file
                args(args(new String[]{"train"}, tiny), "--out", file.resolve("sub").toString()),        // ... or under one
                {"train", "--resume", m, "--steps", "3", "--embedding-dim", "64"},                       // shape flag on resume
                args(args(new String[]{"train"}, tiny), "--out", m),                                    // a run folder taken
                {"train", "--resume", m, "--steps", "3", "--out", tmp.resolve("elsewhere").toString()}, // a run continues in place
                {"generate", "--model", m, "--prompt", "hi", "--save-state", tmp.toString()},            // a folder, not a file
                {"generate", "--model", m, "--prompt", "hi", "--max-new-tokens", "-5"},
                {"generate", "--model", m, "--prompt", "hi", "--load-state", tmp.resolve("none.state").toString()},
                {"generate", "--model", m, "--prompt", "hi", "--save-state", tmp.resolve("no/dir/a.state").toString()},
                {"generate", "--model", m, "--prompt", "hi", "--precision", "bogus"},
                {"generate", "--model", m, "--prompt", "hi", "--out", tmp.resolve("ids.st").toString()},
                {"experiment", "--model", "lstm", "--steps", "10"},
        };
        for (String[] c : oneLine) {
            Result r = run(c);
            String cmd = String.join(" ", c);
            assertEquals(2, r.code(), cmd + " → " + r.err());
            assertEquals("", r.out(), cmd + " printed before failing");
            String line = r.err().strip();
            assertFalse(line.contains("\n"), "more than one line for " + cmd + ":\n" + r.err());
            assertTrue(line.startsWith("xlstm: error: "), line);
        }
        String[][] badOptions = {
                {"generate", "--model", m, "--max-new-tokens", "abc"},
                {"train", "--lr", "abc"},
                {"bench", "matmul", "--size", "0"},
                {"bench", "decode"},
        };
        for (String[] c : badOptions) {
            Result r = run(c);
            String[] lines = r.err().strip().split("\n");
            assertEquals(2, r.code(), String.join(" ", c));
            assertEquals(2, lines.length, "error and a pointer to --help, not the usage page:\n" + r.err());
            assertTrue(lines[0].startsWith("xlstm: error: "), lines[0]);
            assertTrue(lines[1].startsWith("try: xlstm ") && lines[1].endsWith(" --help"), lines[1]);
        }
        // a run folder's checkpoint/ folder is accepted where the run folder is, and inspect takes a run folder
        Result resumed = run("train", "--resume", run.resolve("checkpoint").toString(), "--steps", "3", "--sample-tokens", "0", "--threads", "1");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("at step 2 of 3"), resumed.out());
        Result inspect = run("inspect", m);
        assertEquals(0, inspect.code(), inspect.err());
        assertTrue(inspect.out().contains("model.safetensors"), inspect.out());
    }
}
