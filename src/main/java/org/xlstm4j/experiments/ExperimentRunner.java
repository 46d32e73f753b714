package org.xlstm4j.experiments;

import org.xlstm4j.UserError;
import org.xlstm4j.baselines.SequenceModel;
import org.xlstm4j.experiments.tasks.Task;
import org.xlstm4j.experiments.tasks.Tasks;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.train.AdamW;
import org.xlstm4j.train.GradClip;
import org.xlstm4j.train.LrSchedule;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * Trains one model on one synthetic task from scratch on freshly generated batches and evaluates it on the test
 * lengths: per step, draw the batch (samples step·B … step·B + B − 1 of the training stream), forward + backward over
 * its length groups with the gradient of the batch's mean answer-token loss, clip, AdamW with warm-up + cosine.
 */
public final class ExperimentRunner {
    private ExperimentRunner() {}

    /** Runs {@code c} on {@code kernels}, printing progress to {@code log} (null = silent), and returns the result. */
    public static ExperimentResult run(ExperimentConfig c, Kernels kernels, PrintStream log) {
        c.validate();
        Task task = Tasks.create(c.task);
        SequenceModel model = ExperimentModels.create(c.model, task.vocabSize(), c.width, c.heads, c.tieWeights, kernels,
                c.seed);
        int[] lengths = task.trainLengths();
        if (log != null) {
            log.printf(Locale.ROOT, "task %s (%s, %s, |V|=%d, chance %.4g): %s, width %d, %d head(s), %s head, %,d parameters%n",
                    task.name(), task.title(), task.level(), task.vocabSize(), task.chance(), model.name(), c.width,
                    c.heads, c.tieWeights ? "tied" : "untied", model.parameterCount());
            log.printf(Locale.ROOT, "training %d steps x batch %d, lengths %d-%d, lr %.3g (warm-up %d, cosine to %.3g), seed %d, %s%n",
                    c.steps, c.batch, lengths[0], lengths[1], c.lr, c.warmupSteps(), c.lr * c.minLrRatio, c.seed,
                    kernels.name());
        }
        List<Param> params = model.parameters();
        AdamW opt = new AdamW(params, c.beta1, c.beta2, 1e-8, c.weightDecay);
        LrSchedule schedule = new LrSchedule(c.lr, c.warmupSteps(), c.steps, c.minLrRatio);
        TaskBatcher batcher = new TaskBatcher(task, c.seed);
        long t0 = System.nanoTime();
        double windowLoss = 0, tailLoss = 0;
        int windowN = 0, tailN = 0, tailStart = c.steps - Math.max(1, c.steps / 10);
        for (int step = 1; step <= c.steps; step++) {
            batcher.fill(TaskBatcher.TRAIN, (long) (step - 1) * c.batch, c.batch, lengths[0], lengths[1], c.groupSize);
            model.zeroGrad();
            double weight = 1.0 / batcher.totalAnswers(), sum = 0;
            for (int g = 0; g < batcher.groupCount(); g++) {
                TaskBatcher.Group grp = batcher.group(g);
                sum += model.forwardBackward(grp.inputs, grp.targets, grp.B, grp.T, weight);
            }
            double loss = sum * weight;
            double norm = GradClip.clip(params, c.clip);
            if (!Double.isFinite(loss) || !Double.isFinite(norm))
                throw new UserError(String.format(Locale.ROOT, "%s on %s diverged at step %d (loss %s, gradient norm %s): try a lower --lr",
                        model.name(), task.name(), step, loss, norm));
            double lr = schedule.lr(step);
            opt.step(lr);
            windowLoss += loss;
            windowN++;
            if (step > tailStart) { tailLoss += loss; tailN++; }
            if (log != null && (step % c.logInterval == 0 || step == c.steps)) {
                log.printf(Locale.ROOT, "step %5d/%d  loss %.4f  lr %.2e  |g| %.3f  %.1f s%n", step, c.steps,
                        windowLoss / windowN, lr, norm, (System.nanoTime() - t0) / 1e9);
                windowLoss = 0;
                windowN = 0;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Evaluation eval = new Evaluation(task, c.seed, c.evalSamples, c.groupSize);
        Evaluation.Result r = eval.run(model);
        ExperimentResult result = ExperimentResult.of(c, model.parameterCount(), seconds, tailLoss / tailN, r);
        if (log != null) {
            for (int i = 0; i < r.buckets().length; i++)
                log.printf(Locale.ROOT, "test lengths %-8s  accuracy %.4f  scaled %.4f  (%d answer tokens)%n",
                        r.buckets()[i], r.accuracy(i), r.scaled(i), r.total()[i]);
            int[] test = task.testLengths();
            String testLabel = test[0] == test[1] ? "T=" + (test[0] - 1) : "test lengths " + test[0] + "-" + test[1];
            log.printf(Locale.ROOT, "%s %s: accuracy %.4f, scaled accuracy %.4f (%s, %d samples; training %.0f s)%n",
                    task.name(), c.model, r.accuracy(), r.scaled(), testLabel, c.evalSamples, seconds);
        }
        return result;
    }
}
