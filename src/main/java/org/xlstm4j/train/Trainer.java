package org.xlstm4j.train;

import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The training loop: per update, zeroed gradients, {@code gradAccum} micro-batches of forward and backward, gradient
 * clipping, the scheduled learning rate and an AdamW step; metrics, validation, the loss chart and crash-safe
 * checkpoints at their intervals. Everything lives in the run folder:
 * <pre>
 *   run/metrics.jsonl   one line per log interval (see {@link MetricsLog})
 *   run/loss.png        training and validation loss, redrawn at each evaluation
 *   run/checkpoint/     config.json + model.safetensors (the model's), optimizer.safetensors, trainer.json
 * </pre>
 * Resuming from the checkpoint restores everything: the data order is a function of (seed, step) and the parameters
 * and optimizer state are saved exactly. The continued run is bit-identical to an uninterrupted one where the vector
 * math takes one definition throughout (a JVM without C2); otherwise the two agree to rounding (see the README).
 */
public final class Trainer {
    private final TrainConfig cfg;
    private final TrainableModel model;
    private final TextDataset data;
    private final Path runDir;
    private final List<Param> params;
    private final Param[] paramArray;
    private final AdamW opt;
    private final LrSchedule schedule;
    private final int[] inputs, targets;
    private final boolean resumed;
    private int step, lastCheckpoint;
    private Double bestValLoss;
    private boolean chartBroken;
    private TrainListener listener = new TrainListener() {};
    private volatile boolean stopRequested;

    /**
     * A new run of {@code model} on {@code data} writing into {@code runDir} (created; must hold no checkpoint). The
     * training order follows {@code config.seed()}, whatever seed {@code data} was made with.
     */
    public Trainer(TrainConfig config, TrainableModel model, TextDataset data, Path runDir) {
        this(config, model, data, runDir, false);
    }

    private Trainer(TrainConfig config, TrainableModel model, TextDataset data, Path runDir, boolean resumed) {
        this.cfg = config;
        this.model = model;
        this.data = data.seed() == config.seed() ? data : data.withSeed(config.seed());
        this.runDir = runDir;
        this.resumed = resumed;
        this.params = List.copyOf(model.parameters());
        this.paramArray = params.toArray(Param[]::new);
        this.opt = AdamW.of(params, config);
        this.schedule = LrSchedule.of(config);
        int bt = config.batchSize() * config.contextLength();
        this.inputs = new int[bt];
        this.targets = new int[bt];
        data.checkContext(config.contextLength());
    }

    /**
     * Continues the run in {@code runDir} with the data it was trained on (reopened from the source recorded in the
     * checkpoint: a file or the bundled corpus). {@code model} must already hold the parameters loaded from
     * {@link Checkpoints#latest(Path)}, which the caller loads first (that also repairs an interrupted checkpoint write).
     */
    public static Trainer resume(Path runDir, TrainableModel model) {
        TrainerState s = TrainerState.read(Checkpoints.latest(runDir));
        return resume(runDir, model, new TextDataset(ByteTokens.open(s.data().source()), s.config().contextLength(), s.seed()), null);
    }

    /** As {@link #resume(Path, TrainableModel)}, with the data given; it must be the data of the checkpoint. */
    public static Trainer resume(Path runDir, TrainableModel model, TextDataset data) {
        return resume(runDir, model, data, null);
    }

    /**
     * As {@link #resume(Path, TrainableModel, TextDataset)} with a new configuration (null keeps the saved one), e.g.
     * more steps. Batch size, context length, gradient accumulation and seed must stay as saved; other changes (steps,
     * learning rates) are allowed but make the run differ from an uninterrupted one.
     */
    public static Trainer resume(Path runDir, TrainableModel model, TextDataset data, TrainConfig config) {
        Path dir = Checkpoints.latest(runDir);
        TrainerState s = TrainerState.read(dir);
        TrainConfig saved = s.config(), c = config == null ? saved : config;
        if (c.batchSize() != saved.batchSize() || c.contextLength() != saved.contextLength()
                || c.gradAccum() != saved.gradAccum() || c.seed() != saved.seed())
            throw new UserError(runDir + ": batch size, context length, gradient accumulation and seed must stay as in the"
                    + " checkpoint (" + saved.batchSize() + ", " + saved.contextLength() + ", " + saved.gradAccum() + ", "
                    + saved.seed() + ") to resume");
        DataInfo have = data.info(), want = s.data();
        if (!have.fingerprint().equals(want.fingerprint()) || have.vocabSize() != want.vocabSize())
            throw new UserError(runDir + ": the checkpoint was trained on " + want.source() + " (" + want.tokens()
                    + " tokens, fingerprint " + want.fingerprint() + "), but the data given is " + have.source() + " ("
                    + have.tokens() + " tokens, fingerprint " + have.fingerprint() + ")");
        Trainer t = new Trainer(c, model, data, runDir, true);
        t.opt.load(dir.resolve(Checkpoints.OPTIMIZER));
        if (t.opt.stepCount() != s.step())
            throw new UserError(dir + ": optimizer step " + t.opt.stepCount() + " does not match trainer step " + s.step());
        t.step = t.lastCheckpoint = s.step();
        t.bestValLoss = s.bestValLoss();
        return t;
    }

    /** Sets the listener (progress display, CLI hooks); returns this. */
    public Trainer listener(TrainListener l) {
        this.listener = l;
        return this;
    }

    /** Asks {@link #run()} to stop after the current update and write a checkpoint; safe from any thread. */
    public void requestStop() { stopRequested = true; }

    /** Updates done so far. */
    public int step() { return step; }
    public TrainConfig config() { return cfg; }
    public Path runDir() { return runDir; }
    /** Best validation loss so far, or null before the first evaluation. */
    public Double bestValLoss() { return bestValLoss; }
    /** The optimizer (its moments are part of the checkpoint). */
    public AdamW optimizer() { return opt; }

    /**
     * Trains until {@code config.steps()} updates are done (or {@link #requestStop()}), then writes the final
     * checkpoint. A non-finite loss or gradient norm stops training with a {@link UserError}; the last checkpoint on
     * disk is left as it was.
     */
    public void run() throws IOException {
        Files.createDirectories(runDir);
        if (!resumed && Checkpoints.exists(runDir))
            throw new UserError(runDir + ": already holds a checkpoint; resume it or choose another run folder");
        int B = cfg.batchSize(), T = cfg.contextLength(), accum = cfg.gradAccum();
        Path metrics = runDir.resolve(MetricsLog.FILE);
        try (MetricsLog log = resumed ? MetricsLog.resume(metrics, step) : MetricsLog.create(metrics)) {
            listener.onStart(cfg, step, data.info());
            double lossSum = 0, gradNorm = 0, lr = 0;
            long nanos = 0;
            int pending = 0;
            while (step < cfg.steps() && !stopRequested) {
                long t0 = System.nanoTime();
                for (Param p : paramArray) p.zeroGrad();
                double loss = 0;
                for (int micro = 0; micro < accum; micro++) {
                    data.sampleBatch(inputs, targets, B, T, step, micro);
                    loss += model.forwardBackward(inputs, targets, B, T);
                }
                loss /= accum;
                if (accum > 1) scaleGrads(1f / accum);
                gradNorm = GradClip.clip(params, cfg.clipNorm());
                if (!Double.isFinite(loss) || !Double.isFinite(gradNorm))
                    throw diverged(step + 1, "loss " + loss + ", gradient norm " + gradNorm);
                lr = schedule.lr(step + 1);
                opt.step(lr);
                step++;
                long dt = System.nanoTime() - t0;
                nanos += dt;
                lossSum += loss;
                pending++;
                listener.onStep(step, cfg.steps(), loss, lr, gradNorm, cfg.tokensPerStep() / (dt / 1e9));

                double val = Double.NaN, bpb = Double.NaN;
                if (step % cfg.evalInterval() == 0 || step == cfg.steps()) {
                    val = evaluate();
                    if (!Double.isFinite(val)) throw diverged(step, "validation loss " + val);
                    bpb = val / Math.log(2) / data.tokens().bytesPerToken();
                    if (bestValLoss == null || val < bestValLoss) bestValLoss = val;
                }
                if (step % cfg.logInterval() == 0 || !Double.isNaN(val) || step == cfg.steps() || stopRequested) {
                    log.append(step, lossSum / pending, val, bpb, lr, gradNorm, pending * cfg.tokensPerStep() / (nanos / 1e9));
                    lossSum = 0;
                    nanos = 0;
                    pending = 0;
                }
                if (!Double.isNaN(val)) {
                    listener.onEval(step, val, bpb);
                    drawChart(log);
                }
                if (step % cfg.checkpointInterval() == 0 || step == cfg.steps()) checkpoint();
            }
            if (step > lastCheckpoint) checkpoint();
            listener.onFinish(step, bestValLoss);
        }
    }

    /** Mean validation loss over {@code evalBatches} fixed batches (no gradients). */
    public double evaluate() {
        int B = cfg.batchSize(), T = cfg.contextLength(), n = cfg.evalBatches();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            data.validationBatch(inputs, targets, B, T, i, n);
            sum += model.loss(inputs, targets, B, T);
        }
        return sum / n;
    }

    /** Writes the checkpoint of the current step atomically (see {@link Checkpoints}). */
    public void checkpoint() throws IOException {
        TrainerState state = new TrainerState(TrainerState.FORMAT, step, cfg.seed(), cfg, data.info(), bestValLoss);
        Path dir = Checkpoints.write(runDir, tmp -> {
            model.saveCheckpoint(tmp);
            opt.save(tmp.resolve(Checkpoints.OPTIMIZER));
            Files.writeString(tmp.resolve(TrainerState.FILE), state.toJson(), StandardCharsets.UTF_8);
        });
        lastCheckpoint = step;
        listener.onCheckpoint(step, dir);
    }

    private void scaleGrads(float s) {
        for (Param p : paramArray) {
            float[] g = p.grad;
            for (int j = 0; j < g.length; j++) g[j] *= s;
        }
    }

    private UserError diverged(int badStep, String what) {
        String where = lastCheckpoint > 0
                ? "the last good checkpoint (step " + lastCheckpoint + ") is in " + runDir.resolve(Checkpoints.DIR) + "; resume from it or restart"
                : "no checkpoint was written yet; restart";
        return new UserError(String.format(Locale.ROOT,
                "training diverged at step %d (%s); %s with a lower learning rate (lr is %g), a longer warm-up"
                        + " (warmup_steps is %d) or stronger gradient clipping (clip_norm is %g)",
                badStep, what, where, cfg.lr(), cfg.warmupSteps(), cfg.clipNorm()));
    }

    private void drawChart(MetricsLog log) {
        if (chartBroken) return;
        try {
            LossChart.write(runDir.resolve(LossChart.FILE), log, "xLSTM training: " + data.info().source());
        } catch (VirtualMachineError e) {
            throw e;
        } catch (Exception | Error e) {
            chartBroken = true;
            listener.onWarning("cannot draw " + LossChart.FILE + " (" + e + "); training continues without the chart");
        }
    }
}
