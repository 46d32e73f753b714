package org.xlstm4j.blocks;

import org.xlstm4j.cells.SLstmCell;
import org.xlstm4j.cells.SLstmState;
import org.xlstm4j.layers.CausalConv1d;
import org.xlstm4j.layers.HeadwiseLinear;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.RowOps;

import java.util.ArrayList;
import java.util.List;

/**
 * The sLSTM layer (spec §2.4): optional causal conv + SiLU feeding the input and forget gates, headwise gate
 * projections, the sLSTM cell, and a multi-head (group) norm. Keeps the official fgate/igate swap: the module named
 * {@code fgate} produces the input-gate pre-activation and {@code igate} the forget-gate one (spec §2.4 step 3).
 */
public final class SLstmLayer {
    public final int E, NH, DH, K;
    public final CausalConv1d conv; // null when conv1d_kernel_size == 0
    public final HeadwiseLinear fgate, igate, zgate, ogate;
    public final SLstmCell cell;
    public final MultiHeadLayerNorm groupNorm;

    private float[] xconv, xc, gates, gIn, gForget, gZ, gO, h;
    private float[] dH, dGates, dGIn, dGForget, dGZ, dGO, dXc, dXconv;
    private int B, T;

    public SLstmLayer(String prefix, int embeddingDim, int numHeads, int convKernel) {
        E = embeddingDim;
        NH = numHeads;
        DH = E / NH;
        K = convKernel;
        conv = K > 0 ? new CausalConv1d(prefix + "conv1d", E, K, true) : null;
        fgate = new HeadwiseLinear(prefix + "fgate", E, E, NH, false);
        igate = new HeadwiseLinear(prefix + "igate", E, E, NH, false);
        zgate = new HeadwiseLinear(prefix + "zgate", E, E, NH, false);
        ogate = new HeadwiseLinear(prefix + "ogate", E, E, NH, false);
        cell = new SLstmCell(prefix + "slstm_cell.", NH, DH);
        groupNorm = new MultiHeadLayerNorm(prefix + "group_norm", NH, DH, 1e-5f, true);
    }

    public List<Param> parameters() {
        List<Param> ps = new ArrayList<>();
        if (conv != null) { ps.add(conv.weight); if (conv.bias != null) ps.add(conv.bias); }
        ps.add(fgate.weight);
        ps.add(igate.weight);
        ps.add(zgate.weight);
        ps.add(ogate.weight);
        ps.add(cell.recurrentKernel());
        ps.add(cell.bias());
        ps.add(groupNorm.weight);
        return ps;
    }

    SLstmBlockState newState(int B) {
        return new SLstmBlockState(SLstmState.zeros(B, E), new float[B * K * E]);
    }

    public void forward(Kernels k, float[] x, float[] y, int B, int T, SLstmBlockState state) {
        this.B = B;
        this.T = T;
        int rows = B * T, n = rows * E;
        xconv = Buffers.ensure(xconv, n); xc = Buffers.ensure(xc, n);
        gates = Buffers.ensure(gates, 4 * n);
        gIn = Buffers.ensure(gIn, n); gForget = Buffers.ensure(gForget, n); gZ = Buffers.ensure(gZ, n); gO = Buffers.ensure(gO, n);
        h = Buffers.ensure(h, n);
        if (conv != null) {
            conv.forward(k, x, xconv, B, T, state == null ? null : state.conv);
            RowOps.silu(xconv, xc, 0, n);
        } else {
            System.arraycopy(x, 0, xc, 0, n);
        }
        fgate.forward(k, xc, gIn, rows);      // spec §2.4 step 3: module "fgate" → input-gate slot (official swap)
        igate.forward(k, xc, gForget, rows);  // module "igate" → forget-gate slot
        zgate.forward(k, x, gZ, rows);
        ogate.forward(k, x, gO, rows);
        for (int r = 0; r < rows; r++) {      // cell input [i | f | z | o], gate-major (spec §2.2)
            int o = r * 4 * E;
            System.arraycopy(gIn, r * E, gates, o, E);
            System.arraycopy(gForget, r * E, gates, o + E, E);
            System.arraycopy(gZ, r * E, gates, o + 2 * E, E);
            System.arraycopy(gO, r * E, gates, o + 3 * E, E);
        }
        if (state != null && T == 1) cell.step(k, gates, h, B, state.cell);
        else cell.forward(k, gates, h, B, T, state == null ? null : state.cell);
        groupNorm.forward(k, h, y, rows);
    }

    public void backward(Kernels k, float[] dy, float[] dx) {
        int rows = B * T, n = rows * E;
        dH = Buffers.ensure(dH, n); dGates = Buffers.ensure(dGates, 4 * n);
        dGIn = Buffers.ensure(dGIn, n); dGForget = Buffers.ensure(dGForget, n); dGZ = Buffers.ensure(dGZ, n); dGO = Buffers.ensure(dGO, n);
        dXc = Buffers.ensure(dXc, n); dXconv = Buffers.ensure(dXconv, n);
        groupNorm.backward(k, dy, dH, rows, false);
        cell.backward(k, dH, dGates);
        for (int r = 0; r < rows; r++) {
            int o = r * 4 * E;
            System.arraycopy(dGates, o, dGIn, r * E, E);
            System.arraycopy(dGates, o + E, dGForget, r * E, E);
            System.arraycopy(dGates, o + 2 * E, dGZ, r * E, E);
            System.arraycopy(dGates, o + 3 * E, dGO, r * E, E);
        }
        zgate.backward(k, dGZ, dx, rows, false);
        ogate.backward(k, dGO, dx, rows, true);
        fgate.backward(k, dGIn, dXc, rows, false);
        igate.backward(k, dGForget, dXc, rows, true);
        if (conv != null) {
            RowOps.siluGradMul(dXc, xconv, dXconv, 0, n);
            conv.backward(k, dXconv, dx, true);
        } else {
            RowOps.add(dXc, dx, 0, n);
        }
    }
}
