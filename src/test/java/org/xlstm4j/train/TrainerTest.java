package org.xlstm4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TrainerTest {
    private static final int V = 256;
    private static final byte[] TEXT = BigramModel.corpus(20_000, 3);

    private static TrainConfig config(int steps, int gradAccum, int evalInterval, int checkpointInterval) {
        return new TrainConfig(steps, 4, 16, gradAccum, 0.05, 0.1, 3, 0.01, 0.9, 0.99, 1e-8, 1.0,
                evalInterval, 2, checkpointInterval, 99, 2);
    }

    private static TextDataset data(TrainConfig c) {
        return new TextDataset(ByteTokens.of(TEXT, "test corpus"), c.contextLength(), c.seed());
    }

    private static List<JsonNode> metrics(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (String l : Files.readAllLines(run.resolve(MetricsLog.FILE))) out.add(json.readTree(l));
        return out;
    }

    private static List<String> runEntries(Path run) throws IOException {
        try (Stream<Path> s = Files.list(run)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void lossFallsAndRunFolderIsComplete(@TempDir Path run) throws Exception {
        TrainConfig c = config(40, 1, 20, 15);
        BigramModel m = new BigramModel(V, 1);
        TextDataset d = data(c);
        Trainer t = new Trainer(c, m, d, run);
        double before = t.evaluate();
        List<Integer> checkpoints = new ArrayList<>();
        t.listener(new TrainListener() {
            @Override public void onCheckpoint(int step, Path dir) { checkpoints.add(step); }
        }).run();
        double after = t.evaluate();
        assertTrue(after < before - 1.0, "validation loss " + before + " -> " + after);
        assertEquals(List.of(15, 30, 40), checkpoints);
        assertEquals(List.of("checkpoint", "loss.png", "metrics.jsonl"), runEntries(run));
        assertEquals(List.of("config.json", "model.safetensors", Checkpoints.OPTIMIZER, TrainerState.FILE),
                runEntries(run.resolve("checkpoint")));

        List<JsonNode> lines = metrics(run);
        assertEquals(20, lines.size());   // every 2 steps
        JsonNode last = lines.getLast();
        assertEquals(40, last.get("step").asInt());
        assertEquals(after, last.get("val_loss").asDouble(), 1e-5);
        assertEquals(after, t.bestValLoss(), 1e-9);
        assertEquals(after / Math.log(2), last.get("val_bits_per_byte").asDouble(), 1e-5);
        assertEquals(new LrSchedule(0.05, 3, 40, 0.1).lr(40), last.get("lr").asDouble(), 1e-12);
        assertTrue(last.get("tokens_per_s").asDouble() > 0 && last.get("grad_norm").asDouble() > 0);
        assertFalse(lines.get(0).has("val_loss"));
        assertTrue(lines.get(0).get("loss").asDouble() > last.get("loss").asDouble());

        BufferedImage png = ImageIO.read(run.resolve("loss.png").toFile());
        assertEquals(900, png.getWidth());

        TrainerState s = TrainerState.read(run.resolve("checkpoint"));
        assertEquals(40, s.step());
        assertEquals(c, s.config());
        assertEquals(d.info(), s.data());
        assertEquals(after, s.bestValLoss(), 1e-9);

        UserError again = assertThrows(UserError.class, () -> new Trainer(c, new BigramModel(V, 1), d, run).run());
        assertTrue(again.getMessage().contains("already holds a checkpoint"), again.getMessage());
    }

    /** 10 steps straight versus 5, stop, resume, 5 more: bit-identical parameters, moments and losses. */
    @Test void stopAndResumeIsBitIdentical(@TempDir Path tmp) throws Exception {
        for (int accum : new int[] {1, 2}) {
            TrainConfig c = config(10, accum, 4, 100);
            Path straightRun = tmp.resolve("straight" + accum), split = tmp.resolve("split" + accum);
            BigramModel straight = new BigramModel(V, 1);
            Trainer ts = new Trainer(c, straight, data(c), straightRun);
            ts.run();

            Trainer first = new Trainer(c, new BigramModel(V, 1), data(c), split);
            first.listener(new TrainListener() {
                @Override public void onStep(int step, int total, double loss, double lr, double gn, double tps) {
                    if (step == 5) first.requestStop();
                }
            }).run();
            assertEquals(5, first.step());
            assertEquals(5, TrainerState.read(split.resolve("checkpoint")).step());

            BigramModel resumedModel = BigramModel.load(Checkpoints.latest(split));
            Trainer second = Trainer.resume(split, resumedModel, data(c));
            assertEquals(5, second.step());
            second.run();
            assertEquals(10, second.step());
            assertArrayEquals(straight.w.data, resumedModel.w.data, "accum " + accum);
            assertArrayEquals(straight.b.data, resumedModel.b.data);
            for (int i = 0; i < 2; i++) {
                assertArrayEquals(ts.optimizer().firstMoment(i), second.optimizer().firstMoment(i));
                assertArrayEquals(ts.optimizer().secondMoment(i), second.optimizer().secondMoment(i));
            }
            List<JsonNode> a = metrics(straightRun), b = metrics(split);
            assertEquals(a.getLast().get("val_loss"), b.getLast().get("val_loss"));
            assertEquals(a.getLast().get("loss"), b.getLast().get("loss"));
            assertEquals(ts.bestValLoss(), second.bestValLoss());
        }
    }

    /** A crash after the step-5 checkpoint: resuming from the recorded file source drops later metrics and matches. */
    @Test void crashAndResumeFromRecordedSource(@TempDir Path tmp) throws Exception {
        Path corpus = Files.write(tmp.resolve("corpus.txt"), TEXT);
        TrainConfig c = config(10, 1, 4, 5);
        BigramModel straight = new BigramModel(V, 1);
        new Trainer(c, straight, new TextDataset(ByteTokens.fromFile(corpus), 16, 99), tmp.resolve("a")).run();

        Path run = tmp.resolve("b");
        Trainer crashing = new Trainer(c, new BigramModel(V, 1), new TextDataset(ByteTokens.fromFile(corpus), 16, 99), run);
        crashing.listener(new TrainListener() {
            @Override public void onStep(int step, int total, double loss, double lr, double gn, double tps) {
                if (step == 8) throw new IllegalStateException("simulated crash");
            }
        });
        assertThrows(IllegalStateException.class, crashing::run);
        assertEquals(6, metrics(run).getLast().get("step").asInt());   // lines after the checkpoint exist

        BigramModel m = BigramModel.load(Checkpoints.latest(run));
        Trainer resumed = Trainer.resume(run, m);
        assertEquals(5, resumed.step());
        resumed.run();
        assertArrayEquals(straight.w.data, m.w.data);
        assertArrayEquals(straight.b.data, m.b.data);
        List<Integer> steps = metrics(run).stream().map(n -> n.get("step").asInt()).toList();
        assertEquals(List.of(2, 4, 6, 8, 10), steps);   // the interrupted run's line of step 6 was replaced
    }

    @Test void resumeRejectsOtherData(@TempDir Path run) throws Exception {
        TrainConfig c = config(2, 1, 10, 10);
        new Trainer(c, new BigramModel(V, 1), data(c), run).run();
        byte[] other = BigramModel.corpus(20_000, 4);
        TextDataset d = new TextDataset(ByteTokens.of(other, "other"), 16, 99);
        UserError e = assertThrows(UserError.class,
                () -> Trainer.resume(run, BigramModel.load(Checkpoints.latest(run)), d));
        assertTrue(e.getMessage().contains("trained on test corpus"), e.getMessage());
        UserError f = assertThrows(UserError.class, () -> Trainer.resume(run, BigramModel.load(Checkpoints.latest(run)),
                data(c), config(4, 2, 10, 10)));
        assertTrue(f.getMessage().contains("must stay"), f.getMessage());
    }

    /** Steps between logs, evaluations and checkpoints allocate nothing (the fake model allocates nothing either). */
    @Test void noAllocationPerStep(@TempDir Path run) throws Exception {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        TrainConfig c = new TrainConfig(400, 2, 8, 2, 0.01, 0.1, 3, 0.01, 0.9, 0.99, 1e-8, 1.0, 1000, 1, 1000, 5, 1000);
        long[] at = new long[2];
        new Trainer(c, new BigramModel(V, 1), data(c), run).listener(new TrainListener() {
            @Override public void onStep(int step, int total, double loss, double lr, double gn, double tps) {
                if (step == 100) at[0] = mx.getCurrentThreadAllocatedBytes();
                if (step == 399) at[1] = mx.getCurrentThreadAllocatedBytes();
            }
        }).run();
        assertTrue(at[1] - at[0] < 4096, (at[1] - at[0]) + " bytes allocated in 299 steps (16 per step would exceed this)");
    }

    @Test void trainerStateRoundTrip(@TempDir Path dir) throws Exception {
        TrainerState s = new TrainerState(TrainerState.FORMAT, 7, 3, TrainConfig.defaults(),
                new DataInfo("bpe:x", 50_000, 10, 9, 1, "00ff", Double.NaN), null);
        Files.writeString(dir.resolve(TrainerState.FILE), s.toJson());
        assertEquals(s, TrainerState.read(dir));
        Files.writeString(dir.resolve(TrainerState.FILE), "{\"format\": \"other\"}");
        assertThrows(UserError.class, () -> TrainerState.read(dir));
    }

    @Test void divergenceStopsAndKeepsTheLastGoodCheckpoint(@TempDir Path run) throws Exception {
        TrainConfig c = config(10, 1, 100, 2);
        BigramModel m = new BigramModel(V, 1);
        m.nanAtCall = 5;
        UserError e = assertThrows(UserError.class, () -> new Trainer(c, m, data(c), run).run());
        assertTrue(e.getMessage().contains("diverged at step 5") && e.getMessage().contains("step 4")
                && e.getMessage().contains("lr is 0.05"), e.getMessage());
        assertEquals(4, TrainerState.read(run.resolve("checkpoint")).step());
        assertEquals(List.of("checkpoint", "metrics.jsonl"), runEntries(run));
    }
}
