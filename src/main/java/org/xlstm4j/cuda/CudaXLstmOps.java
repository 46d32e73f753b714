package org.xlstm4j.cuda;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.Block;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlock;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.blocks.SLstmBlock;
import org.xlstm4j.blocks.SLstmLayer;
import org.xlstm4j.layers.CausalConv1d;
import org.xlstm4j.layers.HeadwiseLinear;
import org.xlstm4j.layers.LayerNorm;
import org.xlstm4j.layers.Linear;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.model.Checkpoint;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.Param;
import org.xlstm4j.model.XLstmInference;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.model.XLstmOps;
import org.xlstm4j.tensor.ScalarKernels;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@link XLstmOps} on a GPU for the paper architecture, in fp32 throughout (the paper checkpoints are fp32): cuBLAS
 * SGEMM for the projections, the mLSTM cell on {@link CudaMLstm}'s chunkwise and step kernels, the sLSTM cell as
 * {@link CudaSLstm}'s fused kernel (one launch over the whole sequence, R on chip), and small kernels of
 * {@code paper.cu} for norms, headwise projections, the causal conv, gates and the element-wise steps. Parameters
 * are uploaded once ({@link #prepare}); states live on the device ({@link CudaXLstmState}). All work is queued on one
 * stream; a forward waits only when it copies the logits back. Decoding steps replay a captured CUDA graph
 * ({@link #decodeStep}).
 */
public final class CudaXLstmOps implements XLstmOps<DeviceBuffer> {
    private static final int THREADS = 256;
    /** The chunk size of the chunkwise mLSTM form on the GPU (the kernels' largest). */
    private static final int CHUNK = CudaMLstm.MAX_CHUNK;

    private final CudaDevice device;
    private final CudaModule mod, large;
    private final CudaStream stream;
    private final CuBlas blas;
    private final Map<Param, DeviceBuffer> params = new IdentityHashMap<>();
    private final Map<String, DeviceBuffer> slices = new HashMap<>();
    private final Map<MLstmLayer, CudaMLstm> mlstmCells = new IdentityHashMap<>();
    private final Map<SLstmLayer, CudaSLstm> slstmCells = new IdentityHashMap<>();
    private final Map<SLstmLayer, DeviceBuffer> recurrent = new IdentityHashMap<>();
    private final List<CudaXLstmState> states = new ArrayList<>();
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final HostBuffer idsHost = new HostBuffer(), logitsHost = new HostBuffer();
    private DeviceBuffer ids, qh, kh, vh, hh, gih, gfh, logits;
    // decoding graph: captured for one state and batch, valid while no buffer moved (generation)
    private boolean useGraphs = true, capturing;
    private final DecodeGraph graph = new DecodeGraph();
    private long generation;

    public CudaXLstmOps(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        this.mod = device.module("paper.cu");
        this.large = device.module("large.cu");
        this.stream = device.newStream();
        try {
            this.blas = device.newCuBlas();
            blas.setStream(stream);
        } catch (RuntimeException | Error e) {
            stream.close();
            throw e;
        }
    }

    /** Loads a paper checkpoint folder onto device 0 (CUDA must be available: see {@link Cuda#available()}). */
    public static XLstmInference<DeviceBuffer> load(Path dir) {
        XLstmLM model = Checkpoint.load(dir, new ScalarKernels());
        return new XLstmInference<>(model, new CudaXLstmOps(Cuda.device()));
    }

    /** Waits for all queued work (errors of that work surface here). */
    public void synchronize() {
        device.makeCurrent();
        stream.synchronize();
    }

    @Override public String name() { return "cuda fp32 (" + device.name + ")"; }

    // ---------------------------------------------------------------------------------------------- buffers, params

    @Override public DeviceBuffer ensure(DeviceBuffer a, long n) {
        long bytes = Math.max(4, n * 4);
        if (a != null && a.bytes >= bytes) return a;
        device.makeCurrent();
        if (capturing) throw new IllegalStateException("CudaXLstmOps: buffer growth during a graph capture");
        if (a != null) {
            owned.remove(a);
            stream.synchronize();                   // queued work may still read it
            a.close();
        }
        DeviceBuffer b = device.allocate(bytes);
        owned.add(b);
        generation++;
        return b;
    }

    @Override public void prepare(Param p) {
        if (params.containsKey(p)) return;
        if (capturing) throw new IllegalStateException("CudaXLstmOps: parameter first used during a graph capture");
        device.makeCurrent();
        generation++;
        DeviceBuffer b = device.allocate((long) p.size() * 4);
        b.copyFrom(p.data);
        params.put(p, b);
    }

    private DeviceBuffer param(Param p) {
        DeviceBuffer b = params.get(p);
        if (b == null) {
            prepare(p);
            b = params.get(p);
        }
        return b;
    }

    /** Elements [from, from + n) of a parameter as a buffer of their own (uploaded on first use). */
    private DeviceBuffer slice(Param p, long from, long n) {
        if (from == 0 && n == p.size()) return param(p);
        return slices.computeIfAbsent(p.name + "@" + from + "+" + n, k -> {
            if (capturing) throw new IllegalStateException("CudaXLstmOps: parameter first used during a graph capture");
            generation++;
            float[] part = new float[Math.toIntExact(n)];
            System.arraycopy(p.data, Math.toIntExact(from), part, 0, part.length);
            DeviceBuffer b = device.allocate(n * 4);
            b.copyFrom(part);
            return b;
        });
    }

    // ---------------------------------------------------------------------------------------------- the ops

    @Override public void setTokens(int[] idx, int rows) {
        device.makeCurrent();
        MemorySegment host = idsHost.atLeast(rows * 4L);
        MemorySegment.copy(idx, 0, host, JAVA_INT, 0, rows);
        if (ids == null || ids.bytes < rows * 4L) {
            if (ids != null) { stream.synchronize(); ids.close(); }
            ids = device.allocate(Math.max(64, rows * 8L));
            generation++;
        }
        device.driver().memcpyHtoDAsync(ids.address(), host, rows * 4L, stream.handle());
    }

    @Override public void embed(Param embedding, DeviceBuffer x, int rows) {
        mod.kernel("p_embed").launch(stream, rows, 1, 1, THREADS, 1, 1, 0, ids, param(embedding), x, embedding.shape[1]);
    }

    @Override public void layerNorm(LayerNorm norm, DeviceBuffer x, DeviceBuffer y, int rows) {
        groupNorm(x, y, rows, 1, norm.dim(), norm.weight, norm.bias, norm.eps(), norm.offsetScale());
    }

    @Override public void multiHeadNorm(MultiHeadLayerNorm norm, DeviceBuffer x, DeviceBuffer y, int rows) {
        groupNorm(x, y, rows, norm.numHeads(), norm.headDim(), norm.weight, null, norm.eps(), norm.offsetScale());
    }

    private void groupNorm(DeviceBuffer x, DeviceBuffer y, int rows, int groups, int gdim, Param w, Param b, float eps,
                           boolean offset) {
        int threads = Math.min(1024, Math.max(32, (gdim + 31) / 32 * 32));
        mod.kernel("p_group_norm").launch(stream, rows * groups, 1, 1, threads, 1, 1, 0, x, param(w),
                b == null ? null : param(b), y, gdim, eps, offset ? 1f : 0f, groups);
    }

    @Override public void linear(DeviceBuffer x, Param weight, Param bias, int r0, int out, int in, DeviceBuffer y, int rows) {
        DeviceBuffer w = slice(weight, (long) r0 * in, (long) out * in);
        blas.sgemmRowMajor(false, true, rows, out, in, 1f, x, in, w, in, 0f, y, out);
        if (bias != null) launch1d("p_add_bias", (long) rows * out, y, slice(bias, r0, out), (long) rows * out, out);
    }

    @Override public void headwise(HeadwiseLinear layer, DeviceBuffer x, DeviceBuffer y, int rows) {
        int nh = layer.numHeads();
        launch1d("p_headwise", (long) rows * layer.out(), x, param(layer.weight), layer.bias == null ? null : param(layer.bias),
                y, (long) rows, nh, layer.in() / nh, layer.out() / nh);
    }

    @Override public void causalConv(CausalConv1d conv, DeviceBuffer x, DeviceBuffer y, int B, int T, BlockState state) {
        CudaXLstmState s = state(state);
        int C = conv.channels(), K = conv.kernelSize();
        launch1d("p_causal_conv", (long) B * T * C, x, param(conv.weight), conv.bias == null ? null : param(conv.bias), y,
                s.conv, B, T, C, K);
        launch1d("p_conv_state", (long) B * C, x, s.conv, B, T, C, K);
    }

    @Override public void silu(DeviceBuffer x, DeviceBuffer y, long n) {
        launch1d("p_silu", n, x, y, n);
    }

    @Override public void mlstmGates(Linear igate, Linear fgate, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                                     DeviceBuffer gi, DeviceBuffer gf, int rows, int I, int NH) {
        long warps = (long) rows * 2 * NH;
        int blocks = Math.toIntExact((warps * 32 + THREADS - 1) / THREADS);
        mod.kernel("p_mlstm_gates").launch(stream, blocks, 1, 1, THREADS, 1, 1, 0, q, k, v, param(igate.weight),
                param(igate.bias), param(fgate.weight), param(fgate.bias), gi, gf, (long) rows, I, NH);
    }

    @Override public void mlstmCell(MLstmLayer layer, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer gi,
                                    DeviceBuffer gf, DeviceBuffer h, int B, int T, BlockState state) {
        CudaXLstmState s = state(state);
        CudaMLstm cell = mlstmCells.computeIfAbsent(layer,
                l -> new CudaMLstm(device, l.NH, l.DH, l.DH, l.cell.eps));
        if (T == 1) {                                       // rows [B, 1, NH, D] are heads [B, NH, 1, D]
            DeviceMLstmState d = s.mlstm;
            cell.step(stream, DType.FP32, q, k, v, gi, gf, h, B, d);
            // the step wrote n, m into the other buffers: copy them back and keep the current ones, so that every step
            // reads and writes the same buffers (what a captured graph replays)
            copy(d.n(), d.nOther(), d.n().bytes / 4);
            copy(d.m(), d.mOther(), d.m().bytes / 4);
            d.flip();
            return;
        }
        long n = (long) B * T * layer.I, g = (long) B * T * layer.NH;
        qh = ensure(qh, n); kh = ensure(kh, n); vh = ensure(vh, n); hh = ensure(hh, n);
        gih = ensure(gih, g); gfh = ensure(gfh, g);
        int hr = B * layer.NH * T;                           // the layout kernels of large.cu, one block per head row
        for (DeviceBuffer[] pr : new DeviceBuffer[][]{{q, qh}, {k, kh}, {v, vh}})
            large.kernel("to_heads_f32").launch(stream, hr, 1, 1, 128, 1, 1, 0, pr[0], pr[1], B, T, 0, T, layer.NH, layer.DH);
        largeLaunch1d("gates_to_heads", hr, gi, gih, B, T, 0, T, layer.NH);
        largeLaunch1d("gates_to_heads", hr, gf, gfh, B, T, 0, T, layer.NH);
        cell.forwardChunkwise(stream, DType.FP32, qh, kh, vh, gih, gfh, hh, B, T, CHUNK, s.mlstm);   // spec §3.4
        large.kernel("from_heads_f32").launch(stream, hr, 1, 1, 128, 1, 1, 0, hh, h, B, T, 0, T, layer.NH, layer.DH);
    }

    private void largeLaunch1d(String kernel, long n, Object... args) {
        large.launch1d(kernel, stream, n, args);
    }

    @Override public void mlstmOutput(Param skip, DeviceBuffer hn, DeviceBuffer xc, DeviceBuffer z, DeviceBuffer out,
                                      int rows, int I) {
        long n = (long) rows * I;
        launch1d("p_mlstm_output", n, hn, xc, z, param(skip), out, n, I);
    }

    @Override public void interleaveGates(DeviceBuffer i, DeviceBuffer f, DeviceBuffer z, DeviceBuffer o,
                                          DeviceBuffer gates, int rows, int E) {
        launch1d("p_interleave", 4L * rows * E, i, f, z, o, gates, (long) rows, E);
    }

    @Override public void slstmCell(SLstmLayer layer, DeviceBuffer gates, DeviceBuffer h, int B, int T, BlockState state) {
        CudaXLstmState s = state(state);
        CudaSLstm cell = slstmCells.computeIfAbsent(layer, l -> new CudaSLstm(device, l.NH, l.DH));
        DeviceBuffer R = recurrent.computeIfAbsent(layer,
                l -> CudaSLstm.uploadRecurrentKernel(device, l.cell.recurrentKernel().data, l.NH, l.DH, DType.FP32));
        cell.forward(stream, DType.FP32, gates, R, param(layer.cell.bias()), h, B, T, s.slstm);   // spec §2.1
    }

    @Override public void gatedAct(DeviceBuffer up, DeviceBuffer h, int rows, int P, boolean gelu) {
        launch1d("p_gated_act", (long) rows * P, up, h, (long) rows, P, gelu ? 1 : 0);
    }

    @Override public void add(DeviceBuffer src, DeviceBuffer dst, long n) {
        launch1d("p_add", n, src, dst, n);
    }

    @Override public void sum(DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long n) {
        launch1d("p_sum", n, a, b, y, n);
    }

    @Override public void copy(DeviceBuffer src, DeviceBuffer dst, long n) {
        launch1d("p_copy", n, src, dst, n);
    }

    @Override public void head(DeviceBuffer xn, Param weight, float[] host, int rows, int V, int E) {
        logits = ensure(logits, (long) rows * V);
        blas.sgemmRowMajor(false, true, rows, V, E, 1f, xn, E, param(weight), E, 0f, logits, V);
    }

    @Override public void readLogits(float[] host, int rows, int V) {
        long n = (long) rows * V;
        MemorySegment staging = logitsHost.atLeast(n * 4);
        device.driver().memcpyDtoHAsync(staging, logits.address(), n * 4, stream.handle());
        stream.synchronize();
        MemorySegment.copy(staging, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, host, 0, Math.toIntExact(n));
        for (int i = 0; i < n; i++)                            // never a silent NaN
            if (!Float.isFinite(host[i]))
                throw new CudaException("the CUDA forward produced non-finite logits (NaN or infinity) at row " + i / V);
    }

    /** Frees the device memory of a state made by {@link #newState} (it must not be used afterwards). */
    @Override public void release(BlockState state) {
        if (state instanceof CudaXLstmState c && c.ops == this && states.remove(c)) {
            if (graph.holds(c)) dropGraph();
            stream.synchronize();
            c.close();
        }
    }

    /** How many block states this backend holds on the device (for tests). */
    int liveStates() { return states.size(); }

    /** Waits for everything queued on the device, including the host copies and memsets of the states. */
    void deviceSynchronize() {
        device.synchronize();
    }

    @Override public BlockState newState(Block block, int B) {
        device.makeCurrent();
        if (block instanceof MLstmBlock mb && (long) B * mb.layer.NH > 65535)
            throw new UserError("batch " + B + " × " + mb.layer.NH + " mLSTM heads exceeds the GPU kernels' 65535 (batch × heads)");
        BlockState host = block.newState(B);
        CudaXLstmState s;
        if (block instanceof MLstmBlock mb) {
            MLstmLayer l = mb.layer;
            s = new CudaXLstmState(this, host, new DeviceMLstmState(device, B, l.NH, l.DH, l.DH), null,
                    device.allocate(Math.max(4, (long) B * l.K * l.I * 4)));
        } else {
            SLstmLayer l = ((SLstmBlock) block).layer;
            if (l.DH > CudaSLstm.MAX_DH_FP32)
                throw new UserError("sLSTM head size " + l.DH + " exceeds the GPU kernel's fp32 limit " + CudaSLstm.MAX_DH_FP32
                        + "; use --device cpu");
            s = new CudaXLstmState(this, host, null, new CudaSLstm.State(device, B, l.E),
                    device.allocate(Math.max(4, (long) B * l.K * l.E * 4)));
        }
        states.add(s);
        return s;
    }

    private CudaXLstmState state(BlockState s) {
        if (!(s instanceof CudaXLstmState c) || c.ops != this || !states.contains(c))
            throw new IllegalArgumentException("the recurrent state was not made by this CUDA model (use its newState)");
        c.beforeDeviceUse();
        return c;
    }

    // ---------------------------------------------------------------------------------------------- decoding graph

    /** Whether decoding steps are captured into a CUDA graph (default true). */
    public void setUseGraphs(boolean on) {
        useGraphs = on;
        if (!on) dropGraph();
    }

    /** How many decoding steps were replays of a captured graph. */
    public long graphReplays() { return graph.replays(); }

    /**
     * The first step for a state and batch runs eagerly (it allocates and uploads what the step needs), the second is
     * captured into a graph, and later ones replay it: every step reads and writes the same buffers (tokens, activations,
     * the states' device buffers in place), so only the token upload and the logits copy happen outside the graph.
     */
    @Override public void decodeStep(LMState s, int B, Runnable step) {
        device.makeCurrent();
        if (!useGraphs) {
            step.run();
            return;
        }
        if (graph.canReplay(s, B, generation)) {
            for (var bs : s.blocks) state(bs);                 // uploads what the host may have changed
            graph.replay(stream);
            return;
        }
        if (graph.warmedUp(s, B, generation)) {
            dropGraph();
            for (var bs : s.blocks) state(bs);
            long gen = generation;
            CudaGraph g;
            capturing = true;
            try {
                g = CudaGraph.capture(device, stream, step);
            } catch (CudaException | IllegalStateException e) {
                useGraphs = false;                              // eager from now on
                System.err.println("note: CUDA graph capture failed, decoding without graphs: " + e.getMessage());
                capturing = false;
                step.run();
                return;
            } finally {
                capturing = false;
            }
            if (generation != gen) {
                g.close();
                throw new IllegalStateException("CudaXLstmOps: buffers changed during the graph capture");
            }
            graph.set(g, s, B, generation);
            graph.replay(stream);                               // nothing ran during the capture
            return;
        }
        step.run();
        graph.warm(s, B, generation);
    }

    private void dropGraph() {
        graph.drop(stream);
    }

    private void launch1d(String kernel, long n, Object... args) {
        mod.launch1d(kernel, stream, n, args);
    }

    @Override public void close() {
        device.afterStream(stream, () -> {
            dropGraph();
            for (CudaXLstmState s : states) s.close();
            states.clear();
            DeviceBuffer.closeAll(params.values());
            DeviceBuffer.closeAll(slices.values());
            DeviceBuffer.closeAll(recurrent.values());
            for (CudaMLstm c : mlstmCells.values()) c.close();
            for (CudaSLstm c : slstmCells.values()) c.close();
            DeviceBuffer.closeAll(owned);
            if (ids != null) ids.close();
            blas.close();
            stream.close();
            idsHost.close();
            logitsHost.close();
        });
    }
}
