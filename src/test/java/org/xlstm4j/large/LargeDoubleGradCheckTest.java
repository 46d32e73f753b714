package org.xlstm4j.large;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.xlstm4j.cells.MLstmTestSupport;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.ScalarKernels;

import java.util.List;
import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.xlstm4j.layers.DoubleReference.*;
import static org.xlstm4j.layers.GradCheck.*;

/**
 * xLSTM Large's hand-written backward passes against finite differences in double precision: the SwiGLU feed-forward,
 * the mLSTM layer (capped gates, sigmoid output gate, per-head norm) and the block (RMSNorms, residuals), each written
 * from spec §6.1 in double by composing the layer and cell references, held to the float forward, and dx and every
 * parameter gradient held to the finite differences of that definition ({@code assertGradDouble}: h = 1e-5, tolerance
 * 1e-4). {@link LargeGradCheckTest} keeps the float32 checks and the whole-model check.
 */
class LargeDoubleGradCheckTest {
    static final int B = 2, T = 11;

    /** SiLU(x·W_gᵀ) ⊙ (x·W_uᵀ), then ·W_dᵀ. */
    static double[] swiGlu(SwiGluFeedForward f, double[] x, int rows, int E, int F) {
        double[] g = linear(x, f.upGate.weight.data, null, rows, E, F), u = linear(x, f.up.weight.data, null, rows, E, F);
        for (int i = 0; i < g.length; i++) g[i] = silu(g[i]) * u[i];
        return linear(g, f.down.weight.data, null, rows, F, E);
    }

    /** spec §6.1: out_proj(σ(x·W_oᵀ) ⊙ MHNorm(mLSTM(q, k, v, cap(x·W_iᵀ + b_i), cap(x·W_fᵀ + b_f)))). */
    static double[] mlstm(LargeMLstmLayer l, LargeConfig c, double[] x) {
        int E = c.embeddingDim, NH = c.numHeads, DK = c.qkHeadDim(), DV = c.vHeadDim(), rows = B * T;
        double[] q = linear(x, l.q.weight.data, null, rows, E, NH * DK), k = linear(x, l.k.weight.data, null, rows, E, NH * DK);
        double[] v = linear(x, l.v.weight.data, null, rows, E, NH * DV), o = linear(x, l.ogate.weight.data, null, rows, E, NH * DV);
        double[] ig = linear(x, l.igate.weight.data, l.igate.bias.data, rows, E, NH);
        double[] fg = linear(x, l.fgate.weight.data, l.fgate.bias.data, rows, E, NH);
        if (c.gateSoftCap != null)
            for (int i = 0; i < ig.length; i++) {
                ig[i] = c.gateSoftCap * Math.tanh(ig[i] / c.gateSoftCap);
                fg[i] = c.gateSoftCap * Math.tanh(fg[i] / c.gateSoftCap);
            }
        double[] hh = MLstmTestSupport.referenceParallel(B, NH, T, DK, DV, toHeads(q, B, T, NH, DK), toHeads(k, B, T, NH, DK), toHeads(v, B, T, NH, DV),
                toHeads(ig, B, T, NH, 1), toHeads(fg, B, T, NH, 1), (float) c.eps);
        double[] h = toRows(hh, B, T, NH, DV);
        double[] hn = groupNorm(h, l.multiheadNorm.weight.data, null, rows, NH, DV, (float) c.normEps, false);
        for (int i = 0; i < hn.length; i++) hn[i] *= 1 / (1 + Math.exp(-o[i]));
        return linear(hn, l.outProj.weight.data, null, rows, NH * DV, E);
    }

    /** m = x + mLSTM(RMSNorm(x)), y = m + FFN(RMSNorm(m)). */
    static double[] block(LargeTrainableBlock b, LargeConfig c, float[] x) {
        int E = c.embeddingDim, rows = B * T;
        double[] m = mlstm(b.mlstm, c, rmsNorm(x, b.normMlstm.weight.data, rows, E, (float) c.normEps));
        for (int i = 0; i < m.length; i++) m[i] += x[i];
        double[] y = swiGlu(b.ffn, rmsNorm(m, b.normFfn.weight.data, rows, E, (float) c.normEps), rows, E, c.ffnDim());
        for (int i = 0; i < y.length; i++) y[i] += m[i];
        return y;
    }

    @Test void swiGluFeedForward() {
        Random r = new Random(1);
        int E = 8, F = 12, rows = 5;
        SwiGluFeedForward ffn = new SwiGluFeedForward("b.", E, F, new Scratch());
        LargeGradCheckTest.randomize(ffn.params(), r);
        float[] x = randn(r, rows * E, 1), y = new float[rows * E], R = randn(r, rows * E, 1), dx = new float[rows * E];
        ffn.forward(new ScalarKernels(), x, y, rows);
        assertClose(swiGlu(ffn, d(x), rows, E, F), y, y.length, 1e-5, "SwiGLU vs double");
        ffn.backward(new ScalarKernels(), R, dx, rows, false);
        check("SwiGLU", x, dx, ffn.params(), () -> dot(swiGlu(ffn, d(x), rows, E, F), R), null);
    }

    @ParameterizedTest
    @CsvSource({"2.0,4", "15.0,4", ",11", "2.0,64"})
    void mlstmLayer(Double gateCap, int chunk) {
        Random r = new Random(2);
        LargeConfig c = LargeGradCheckTest.tiny(gateCap, null, true, false, chunk);
        int rows = B * T, E = c.embeddingDim;
        LargeMLstmLayer layer = new LargeMLstmLayer(c, LargeLayout.huggingFace(c), 0, new Scratch());
        LargeGradCheckTest.randomize(layer.params(), r);
        float[] x = randn(r, rows * E, 1), y = new float[rows * E], R = randn(r, rows * E, 1), dx = new float[rows * E];
        layer.forward(new ScalarKernels(), x, y, B, T, null);
        String what = "mLSTM layer cap=" + gateCap + " chunk=" + chunk;
        assertClose(mlstm(layer, c, d(x)), y, y.length, 1e-5, what + " vs double");
        layer.backward(new ScalarKernels(), R, dx, false);
        check(what, x, dx, layer.params(), () -> dot(mlstm(layer, c, d(x)), R), layer.igate.bias);
    }

    @Test void block() {
        Random r = new Random(3);
        LargeConfig c = LargeGradCheckTest.tiny(2.0, null, true, false, 4);
        int rows = B * T, E = c.embeddingDim;
        LargeTrainableBlock b = new LargeTrainableBlock(c, LargeLayout.huggingFace(c), 1, new Scratch());
        LargeGradCheckTest.randomize(b.params(), r);
        float[] x = randn(r, rows * E, 1), y = new float[rows * E], R = randn(r, rows * E, 1);
        b.forward(new ScalarKernels(), x, y, B, T, null);
        assertClose(block(b, c, x), y, y.length, 1e-5, "block vs double");
        float[] d = R.clone();
        b.backward(new ScalarKernels(), d);
        check("block", x, d, b.params(), () -> dot(block(b, c, x), R), b.mlstm.igate.bias);
    }

    /**
     * dx and every parameter; {@code nearZero} (the input-gate bias, to which the normalized output is nearly invariant)
     * is measured against the largest gradient of the layer (see {@code assertGradDouble(…, scale)}).
     */
    private static void check(String what, float[] x, float[] dx, List<Param> params, DoubleSupplier loss, Param nearZero) {
        double scale = 0;
        for (Param p : params) for (float g : p.grad) scale = Math.max(scale, Math.abs(g));
        assertGradDouble(what + " dx", x, dx, loss);
        for (Param p : params) assertGradDouble(what + " " + p.name, p.data, p.grad, loss, p == nearZero ? 1e-2 * scale : 1e-12);
    }
}
