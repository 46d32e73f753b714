package org.xlstm4j.train;

import java.io.Console;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Training progress on a terminal. Interactive: one line redrawn in place with {@code \r} (at most 10 times a
 * second): step/total, a bar, loss (exponential moving average), tokens/s and ETA. Otherwise (piped, CI): a plain line
 * every {@code logInterval} steps with the mean loss since the previous line. Evaluations, checkpoints and warnings
 * always get a line of their own.
 */
public final class ProgressBar implements TrainListener {
    private static final int WIDTH = 24;
    private final PrintStream out;
    private final boolean interactive;
    private int logInterval = 1, startStep;
    private long startNanos, lastDraw;
    private double smoothLoss = Double.NaN, smoothTps = Double.NaN, lossSum;
    private int lossCount;
    private boolean lineOpen;

    /** A progress display writing to {@code out}; {@code interactive} selects in-place redraws. */
    public ProgressBar(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    /** Progress on standard output, interactive when it is a terminal. */
    public static ProgressBar forConsole() {
        Console c = System.console();
        return new ProgressBar(System.out, c != null && c.isTerminal());
    }

    public boolean interactive() { return interactive; }

    @Override public void onStart(TrainConfig config, int startStep, DataInfo data) {
        this.logInterval = config.logInterval();
        this.startStep = startStep;
        this.startNanos = System.nanoTime();
        out.printf(Locale.ROOT, "%s %d/%d steps, %s: %,d train / %,d validation tokens, %,d tokens per step%n",
                startStep == 0 ? "training" : "resuming at", startStep, config.steps(), data.source(),
                data.trainTokens(), data.valTokens(), config.tokensPerStep());
    }

    @Override public void onStep(int step, int totalSteps, double loss, double lr, double gradNorm, double tokensPerSecond) {
        smoothLoss = Double.isNaN(smoothLoss) ? loss : 0.9 * smoothLoss + 0.1 * loss;
        smoothTps = Double.isNaN(smoothTps) ? tokensPerSecond : 0.9 * smoothTps + 0.1 * tokensPerSecond;
        lossSum += loss;
        lossCount++;
        long now = System.nanoTime();
        double perStep = (now - startNanos) / 1e9 / Math.max(1, step - startStep);
        double eta = perStep * (totalSteps - step);
        if (interactive) {
            if (now - lastDraw < 100_000_000L && step < totalSteps) return;
            lastDraw = now;
            int filled = (int) ((long) WIDTH * step / totalSteps);
            out.print("\r" + "step " + pad(step, totalSteps) + "/" + totalSteps + " [" + "#".repeat(filled)
                    + ".".repeat(WIDTH - filled) + "] " + String.format(Locale.ROOT, "loss %.4f | %,.0f tok/s | ETA %s ",
                    smoothLoss, smoothTps, duration(eta)));
            out.flush();
            lineOpen = true;
        } else if (step % logInterval == 0 || step == totalSteps) {
            out.printf(Locale.ROOT, "step %d/%d | loss %.4f | lr %.2e | grad norm %.3f | %,.0f tok/s | ETA %s%n",
                    step, totalSteps, lossSum / lossCount, lr, gradNorm, smoothTps, duration(eta));
            lossSum = 0;
            lossCount = 0;
        }
    }

    @Override public void onEval(int step, double valLoss, double bitsPerByte) {
        line(String.format(Locale.ROOT, "step %d: validation loss %.4f%s", step, valLoss,
                Double.isNaN(bitsPerByte) ? "" : String.format(Locale.ROOT, " (%.3f bits/byte)", bitsPerByte)));
    }

    @Override public void onCheckpoint(int step, Path dir) { line("step " + step + ": checkpoint written to " + dir); }

    @Override public void onWarning(String message) { line("warning: " + message); }

    @Override public void onFinish(int step, Double bestValLoss) {
        line("finished at step " + step + (bestValLoss == null ? "" :
                String.format(Locale.ROOT, ", best validation loss %.4f", bestValLoss)));
    }

    private void line(String s) {
        if (lineOpen) out.println();
        lineOpen = false;
        out.println(s);
    }

    private static String pad(int step, int total) {
        String s = Integer.toString(step);
        return " ".repeat(Math.max(0, Integer.toString(total).length() - s.length())) + s;
    }

    /** "1h02m", "3m07s" or "12s". */
    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) return "?";
        long s = Math.round(seconds);
        if (s >= 3600) return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60);
        if (s >= 60) return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        return s + "s";
    }
}
