package org.xlstm4j.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.xlstm4j.io.AtomicFiles;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

/**
 * {@code metrics.jsonl}: one JSON object per line with {@code step}, {@code loss} (mean training loss since the
 * previous line), {@code lr} and {@code grad_norm} (of that step, norm before clipping), {@code tokens_per_s}
 * (training throughput since the previous line, evaluation and checkpoint time excluded), and on evaluation steps
 * {@code val_loss} and, when bytes per token are known, {@code val_bits_per_byte} (= val_loss / ln 2 for bytes).
 * Also keeps the loss curves in memory for the chart.
 */
public final class MetricsLog implements AutoCloseable {
    /** File name inside a run folder. */
    public static final String FILE = "metrics.jsonl";
    private final BufferedWriter out;
    private final StringBuilder line = new StringBuilder(256);
    final Series train = new Series(), val = new Series();

    /** A growable (step, value) series of primitives. */
    static final class Series {
        int n;
        double[] x = new double[64], y = new double[64];

        void add(double step, double value) {
            if (n == x.length) {
                x = Arrays.copyOf(x, 2 * n);
                y = Arrays.copyOf(y, 2 * n);
            }
            x[n] = step;
            y[n++] = value;
        }
    }

    private MetricsLog(BufferedWriter out) { this.out = out; }

    /** Starts a new log, replacing any existing file. */
    public static MetricsLog create(Path file) throws IOException {
        return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8));
    }

    /**
     * Continues a log after resuming at {@code step}: lines of later steps (written after that checkpoint by the
     * interrupted run) are dropped, the file rewritten atomically, and the curves reloaded.
     */
    public static MetricsLog resume(Path file, int step) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            lines = List.of();
        }
        ObjectMapper json = new ObjectMapper();
        StringBuilder kept = new StringBuilder();
        MetricsLog log;
        Series train = new Series(), val = new Series();
        for (String l : lines) {
            if (l.isBlank()) continue;
            JsonNode o;
            try {
                o = json.readTree(l);
            } catch (IOException e) {
                continue;   // a torn last line from a crash
            }
            if (o == null || !o.has("step") || o.get("step").asInt() > step) continue;
            kept.append(l).append('\n');
            if (o.has("loss")) train.add(o.get("step").asInt(), o.get("loss").asDouble());
            if (o.has("val_loss")) val.add(o.get("step").asInt(), o.get("val_loss").asDouble());
        }
        AtomicFiles.writeString(file, kept.toString());
        log = new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
        for (int i = 0; i < train.n; i++) log.train.add(train.x[i], train.y[i]);
        for (int i = 0; i < val.n; i++) log.val.add(val.x[i], val.y[i]);
        return log;
    }

    /** Appends one line and flushes it; NaN {@code valLoss}/{@code valBitsPerByte} are left out. */
    public void append(int step, double loss, double valLoss, double valBitsPerByte, double lr, double gradNorm,
                       double tokensPerS) throws IOException {
        line.setLength(0);
        line.append("{\"step\":").append(step).append(",\"loss\":").append((float) loss);
        if (!Double.isNaN(valLoss)) line.append(",\"val_loss\":").append((float) valLoss);
        if (!Double.isNaN(valBitsPerByte)) line.append(",\"val_bits_per_byte\":").append((float) valBitsPerByte);
        line.append(",\"lr\":").append(lr).append(",\"grad_norm\":").append((float) gradNorm)
            .append(",\"tokens_per_s\":").append(Math.round(tokensPerS)).append("}\n");
        out.append(line);
        out.flush();
        train.add(step, loss);
        if (!Double.isNaN(valLoss)) val.add(step, valLoss);
    }

    @Override public void close() throws IOException { out.close(); }
}
