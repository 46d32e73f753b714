package org.xlstm4j.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.Fixtures;
import org.xlstm4j.io.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's promise about {@code --resume}, checked the way a user meets it: each run is a fresh JVM. "40 steps" and
 * "20 steps, then --resume to 40" end at the same step with the same optimizer state layout and parameters that agree
 * to rounding: not bit for bit, because the Vector API's exp/tanh/log1p and lane sums may differ in the last bit between
 * the JIT's compiled intrinsics and the interpreter, and a fresh JVM runs the resumed steps in other tiers than the
 * uninterrupted run did (measured: two uninterrupted runs differ as much; see README).
 */
class ResumeAcrossProcessesTest {
    static final String[] COMMON = {"--sample-tokens", "0", "--eval-interval", "1000", "--batch-size", "8",
            "--context", "64", "--threads", "2"};

    static void train(Path log, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Main.class.getName(), "train"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of(COMMON));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "training run did not finish: " + cmd);
        assertEquals(0, p.exitValue(), () -> "training failed: " + read(log));
    }

    static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void resumedRunAgreesWithTheUninterruptedOne(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a"), b = tmp.resolve("b");
        train(tmp.resolve("a.log"), "--steps", "40", "--out", a.toString());
        train(tmp.resolve("b.log"), "--steps", "20", "--out", b.toString());
        train(tmp.resolve("b2.log"), "--resume", b.toString(), "--steps", "40");
        try (SafetensorsFile wa = SafetensorsFile.open(a.resolve("checkpoint/model.safetensors"));
             SafetensorsFile wb = SafetensorsFile.open(b.resolve("checkpoint/model.safetensors"));
             SafetensorsFile oa = SafetensorsFile.open(a.resolve("checkpoint/optimizer.safetensors"));
             SafetensorsFile ob = SafetensorsFile.open(b.resolve("checkpoint/optimizer.safetensors"))) {
            assertEquals(oa.metadata().get("step"), ob.metadata().get("step"), "optimizer step");
            assertEquals("40", ob.metadata().get("step"));
            assertEquals(wa.names(), wb.names());
            double worst = 0;
            for (String n : wa.names()) worst = Math.max(worst, Fixtures.relErr(wb.floats(n), wa.floats(n)));
            System.out.printf("resumed vs uninterrupted, 40 steps: worst parameter rel err %.2e%n", worst);
            // measured 7.1e-5 to 1.25e-4 (2026-12-01, four runs); a resume that lost the AdamW moments (zeroed in the
            // checkpoint) ends 0.99 away, so 3e-3 leaves 24× room for the JIT's rounding (other CPUs, thread counts)
            // and none for a lost state
            assertTrue(worst < 3e-3, "resumed run drifted from the uninterrupted one: rel err " + worst);
        }
    }
}
