package org.xlstm4j.blocks;

import org.junit.jupiter.api.Test;
import org.xlstm4j.cells.MLstmTestSupport;
import org.xlstm4j.cells.SLstmCell;
import org.xlstm4j.cells.SLstmReference;
import org.xlstm4j.layers.GatedFFN;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.CpuKernels;

import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.xlstm4j.layers.DoubleReference.*;
import static org.xlstm4j.layers.GradCheck.*;

/**
 * The paper's blocks in double precision: each block's forward written from the spec (§4.1 mLSTM block, §2.4–2.6
 * sLSTM block) by composing the double-precision layer and cell references, held to the float block's forward, and
 * the block's hand-written backward (dx and every parameter gradient) held to finite differences of that double
 * forward ({@link org.xlstm4j.layers.GradCheck#assertGradDouble}: h = 1e-5, tolerance 1e-4). The reference cell is the
 * parallel form; the chunkwise form stabilizes per chunk, so where the normalizer's exp(−m) branch is active the two
 * differ slightly (measured: gradients within 6.7e-5 for chunks of 4, against ≤ 1.6e-6 for the parallel form).
 */
class BlockGradCheckTest {
    static final int B = 2, T = 6;

    /** spec §4.1: x + proj_down((GN(mLSTM(q, k, v)) + skip ⊙ x_c) ⊙ SiLU(z)), [x_m | z] = proj_up(LN(x)). */
    static double[] mlstmBlock(MLstmBlock blk, float[] x) {
        MLstmLayer l = blk.layer;
        int E = l.E, I = l.I, NH = l.NH, DH = l.DH, rows = B * T;
        double[] xn = groupNorm(x, blk.norm.weight.data, null, rows, 1, E, 1e-5f, true);
        double[] up = linear(xn, l.projUp.weight.data, bias(l.projUp), rows, E, 2 * I);
        double[] xm = new double[rows * I], z = new double[rows * I];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < I; i++) { xm[r * I + i] = up[r * 2 * I + i]; z[r * I + i] = up[r * 2 * I + I + i]; }
        double[] xconv = l.conv == null ? xm : causalConv(xm, l.conv.weight.data, l.conv.bias.data, B, T, I, l.K, null);
        double[] xc = new double[rows * I];
        for (int i = 0; i < xc.length; i++) xc[i] = silu(xconv[i]);
        double[] q = headwise(xc, l.qProj.weight.data, l.qProj.bias == null ? null : l.qProj.bias.data, rows, I, I, l.qProj.numHeads());
        double[] k = headwise(xc, l.kProj.weight.data, l.kProj.bias == null ? null : l.kProj.bias.data, rows, I, I, l.kProj.numHeads());
        double[] v = headwise(xm, l.vProj.weight.data, l.vProj.bias == null ? null : l.vProj.bias.data, rows, I, I, l.vProj.numHeads());
        double[] qkv = new double[rows * 3 * I];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < I; i++) {
                qkv[r * 3 * I + i] = q[r * I + i];
                qkv[r * 3 * I + I + i] = k[r * I + i];
                qkv[r * 3 * I + 2 * I + i] = v[r * I + i];
            }
        double[] ig = linear(qkv, l.igate.weight.data, bias(l.igate), rows, 3 * I, NH);
        double[] fg = linear(qkv, l.fgate.weight.data, bias(l.fgate), rows, 3 * I, NH);
        double[] qh = toHeads(q, B, T, NH, DH), kh = toHeads(k, B, T, NH, DH), vh = toHeads(v, B, T, NH, DH);
        double[] hh = MLstmTestSupport.referenceParallel(B, NH, T, DH, DH, qh, kh, vh, toHeads(ig, B, T, NH, 1), toHeads(fg, B, T, NH, 1),
                l.cell.eps);
        double[] h = toRows(hh, B, T, NH, DH);
        double[] hn = groupNorm(h, l.outnorm.weight.data, null, rows, NH, DH, 1e-5f, true);
        double[] out = new double[rows * I];
        for (int r = 0; r < rows; r++)
            for (int i = 0; i < I; i++)
                out[r * I + i] = (hn[r * I + i] + l.learnableSkip.data[i] * xc[r * I + i]) * silu(z[r * I + i]);
        double[] y = linear(out, l.projDown.weight.data, bias(l.projDown), rows, I, E);
        for (int i = 0; i < y.length; i++) y[i] += x[i];
        return y;
    }

    /** spec §2.6: mid = x + GN(sLSTM(gates)), y = mid + FFN(LN(mid)); gates from LN(x) (i, f through conv + SiLU). */
    static double[] slstmBlock(SLstmBlock blk, float[] x, int P) {
        SLstmLayer l = blk.layer;
        int E = l.E, NH = l.NH, DH = l.DH, rows = B * T;
        double[] xn = groupNorm(x, blk.norm.weight.data, null, rows, 1, E, 1e-5f, true);
        double[] xc = xn;
        if (l.conv != null) {
            xc = causalConv(xn, l.conv.weight.data, l.conv.bias.data, B, T, E, l.K, null);
            for (int i = 0; i < xc.length; i++) xc[i] = silu(xc[i]);
        }
        double[][] g = {headwise(xc, l.fgate.weight.data, null, rows, E, E, NH),   // official swap: fgate → i slot
                headwise(xc, l.igate.weight.data, null, rows, E, E, NH),
                headwise(xn, l.zgate.weight.data, null, rows, E, E, NH),
                headwise(xn, l.ogate.weight.data, null, rows, E, E, NH)};
        double[] pre = new double[rows * 4 * E];
        for (int r = 0; r < rows; r++)
            for (int s = 0; s < 4; s++) System.arraycopy(g[s], r * E, pre, r * 4 * E + s * E, E);
        SLstmReference cell = new SLstmReference(NH, DH,
                d(SLstmCell.recurrentKernelToCuda(l.cell.recurrentKernel().data, NH, DH)),
                d(SLstmCell.biasToCuda(l.cell.bias().data, NH, DH)));
        double[] mid = groupNorm(cell.forward(pre, B, T, null), l.groupNorm.weight.data, null, rows, NH, DH, 1e-5f, true);
        for (int i = 0; i < mid.length; i++) mid[i] += x[i];
        double[] y = gatedFfn(groupNorm(mid, blk.ffnNorm.weight.data, null, rows, 1, E, 1e-5f, true),
                blk.ffn.projUp().weight.data, blk.ffn.projDown().weight.data, rows, E, P, blk.ffn.act());
        for (int i = 0; i < y.length; i++) y[i] += mid[i];
        return y;
    }

    @Test
    void mlstmBlockBackwardIsTheGradientOfItsDefinition() {
        for (MLstmLayer.Form form : MLstmLayer.Form.values())
            for (boolean bias : new boolean[]{false, true}) {
                MLstmBlock blk = new MLstmBlock("blocks.0.", 8, 16, 2, 4, 4, bias);
                blk.layer.setForm(form, 4);                                   // chunkwise: chunks of 4 over T = 6
                check("mLSTM block " + form + (bias ? " bias" : ""), blk, 8, x -> mlstmBlock(blk, x));
            }
    }

    @Test
    void slstmBlockBackwardIsTheGradientOfItsDefinition() {
        for (int conv : new int[]{4, 0})
            for (GatedFFN.Act act : GatedFFN.Act.values()) {
                SLstmBlock blk = new SLstmBlock("blocks.0.", 8, 2, conv, 16, act);
                check("sLSTM block conv " + conv + " " + act, blk, 8, x -> slstmBlock(blk, x, 16));
            }
    }

    interface DoubleForward { double[] apply(float[] x); }

    /** Random parameters and input; forward against the double definition, then dx and every gradient by finite differences. */
    private static void check(String what, Block blk, int E, DoubleForward reference) {
        Random rng = new Random(what.hashCode());
        for (Param p : blk.parameters()) randomize(p, rng, 0.4);
        float[] x = randn(rng, B * T * E, 1), y = new float[x.length], R = rand(rng, x.length), dx = new float[x.length];
        try (CpuKernels k = new CpuKernels(2)) {
            blk.forward(k, x, y, B, T, null);
            assertClose(reference.apply(x), y, y.length, 1e-5, what + ": float forward vs double definition");
            for (Param p : blk.parameters()) p.zeroGrad();
            blk.backward(k, R, dx);
        }
        DoubleSupplier loss = () -> dot(reference.apply(x), R);
        double scale = 0;                                     // the block's gradient scale: its largest gradient entry
        for (Param p : blk.parameters()) for (float g : p.grad) scale = Math.max(scale, Math.abs(g));
        assertGradDouble(what + " dx", x, dx, loss);
        for (Param p : blk.parameters()) {
            boolean nearZero = p.name.endsWith("mlstm_cell.igate.bias");     // see assertGradDouble(…, scale)
            assertGradDouble(what + " " + p.name, p.data, p.grad, loss, nearZero ? 1e-2 * scale : 1e-12);
        }
    }

    private static float[] bias(Linear l) { return l.bias == null ? null : l.bias.data; }
}
