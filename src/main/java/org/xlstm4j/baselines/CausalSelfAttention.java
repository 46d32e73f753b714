package org.xlstm4j.baselines;

import org.xlstm4j.layers.Linear;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.List;

/**
 * Multi-head causal self-attention with rotary positions (Llama style, no biases), forward and backward side by side.
 * With x [B, T, E], NH heads of size D = E/NH:
 * <pre>
 *   q = RoPE(x W_qᵀ)   k = RoPE(x W_kᵀ)   v = x W_vᵀ
 *   S_ts = q_t·k_s / √D  (s ≤ t)        P = softmax_s(S)        o_t = Σ_s P_ts v_s        y = o W_oᵀ
 * backward:
 *   dP_ts = do_t·v_s    dv_s = Σ_t P_ts do_t    dS_ts = P_ts (dP_ts − Σ_s' P_ts' dP_ts')
 *   dq_t = Σ_s dS_ts k_s / √D     dk_s = Σ_t dS_ts q_t / √D     (then the inverse rotation)
 * </pre>
 * Probabilities P are saved for the backward ([B, NH, T, T], lower triangle used).
 */
public final class CausalSelfAttention {
    public final Linear wq, wk, wv, wo;
    private final int E, NH, D;
    private final RotaryEmbedding rope;
    private int B, T;
    private float[] q, k, v, o, p;
    private float[] dq, dk, dv, dO, dRow;

    public CausalSelfAttention(String prefix, int dim, int numHeads) {
        if (dim % numHeads != 0) throw new IllegalArgumentException("width " + dim + " is not divisible by " + numHeads + " heads");
        E = dim;
        NH = numHeads;
        D = dim / numHeads;
        wq = new Linear(prefix + "wq", E, E, false);
        wk = new Linear(prefix + "wk", E, E, false);
        wv = new Linear(prefix + "wv", E, E, false);
        wo = new Linear(prefix + "wo", E, E, false);
        rope = new RotaryEmbedding(D, 10000.0);
    }

    public List<Param> parameters() { return List.of(wq.weight, wk.weight, wv.weight, wo.weight); }

    /** y[B·T, E] = attention(x[B·T, E]). Keeps a reference to x for {@link #backward}. */
    public void forward(Kernels kern, float[] x, float[] y, int B, int T) {
        this.B = B;
        this.T = T;
        int n = B * T * E;
        q = Buffers.ensure(q, n); k = Buffers.ensure(k, n); v = Buffers.ensure(v, n); o = Buffers.ensure(o, n);
        p = Buffers.ensure(p, B * NH * T * T);
        wq.forward(kern, x, q, B * T);
        wk.forward(kern, x, k, B * T);
        wv.forward(kern, x, v, B * T);
        rope.apply(q, q, B, T, NH, false);
        rope.apply(k, k, B, T, NH, false);
        float scale = (float) (1 / Math.sqrt(D));
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++) {
                int pb = (b * NH + h) * T * T;
                for (int t = 0; t < T; t++) {
                    int qo = (b * T + t) * E + h * D, prow = pb + t * T;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int s = 0; s <= t; s++) {                      // S_ts = q_t·k_s/√D
                        int ko = (b * T + s) * E + h * D;
                        float dot = 0;
                        for (int d = 0; d < D; d++) dot += q[qo + d] * k[ko + d];
                        p[prow + s] = dot * scale;
                        max = Math.max(max, p[prow + s]);
                    }
                    float sum = 0;
                    for (int s = 0; s <= t; s++) { float e = (float) Math.exp(p[prow + s] - max); p[prow + s] = e; sum += e; }
                    float inv = 1 / sum;
                    int oo = (b * T + t) * E + h * D;
                    for (int d = 0; d < D; d++) o[oo + d] = 0;
                    for (int s = 0; s <= t; s++) {                      // o_t = Σ_s P_ts v_s
                        float w = p[prow + s] * inv;
                        p[prow + s] = w;
                        int vo = (b * T + s) * E + h * D;
                        for (int d = 0; d < D; d++) o[oo + d] += w * v[vo + d];
                    }
                }
            }
        wo.forward(kern, o, y, B * T);
    }

    /** Backward of the last forward from dy[B·T, E]: accumulates the four weight gradients and writes dx[B·T, E]. */
    public void backward(Kernels kern, float[] dy, float[] dx) {
        int n = B * T * E;
        dq = Buffers.ensure(dq, n); dk = Buffers.ensure(dk, n); dv = Buffers.ensure(dv, n); dO = Buffers.ensure(dO, n);
        dRow = Buffers.ensure(dRow, T);
        wo.backward(kern, dy, dO, B * T, false);
        java.util.Arrays.fill(dq, 0, n, 0f);
        java.util.Arrays.fill(dk, 0, n, 0f);
        java.util.Arrays.fill(dv, 0, n, 0f);
        float scale = (float) (1 / Math.sqrt(D));
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++) {
                int pb = (b * NH + h) * T * T;
                for (int t = 0; t < T; t++) {
                    int prow = pb + t * T, to = (b * T + t) * E + h * D;
                    float dot = 0;
                    for (int s = 0; s <= t; s++) {
                        int so = (b * T + s) * E + h * D;
                        float dp = 0;                                  // dP_ts = do_t·v_s
                        for (int d = 0; d < D; d++) dp += dO[to + d] * v[so + d];
                        dRow[s] = dp;
                        dot += dp * p[prow + s];
                        float w = p[prow + s];                         // dv_s += P_ts do_t
                        for (int d = 0; d < D; d++) dv[so + d] += w * dO[to + d];
                    }
                    for (int s = 0; s <= t; s++) {
                        float ds = p[prow + s] * (dRow[s] - dot) * scale;   // dS_ts / √D
                        int so = (b * T + s) * E + h * D;
                        for (int d = 0; d < D; d++) {
                            dq[to + d] += ds * k[so + d];
                            dk[so + d] += ds * q[to + d];
                        }
                    }
                }
            }
        rope.apply(dq, dq, B, T, NH, true);
        rope.apply(dk, dk, B, T, NH, true);
        wq.backward(kern, dq, dx, B * T, false);
        wk.backward(kern, dk, dx, B * T, true);
        wv.backward(kern, dv, dx, B * T, true);
    }
}
