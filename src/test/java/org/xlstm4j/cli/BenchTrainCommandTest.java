package org.xlstm4j.cli;

import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.*;

/** {@code bench train} and the preset path of {@code bench decode}: what they print, the presets, flag checks. */
class BenchTrainCommandTest {
    private static int run(StringWriter out, StringWriter err, String... args) {
        CommandLine cl = new CommandLine(new BenchTrainCommand());
        cl.setExecutionExceptionHandler(new Errors());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void trainPrintsThroughputHeapAndAllocation() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = run(out, err, "--preset", "ms-tiny", "--steps", "2", "--warmup", "1", "--warmup-seconds", "0",
                "--threads", "2", "--seq", "16", "--batch", "2");
        assertEquals(0, exit, err.toString());
        String o = out.toString();
        assertTrue(o.startsWith("train ms-tiny: 4 blocks, E 128, sLSTM at [1, 3]"), o);
        assertTrue(o.matches("(?s).*throughput: [0-9.]+ tokens/s median \\(min [0-9.]+, max [0-9.]+; 2 steps after 1 warm-up\\).*"), o);
        assertTrue(o.contains("heap: ") && o.contains("allocated "), o);
    }

    @Test
    void badFlagsAndUnknownPresetsAreUserErrors() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, run(out, err, "--preset", "huge"));
        assertTrue(err.toString().contains("unknown preset 'huge'; known: m-tiny, ms-tiny, s-tiny, m-small, ms-small"), err.toString());
        assertEquals(2, run(new StringWriter(), new StringWriter(), "--preset", "m-tiny", "--steps", "0"));
        assertEquals(2, run(new StringWriter(), new StringWriter(), "--preset", "m-tiny", "--form", "quadratic"));
        assertEquals(2, run(new StringWriter(), new StringWriter()));   // --preset is required
    }

    @Test
    void presetsMatchTheBrief() {
        var ms = BenchPreset.of("ms-small").config(256);
        assertEquals(384, ms.embeddingDim);
        assertEquals(6, ms.numBlocks);
        assertArrayEquals(new int[]{1, 3, 5}, ms.slstmAt);
        assertEquals(768, ms.mlstmInnerDim());     // projection factor 2
        assertEquals(512, ms.ffnHiddenDim());      // 1.3 · 384 rounded up to 64
        var s = BenchPreset.of("s-tiny").config(256);
        for (int i = 0; i < 4; i++) assertTrue(s.isSLstm(i));
        var m = BenchPreset.of("m-tiny").config(256);
        for (int i = 0; i < 4; i++) assertFalse(m.isSLstm(i));
        assertEquals(256, m.vocabSize);
        assertThrows(UserError.class, () -> BenchPreset.of("m-large"));
    }

    @Test
    void decodePresetPrintsTokensPerSecond() {
        StringWriter out = new StringWriter();
        double tps = BenchDecodePresetSupport.run(new PrintWriter(out, true), "s-tiny", 1, 8, 2, 4, 0);
        assertTrue(tps > 0, out.toString());
        assertTrue(out.toString().startsWith("decode s-tiny: 4 blocks, E 128"), out.toString());
        assertTrue(out.toString().contains("tokens/s median"), out.toString());
    }
}
