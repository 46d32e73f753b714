package org.xlstm4j.blocks;

import org.xlstm4j.cells.MLstmCell;
import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.layers.CausalConv1d;
import org.xlstm4j.layers.HeadwiseLinear;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.model.Param;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.RowOps;
import org.xlstm4j.tensor.SmallMatmul;
import org.xlstm4j.tensor.VectorOps;

import java.util.ArrayList;
import java.util.List;

/**
 * The mLSTM layer of the paper's pre-up-projection block (spec §4.1), forward and backward side by side:
 * up-projection → causal conv + SiLU → headwise q, k (from the conv branch) and v (from the pre-conv branch) →
 * scalar gates from concat(q, k, v) → mLSTM cell → multi-head norm → learnable skip → SiLU(z) output gate → down.
 *
 * <p>The activations stay in the rows-major layout [B·T, features] throughout: the up-projection writes its two halves
 * (x_m and z) as two products into separate buffers, the gate projections read q, k, v in place instead of their
 * concatenation, and the chunkwise cell works on the rows layout directly; element-wise steps are fused SIMD kernels
 * ({@link RowOps}). Row-wise work is split over the backend's threads. Buffers needed only during one call live in a
 * {@link Workspace} that a model shares between its layers ({@link #useWorkspace}).
 */
public final class MLstmLayer {
    /** Which formulation the cell uses for multi-token forwards (the step form is used for single tokens with state). */
    public enum Form { PARALLEL, CHUNKWISE }

    public final int E, I, NH, DH, K;
    public final Linear projUp, igate, fgate, projDown;
    public final HeadwiseLinear qProj, kProj, vProj;
    public final CausalConv1d conv;  // null when conv1d_kernel_size == 0
    public final MLstmCell cell;
    public final MultiHeadLayerNorm outnorm;
    public final Param learnableSkip;
    Form form = Form.CHUNKWISE;
    /** {@link #setForm} chunk size that picks the chunk from the sequence length and head size ({@link #chunkFor}). */
    public static final int AUTO_CHUNK = 0;
    int chunkSize = AUTO_CHUNK;

    // saved activations [rows, ·], grown on demand; x_c, hs and out live in the workspace and are recomputed in the
    // backward (one SiLU, one group norm and the output gate: cheap next to what keeping them costs in memory)
    private float[] xm, z, xconv, gi, gf, h;
    private float[] q, k, v;                           // saved only for the step and parallel forms (else workspace)
    private float[] xc, hs, out;                       // workspace views during one forward or backward
    private float[] qh, kh, vh, gih, gfh, hh;          // heads-major copies, parallel form only
    private Workspace ws = new Workspace();
    private float[] x;                                 // input of the last forward (owned by the caller)
    private float[] qSaved, kSaved, vSaved, xcSaved, hsSaved, outSaved;
    private boolean recompute;
    /** Chunkwise activations of at most this many floats per buffer are kept instead of recomputed (0: never). */
    static final long KEEP_FLOATS = 0;
    private int B, T;
    private boolean rowsLayout;   // the last forward ran the cell on the rows-major activations

    // row-parallel tasks: arguments of the running call, per-worker gradient partials
    private int taskRows, taskCount;
    private float[] tA, tB, tC, tD, tE;
    private float[][] skipPartials = new float[0][];
    private final Kernels.Task gatesForwardTask = (t, w) -> gatesForward(lo(t), hi(t));
    private final Kernels.Task outputTask = this::outputRows;
    private final Kernels.Task outputBackwardTask = this::outputBackwardRows;
    private final Kernels.Task siluTask = this::siluRows;
    private final Kernels.Task siluGradTask = this::siluGradRows;

    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int LN = SP.length();

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

    /**
     * Chooses the cell formulation for multi-token forwards without state (with state: always chunkwise) and the chunk
     * size of the chunkwise form ({@link #AUTO_CHUNK} = chosen per call by {@link #chunkFor}).
     */
    public void setForm(Form form, int chunkSize) {
        if (chunkSize < 0) throw new IllegalArgumentException("chunk size must be >= 1 (or 0 = auto), got " + chunkSize);
        this.form = form;
        this.chunkSize = chunkSize;
    }

    MLstmBlockState newState(int B) {
        return new MLstmBlockState(MLstmState.zeros(B, NH, DH, DH), new float[B * Math.max(K, 0) * I]);
    }

    /**
     * The chunk size used for a T-token forward: the configured one, or with {@link #AUTO_CHUNK} one chunk of T tokens
     * when T ≤ 64 + 1.5·DH, else 64. Per token, the chunkwise form costs about 7·L·DH multiply-adds inside a chunk of L
     * (forward and backward) plus 12·DH² across chunk borders, so one chunk is cheaper while T − L &lt; 1.7·DH; memory
     * stays linear in T because long sequences use chunks of 64.
     */
    public int chunkFor(int T) {
        if (chunkSize != AUTO_CHUNK) return chunkSize;
        return T <= 64 + 3 * DH / 2 ? T : 64;
    }

    /** Shares backward and forward scratch with other layers of the same model (one model runs one layer at a time). */
    public void useWorkspace(Workspace w) {
        this.ws = w;
    }

    private void ensure(int rows) {
        int nI = rows * I;
        xm = Buffers.ensure(xm, nI); z = Buffers.ensure(z, nI); xconv = Buffers.ensure(xconv, nI);
        gi = Buffers.ensure(gi, rows * NH); gf = Buffers.ensure(gf, rows * NH);
        h = Buffers.ensure(h, nI);
    }

    /** x [B,T,E] (already normed) → y [B,T,E]; state null = zeros (not returned), else initial and overwritten. */
    public void forward(Kernels kern, float[] x, float[] y, int B, int T, MLstmBlockState state) {
        this.B = B;
        this.T = T;
        this.x = x;
        int rows = B * T, nI = rows * I;
        ensure(rows);
        rowsLayout = !(state == null && form == Form.PARALLEL) && !(state != null && T == 1);
        // with the chunkwise form x_c, hs, out, q, k, v live in the shared workspace and the backward recomputes them
        // (a SiLU, three 4×4 headwise products, a group norm and the output gate: keeping them instead measured no
        // faster, within 1% of a step, for 6 more activations per layer); the parallel and step forms keep them
        recompute = rowsLayout && (long) nI > KEEP_FLOATS;
        if (recompute) {
            xc = ws.get(16, nI); hs = ws.get(18, nI); out = ws.get(19, nI);
            q = ws.get(20, nI); k = ws.get(21, nI); v = ws.get(22, nI);
        } else {
            xcSaved = Buffers.ensure(xcSaved, nI); hsSaved = Buffers.ensure(hsSaved, nI); outSaved = Buffers.ensure(outSaved, nI);
            qSaved = Buffers.ensure(qSaved, nI); kSaved = Buffers.ensure(kSaved, nI); vSaved = Buffers.ensure(vSaved, nI);
            xc = xcSaved; hs = hsSaved; out = outSaved; q = qSaved; k = kSaved; v = vSaved;
        }
        // spec §4.1 step 1: [x_m | z] = proj_up(x), as two products into separate buffers
        float[] wUp = projUp.weight.data;
        kern.matmulXWt(x, 0, wUp, 0, xm, 0, rows, I, E, false);
        kern.matmulXWt(x, 0, wUp, I * E, z, 0, rows, I, E, false);
        if (projUp.bias != null) { addBias(xm, projUp.bias.data, 0, rows); addBias(z, projUp.bias.data, I, rows); }
        if (conv != null) conv.forward(kern, xm, xconv, B, T, state == null ? null : state.conv);   // step 2
        else System.arraycopy(xm, 0, xconv, 0, nI);
        runRows(kern, rows, siluTask);
        qProj.forward(kern, xc, q, rows);                                   // step 3: q, k from the conv branch
        kProj.forward(kern, xc, k, rows);
        vProj.forward(kern, xm, v, rows);                                   // v from the pre-conv branch
        runRows(kern, rows, gatesForwardTask);                              // step 4: gates from [q | k | v]
        if (state != null && T == 1) {
            cell.step(kern, q, k, v, gi, gf, h, B, state.cell);            // [B, 1, NH, D] is [B, NH, 1, D]
        } else if (rowsLayout) {
            cell.forwardChunkwise(kern, q, k, v, gi, gf, h, B, T, chunkFor(T), state == null ? null : state.cell, true, true);
        } else {
            qh = Buffers.ensure(qh, nI); kh = Buffers.ensure(kh, nI); vh = Buffers.ensure(vh, nI); hh = Buffers.ensure(hh, nI);
            gih = Buffers.ensure(gih, rows * NH); gfh = Buffers.ensure(gfh, rows * NH);
            Buffers.rowsToHeads(q, qh, B, T, NH, DH);
            Buffers.rowsToHeads(k, kh, B, T, NH, DH);
            Buffers.rowsToHeads(v, vh, B, T, NH, DH);
            Buffers.rowsToHeads(gi, gih, B, T, NH, 1);
            Buffers.rowsToHeads(gf, gfh, B, T, NH, 1);
            cell.forwardParallel(qh, kh, vh, gih, gfh, hh, B, T);
            Buffers.headsToRows(hh, h, B, T, NH, DH);
        }
        float[] hn = ws.get(17, nI);
        outnorm.forward(kern, h, hn, rows);                                       // step 5
        tA = hn;
        runRows(kern, rows, outputTask);                                    // steps 6–7: skip, SiLU(z) output gate
        tA = null;
        projDown.forward(kern, out, y, rows);                               // step 8
        xc = hs = out = null;
    }

    /** dy [B,T,E] → dx [B,T,E] (overwritten); accumulates parameter gradients. */
    public void backward(Kernels kern, float[] dy, float[] dx) {
        int rows = B * T, nI = rows * I;
        float[] dHs = ws.get(0, nI), dZ = ws.get(1, nI), dXc = ws.get(2, nI), dXm = ws.get(3, nI), dH = ws.get(4, nI);
        float[] dQ = ws.get(5, nI), dK = ws.get(6, nI), dV = ws.get(7, nI);
        float[] dGi = ws.get(8, rows * NH), dGf = ws.get(9, rows * NH);
        if (recompute) { // x_c = SiLU(conv), q, k, v, hn = outnorm(h), hs and out, as in the forward
            xc = ws.get(16, nI); hs = ws.get(18, nI); out = ws.get(19, nI);
            runRows(kern, rows, siluTask);
            q = ws.get(20, nI); k = ws.get(21, nI); v = ws.get(22, nI);
            qProj.forward(kern, xc, q, rows);
            kProj.forward(kern, xc, k, rows);
            vProj.forward(kern, xm, v, rows);
            cell.rebindInputs(q, k, v);
            float[] hn = ws.get(17, nI);
            outnorm.forward(kern, h, hn, rows);
            tA = hn;
            runRows(kern, rows, outputTask);
            tA = null;
        } else {
            xc = xcSaved; hs = hsSaved; out = outSaved; q = qSaved; k = kSaved; v = vSaved;
        }

        projDown.backward(kern, dy, dHs, rows, false, out);                 // dHs holds d out, then d hs (in place)
        int workers = 2 * kern.threads();   // one partial per task (at most 2 per thread): a fixed summation order
        skipPartials = partials(skipPartials, workers, I);
        tA = dHs; tB = dZ; tC = dXc;
        runRows(kern, rows, outputBackwardTask);
        tA = tB = tC = null;
        sumPartials(skipPartials, workers, learnableSkip.grad, I);
        outnorm.backward(kern, dHs, dH, rows, false);
        if (rowsLayout) {
            cell.backward(dH, dQ, dK, dV, dGi, dGf);
        } else {
            float[] dHh = ws.get(10, nI), dQh = ws.get(11, nI), dKh = ws.get(12, nI), dVh = ws.get(13, nI);
            float[] dGih = ws.get(14, rows * NH), dGfh = ws.get(15, rows * NH);
            Buffers.rowsToHeads(dH, dHh, B, T, NH, DH);
            cell.backward(dHh, dQh, dKh, dVh, dGih, dGfh);
            Buffers.headsToRows(dQh, dQ, B, T, NH, DH);
            Buffers.headsToRows(dKh, dK, B, T, NH, DH);
            Buffers.headsToRows(dVh, dV, B, T, NH, DH);
            Buffers.headsToRows(dGih, dGi, B, T, NH, 1);
            Buffers.headsToRows(dGfh, dGf, B, T, NH, 1);
        }
        gatesBackward(kern, rows, dGi, dGf, dQ, dK, dV);                    // dq, dk, dv += dg·W; dW, db
        qProj.backward(kern, dQ, dXc, rows, true, xc);
        kProj.backward(kern, dK, dXc, rows, true, xc);
        vProj.backward(kern, dV, dXm, rows, false);
        tA = dXc;
        runRows(kern, rows, siluGradTask);                                  // dXc becomes d xconv (in place)
        tA = null;
        if (conv != null) conv.backward(kern, dXc, dXm, true);
        else RowOps.add(dXc, dXm, 0, nI);
        // proj_up: the two halves back as two products
        float[] wUp = projUp.weight.data, dwUp = projUp.weight.grad;
        kern.matmulDyTX(dXm, 0, x, 0, dwUp, 0, rows, I, E, true);
        kern.matmulDyTX(dZ, 0, x, 0, dwUp, I * E, rows, I, E, true);
        if (projUp.bias != null) { biasGrad(dXm, projUp.bias.grad, 0, rows); biasGrad(dZ, projUp.bias.grad, I, rows); }
        kern.matmulDyW(dXm, 0, wUp, 0, dx, 0, rows, I, E, false);
        kern.matmulDyW(dZ, 0, wUp, I * E, dx, 0, rows, I, E, true);
        xc = hs = out = null;
    }

    // ------------------------------------------------------------------ helpers

    private void addBias(float[] a, float[] bias, int bOff, int rows) {
        for (int r = 0; r < rows; r++) {
            int o = r * I;
            for (int i = 0; i < I; i++) a[o + i] += bias[bOff + i];
        }
    }

    private void biasGrad(float[] d, float[] db, int bOff, int rows) {
        for (int r = 0; r < rows; r++) {
            int o = r * I;
            for (int i = 0; i < I; i++) db[bOff + i] += d[o + i];
        }
    }

    private void outputRows(int t, int w) {
        RowOps.mlstmOutput(tA, xc, z, learnableSkip.data, hs, out, lo(t), hi(t), I);
    }

    private void outputBackwardRows(int t, int w) {
        RowOps.mlstmOutputBackward(tA, z, hs, xc, learnableSkip.data, tA, tB, tC, skipPartials[t], lo(t), hi(t), I);
    }

    private void siluRows(int t, int w) {
        RowOps.silu(xconv, xc, lo(t) * I, (hi(t) - lo(t)) * I);
    }

    private void siluGradRows(int t, int w) {
        RowOps.siluGradMul(tA, xconv, tA, lo(t) * I, (hi(t) - lo(t)) * I);
    }

    private void runRows(Kernels kern, int rows, Kernels.Task task) {
        taskRows = rows;
        taskCount = kern.parallelTasks() ? Math.max(1, Math.min(2 * kern.threads(), rows / 16)) : 1;
        kern.parallelFor(taskCount, task);
    }

    private int lo(int t) { return (int) ((long) taskRows * t / taskCount); }

    private int hi(int t) { return (int) ((long) taskRows * (t + 1) / taskCount); }

    private static float[][] partials(float[][] p, int workers, int n) {
        if (p.length < workers) p = java.util.Arrays.copyOf(p, workers);
        for (int i = 0; i < workers; i++) {
            if (p[i] == null || p[i].length < n) p[i] = new float[n];
            else java.util.Arrays.fill(p[i], 0, n, 0f);
        }
        return p;
    }

    private static void sumPartials(float[][] p, int workers, float[] into, int n) {
        for (int w = 0; w < workers; w++) RowOps.add(p[w], into, 0, n);
    }

    /**
     * gi[r, o] = b_i[o] + W_i[o]·[q_r | k_r | v_r] and the same for gf (spec §4.1 step 4), four outputs at a time,
     * reading q, k and v in place.
     */
    private void gatesForward(int r0, int r1) {
        gates(q, k, v, igate, fgate, gi, gf, r0, r1, I, NH);
    }

    /** Scalar twin of {@link #gates}: the same outputs to float rounding, one product at a time in plain float code. */
    public static void gatesScalar(float[] q, float[] k, float[] v, Linear igate, Linear fgate, float[] gi, float[] gf,
                                   int r0, int r1, int I, int NH) {
        for (int g = 0; g < 2; g++) {
            float[] W = g == 0 ? igate.weight.data : fgate.weight.data, bias = g == 0 ? igate.bias.data : fgate.bias.data;
            float[] out = g == 0 ? gi : gf;
            for (int r = r0; r < r1; r++)
                for (int o = 0; o < NH; o++) {
                    float s = 0f;
                    for (int seg = 0; seg < 3; seg++) {
                        float[] src = seg == 0 ? q : seg == 1 ? k : v;
                        for (int j = 0; j < I; j++) s += W[o * 3 * I + seg * I + j] * src[r * I + j];
                    }
                    out[r * NH + o] = bias[o] + s;
                }
        }
    }

    /**
     * gi[r, o] = b_i[o] + W_i[o]·[q_r | k_r | v_r] and the same for gf over rows [r0, r1) (spec §4.1 step 4): q, k, v
     * [rows, I] read in place, gates [rows, NH]; four outputs at a time.
     */
    public static void gates(float[] q, float[] k, float[] v, Linear igate, Linear fgate, float[] gi, float[] gf,
                             int r0, int r1, int I, int NH) {
        final int I3 = 3 * I;
        for (int g = 0; g < 2; g++) {
            float[] W = g == 0 ? igate.weight.data : fgate.weight.data, bias = g == 0 ? igate.bias.data : fgate.bias.data;
            float[] out = g == 0 ? gi : gf;
            for (int r = r0; r < r1; r++) {
                int xo = r * I;
                int o = 0;
                for (; o + 4 <= NH; o += 4) {
                    int w0 = o * I3, w1 = w0 + I3, w2 = w1 + I3, w3 = w2 + I3;
                    FloatVector a0 = FloatVector.zero(SP), a1 = a0, a2 = a0, a3 = a0;
                    for (int seg = 0; seg < 3; seg++) {
                        float[] src = seg == 0 ? q : seg == 1 ? k : v;
                        int so = seg * I;
                        for (int j = 0; j < I; j += LN) {
                            VectorMask<Float> m = SP.indexInRange(j, I);
                            FloatVector xv = FloatVector.fromArray(SP, src, xo + j, m);
                            a0 = FloatVector.fromArray(SP, W, w0 + so + j, m).fma(xv, a0);
                            a1 = FloatVector.fromArray(SP, W, w1 + so + j, m).fma(xv, a1);
                            a2 = FloatVector.fromArray(SP, W, w2 + so + j, m).fma(xv, a2);
                            a3 = FloatVector.fromArray(SP, W, w3 + so + j, m).fma(xv, a3);
                        }
                    }
                    out[r * NH + o] = bias[o] + a0.reduceLanes(VectorOperators.ADD);
                    out[r * NH + o + 1] = bias[o + 1] + a1.reduceLanes(VectorOperators.ADD);
                    out[r * NH + o + 2] = bias[o + 2] + a2.reduceLanes(VectorOperators.ADD);
                    out[r * NH + o + 3] = bias[o + 3] + a3.reduceLanes(VectorOperators.ADD);
                }
                for (; o < NH; o++) {
                    int w0 = o * I3;
                    FloatVector a0 = FloatVector.zero(SP);
                    for (int seg = 0; seg < 3; seg++) {
                        float[] src = seg == 0 ? q : seg == 1 ? k : v;
                        int so = seg * I;
                        for (int j = 0; j < I; j += LN) {
                            VectorMask<Float> m = SP.indexInRange(j, I);
                            a0 = FloatVector.fromArray(SP, W, w0 + so + j, m).fma(FloatVector.fromArray(SP, src, xo + j, m), a0);
                        }
                    }
                    out[r * NH + o] = bias[o] + a0.reduceLanes(VectorOperators.ADD);
                }
            }
        }
    }

    /**
     * Gate backward (spec §4.1 step 4) as small products over the combined gates [i | f] (2NH outputs):
     * dG [rows, 2NH], W [2NH, 3I]; d[q|k|v] += dG·W per segment (rows split over tasks), and dW += dGᵀ·[q|k|v],
     * db += Σ_rows dG (segments and column blocks split over tasks, so no reduction is needed).
     */
    private void gatesBackward(Kernels kern, int rows, float[] dGi, float[] dGf, float[] dQ, float[] dK, float[] dV) {
        final int G = 2 * NH, I3 = 3 * I;
        gW = Buffers.ensure(gW, G * I3);
        gdW = Buffers.ensure(gdW, G * I3);
        gdG = Buffers.ensure(gdG, rows * G);
        gdGT = Buffers.ensure(gdGT, G * rows);
        System.arraycopy(igate.weight.data, 0, gW, 0, NH * I3);
        System.arraycopy(fgate.weight.data, 0, gW, NH * I3, NH * I3);
        for (int r = 0; r < rows; r++) {
            System.arraycopy(dGi, r * NH, gdG, r * G, NH);
            System.arraycopy(dGf, r * NH, gdG, r * G + NH, NH);
        }
        SmallMatmul.transpose(rows, G, gdG, 0, G, gdGT, 0, rows);
        float[] dbi = igate.bias.grad, dbf = fgate.bias.grad;
        for (int o = 0; o < G; o++) {
            float sum = VectorOps.sum(gdGT, o * rows, rows);
            if (o < NH) dbi[o] += sum; else dbf[o - NH] += sum;
        }
        tC = dQ; tD = dK; tE = dV;
        runRows(kern, rows, gatesDxTask);
        taskRows = rows;
        gateCols = (I + GATE_COLS - 1) / GATE_COLS;
        java.util.Arrays.fill(gdW, 0, G * I3, 0f);
        kern.parallelFor(3 * gateCols, gatesDwTask);
        tC = tD = tE = null;
        RowOps.add(gdW, igate.weight.grad, 0, NH * I3);
        float[] dwf = fgate.weight.grad;
        for (int i = 0; i < NH * I3; i++) dwf[i] += gdW[NH * I3 + i];
    }

    /** Columns of one dW task (a multiple of the vector length). */
    private static final int GATE_COLS = 128;
    private int gateCols;
    private float[] gW, gdW, gdG, gdGT;
    private final Kernels.Task gatesDxTask = this::gatesDxRows;
    private final Kernels.Task gatesDwTask = this::gatesDwCols;

    private void gatesDxRows(int t, int w) {
        final int G = 2 * NH, I3 = 3 * I, r0 = lo(t), r1 = hi(t);
        for (int seg = 0; seg < 3; seg++) {
            float[] dst = seg == 0 ? tC : seg == 1 ? tD : tE;
            SmallMatmul.gemm(r1 - r0, I, G, gdG, r0 * G, G, gW, seg * I, I3, dst, r0 * I, I, true, SmallMatmul.FULL);
        }
    }

    private void gatesDwCols(int t, int w) {
        final int G = 2 * NH, I3 = 3 * I, rows = taskRows;
        int seg = t / gateCols, c0 = (t % gateCols) * GATE_COLS, c1 = Math.min(I, c0 + GATE_COLS);
        float[] src = seg == 0 ? q : seg == 1 ? k : v;
        SmallMatmul.gemm(G, c1 - c0, rows, gdGT, 0, rows, src, c0, I, gdW, seg * I + c0, I3, true, SmallMatmul.FULL);
    }
}
