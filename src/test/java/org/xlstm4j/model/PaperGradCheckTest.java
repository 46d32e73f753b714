package org.xlstm4j.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Finite-difference check of the whole LM backward (blocks, layers, cells, head) on configurations the fixtures do not
 * cover: biases on, tied head, no post norm, conv disabled, chunkwise with ragged chunks. The forward is float32, so
 * the check uses central differences (step 2e-3) with a tolerance of 2% of each parameter's largest gradient plus the
 * loss's float32 rounding over the step, on a sample of entries of every parameter. Exact double-precision checks of
 * the cells and layers live in their own tests; the official gradients are matched to 1e-3 in PaperParityTest.
 */
class PaperGradCheckTest {
    @ParameterizedTest
    @CsvSource({"false,true,4,CHUNKWISE,3", "true,false,0,PARALLEL,64", "true,true,2,CHUNKWISE,64", "true,false,0,CHUNKWISE,64", "true,false,4,PARALLEL,64", "false,false,0,PARALLEL,64"})
    void backwardMatchesFiniteDifferences(boolean bias, boolean tied, int conv, MLstmLayer.Form form, int chunk) {
        XLstmConfig c = new XLstmConfig();
        c.vocabSize = 11;
        c.embeddingDim = 16;
        c.numBlocks = 3;
        c.slstmAt = new int[]{1};
        c.hasSLstm = true;
        c.bias = bias;
        c.tieWeights = tied;
        c.addPostBlocksNorm = !tied;
        c.mlstmNumHeads = 2;
        c.slstmNumHeads = 2;
        c.mlstmConvKernel = conv;
        c.slstmConvKernel = conv;
        c.mlstmRoundMultiple = 16;
        c.ffnRoundMultiple = 8;
        XLstmLM m = new XLstmLM(c, new ScalarKernels());
        XLstmInit.apply(m, 5);
        Random r = new Random(6);
        for (Param p : m.parameters())
            for (int i = 0; i < p.size(); i++) p.data[i] += (float) (0.1 * r.nextGaussian());
        m.setMLstmForm(form, chunk);
        int B = 2, T = 7;
        int[] x = new int[B * T], y = new int[B * T];
        for (int i = 0; i < x.length; i++) { x[i] = r.nextInt(11); y[i] = i % 5 == 0 ? -1 : r.nextInt(11); }
        m.zeroGrad();
        m.forwardBackward(x, y, B, T);
        double worst = 0;
        String worstName = "";
        float h = 2e-3f;
        for (Param p : m.parameters()) {
            double maxG = 0, maxErr = 0;
            int arg = 0;
            for (int i = 0; i < p.size(); i++) if (Math.abs(p.grad[i]) > maxG) { maxG = Math.abs(p.grad[i]); arg = i; }
            assertTrue(maxG > 0, p.name + " has no gradient");
            for (int s = 0; s < 7; s++) {
                int i = s == 0 ? arg : r.nextInt(p.size());                   // the largest entry and 6 random ones
                float old = p.data[i];
                p.data[i] = old + h;
                double lp = m.loss(x, y, B, T);
                p.data[i] = old - h;
                double lm = m.loss(x, y, B, T);
                p.data[i] = old;
                double num = (lp - lm) / (2 * h);
                maxErr = Math.max(maxErr, Math.abs(num - p.grad[i]));
            }
            // tolerance: 2% of the parameter's largest gradient, plus the float32 rounding of the loss (|L| ≈ 2.5,
            // about 10 ulps ≈ 3e-6 of accumulated error) divided by the 2h = 4e-3 step: ≈ 1e-3. This is the wiring
            // check of the whole model; every block's and layer's backward is held to 1e-4 by the double-precision
            // checks (blocks.BlockGradCheckTest, layers.*Test), which also cover gradients far below this floor.
            double rel = maxErr / (0.02 * maxG + 1e-3);
            if (rel > worst) { worst = rel; worstName = p.name; }
        }
        System.out.printf("LM grad check bias=%s tied=%s conv=%d %s: worst error/tolerance %.2f (%s)%n", bias, tied, conv, form, worst, worstName);
        assertTrue(worst < 1, "gradient error above tolerance (ratio " + worst + ") at " + worstName);
    }
}
