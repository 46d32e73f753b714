package org.xlstm4j.large;

import org.xlstm4j.layers.Linear;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.List;

/**
 * The SwiGLU feed-forward of an xLSTM-Large block (spec §6.1), trainable:
 * {@code y = proj_down( SiLU(proj_up_gate(x)) ⊙ proj_up(x) )}, hidden width F, no biases. Params
 * {@code <prefix>ffn.proj_up_gate.weight}, {@code proj_up.weight} [F, E] and {@code proj_down.weight} [E, F].
 * Backward, with g = x·W_gᵀ, u = x·W_uᵀ, a = SiLU(g)·u and da = dy·W_d:
 * {@code dg = da·u·SiLU'(g)}, {@code du = da·SiLU(g)}, {@code dx = dg·W_g + du·W_u}.
 */
final class SwiGluFeedForward {
    /** Scratch slots used by {@link #backward}. */
    private static final int DA = 0, DU = 1;

    final Linear upGate, up, down;
    private final int F;
    private final Scratch scratch;
    private float[] g, u, a;   // saved for backward: [rows, F]

    SwiGluFeedForward(String prefix, int E, int F, Scratch scratch) {
        this.F = F;
        this.scratch = scratch;
        upGate = new Linear(prefix + "ffn.proj_up_gate", E, F, false);
        up = new Linear(prefix + "ffn.proj_up", E, F, false);
        down = new Linear(prefix + "ffn.proj_down", F, E, false);
    }

    List<Param> params() { return List.of(upGate.weight, up.weight, down.weight); }

    /** y[rows, E] = FFN(x[rows, E]); keeps a reference to x. */
    void forward(Kernels k, float[] x, float[] y, int rows) {
        int n = rows * F;
        g = Buffers.ensure(g, n);
        u = Buffers.ensure(u, n);
        a = Buffers.ensure(a, n);
        upGate.forward(k, x, g, rows);
        up.forward(k, x, u, rows);
        for (int i = 0; i < n; i++) a[i] = Activations.silu(g[i]) * u[i];          // spec §6.1: SiLU(gate) ⊙ up
        down.forward(k, a, y, rows);
    }

    /** Given dy[rows, E]: parameter gradients +=, dx[rows, E] written (or added when accumulateDx). */
    void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx) {
        int n = rows * F;
        float[] da = scratch.get(DA, n), du = scratch.get(DU, n);
        down.backward(k, dy, da, rows, false);
        for (int i = 0; i < n; i++) {
            float gi = g[i], s = Activations.sigmoid(gi), d = da[i];
            du[i] = d * gi * s;                                                    // d/du: SiLU(g)
            da[i] = d * u[i] * s * (1f + gi * (1f - s));                           // d/dg: u·SiLU'(g), now dg
        }
        upGate.backward(k, da, dx, rows, accumulateDx);
        up.backward(k, du, dx, rows, true);
    }
}
