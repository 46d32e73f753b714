package org.xlstm4j.experiments;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xlstm4j.baselines.ModelGradients;
import org.xlstm4j.model.Param;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.model.XLstmInit;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The xLSTM adapter is the paper model: for each of xLSTM[0:1], [1:0] and [1:1] it starts from the same weights as
 * {@link XLstmLM} with the same seed (head tied or not), and its logits and gradients equal XLstmLM's (whose backward is checked against
 * the official PyTorch gradients elsewhere); its own scored-rows head passes a finite-difference check.
 */
class XLstmSequenceModelTest {
    static final int V = 7, E = 16, B = 2, T = 6;

    static XLstmConfig config(String name, boolean tied) {
        XLstmConfig c = ExperimentModels.xlstmConfig(name, V, E, 1, tied);
        c.mlstmRoundMultiple = 16;
        c.ffnRoundMultiple = 16;
        return c;
    }

    @ParameterizedTest
    @CsvSource({"xlstm01,false", "xlstm10,false", "xlstm11,false", "xlstm11,true", "xlstm10,true"})
    void sameWeightsLogitsAndGradientsAsXLstmLM(String name, boolean tied) {
        XLstmConfig c = config(name, tied);
        ScalarKernels k = new ScalarKernels();
        XLstmSequenceModel m = new XLstmSequenceModel(name, c, k).init(11);
        XLstmLM lm = new XLstmLM(c, k);
        XLstmInit.apply(lm, 11);
        Map<String, Param> mine = new HashMap<>();
        for (Param p : m.parameters()) mine.put(p.name, p);
        assertEquals(lm.parameters().size(), mine.size());
        for (Param p : lm.parameters()) assertArrayEquals(p.data, mine.get(p.name).data, p.name);
        Random r = new Random(1);                               // move off the init so every path carries gradient
        for (Param p : lm.parameters())
            for (int i = 0; i < p.size(); i++) p.data[i] += (float) (0.1 * r.nextGaussian());
        m.copyFrom(lm);
        int[] x = new int[B * T], y = new int[B * T];
        int n = 0;
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextInt(V);
            y[i] = i % 2 == 0 ? r.nextInt(V) : -1;
            if (y[i] >= 0) n++;
        }
        float[] full = lm.forward(x, B, T, null).clone();
        float[] ours = m.logits(x, null, B, T);
        for (int i = 0; i < full.length; i++) assertEquals(full[i], ours[i], 1e-5f * (1 + Math.abs(full[i])), "logit " + i);
        lm.zeroGrad();
        float lmLoss = lm.forwardBackward(x, y, B, T);
        m.zeroGrad();
        double sum = m.forwardBackward(x, y, B, T, 1.0 / n);
        assertEquals(lmLoss, sum / n, 1e-5 * Math.abs(lmLoss));
        for (Param p : lm.parameters()) {
            float[] g = mine.get(p.name).grad;
            double scale = 1e-8;
            for (float v : p.grad) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < g.length; i++) assertEquals(p.grad[i], g[i], 1e-4 * scale, p.name + "[" + i + "]");
        }
        ModelGradients.assertMatchesFiniteDifferences(m, x, y, B, T, 4, 2);
    }
}
