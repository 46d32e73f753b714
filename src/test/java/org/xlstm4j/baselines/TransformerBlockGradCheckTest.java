package org.xlstm4j.baselines;

import org.junit.jupiter.api.Test;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.CpuKernels;

import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.xlstm4j.layers.DoubleReference.*;
import static org.xlstm4j.layers.GradCheck.*;

/**
 * The Llama block's backward (residuals, RMSNorms, attention, SwiGLU) against finite differences of its definition in
 * double precision: m = x + Attention(RMSNorm(x)), y = m + SwiGLU(RMSNorm(m)), composed of {@link Reference#attention}
 * and the layer references; h = 1e-5, tolerance 1e-4 ({@code assertGradDouble}).
 */
class TransformerBlockGradCheckTest {
    @Test
    void backwardIsTheGradientOfTheDefinition() {
        int B = 2, T = 5, E = 8, NH = 2, F = 16, rows = B * T;
        TransformerBlock blk = new TransformerBlock("layers.0.", E, NH, F);
        Random rng = new Random(11);
        for (Param p : blk.parameters()) randomize(p, rng, 0.4);
        for (Param p : new Param[]{blk.attnNorm.weight, blk.ffnNorm.weight}) for (int i = 0; i < E; i++) p.data[i] += 1f;
        float[] x = randn(rng, rows * E, 1), y = new float[x.length], R = rand(rng, x.length), dx = new float[x.length];
        java.util.function.Supplier<double[]> definition = () -> {
            CausalSelfAttention a = blk.attention;
            double[] m = Reference.attention(rmsNorm(x, blk.attnNorm.weight.data, rows, E, 1e-6f),
                    d(a.wq.weight.data), d(a.wk.weight.data), d(a.wv.weight.data), d(a.wo.weight.data), B, T, E, NH);
            for (int i = 0; i < m.length; i++) m[i] += x[i];
            double[] out = gatedFfn(rmsNorm(m, blk.ffnNorm.weight.data, rows, E, 1e-6f), blk.ffn.projUp().weight.data,
                    blk.ffn.projDown().weight.data, rows, E, F, blk.ffn.act());
            for (int i = 0; i < out.length; i++) out[i] += m[i];
            return out;
        };
        try (CpuKernels k = new CpuKernels(2)) {
            blk.forward(k, x, y, B, T);
            assertClose(definition.get(), y, y.length, 1e-5, "transformer block vs double");
            for (Param p : blk.parameters()) p.zeroGrad();
            blk.backward(k, R, dx);
        }
        DoubleSupplier loss = () -> dot(definition.get(), R);
        assertGradDouble("transformer block dx", x, dx, loss);
        for (Param p : blk.parameters()) assertGradDouble("transformer block " + p.name, p.data, p.grad, loss);
    }
}
