package org.xlstm4j.train;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class ProgressBarTest {
    private static final DataInfo DATA = new DataInfo("test", 256, 1000, 900, 100, "0", 1);

    private static String drive(boolean interactive) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressBar p = new ProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), interactive);
        TrainConfig c = TrainConfig.defaults().withSteps(10);   // log interval 10
        p.onStart(c, 0, DATA);
        for (int s = 1; s <= 10; s++) {
            p.onStep(s, 10, 2.5, 1e-3, 0.7, 5000);
            if (s == 5) p.onEval(5, 2.25, 2.25 / Math.log(2));
        }
        p.onCheckpoint(10, Path.of("run/checkpoint"));
        p.onFinish(10, 2.25);
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test void plainLinesWhenNotInteractive() {
        String out = drive(false);
        assertFalse(out.contains("\r"));
        assertTrue(out.contains("step 10/10 | loss 2.5000"), out);
        assertFalse(out.contains("step 9/10"), "only every log interval: " + out);
        assertTrue(out.contains("validation loss 2.2500 (3.246 bits/byte)"), out);
        assertTrue(out.contains("checkpoint written to run"), out);
    }

    @Test void redrawsOneLineWhenInteractive() {
        String out = drive(true);
        assertTrue(out.contains("\rstep 10/10 [########################]"), out);
        assertTrue(out.contains("tok/s") && out.contains("ETA"), out);
        assertTrue(out.contains("\nstep 5: validation loss"), "messages start on a fresh line: " + out);
    }

    @Test void durations() {
        assertEquals("12s", ProgressBar.duration(12.2));
        assertEquals("3m07s", ProgressBar.duration(187));
        assertEquals("1h02m", ProgressBar.duration(3720));
        assertEquals("?", ProgressBar.duration(Double.NaN));
    }
}
