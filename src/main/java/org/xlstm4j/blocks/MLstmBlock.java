package org.xlstm4j.blocks;

import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.RowOps;

import java.util.ArrayList;
import java.util.List;

/** The paper's mLSTM block (spec §4.1): x ← x + mLSTMLayer(LN(x)), no feed-forward. */
public final class MLstmBlock implements Block {
    public final LayerNorm norm;
    public final MLstmLayer layer;
    private float[] xn;
    private Workspace ws = new Workspace();
    private int rows;

    public MLstmBlock(String prefix, int E, int innerDim, int numHeads, int convKernel, int qkvBlocksize, boolean bias) {
        norm = new LayerNorm(prefix + "xlstm_norm", E, 1e-5f, true, false);
        layer = new MLstmLayer(prefix + "xlstm.", E, innerDim, numHeads, convKernel, qkvBlocksize, bias);
    }

    @Override public List<Param> parameters() {
        List<Param> ps = new ArrayList<>();
        ps.add(norm.weight);
        ps.addAll(layer.parameters());
        return ps;
    }

    @Override public void forward(Kernels k, float[] x, float[] y, int B, int T, BlockState state) {
        rows = B * T;
        int E = layer.E;
        xn = Buffers.ensure(xn, rows * E);
        norm.forward(k, x, xn, rows);
        layer.forward(k, xn, y, B, T, (MLstmBlockState) state);
        RowOps.add(x, y, 0, rows * E);                                   // residual
    }

    @Override public void backward(Kernels k, float[] dy, float[] dx) {
        int E = layer.E;
        float[] dxn = ws.get(23, rows * E);                              // slots 0–22 are the layer's
        layer.backward(k, dy, dxn);
        System.arraycopy(dy, 0, dx, 0, rows * E);                        // residual path
        norm.backward(k, dxn, dx, rows, true);
    }

    @Override public BlockState newState(int B) { return layer.newState(B); }

    /** Shares scratch with the other blocks of a model (see {@link Workspace}). */
    public void useWorkspace(Workspace w) {
        this.ws = w;
        layer.useWorkspace(w);
    }
}
