package org.xlstm4j.model;

import org.xlstm4j.blocks.Block;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlock;
import org.xlstm4j.blocks.MLstmBlockState;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.blocks.SLstmBlock;
import org.xlstm4j.blocks.SLstmBlockState;
import org.xlstm4j.blocks.SLstmLayer;
import org.xlstm4j.layers.CausalConv1d;
import org.xlstm4j.layers.HeadwiseLinear;
import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.RowOps;

/**
 * {@link XLstmOps} on the CPU: float arrays, and the very kernels and layer code that {@link XLstmLM}'s blocks use
 * (same products, same SIMD element-wise kernels, same cells), so this backend reproduces {@link XLstmLM#forward}
 * to the bit. States are the blocks' own {@link MLstmBlockState} / {@link SLstmBlockState}.
 */
public final class CpuXLstmOps implements XLstmOps<float[]> {
    private final Kernels kernels;
    private int[] ids = new int[0];

    public CpuXLstmOps(Kernels kernels) {
        this.kernels = kernels;
    }

    @Override public float[] ensure(float[] a, long n) {
        return Buffers.ensure(a, Math.toIntExact(n));
    }

    @Override public void setTokens(int[] idx, int rows) {
        ids = Buffers.ensure(ids, rows);
        System.arraycopy(idx, 0, ids, 0, rows);
    }

    @Override public void embed(Param embedding, float[] x, int rows) {
        int E = embedding.shape[1];
        for (int r = 0; r < rows; r++) System.arraycopy(embedding.data, ids[r] * E, x, r * E, E);
    }

    @Override public void layerNorm(LayerNorm norm, float[] x, float[] y, int rows) {
        norm.forward(kernels, x, y, rows);
    }

    @Override public void linear(float[] x, Param weight, Param bias, int r0, int out, int in, float[] y, int rows) {
        kernels.matmulXWt(x, 0, weight.data, r0 * in, y, 0, rows, out, in, false);
        if (bias != null) {
            float[] b = bias.data;
            for (int r = 0; r < rows; r++) {
                int o = r * out;
                for (int j = 0; j < out; j++) y[o + j] += b[r0 + j];
            }
        }
    }

    @Override public void headwise(HeadwiseLinear layer, float[] x, float[] y, int rows) {
        layer.forward(kernels, x, y, rows);
    }

    @Override public void causalConv(CausalConv1d conv, float[] x, float[] y, int B, int T, BlockState state) {
        float[] buf = state instanceof MLstmBlockState m ? m.conv : ((SLstmBlockState) state).conv;
        conv.forward(kernels, x, y, B, T, buf);
    }

    @Override public void silu(float[] x, float[] y, long n) {
        RowOps.silu(x, y, 0, Math.toIntExact(n));
    }

    @Override public void mlstmGates(Linear igate, Linear fgate, float[] q, float[] k, float[] v, float[] gi, float[] gf,
                                     int rows, int I, int NH) {
        MLstmLayer.gates(q, k, v, igate, fgate, gi, gf, 0, rows, I, NH);
    }

    @Override public void mlstmCell(MLstmLayer layer, float[] q, float[] k, float[] v, float[] gi, float[] gf, float[] h,
                                    int B, int T, BlockState state) {
        MLstmBlockState s = (MLstmBlockState) state;
        if (T == 1) layer.cell.step(kernels, q, k, v, gi, gf, h, B, s.cell);              // spec §3.2
        else layer.cell.forwardChunkwise(kernels, q, k, v, gi, gf, h, B, T, layer.chunkFor(T), s.cell, true, false);
    }

    @Override public void multiHeadNorm(MultiHeadLayerNorm norm, float[] x, float[] y, int rows) {
        norm.forward(kernels, x, y, rows);
    }

    @Override public void mlstmOutput(Param skip, float[] hn, float[] xc, float[] z, float[] out, int rows, int I) {
        RowOps.mlstmOutput(hn, xc, z, skip.data, hn, out, 0, rows, I);     // hs (= hn + skip ⊙ xc) is not needed
    }

    @Override public void interleaveGates(float[] i, float[] f, float[] z, float[] o, float[] gates, int rows, int E) {
        for (int r = 0; r < rows; r++) {
            int g = r * 4 * E;
            System.arraycopy(i, r * E, gates, g, E);
            System.arraycopy(f, r * E, gates, g + E, E);
            System.arraycopy(z, r * E, gates, g + 2 * E, E);
            System.arraycopy(o, r * E, gates, g + 3 * E, E);
        }
    }

    @Override public void slstmCell(SLstmLayer layer, float[] gates, float[] h, int B, int T, BlockState state) {
        SLstmBlockState s = (SLstmBlockState) state;
        if (T == 1) layer.cell.step(kernels, gates, h, B, s.cell);
        else layer.cell.forward(kernels, gates, h, B, T, s.cell);
    }

    @Override public void gatedAct(float[] up, float[] h, int rows, int P, boolean gelu) {
        RowOps.gatedAct(up, h, 0, rows, P, gelu);
    }

    @Override public void add(float[] src, float[] dst, long n) {
        RowOps.add(src, dst, 0, Math.toIntExact(n));
    }

    @Override public void sum(float[] a, float[] b, float[] y, long n) {
        RowOps.sum(a, b, y, 0, Math.toIntExact(n));
    }

    @Override public void copy(float[] src, float[] dst, long n) {
        System.arraycopy(src, 0, dst, 0, Math.toIntExact(n));
    }

    @Override public void head(float[] xn, Param weight, float[] logits, int rows, int V, int E) {
        kernels.matmulXWt(xn, 0, weight.data, 0, logits, 0, rows, V, E, false);
    }

    @Override public BlockState newState(Block block, int B) {
        return block.newState(B);
    }

    @Override public String name() { return kernels.name(); }
}
