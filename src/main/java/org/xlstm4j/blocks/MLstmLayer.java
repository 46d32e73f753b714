package org.xlstm4j.blocks;

import org.xlstm4j.cells.MLstmCell;
import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.layers.CausalConv1d;
import org.xlstm4j.layers.HeadwiseLinear;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * The mLSTM layer of the paper's pre-up-projection block (spec §4.1), forward and backward side by side:
 * up-projection → causal conv + SiLU → headwise q, k (from the conv branch) and v (from the pre-conv branch) →
 * scalar gates from concat(q, k, v) → mLSTM cell → multi-head norm → learnable skip → SiLU(z) output gate → down.
 */
public final class MLstmLayer {
    /** Which formulation the cell uses for multi-token forwards (the step form is used for single tokens with state). */
    public enum Form { PARALLEL, CHUNKWISE }

    final int E, I, NH, DH, K;
    final Linear projUp, igate, fgate, projDown;
    final HeadwiseLinear qProj, kProj, vProj;
    final CausalConv1d conv;  // null when conv1d_kernel_size == 0
    final MLstmCell cell;
    final MultiHeadLayerNorm outnorm;
    final Param learnableSkip;
    Form form = Form.CHUNKWISE;
    int chunkSize = 64;

    // saved activations, [rows, ·] unless noted; grown on demand
    private float[] up, xm, z, xconv, xc, q, k, v, u, gi, gf;
    private float[] qh, kh, vh, gih, gfh, hh, h, hn, hs, out;
    // gradient scratch
    private float[] dOut, dHs, dZ, dXc, dXm, dH, dHh, dQh, dKh, dVh, dGih, dGfh, dGi, dGf, dQ, dK, dV, dU, dXconv, dUp;
    private int B, T;

    public MLstmLayer(String prefix, int embeddingDim, int innerDim, int numHeads, int convKernel, int qkvBlocksize, boolean bias) {
        this.E = embeddingDim;
        this.I = innerDim;
        this.NH = numHeads;
        this.DH = innerDim / numHeads;
        this.K = convKernel;
        projUp = new Linear(prefix + "proj_up", E, 2 * I, bias);
        int qkvHeads = I / qkvBlocksize;
        qProj = new HeadwiseLinear(prefix + "q_proj", I, I, qkvHeads, bias);
        kProj = new HeadwiseLinear(prefix + "k_proj", I, I, qkvHeads, bias);
        vProj = new HeadwiseLinear(prefix + "v_proj", I, I, qkvHeads, bias);
        conv = convKernel > 0 ? new CausalConv1d(prefix + "conv1d", I, convKernel, true) : null;
        igate = new Linear(prefix + "mlstm_cell.igate", 3 * I, NH, true);
        fgate = new Linear(prefix + "mlstm_cell.fgate", 3 * I, NH, true);
        cell = new MLstmCell(NH, DH, DH);
        outnorm = new MultiHeadLayerNorm(prefix + "mlstm_cell.outnorm", NH, DH, 1e-5f, true);
        learnableSkip = new Param(prefix + "learnable_skip", I);
        learnableSkip.weightDecay = false;
        projDown = new Linear(prefix + "proj_down", I, E, bias);
    }

    public List<Param> parameters() {
        List<Param> ps = new ArrayList<>();
        addLinear(ps, projUp);
        ps.add(qProj.weight);
        if (qProj.bias != null) ps.add(qProj.bias);
        ps.add(kProj.weight);
        if (kProj.bias != null) ps.add(kProj.bias);
        ps.add(vProj.weight);
        if (vProj.bias != null) ps.add(vProj.bias);
        if (conv != null) { ps.add(conv.weight); if (conv.bias != null) ps.add(conv.bias); }
        addLinear(ps, igate);
        addLinear(ps, fgate);
        ps.add(outnorm.weight);
        ps.add(learnableSkip);
        addLinear(ps, projDown);
        return ps;
    }

    static void addLinear(List<Param> ps, Linear l) {
        ps.add(l.weight);
        if (l.bias != null) ps.add(l.bias);
    }

    /** Chooses the cell formulation for multi-token forwards without state (with state: always chunkwise). */
    public void setForm(Form form, int chunkSize) {
        if (chunkSize < 1) throw new IllegalArgumentException("chunk size must be >= 1, got " + chunkSize);
        this.form = form;
        this.chunkSize = chunkSize;
    }

    MLstmBlockState newState(int B) {
        return new MLstmBlockState(MLstmState.zeros(B, NH, DH, DH), new float[B * Math.max(K, 0) * I]);
    }

    private void ensure(int rows) {
        int nI = rows * I;
        up = Buffers.ensure(up, rows * 2 * I);
        xm = Buffers.ensure(xm, nI); z = Buffers.ensure(z, nI); xconv = Buffers.ensure(xconv, nI); xc = Buffers.ensure(xc, nI);
        q = Buffers.ensure(q, nI); k = Buffers.ensure(k, nI); v = Buffers.ensure(v, nI); u = Buffers.ensure(u, 3 * nI);
        gi = Buffers.ensure(gi, rows * NH); gf = Buffers.ensure(gf, rows * NH);
        qh = Buffers.ensure(qh, nI); kh = Buffers.ensure(kh, nI); vh = Buffers.ensure(vh, nI);
        gih = Buffers.ensure(gih, rows * NH); gfh = Buffers.ensure(gfh, rows * NH);
        hh = Buffers.ensure(hh, nI); h = Buffers.ensure(h, nI); hn = Buffers.ensure(hn, nI); hs = Buffers.ensure(hs, nI);
        out = Buffers.ensure(out, nI);
    }

    /** x [B,T,E] (already normed) → y [B,T,E]; state null = zeros (not returned), else initial and overwritten. */
    public void forward(Kernels kern, float[] x, float[] y, int B, int T, MLstmBlockState state) {
        this.B = B;
        this.T = T;
        int rows = B * T;
        ensure(rows);
        projUp.forward(kern, x, up, rows);                                  // spec §4.1 step 1
        for (int r = 0; r < rows; r++) {
            System.arraycopy(up, r * 2 * I, xm, r * I, I);
            System.arraycopy(up, r * 2 * I + I, z, r * I, I);
        }
        if (conv != null) conv.forward(xm, xconv, B, T, state == null ? null : state.conv);   // step 2
        else System.arraycopy(xm, 0, xconv, 0, rows * I);
        for (int i = 0; i < rows * I; i++) xc[i] = Activations.silu(xconv[i]);
        qProj.forward(kern, xc, q, rows);                                   // step 3: q, k from the conv branch
        kProj.forward(kern, xc, k, rows);
        vProj.forward(kern, xm, v, rows);                                   // v from the pre-conv branch
        for (int r = 0; r < rows; r++) {                                    // step 4: gate input u = [q | k | v]
            System.arraycopy(q, r * I, u, r * 3 * I, I);
            System.arraycopy(k, r * I, u, r * 3 * I + I, I);
            System.arraycopy(v, r * I, u, r * 3 * I + 2 * I, I);
        }
        igate.forward(kern, u, gi, rows);
        fgate.forward(kern, u, gf, rows);
        Buffers.rowsToHeads(q, qh, B, T, NH, DH);
        Buffers.rowsToHeads(k, kh, B, T, NH, DH);
        Buffers.rowsToHeads(v, vh, B, T, NH, DH);
        Buffers.rowsToHeads(gi, gih, B, T, NH, 1);
        Buffers.rowsToHeads(gf, gfh, B, T, NH, 1);
        if (state != null && T == 1) cell.step(qh, kh, vh, gih, gfh, hh, B, state.cell);
        else if (state == null && form == Form.PARALLEL) cell.forwardParallel(qh, kh, vh, gih, gfh, hh, B, T);
        else cell.forwardChunkwise(qh, kh, vh, gih, gfh, hh, B, T, chunkSize, state == null ? null : state.cell);
        Buffers.headsToRows(hh, h, B, T, NH, DH);
        outnorm.forward(h, hn, rows);                                       // step 5
        float[] skip = learnableSkip.data;
        for (int r = 0; r < rows; r++) {
            int o = r * I;
            for (int i = 0; i < I; i++) {
                float hsv = hn[o + i] + skip[i] * xc[o + i];                // step 6: learnable skip
                hs[o + i] = hsv;
                out[o + i] = hsv * Activations.silu(z[o + i]);              // step 7: SiLU(z) output gate
            }
        }
        projDown.forward(kern, out, y, rows);                               // step 8
    }

    /** dy [B,T,E] → dx [B,T,E] (overwritten); accumulates parameter gradients. */
    public void backward(Kernels kern, float[] dy, float[] dx) {
        int rows = B * T, nI = rows * I;
        dOut = Buffers.ensure(dOut, nI); dHs = Buffers.ensure(dHs, nI); dZ = Buffers.ensure(dZ, nI);
        dXc = Buffers.ensure(dXc, nI); dXm = Buffers.ensure(dXm, nI); dH = Buffers.ensure(dH, nI); dHh = Buffers.ensure(dHh, nI);
        dQh = Buffers.ensure(dQh, nI); dKh = Buffers.ensure(dKh, nI); dVh = Buffers.ensure(dVh, nI);
        dGih = Buffers.ensure(dGih, rows * NH); dGfh = Buffers.ensure(dGfh, rows * NH);
        dGi = Buffers.ensure(dGi, rows * NH); dGf = Buffers.ensure(dGf, rows * NH);
        dQ = Buffers.ensure(dQ, nI); dK = Buffers.ensure(dK, nI); dV = Buffers.ensure(dV, nI); dU = Buffers.ensure(dU, 3 * nI);
        dXconv = Buffers.ensure(dXconv, nI); dUp = Buffers.ensure(dUp, 2 * nI);

        projDown.backward(kern, dy, dOut, rows, false);
        float[] skip = learnableSkip.data, dSkip = learnableSkip.grad;
        for (int r = 0; r < rows; r++) {
            int o = r * I;
            for (int i = 0; i < I; i++) {
                float zv = z[o + i], g = dOut[o + i];
                float dhs = g * Activations.silu(zv);
                dHs[o + i] = dhs;
                dZ[o + i] = g * hs[o + i] * Activations.siluGrad(zv);
                dSkip[i] += dhs * xc[o + i];
                dXc[o + i] = dhs * skip[i];
            }
        }
        outnorm.backward(dHs, dH, rows, false);
        Buffers.rowsToHeads(dH, dHh, B, T, NH, DH);
        cell.backward(dHh, dQh, dKh, dVh, dGih, dGfh);
        Buffers.headsToRows(dQh, dQ, B, T, NH, DH);
        Buffers.headsToRows(dKh, dK, B, T, NH, DH);
        Buffers.headsToRows(dVh, dV, B, T, NH, DH);
        Buffers.headsToRows(dGih, dGi, B, T, NH, 1);
        Buffers.headsToRows(dGfh, dGf, B, T, NH, 1);
        igate.backward(kern, dGi, dU, rows, false);
        fgate.backward(kern, dGf, dU, rows, true);
        for (int r = 0; r < rows; r++) {
            int o = r * I, ou = r * 3 * I;
            for (int i = 0; i < I; i++) {
                dQ[o + i] += dU[ou + i];
                dK[o + i] += dU[ou + I + i];
                dV[o + i] += dU[ou + 2 * I + i];
            }
        }
        qProj.backward(kern, dQ, dXc, rows, true);
        kProj.backward(kern, dK, dXc, rows, true);
        vProj.backward(kern, dV, dXm, rows, false);
        for (int i = 0; i < nI; i++) dXconv[i] = dXc[i] * Activations.siluGrad(xconv[i]);
        if (conv != null) conv.backward(dXconv, dXm, true);
        else for (int i = 0; i < nI; i++) dXm[i] += dXconv[i];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(dXm, r * I, dUp, r * 2 * I, I);
            System.arraycopy(dZ, r * I, dUp, r * 2 * I + I, I);
        }
        projUp.backward(kern, dUp, dx, rows, false);
    }
}
