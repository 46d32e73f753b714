package org.xlstm4j.experiments;

import org.junit.jupiter.api.Test;
import org.xlstm4j.tensor.CpuKernels;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;

import static org.junit.jupiter.api.Assertions.*;

/** A few training steps of every model (formal task and MQAR), and learning a trivial case end to end. */
class ExperimentRunnerTest {
    @Test
    void everyModelTrainsAFewStepsOnAFormalTaskAndMqar() {
        try (CpuKernels k = new CpuKernels(1)) {
            for (String model : ExperimentModels.NAMES) {
                for (String task : new String[]{"parity", "mqar64"}) {
                    ExperimentConfig c = ExperimentConfig.defaults(task, model).steps(3).batch(4).width(16)
                            .evalSamples(task.equals("parity") ? 8 : 2).groupSize(4);
                    ExperimentResult r = ExperimentRunner.run(c, k, null);
                    assertTrue(Double.isFinite(r.finalLoss()) && r.finalLoss() > 0, model + " " + task);
                    assertTrue(r.accuracy() >= 0 && r.accuracy() <= 1);
                    assertEquals(task, r.task());
                    ExperimentResult back = ExperimentResult.fromJson(r.toJson());
                    assertEquals(r.scaledAccuracy(), back.scaledAccuracy());
                    assertArrayEquals(r.buckets(), back.buckets());
                    assertArrayEquals(r.bucketTotal(), back.bucketTotal());
                }
            }
        }
    }

    @Test
    void trainingLowersTheLossAndLogs() {
        // Majority Count on lengths 3-40: answers are small counts (mostly 1-3) out of 64 tokens, so the loss falls
        // from ln 64 = 4.16 to about 1 once the model has learnt even just their distribution
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (CpuKernels k = new CpuKernels(1)) {
            ExperimentConfig c = ExperimentConfig.defaults("majority_count", "lstm").steps(60).batch(16).width(16)
                    .evalSamples(8).lr(1e-2).logInterval(20);
            ExperimentResult r = ExperimentRunner.run(c, k, new PrintStream(out, true));
            assertTrue(r.finalLoss() < 2.0, "loss " + r.finalLoss());
        }
        String log = out.toString();
        assertTrue(log.contains("step    20/60"), log);
        assertTrue(log.contains("scaled accuracy"), log);
    }
}
