package org.xlstm4j.large;

import org.xlstm4j.cells.MLstmCell;
import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.List;

/**
 * The mLSTM layer of an xLSTM-Large block (spec §6.1, weight mode "single"), trainable, on the normalised block
 * input x [rows = B·T, E]:
 * <pre>
 *   q = x·W_qᵀ, k = x·W_kᵀ, v = x·W_vᵀ, o = x·W_oᵀ                      (no biases)
 *   ĩ = softcap(x·W_iᵀ + b_i), f̃ = softcap(x·W_fᵀ + b_f)                 (per head; cap gate_soft_cap, 15)
 *   h = mLSTM(q, k, v, ĩ, f̃)                                            (chunkwise, spec §3.4; memory linear in T)
 *   y = out_proj( σ(o) ⊙ MultiHeadLayerNorm(h) )                        (per-head LN without offset, no bias)
 * </pre>
 * Backward, with n = MultiHeadLayerNorm(h) and dz = dy·W_out (the gradient of σ(o) ⊙ n):
 * {@code dn = dz·σ(o)}, {@code do = dz·n·σ(o)·(1 − σ(o))}, dh from the norm, dq dk dv dĩ df̃ from the cell, the gate
 * pre-activations through the cap ({@link SoftCap}), and {@code dx = Σ d(proj)·W_proj} over the six projections.
 */
final class LargeMLstmLayer {
    /** Scratch slots used by {@link #backward} (after the FFN's backward of the same block is done). */
    private static final int DZ = 0, DO = 1, DH = 2, DHH = 3, DQH = 4, DKH = 5, DVH = 6, DIH = 7, DFH = 8,
            DQ = 9, DK = 10, DV = 11, DI = 12, DF = 13;

    final Linear q, k, v, ogate, igate, fgate, outProj;
    final MultiHeadLayerNorm multiheadNorm;
    private final MLstmCell cell;
    private final int NH, DK_, DV_, QK, VD, chunkSize;
    private final Float gateCap;
    private final Scratch scratch;
    private int B, T;
    // activations saved for backward, rows layout [B, T, ·]: o_pre, h (the norm's input), h_norm, σ(o) ⊙ h_norm
    private float[] o, h, hn, gated;
    // the cell's inputs in its head layout [B, NH, T, ·] (the cell keeps references to them; the gates are capped)
    private float[] qh, kh, vh, igh, fgh;

    LargeMLstmLayer(LargeConfig c, LargeLayout layout, int block, Scratch scratch) {
        int E = c.embeddingDim;
        NH = c.numHeads;
        DK_ = c.qkHeadDim();
        DV_ = c.vHeadDim();
        QK = c.qkDim();
        VD = c.vDim();
        chunkSize = c.chunkSize;
        gateCap = c.gateSoftCap == null ? null : c.gateSoftCap.floatValue();
        this.scratch = scratch;
        String m = LargeLayout.mlstm(block);
        q = new Linear(layout.qName[block], E, QK, false);
        k = new Linear(layout.kName[block], E, QK, false);
        v = new Linear(layout.vName[block], E, VD, false);
        ogate = new Linear(m + "ogate_preact", E, VD, false);
        igate = new Linear(m + "igate_preact", E, NH, true);
        fgate = new Linear(m + "fgate_preact", E, NH, true);
        multiheadNorm = new MultiHeadLayerNorm(m + "multihead_norm", NH, DV_, (float) c.normEps, false);
        outProj = new Linear(m + "out_proj", VD, E, false);
        cell = new MLstmCell(NH, DK_, DV_, (float) c.eps);
    }

    /** In the official state_dict order. */
    List<Param> params() {
        return List.of(q.weight, k.weight, v.weight, ogate.weight, igate.weight, igate.bias, fgate.weight, fgate.bias,
                multiheadNorm.weight, outProj.weight);
    }

    /**
     * y[B·T, E] = layer(x[B·T, E]); keeps a reference to x. {@code state}: null = zeros (training), otherwise the
     * initial cell state, overwritten with the final one.
     */
    void forward(Kernels kern, float[] x, float[] y, int B, int T, MLstmState state) {
        this.B = B;
        this.T = T;
        int rows = B * T;
        ensure(rows);
        // q, k, v, the gates and h in the rows layout are only passed on: they live in scratch (free during forwards)
        float[] qr = scratch.get(DQ, rows * QK), kr = scratch.get(DK, rows * QK), vr = scratch.get(DV, rows * VD);
        float[] ig = scratch.get(DI, rows * NH), fg = scratch.get(DF, rows * NH), hh = scratch.get(DHH, rows * VD);
        q.forward(kern, x, qr, rows);
        k.forward(kern, x, kr, rows);
        v.forward(kern, x, vr, rows);
        ogate.forward(kern, x, o, rows);
        igate.forward(kern, x, ig, rows);
        fgate.forward(kern, x, fg, rows);
        if (gateCap != null) {                                                    // spec §6.1: softcap15(W x + b)
            SoftCap.forward(ig, 0, rows * NH, gateCap);
            SoftCap.forward(fg, 0, rows * NH, gateCap);
        }
        Buffers.rowsToHeads(qr, qh, B, T, NH, DK_);
        Buffers.rowsToHeads(kr, kh, B, T, NH, DK_);
        Buffers.rowsToHeads(vr, vh, B, T, NH, DV_);
        Buffers.rowsToHeads(ig, igh, B, T, NH, 1);
        Buffers.rowsToHeads(fg, fgh, B, T, NH, 1);
        cell.forwardChunkwise(qh, kh, vh, igh, fgh, hh, B, T, chunkSize, state);  // spec §3.4
        Buffers.headsToRows(hh, h, B, T, NH, DV_);
        multiheadNorm.forward(h, hn, rows);                                       // per-head LayerNorm, weight only
        for (int i = 0; i < rows * VD; i++) gated[i] = Activations.sigmoid(o[i]) * hn[i];   // σ(o_pre) ⊙ h_norm
        outProj.forward(kern, gated, y, rows);
    }

    /** Given dy[B·T, E] of the last forward: parameter gradients +=, dx[B·T, E] written (or added when accumulateDx). */
    void backward(Kernels kern, float[] dy, float[] dx, boolean accumulateDx) {
        int rows = B * T;
        float[] dz = scratch.get(DZ, rows * VD), dO = scratch.get(DO, rows * VD), dh = scratch.get(DH, rows * VD);
        outProj.backward(kern, dy, dz, rows, false);
        for (int i = 0; i < rows * VD; i++) {
            float s = Activations.sigmoid(o[i]), d = dz[i];
            dO[i] = d * hn[i] * s * (1f - s);                                      // through σ(o)
            dz[i] = d * s;                                                         // now d hn
        }
        multiheadNorm.backward(dz, dh, rows, false);
        float[] dhh = scratch.get(DHH, rows * VD);
        float[] dqh = scratch.get(DQH, rows * QK), dkh = scratch.get(DKH, rows * QK), dvh = scratch.get(DVH, rows * VD);
        float[] dih = scratch.get(DIH, rows * NH), dfh = scratch.get(DFH, rows * NH);
        Buffers.rowsToHeads(dh, dhh, B, T, NH, DV_);
        cell.backward(dhh, dqh, dkh, dvh, dih, dfh);
        if (gateCap != null) {                                                    // d/dx c·tanh(x/c) = 1 − tanh²(x/c)
            SoftCap.backward(igh, dih, 0, rows * NH, gateCap);
            SoftCap.backward(fgh, dfh, 0, rows * NH, gateCap);
        }
        float[] dq = scratch.get(DQ, rows * QK), dk = scratch.get(DK, rows * QK), dv = scratch.get(DV, rows * VD);
        float[] di = scratch.get(DI, rows * NH), df = scratch.get(DF, rows * NH);
        Buffers.headsToRows(dqh, dq, B, T, NH, DK_);
        Buffers.headsToRows(dkh, dk, B, T, NH, DK_);
        Buffers.headsToRows(dvh, dv, B, T, NH, DV_);
        Buffers.headsToRows(dih, di, B, T, NH, 1);
        Buffers.headsToRows(dfh, df, B, T, NH, 1);
        q.backward(kern, dq, dx, rows, accumulateDx);
        k.backward(kern, dk, dx, rows, true);
        v.backward(kern, dv, dx, rows, true);
        ogate.backward(kern, dO, dx, rows, true);
        igate.backward(kern, di, dx, rows, true);
        fgate.backward(kern, df, dx, rows, true);
    }

    private void ensure(int rows) {
        o = Buffers.ensure(o, rows * VD);
        h = Buffers.ensure(h, rows * VD);
        hn = Buffers.ensure(hn, rows * VD);
        gated = Buffers.ensure(gated, rows * VD);
        qh = Buffers.ensure(qh, rows * QK);
        kh = Buffers.ensure(kh, rows * QK);
        vh = Buffers.ensure(vh, rows * VD);
        igh = Buffers.ensure(igh, rows * NH);
        fgh = Buffers.ensure(fgh, rows * NH);
    }
}
