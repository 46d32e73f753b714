package org.xlstm4j.baselines;

import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.List;

/**
 * One layer of the classic LSTM (Hochreiter and Schmidhuber 1997, with forget gate; PyTorch {@code nn.LSTM} layout and
 * gate order i, f, g, o), forward and backward (backpropagation through time) side by side. Per time step t:
 * <pre>
 *   a_t = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh          (4H: [i | f | g | o] pre-activations)
 *   i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
 *   c_t = f ⊙ c_{t−1} + i ⊙ g      h_t = o ⊙ tanh(c_t)      (h_{−1} = c_{−1} = 0)
 * </pre>
 * The input projection of all B·T rows is one matrix product; the recurrence runs time-major, one [B, H]·[H, 4H]
 * product per step. Params: {@code weight_ih_l<k>} (4H, in), {@code weight_hh_l<k>} (4H, H), {@code bias_ih_l<k>},
 * {@code bias_hh_l<k>} (4H).
 */
public final class LstmLayer {
    public final Param weightIh, weightHh, biasIh, biasHh;
    private final int in, H;
    private int B, T;
    private float[] x;                 // input [B·T, in] of the last forward (owned by the caller)
    private float[] act;               // [T, B, 4H] time-major: activated gates i, f, g, o
    private float[] c, tanhC;          // [T, B, H]
    private float[] hPrev;             // [T, B, H]: h_{t−1} at slot t (slot 0 = zeros)
    private float[] xp;                // [B·T, 4H] input projection, batch-major
    private float[] dA, dAbm, dh, dc;  // gradient scratch

    public LstmLayer(String prefix, int layer, int in, int hidden) {
        this.in = in;
        this.H = hidden;
        weightIh = param(prefix + "weight_ih_l" + layer, true, 4 * hidden, in);
        weightHh = param(prefix + "weight_hh_l" + layer, true, 4 * hidden, hidden);
        biasIh = param(prefix + "bias_ih_l" + layer, false, 4 * hidden);
        biasHh = param(prefix + "bias_hh_l" + layer, false, 4 * hidden);
    }

    private static Param param(String name, boolean decay, int... shape) {
        Param p = new Param(name, shape);
        p.weightDecay = decay;
        return p;
    }

    public List<Param> parameters() { return List.of(weightIh, weightHh, biasIh, biasHh); }

    public int hidden() { return H; }

    /** y[B·T, H] = LSTM(x[B·T, in]) from a zero state. Keeps a reference to x for {@link #backward}. */
    public void forward(Kernels k, float[] x, float[] y, int B, int T) {
        this.x = x;
        this.B = B;
        this.T = T;
        int G = 4 * H, n = B * T;
        xp = Buffers.ensure(xp, n * G);
        act = Buffers.ensure(act, n * G);
        c = Buffers.ensure(c, n * H);
        tanhC = Buffers.ensure(tanhC, n * H);
        hPrev = Buffers.ensure(hPrev, n * H);
        k.matmulXWt(x, 0, weightIh.data, 0, xp, 0, n, G, in, false);
        float[] bi = biasIh.data, bh = biasHh.data;
        java.util.Arrays.fill(hPrev, 0, B * H, 0f);
        for (int t = 0; t < T; t++) {
            int at = t * B * G, st = t * B * H;
            for (int b = 0; b < B; b++) {                    // a_t = W_ih x_t + b_ih + b_hh
                int src = (b * T + t) * G, dst = at + b * G;
                for (int j = 0; j < G; j++) act[dst + j] = xp[src + j] + bi[j] + bh[j];
            }
            if (t > 0) k.matmulXWt(hPrev, st, weightHh.data, 0, act, at, B, G, H, true);   // + W_hh h_{t−1}
            for (int b = 0; b < B; b++) {
                int a = at + b * G, s = st + b * H;
                for (int j = 0; j < H; j++) {
                    float ig = Activations.sigmoid(act[a + j]);
                    float fg = Activations.sigmoid(act[a + H + j]);
                    float gg = (float) Math.tanh(act[a + 2 * H + j]);
                    float og = Activations.sigmoid(act[a + 3 * H + j]);
                    act[a + j] = ig; act[a + H + j] = fg; act[a + 2 * H + j] = gg; act[a + 3 * H + j] = og;
                    float cPrev = t > 0 ? c[s - B * H + j] : 0f;
                    float ct = fg * cPrev + ig * gg;
                    float tc = (float) Math.tanh(ct);
                    float ht = og * tc;
                    c[s + j] = ct;
                    tanhC[s + j] = tc;
                    y[(b * T + t) * H + j] = ht;
                    if (t + 1 < T) hPrev[s + B * H + j] = ht;
                }
            }
        }
    }

    /**
     * Backward of the last forward from dy[B·T, H]: accumulates all four parameter gradients and writes dx[B·T, in]
     * (skipped when dx is null).
     */
    public void backward(Kernels k, float[] dy, float[] dx) {
        int G = 4 * H, n = B * T;
        dA = Buffers.ensure(dA, n * G);
        dAbm = Buffers.ensure(dAbm, n * G);
        dh = Buffers.ensure(dh, B * H);
        dc = Buffers.ensure(dc, B * H);
        java.util.Arrays.fill(dh, 0, B * H, 0f);              // dL/dh_t from step t+1 (through W_hh)
        java.util.Arrays.fill(dc, 0, B * H, 0f);              // dL/dc_t from step t+1 (through f)
        for (int t = T - 1; t >= 0; t--) {
            int at = t * B * G, st = t * B * H;
            for (int b = 0; b < B; b++) {
                int a = at + b * G, s = st + b * H, r = b * H;
                for (int j = 0; j < H; j++) {
                    float ig = act[a + j], fg = act[a + H + j], gg = act[a + 2 * H + j], og = act[a + 3 * H + j];
                    float tc = tanhC[s + j], cPrev = t > 0 ? c[s - B * H + j] : 0f;
                    float dht = dy[(b * T + t) * H + j] + dh[r + j];
                    float dct = dc[r + j] + dht * og * (1 - tc * tc);
                    dA[a + j] = dct * gg * ig * (1 - ig);                 // i
                    dA[a + H + j] = dct * cPrev * fg * (1 - fg);          // f
                    dA[a + 2 * H + j] = dct * ig * (1 - gg * gg);         // g
                    dA[a + 3 * H + j] = dht * tc * og * (1 - og);         // o
                    dc[r + j] = dct * fg;
                }
            }
            if (t > 0) k.matmulDyW(dA, at, weightHh.data, 0, dh, 0, B, G, H, false);  // dh_{t−1} = dA_t W_hh
        }
        // W_hh.grad += Σ_t dA_tᵀ h_{t−1} (slot 0 of hPrev is zero), biases += Σ dA
        k.matmulDyTX(dA, 0, hPrev, 0, weightHh.grad, 0, n, G, H, true);
        float[] gbi = biasIh.grad, gbh = biasHh.grad;
        for (int r = 0; r < n; r++)
            for (int j = 0; j < G; j++) {
                float d = dA[r * G + j];
                gbi[j] += d;
                gbh[j] += d;
            }
        for (int t = 0; t < T; t++)                            // time-major → batch-major for the input projection
            for (int b = 0; b < B; b++) System.arraycopy(dA, (t * B + b) * G, dAbm, (b * T + t) * G, G);
        k.matmulDyTX(dAbm, 0, x, 0, weightIh.grad, 0, n, G, in, true);
        if (dx != null) k.matmulDyW(dAbm, 0, weightIh.data, 0, dx, 0, n, G, in, false);
    }
}
