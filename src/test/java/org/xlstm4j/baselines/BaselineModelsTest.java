package org.xlstm4j.baselines;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.CpuKernels;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The LSTM and Transformer baselines as whole models: finite-difference gradients through embedding, body and the
 * scored-rows head; scored-row logits equal the rows of the full logits; gradients of a batch split into parts (with
 * weight 1/N) equal those of the whole batch; parameter names are unique and weight decay applies to matrices only.
 */
class BaselineModelsTest {
    static final int V = 7, E = 8, B = 4, T = 6;

    static SequenceModel model(String which, Kernels k) {
        boolean tied = which.endsWith("-tied");
        SequenceModel m = which.startsWith("lstm") ? new LstmModel(k, V, E, 2, tied).init(3) : new TransformerModel(k, V, E, 2, 2, tied).init(3);
        Random r = new Random(9);                          // move off the initialisation so every term matters
        for (Param p : m.parameters())
            for (int i = 0; i < p.size(); i++) p.data[i] += (float) (0.2 * r.nextGaussian());
        return m;
    }

    static int[][] batch(long seed) {
        Random r = new Random(seed);
        int[] x = new int[B * T], y = new int[B * T];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextInt(V);
            y[i] = i % 3 == 1 ? r.nextInt(V) : -1;
        }
        return new int[][]{x, y};
    }

    @ParameterizedTest
    @ValueSource(strings = {"lstm", "transformer", "lstm-tied", "transformer-tied"})
    void gradientsMatchFiniteDifferences(String which) {
        SequenceModel m = model(which, new ScalarKernels());
        int[][] d = batch(1);
        ModelGradients.assertMatchesFiniteDifferences(m, d[0], d[1], B, T, 8, 5);
    }

    @ParameterizedTest
    @ValueSource(strings = {"lstm", "transformer"})
    void scoredRowLogitsAreRowsOfTheFullLogits(String which) {
        SequenceModel m = model(which, new CpuKernels(1));
        int[][] d = batch(2);
        float[] full = m.logits(d[0], null, B, T).clone();
        assertEquals(B * T, m.scoredRows());
        float[] sel = m.logits(d[0], d[1], B, T);
        int k = 0;
        for (int r = 0; r < B * T; r++) {
            if (d[1][r] < 0) continue;
            for (int v = 0; v < V; v++) assertEquals(full[r * V + v], sel[k * V + v], 1e-6f);
            k++;
        }
        assertEquals(k, m.scoredRows());
    }

    @ParameterizedTest
    @ValueSource(strings = {"lstm", "transformer"})
    void splitBatchGivesTheWholeBatchGradient(String which) {
        SequenceModel m = model(which, new ScalarKernels());
        int[][] d = batch(3);
        int n = 0;
        for (int t : d[1]) if (t >= 0) n++;
        m.zeroGrad();
        double whole = m.forwardBackward(d[0], d[1], B, T, 1.0 / n);
        float[][] g = m.parameters().stream().map(p -> p.grad.clone()).toArray(float[][]::new);
        m.zeroGrad();
        int half = B / 2 * T;
        double parts = m.forwardBackward(java.util.Arrays.copyOf(d[0], half), java.util.Arrays.copyOf(d[1], half), B / 2, T, 1.0 / n)
                + m.forwardBackward(java.util.Arrays.copyOfRange(d[0], half, B * T), java.util.Arrays.copyOfRange(d[1], half, B * T), B / 2, T, 1.0 / n);
        assertEquals(whole, parts, 1e-4 * Math.abs(whole));
        for (int i = 0; i < g.length; i++)
            for (int j = 0; j < g[i].length; j++)
                assertEquals(g[i][j], m.parameters().get(i).grad[j], 1e-5 + 1e-4 * Math.abs(g[i][j]), m.parameters().get(i).name);
    }

    @Test
    void namesAreUniqueAndDecayOnlyOnMatrices() {
        for (String which : new String[]{"lstm", "transformer"}) {
            SequenceModel m = model(which, new ScalarKernels());
            Set<String> names = new HashSet<>();
            for (Param p : m.parameters()) {
                assertTrue(names.add(p.name), "duplicate " + p.name);
                boolean embeddingOrVector = p.shape.length == 1 || p.name.contains("embedding");
                assertEquals(!embeddingOrVector, p.weightDecay, p.name);
            }
        }
    }

    @Test
    void nothingScoredMeansNoGradient() {
        SequenceModel m = model("lstm", new ScalarKernels());
        int[] x = new int[B * T], y = new int[B * T];
        java.util.Arrays.fill(y, -1);
        m.zeroGrad();
        assertEquals(0.0, m.forwardBackward(x, y, B, T, 1.0));
        for (Param p : m.parameters()) for (float g : p.grad) assertEquals(0f, g);
    }
}
