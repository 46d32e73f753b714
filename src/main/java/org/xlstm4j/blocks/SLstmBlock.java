package org.xlstm4j.blocks;

import org.xlstm4j.layers.GatedFFN;
import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.RowOps;

import java.util.ArrayList;
import java.util.List;

/**
 * The paper's sLSTM block (spec §2.6): two pre-LN residual sub-blocks, x ← x + sLSTMLayer(LN(x)) then
 * x ← x + GatedFFN(LN(x)).
 */
public final class SLstmBlock implements Block {
    public final LayerNorm norm, ffnNorm;
    public final SLstmLayer layer;
    public final GatedFFN ffn;
    private float[] xn, mid, midN, f, dxn, dMid, dMidN;
    private int rows, E;

    public SLstmBlock(String prefix, int E, int numHeads, int convKernel, int ffnHidden, GatedFFN.Act act) {
        this.E = E;
        norm = new LayerNorm(prefix + "xlstm_norm", E, 1e-5f, true, false);
        layer = new SLstmLayer(prefix + "xlstm.", E, numHeads, convKernel);
        ffnNorm = new LayerNorm(prefix + "ffn_norm", E, 1e-5f, true, false);
        ffn = new GatedFFN(prefix + "ffn", E, ffnHidden, act);
    }

    @Override public List<Param> parameters() {
        List<Param> ps = new ArrayList<>();
        ps.add(norm.weight);
        ps.addAll(layer.parameters());
        ps.add(ffnNorm.weight);
        ps.add(ffn.projUp().weight);
        ps.add(ffn.projDown().weight);
        return ps;
    }

    @Override public void forward(Kernels k, float[] x, float[] y, int B, int T, BlockState state) {
        rows = B * T;
        int n = rows * E;
        xn = Buffers.ensure(xn, n); mid = Buffers.ensure(mid, n); midN = Buffers.ensure(midN, n); f = Buffers.ensure(f, n);
        norm.forward(k, x, xn, rows);
        layer.forward(k, xn, mid, B, T, (SLstmBlockState) state);
        RowOps.add(x, mid, 0, n);                                        // first residual
        ffnNorm.forward(k, mid, midN, rows);
        ffn.forward(k, midN, f, rows);
        RowOps.sum(mid, f, y, 0, n);                                     // second residual
    }

    @Override public void backward(Kernels k, float[] dy, float[] dx) {
        int n = rows * E;
        dxn = Buffers.ensure(dxn, n); dMid = Buffers.ensure(dMid, n); dMidN = Buffers.ensure(dMidN, n);
        ffn.backward(k, dy, dMidN, rows, false);
        System.arraycopy(dy, 0, dMid, 0, n);
        ffnNorm.backward(k, dMidN, dMid, rows, true);
        layer.backward(k, dMid, dxn);
        System.arraycopy(dMid, 0, dx, 0, n);
        norm.backward(k, dxn, dx, rows, true);
    }

    @Override public BlockState newState(int B) { return layer.newState(B); }
}
