package org.xlstm4j.blocks;

import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;

/** The paper's mLSTM block (spec §4.1): x ← x + mLSTMLayer(LN(x)), no feed-forward. */
public final class MLstmBlock implements Block {
    public final LayerNorm norm;
    public final MLstmLayer layer;
    private float[] xn, dxn;
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
        norm.forward(x, xn, rows);
        layer.forward(k, xn, y, B, T, (MLstmBlockState) state);
        for (int i = 0; i < rows * E; i++) y[i] += x[i];                 // residual
    }

    @Override public void backward(Kernels k, float[] dy, float[] dx) {
        int E = layer.E;
        dxn = Buffers.ensure(dxn, rows * E);
        layer.backward(k, dy, dxn);
        System.arraycopy(dy, 0, dx, 0, rows * E);                        // residual path
        norm.backward(dxn, dx, rows, true);
    }

    @Override public BlockState newState(int B) { return layer.newState(B); }
}
