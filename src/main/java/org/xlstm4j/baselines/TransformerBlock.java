package org.xlstm4j.baselines;

import org.xlstm4j.layers.GatedFFN;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * A Llama decoder block, pre-norm with two residual branches:
 * <pre>  m = x + Attention(RMSNorm(x))      y = m + SwiGLU(RMSNorm(m))  </pre>
 * SwiGLU(u) = W_down(SiLU(W_gate u) ⊙ W_up u) is the {@link GatedFFN} with the SiLU activation.
 */
public final class TransformerBlock {
    public final RMSNorm attnNorm, ffnNorm;
    public final CausalSelfAttention attention;
    public final GatedFFN ffn;
    private final int E;
    private int rows;
    private float[] xn, mid, midN, f, dxn, dMid, dMidN;

    public TransformerBlock(String prefix, int dim, int numHeads, int ffnHidden) {
        E = dim;
        attnNorm = new RMSNorm(prefix + "attention_norm", dim, 1e-6f);
        attention = new CausalSelfAttention(prefix + "attention.", dim, numHeads);
        ffnNorm = new RMSNorm(prefix + "ffn_norm", dim, 1e-6f);
        ffn = new GatedFFN(prefix + "feed_forward", dim, ffnHidden, GatedFFN.Act.SILU);
    }

    public List<Param> parameters() {
        List<Param> ps = new ArrayList<>();
        ps.add(attnNorm.weight);
        ps.addAll(attention.parameters());
        ps.add(ffnNorm.weight);
        ps.addAll(ffn.params());
        return ps;
    }

    /** y[B·T, E] = block(x). Keeps a reference to x. */
    public void forward(Kernels k, float[] x, float[] y, int B, int T) {
        rows = B * T;
        int n = rows * E;
        xn = Buffers.ensure(xn, n); mid = Buffers.ensure(mid, n); midN = Buffers.ensure(midN, n); f = Buffers.ensure(f, n);
        attnNorm.forward(x, xn, rows);
        attention.forward(k, xn, mid, B, T);
        for (int i = 0; i < n; i++) mid[i] += x[i];                  // first residual
        ffnNorm.forward(mid, midN, rows);
        ffn.forward(k, midN, f, rows);
        for (int i = 0; i < n; i++) y[i] = mid[i] + f[i];            // second residual
    }

    /** Backward of the last forward: accumulates parameter gradients, writes dx. */
    public void backward(Kernels k, float[] dy, float[] dx) {
        int n = rows * E;
        dxn = Buffers.ensure(dxn, n); dMid = Buffers.ensure(dMid, n); dMidN = Buffers.ensure(dMidN, n);
        ffn.backward(k, dy, dMidN, rows, false);
        System.arraycopy(dy, 0, dMid, 0, n);
        ffnNorm.backward(dMidN, dMid, rows, true);
        attention.backward(k, dMid, dxn);
        System.arraycopy(dMid, 0, dx, 0, n);
        attnNorm.backward(dxn, dx, rows, true);
    }
}
