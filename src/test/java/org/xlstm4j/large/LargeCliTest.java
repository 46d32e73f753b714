package org.xlstm4j.large;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.cli.BenchDecodeCommand;
import org.xlstm4j.cli.Main;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.large.LargeParityTest.fixture;
import static org.xlstm4j.large.LargeParityTest.relErr;

/** {@code xlstm forward}, {@code xlstm generate} (with --save-state/--load-state) and {@code bench decode} on this architecture. */
class LargeCliTest {
    @Test void forwardAndGenerateWriteTheFixturesOutputs(@TempDir Path tmp) {
        Path dir = fixture("hf_tiny"), io = dir.resolve("io.safetensors");
        Path fw = tmp.resolve("forward.safetensors"), gen = tmp.resolve("gen.safetensors");
        assertEquals(0, Main.run("forward", "--model", dir.toString(), "--input", io.toString(), "--out", fw.toString(), "--threads", "2"));
        assertEquals(0, Main.run("generate", "--model", dir.toString(), "--input", io.toString(), "--greedy",
                "--max-new-tokens", "8", "--out", gen.toString(), "--threads", "2"));
        try (SafetensorsFile want = SafetensorsFile.open(io); SafetensorsFile got = SafetensorsFile.open(fw);
             SafetensorsFile ids = SafetensorsFile.open(gen)) {
            assertTrue(relErr(got.floats("output.logits"), want.floats("output.logits")) < 1e-4);
            assertTrue(relErr(got.floats("output.step_logits"), want.floats("output.step_logits")) < 1e-4);
            assertArrayEquals(want.longs("output.greedy_ids"), ids.longs("output.greedy_ids"));
        }
    }

    @Test void generateContinuesFromASavedState(@TempDir Path tmp) {
        Path dir = fixture("hf_tiny"), io = dir.resolve("io.safetensors");
        Path state = tmp.resolve("state.safetensors"), a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        assertEquals(0, Main.run("generate", "--model", dir.toString(), "--input", io.toString(), "--greedy",
                "--max-new-tokens", "3", "--out", a.toString(), "--save-state", state.toString(), "--threads", "1"));
        assertEquals(0, Main.run("generate", "--model", dir.toString(), "--input", io.toString(), "--greedy",
                "--max-new-tokens", "3", "--out", b.toString(), "--load-state", state.toString(), "--threads", "1"));
        try (SafetensorsFile s = SafetensorsFile.open(state)) {
            assertEquals(2 * 4, s.names().size());                      // 2 blocks × (C, n, m, empty conv)
            assertArrayEquals(new long[]{2 * 2 * 32 * 64}, s.info("blocks.1.mlstm.C").shape());
        }
    }

    @Test void benchDecodeReportsBandwidthAndRatio(@TempDir Path tmp) {
        Path dir = tmp.resolve("rnd");
        LargeCheckpoints.createRandom(dir, LargeCheckpointsTest.small(), DType.BF16, 1);
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new BenchDecodeCommand());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute("--model", dir.toString(), "--tokens", "3", "--runs", "2", "--warmup", "1", "--threads", "2",
                "--bandwidth-mb", "16");
        assertEquals(0, exit, err.toString());
        String s = out.toString();
        Matcher m = Pattern.compile("weights read per token: ([0-9.]+) GB").matcher(s);
        assertTrue(m.find(), s);
        for (String line : new String[]{"tokens/s median", "achieved bandwidth:", "memory read bandwidth:", "ratio achieved / memory bandwidth:"})
            assertTrue(s.contains(line), s);
        assertEquals(2, cl.execute("--tokens", "3"), "neither --model nor --create");
    }
}
