package org.xlstm4j.large;

import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * One xLSTM-Large block, trainable (spec §6.1): {@code m = x + mLSTM(RMSNorm(x))}, {@code y = m + FFN(RMSNorm(m))}.
 * The backward works in place on one residual-gradient buffer: dy becomes dm = dy + (d RMSNorm_ffn ∘ d FFN)(dy), then
 * dx = dm + (d RMSNorm_mlstm ∘ d mLSTM)(dm).
 */
final class LargeTrainableBlock {
    /** Scratch slots: the gradient into a norm's output, and the forward's branch output (both after the layers' slots). */
    private static final int DXN = 14, BRANCH = 15;

    final RMSNorm normMlstm, normFfn;
    final LargeMLstmLayer mlstm;
    final SwiGluFeedForward ffn;
    private final int E;
    private final Scratch scratch;
    private int rows;
    private float[] xn, mid, mn;   // saved: RMSNorm(x), m = the FFN's residual input, RMSNorm(m)

    LargeTrainableBlock(LargeConfig c, LargeLayout layout, int i, Scratch scratch) {
        E = c.embeddingDim;
        this.scratch = scratch;
        String p = LargeLayout.block(i);
        normMlstm = new RMSNorm(p + "norm_mlstm", E, (float) c.normEps);
        mlstm = new LargeMLstmLayer(c, layout, i, scratch);
        normFfn = new RMSNorm(p + "norm_ffn", E, (float) c.normEps);
        ffn = new SwiGluFeedForward(p, E, c.ffnDim(), scratch);
    }

    /** In the official state_dict order. */
    List<Param> params() {
        List<Param> ps = new ArrayList<>();
        ps.add(normMlstm.weight);
        ps.addAll(mlstm.params());
        ps.add(normFfn.weight);
        ps.addAll(ffn.params());
        return ps;
    }

    /** y[B·T, E] = block(x); keeps a reference to x. {@code state}: null = zeros, else in/out (see the layer). */
    void forward(Kernels k, float[] x, float[] y, int B, int T, MLstmState state) {
        rows = B * T;
        int n = rows * E;
        xn = Buffers.ensure(xn, n);
        mid = Buffers.ensure(mid, n);
        mn = Buffers.ensure(mn, n);
        float[] branch = scratch.get(BRANCH, n);
        normMlstm.forward(x, xn, rows);                                          // spec §6.1: norm_mlstm
        mlstm.forward(k, xn, branch, B, T, state);
        for (int i = 0; i < n; i++) mid[i] = x[i] + branch[i];                   // residual
        normFfn.forward(mid, mn, rows);                                          // norm_ffn
        ffn.forward(k, mn, branch, rows);
        for (int i = 0; i < n; i++) y[i] = mid[i] + branch[i];                   // residual
    }

    /** d[B·T, E]: the gradient of the block's output on entry, of its input on return; parameter gradients +=. */
    void backward(Kernels k, float[] d) {
        float[] dn = scratch.get(DXN, rows * E);
        ffn.backward(k, d, dn, rows, false);
        normFfn.backward(dn, d, rows, true);                                     // d = dm
        mlstm.backward(k, d, dn, false);
        normMlstm.backward(dn, d, rows, true);                                   // d = dx
    }
}
