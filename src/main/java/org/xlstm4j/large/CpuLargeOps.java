package org.xlstm4j.large;

import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlockState;
import org.xlstm4j.cells.MLstmCell;
import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.MappedMatmul;
import org.xlstm4j.tensor.MappedWeight;
import org.xlstm4j.tensor.VectorOps;

/**
 * {@link LargeOps} on the CPU: float32 arrays, matrix products straight from the memory-mapped weights in their stored
 * type ({@link MappedMatmul}), the cell of {@link MLstmCell} (SIMD step with heads in parallel for decoding).
 * Element-wise activations over whole rows (output gate, SwiGLU, residual, logit soft cap) are SIMD ({@link VectorOps});
 * the per-head gate pre-activations stay scalar. Nothing is allocated per decoding step.
 */
public final class CpuLargeOps implements LargeOps<float[]> {
    private final Kernels kernels;
    private final MappedMatmul mm;
    private final MLstmCell cell;
    private int[] idx;
    private int T, p0;

    public CpuLargeOps(Kernels kernels, int NH, int DK, int DV, float eps) {
        this.kernels = kernels;
        this.mm = new MappedMatmul(kernels, kernels.threads());
        this.cell = new MLstmCell(NH, DK, DV, eps);
    }

    @Override public float[] ensure(float[] a, long n) { return Buffers.ensure(a, Math.toIntExact(n)); }

    @Override public void setTokens(int[] idx, int B, int T, int p0, int Ts) {
        this.idx = idx;
        this.T = T;
        this.p0 = p0;
    }

    @Override public void embed(MappedWeight embedding, float[] x, int B, int Ts) {
        int E = embedding.cols();
        for (int b = 0; b < B; b++)
            for (int t = 0; t < Ts; t++) {
                int id = idx[b * T + p0 + t];
                embedding.decode(id, id + 1, x, (b * Ts + t) * E);
            }
    }

    @Override public void rmsNorm(RMSNorm norm, float[] x, float[] y, int rows) { norm.forward(x, y, rows); }

    @Override public void copy(float[] src, float[] dst, long n) { System.arraycopy(src, 0, dst, 0, Math.toIntExact(n)); }

    /** Long bf16 rows (the FFN down projections) get a column-panel copy for decoding ({@link MappedMatmul#keepPanels}). */
    @Override public void prepare(MappedWeight w) { mm.keepPanels(w); }

    /** Rows looked up one at a time are read from the mapping: no copy. */
    @Override public void prepareLookup(MappedWeight w) {}

    @Override public void matmul(float[] x, MappedWeight w, float[] y, int rows) { mm.matmul(x, 0, w, y, 0, rows); }

    @Override public void gatePreactivations(float[] g, float[] bias, int rows, int NH, Double cap) {
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < NH; j++) {
                float a = g[r * NH + j] + bias[j];
                g[r * NH + j] = cap == null ? a : Activations.softcap(a, cap.floatValue());
            }
    }

    @Override public void toHeads(float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] qh, float[] kh, float[] vh,
                                  float[] igh, float[] fgh, int B, int Ts, int a, int b, int NH, int DK, int DV) {
        toHeads(q, qh, B, Ts, a, b, NH, DK);
        toHeads(k, kh, B, Ts, a, b, NH, DK);
        toHeads(v, vh, B, Ts, a, b, NH, DV);
        toHeads(ig, igh, B, Ts, a, b, NH, 1);
        toHeads(fg, fgh, B, Ts, a, b, NH, 1);
    }

    /** Rows [B, Ts, NH·D], tokens [a, b) → [B, NH, b − a, D]. */
    private static void toHeads(float[] src, float[] dst, int B, int Ts, int a, int b, int NH, int D) {
        int n = b - a;
        for (int bb = 0; bb < B; bb++)
            for (int hd = 0; hd < NH; hd++)
                for (int t = a; t < b; t++)
                    System.arraycopy(src, ((bb * Ts + t) * NH + hd) * D, dst, ((bb * NH + hd) * n + t - a) * D, D);
    }

    @Override public void mlstm(float[] qh, float[] kh, float[] vh, float[] igh, float[] fgh, float[] hh, int B, int n,
                                int chunk, BlockState state) {
        MLstmState s = ((MLstmBlockState) state).cell;
        if (chunk > 0) cell.forwardChunkwise(qh, kh, vh, igh, fgh, hh, B, n, chunk, s);
        else if (n == 1) cell.step(kernels, qh, kh, vh, igh, fgh, hh, B, s);      // decoding: SIMD, heads in parallel
        else cell.forwardRecurrent(qh, kh, vh, igh, fgh, hh, B, n, s);
    }

    @Override public void fromHeads(float[] hh, float[] h, int B, int Ts, int a, int b, int NH, int DV) {
        int n = b - a;
        for (int bb = 0; bb < B; bb++)
            for (int hd = 0; hd < NH; hd++)
                for (int t = a; t < b; t++)
                    System.arraycopy(hh, ((bb * NH + hd) * n + t - a) * DV, h, ((bb * Ts + t) * NH + hd) * DV, DV);
    }

    @Override public void multiHeadNorm(MultiHeadLayerNorm norm, float[] h, float[] hn, int rows) { norm.forward(h, hn, rows); }

    @Override public void outputGate(float[] o, float[] hn, long n) {
        VectorOps.mulSigmoid(o, 0, hn, 0, (int) n);
    }

    @Override public void addInPlace(float[] x, float[] d, long n) {
        VectorOps.axpy(1f, d, 0, x, 0, (int) n);
    }

    @Override public void swiGlu(float[] gate, float[] up, long n) {
        VectorOps.siluMul(gate, 0, up, 0, (int) n);
    }

    @Override public void head(float[] xn, MappedWeight lmHead, float[] logits, int B, int T, int p0, int Ts, Double cap) {
        int V = lmHead.rows();
        if (Ts == T) mm.matmul(xn, 0, lmHead, logits, 0, B * Ts);
        else for (int b = 0; b < B; b++) mm.matmul(xn, b * Ts * lmHead.cols(), lmHead, logits, (b * T + p0) * V, Ts);
        if (cap != null) {
            float c = cap.floatValue();
            for (int b = 0; b < B; b++)
                VectorOps.softcap(c, logits, (b * T + p0) * V, Ts * V);
        }
    }

    @Override public BlockState newBlockState(int B, int NH, int DK, int DV) {
        return new MLstmBlockState(MLstmState.zeros(B, NH, DK, DV), new float[0]);
    }

    @Override public void close() { mm.close(); }
}
