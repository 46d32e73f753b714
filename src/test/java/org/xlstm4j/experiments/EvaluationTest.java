package org.xlstm4j.experiments;

import org.junit.jupiter.api.Test;
import org.xlstm4j.baselines.SequenceModel;
import org.xlstm4j.experiments.tasks.Tasks;
import org.xlstm4j.model.Param;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Accuracy counting with stand-in models: an oracle (perfect: accuracy 1, scaled 1), a constant guesser on Parity
 * (accuracy = share of even-parity samples, about one half: scaled near 0), and an oracle that is wrong on long
 * sequences only (bucket accuracies 1, 1, 0).
 */
class EvaluationTest {
    /** Puts a large logit on {@code choice.pick(target, position in the sequence)} at every scored row. */
    static final class StandIn implements SequenceModel {
        interface Pick { int pick(int target, int position); }
        final int V;
        final Pick choice;
        int n;
        float[] logits = new float[0];

        StandIn(int V, Pick choice) { this.V = V; this.choice = choice; }

        @Override public String name() { return "stand-in"; }
        @Override public int vocabSize() { return V; }
        @Override public List<Param> parameters() { return List.of(); }
        @Override public double forwardBackward(int[] inputs, int[] targets, int B, int T, double weight) { throw new UnsupportedOperationException(); }
        @Override public int scoredRows() { return n; }

        @Override public float[] logits(int[] inputs, int[] targets, int B, int T) {
            n = 0;
            for (int r = 0; r < B * T; r++) if (targets[r] >= 0) n++;
            logits = new float[n * V];
            int k = 0;
            for (int r = 0; r < B * T; r++) if (targets[r] >= 0) logits[k++ * V + choice.pick(targets[r], r % T)] = 10f;
            return logits;
        }
    }

    @Test
    void oracleIsPerfectAndBucketsCoverTheTestSet() {
        Evaluation e = new Evaluation(Tasks.create("bucket_sort"), 3, 64, 16);
        Evaluation.Result r = e.run(new StandIn(11, (t, pos) -> t));
        assertEquals(1.0, r.accuracy());
        assertEquals(1.0, r.scaled());
        assertArrayEquals(new String[]{"40-63", "64-127", "128-256"}, r.buckets());
        long total = 0;
        for (long t : r.total()) { assertTrue(t > 0); total += t; }
        assertTrue(total > 64 * 19, "every sorted output token is scored");
    }

    @Test
    void constantGuessIsNearChance() {
        Evaluation e = new Evaluation(Tasks.create("parity"), 3, 400, 16);
        Evaluation.Result r = e.run(new StandIn(3, (t, pos) -> 1));
        assertEquals(400, r.total()[0] + r.total()[1] + r.total()[2]);
        assertEquals(0.5, r.accuracy(), 0.08);
        assertEquals(0.0, r.scaled(), 0.16);
    }

    @Test
    void bucketsSeparateLengths() {
        Evaluation e = new Evaluation(Tasks.create("majority"), 3, 128, 8);
        Evaluation.Result r = e.run(new StandIn(64, (t, pos) -> pos >= 126 ? (t == 1 ? 2 : 1) : t));   // answer of a length-n sample is read at n−2
        assertEquals(1.0, r.accuracy(0));
        assertEquals(1.0, r.accuracy(1));
        assertEquals(0.0, r.accuracy(2));
    }

    @Test
    void mqarHasOneBucket() {
        Evaluation e = new Evaluation(Tasks.create("mqar64"), 3, 8, 4);
        Evaluation.Result r = e.run(new StandIn(8192, (t, pos) -> t));
        assertArrayEquals(new String[]{"T=64"}, r.buckets());
        assertEquals(8 * 4, r.total()[0]);
        assertEquals(1.0, r.accuracy());
    }
}
