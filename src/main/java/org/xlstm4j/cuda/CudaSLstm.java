package org.xlstm4j.cuda;

import org.xlstm4j.cells.SLstmCell;
import org.xlstm4j.cells.SLstmState;

import java.util.HashMap;
import java.util.Map;

/**
 * The sLSTM cell forward on a GPU (spec §2.1), same math, conventions and layouts as {@link SLstmCell}: gate
 * pre-activations {@code x [B, T, 4E]} (the input part W·x, rows {@code [i | f | z | o]}, column g·E + h·DH + j; the
 * cell adds R·h_{t−1} + b), output {@code h [B, T, E]}, state h, c, n, m {@code [B, E]} each (fp32).
 *
 * <p>The whole sequence is ONE launch of {@code slstm_forward_*} (slstm.cu): one thread block per (tile of BB batch
 * rows, head) walks all T steps, keeping c, n, m, h_{t−1} and the head's recurrent matrices on chip: the rows
 * k &lt; KS of the head's R (4 gates × DH × DH, fp32 in fp32 mode, bf16 in bf16 mode) are copied into shared memory once
 * and the remaining rows are read from L2 every step. KS = DH whenever R fits the device's per-block shared memory
 * (Hopper 227 KiB: up to DH ≈ 108 in fp32, DH ≈ 156 in bf16, with BB = 1); for DH = 256 about 100 of 256 rows stay on
 * chip in bf16 (about 50 in fp32), the rest streams from L2 ({@link #plan}). Every gate row's dot product is split
 * over S threads (k slices, 2 where they fit) so that small heads still fill the block with warps. A thread-block cluster split of a head (distributed shared
 * memory for the h exchange) would keep all of R on chip for large DH; not done.
 *
 * <p>The vanilla rule "m = ĩ while the normalizer is all zero over the whole [B, E] tensor" (spec §2.5) is handled as
 * {@link SLstmCell#forward}'s SIMD path does: exact at t = 0 (a one-block kernel tests the initial n before the main
 * kernel), assumed false for t ≥ 1 (after a step from n = 0, n ≥ min(1, ...) &gt; 0; only an exp underflow of both
 * gates could bring it back to zero).
 *
 * <p>Types ({@link DType}): x, R and h are fp32 or bf16; bias, states, gate math and accumulation are fp32, and the
 * recurrence uses the fp32 h. R is given in the official <b>cuda</b> layout (NH, DH, 4·DH) = (h, k, g, j), see
 * {@link #uploadRecurrentKernel}; the bias in SLstmCell's vanilla (gate, head, unit) order. Calls on one object must
 * not overlap on different streams (a 4-byte workspace holds the all-zero flag).
 */
public final class CudaSLstm implements AutoCloseable {
    /** Largest head size: fp32 runs one gate row per thread (4·DH ≤ 1024 threads), bf16 two. */
    public static final int MAX_DH_FP32 = 256, MAX_DH_BF16 = 512;

    private final CudaDevice device;
    private final CudaModule module;
    public final int numHeads, headDim, E;
    private final DeviceBuffer flag;
    private final Map<String, Integer> smemSet = new HashMap<>();
    /** Batch tile forced by the benchmark (0 = {@link #batchTile}). */
    int forceBatchTile;
    /** k slices forced by the benchmark (0 = {@link #plan}'s choice). */
    int forceSplits;

    public CudaSLstm(CudaDevice device, int numHeads, int headDim) {
        if (numHeads < 1 || headDim < 1)
            throw new IllegalArgumentException("CudaSLstm: bad shape NH=" + numHeads + " DH=" + headDim);
        this.device = device;
        this.module = device.module("slstm.cu");
        this.numHeads = numHeads;
        this.headDim = headDim;
        this.E = Math.multiplyExact(numHeads, headDim);
        this.flag = device.allocate(4);
    }

    /**
     * The launch configuration of one forward: batch tile BB, k slices S (threads per gate row group), threads, R rows
     * kept in shared memory (KS), shared bytes, kernel name.
     */
    public record Plan(int batchTile, int splits, int threads, int smemRows, int smemBytes, String kernel) {
        @Override public String toString() {
            return String.format("%s: batch tile %d, %d k slices, %d threads/block, R rows in shared memory %d, %d KiB shared",
                    kernel, batchTile, splits, threads, smemRows, smemBytes / 1024);
        }
    }

    /**
     * The configuration for B rows: BB = the smallest of 1, 2, 4 with ceil(B / BB)·NH blocks fitting on the SMs
     * (blocks are sequential recurrences; fewer, fuller blocks only pay off once the SMs are used up, and then they
     * read R once per step for BB rows); S = 2 k slices where 2 × the row groups fit 1024 threads, else 1 (more warps,
     * shorter FMA chains per step; on an H200 at DH = 96 S = 2 beat S = 1 and S = 4 in fp32 and bf16, and at DH = 256
     * bf16 S = 2 beat S = 1 by 1.5×); KS = as many R rows (a multiple of 4) as fit the per-block opt-in.
     */
    public Plan plan(int B, DType dtype) {
        return plan(B, dtype, Integer.MAX_VALUE);
    }

    /**
     * As {@link #plan(int, DType)} for a forward of T steps: a single step (decoding) stages no R rows in shared memory
     * (each row would be read once, so copying it first only adds a pass), every row streams from L2.
     */
    public Plan plan(int B, DType dtype, int T) {
        Plan p = planWithStaging(B, dtype);
        if (T > 1) return p;
        int small = p.smemBytes - p.smemRows * 4 * headDim * dtype.bytes;
        return new Plan(p.batchTile, p.splits, p.threads, 0, small, p.kernel);
    }

    private Plan planWithStaging(int B, DType dtype) {
        int bb = forceBatchTile > 0 ? forceBatchTile : batchTile(B, numHeads, device.multiprocessors);
        int rpt = dtype == DType.FP32 ? 1 : 2, G = 4 * headDim, dhp = (headDim + 3) & ~3;
        int nrp = ((G + rpt - 1) / rpt + 31) / 32 * 32;
        int splits = forceSplits > 0 ? forceSplits : nrp * 2 <= 1024 ? 2 : 1;
        if (nrp * splits > 1024) throw new IllegalArgumentException("CudaSLstm: " + splits + " k slices of " + nrp
                + " threads exceed 1024");
        int small = (bb * dhp + splits * bb * G + 3 * bb * headDim) * 4;
        int budget = device.maxSharedPerBlockOptin - small;
        int rowBytes = G * dtype.bytes;
        int ks = Math.max(0, Math.min(headDim & ~3, budget / rowBytes & ~3));
        String name = "slstm_forward_" + dtype.suffix + "_b" + bb;
        return new Plan(bb, splits, nrp * splits, ks, ks * rowBytes + small, name);
    }

    static int batchTile(int B, int NH, int sms) {
        for (int bb : new int[] {1, 2}) if ((long) ((B + bb - 1) / bb) * NH <= sms) return bb;
        return 4;
    }

    /** Floating-point operations of the recurrent part of one forward: 2·B·T·4·E·DH (R·h; the gates not counted). */
    public static double flops(int B, int T, int NH, int DH) {
        return 2.0 * B * T * 4.0 * NH * DH * DH;
    }

    /**
     * Forward on device buffers, queued on {@code stream}: {@code x [B, T, 4E]} and {@code h [B, T, E]} of
     * {@code dtype}, {@code R} in the cuda layout (NH, DH, 4·DH) of {@code dtype} ({@link #uploadRecurrentKernel}),
     * {@code bias [4E]} fp32. {@code state} null: start from zeros, no final state; else start from it and overwrite
     * it with the final state.
     */
    public void forward(CudaStream stream, DType dtype, DeviceBuffer x, DeviceBuffer R, DeviceBuffer bias,
                        DeviceBuffer h, int B, int T, State state) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("CudaSLstm: bad B=" + B + " T=" + T);
        int max = dtype == DType.FP32 ? MAX_DH_FP32 : MAX_DH_BF16;
        if (headDim > max) throw new IllegalArgumentException("CudaSLstm: DH=" + headDim + " > " + max + " in " + dtype);
        long rows = (long) B * T;
        need("x", x, rows * 4 * E * dtype.bytes);
        need("h", h, rows * E * dtype.bytes);
        need("R", R, (long) numHeads * 4 * headDim * headDim * dtype.bytes);
        need("bias", bias, 4L * E * 4);
        if (state != null && (state.B != B || state.E != E))
            throw new IllegalArgumentException("CudaSLstm: state [B=" + state.B + ", E=" + state.E + "] does not match B="
                    + B + " E=" + E);
        device.makeCurrent();
        Plan p = plan(B, dtype, T);
        if ((B + p.batchTile - 1) / p.batchTile > Integer.MAX_VALUE || numHeads > 65535)
            throw new IllegalArgumentException("CudaSLstm: NH = " + numHeads + " > 65535");
        CudaKernel k = module.kernel(p.kernel);
        Integer set = smemSet.get(p.kernel);
        if (p.smemBytes > 48 * 1024 && (set == null || set < p.smemBytes)) {
            k.setMaxDynamicSharedMemory(p.smemBytes);
            smemSet.put(p.kernel, p.smemBytes);
        }
        if (state != null)
            module.kernel("slstm_all_zero").launch(stream, 1, 1, 1, 1024, 1, 1, 0, state.n, (long) B * E, flag);
        k.launch(stream, (B + p.batchTile - 1) / p.batchTile, numHeads, 1, p.threads, 1, 1, p.smemBytes,
                x, R, bias, h, state == null ? null : state.h, state == null ? null : state.c,
                state == null ? null : state.n, state == null ? null : state.m, state == null ? 0 : 1,
                state == null ? null : flag, B, T, numHeads, headDim, p.smemRows, p.splits);
    }

    /**
     * Host convenience, same contract as {@link SLstmCell#forward(float[], float[], int, int, SLstmState)} with the
     * cell's parameters given explicitly: {@code recurrentKernel} in SLstmCell's vanilla layout (NH, 4·DH, DH),
     * {@code bias} (4·NH·DH,). Copies in, runs, copies h (and the state, when given) back. With {@link DType#BF16}
     * x and R are rounded to bf16 on the way in and h comes back from bf16.
     */
    public void forward(float[] gatesPreact, float[] recurrentKernel, float[] bias, float[] h, int B, int T,
                        SLstmState state, DType dtype) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("CudaSLstm: bad B=" + B + " T=" + T);
        long rows = (long) B * T;
        hostLen("gatesPreact", gatesPreact, rows * 4 * E);
        hostLen("h", h, rows * E);
        hostLen("bias", bias, 4L * E);
        try (CudaStream s = device.newStream();
             DeviceBuffer dx = upload(gatesPreact, rows * 4 * E, dtype);
             DeviceBuffer dr = uploadRecurrentKernel(device, recurrentKernel, numHeads, headDim, dtype);
             DeviceBuffer db = upload(bias, 4L * E, DType.FP32);
             DeviceBuffer dh = device.allocate(rows * E * dtype.bytes);
             State ds = state == null ? null : new State(device, B, E)) {
            if (ds != null) ds.upload(state);
            forward(s, dtype, dx, dr, db, dh, B, T, ds);
            s.synchronize();
            float[] out = h.length == rows * E ? h : new float[Math.toIntExact(rows * E)];
            if (dtype == DType.BF16) dh.copyToFromBf16(out); else dh.copyTo(out);
            if (out != h) System.arraycopy(out, 0, h, 0, out.length);
            if (ds != null) ds.download(state);
        }
    }

    /** R from SLstmCell's vanilla layout (NH, 4·DH, DH) to a device buffer in the cuda layout (NH, DH, 4·DH) of {@code dtype}. */
    public static DeviceBuffer uploadRecurrentKernel(CudaDevice device, float[] vanilla, int NH, int DH, DType dtype) {
        float[] cuda = SLstmCell.recurrentKernelToCuda(vanilla, NH, DH);
        DeviceBuffer b = device.allocate((long) cuda.length * dtype.bytes);
        if (dtype == DType.BF16) b.copyFromAsBf16(cuda); else b.copyFrom(cuda);
        return b;
    }

    private DeviceBuffer upload(float[] a, long n, DType dtype) {
        DeviceBuffer b = device.allocate(n * dtype.bytes);
        float[] src = a.length == n ? a : java.util.Arrays.copyOf(a, Math.toIntExact(n));
        if (dtype == DType.BF16) b.copyFromAsBf16(src); else b.copyFrom(src);
        return b;
    }

    /** An sLSTM state on the device: h, c, n, m, [B, E] fp32 each. */
    public static final class State implements AutoCloseable {
        public final int B, E;
        public final DeviceBuffer h, c, n, m;

        public State(CudaDevice device, int B, int E) {
            this.B = B;
            this.E = E;
            long bytes = (long) B * E * 4;
            h = device.allocate(bytes);
            c = device.allocate(bytes);
            n = device.allocate(bytes);
            m = device.allocate(bytes);
            h.zero(); c.zero(); n.zero(); m.zero();
        }

        public void upload(SLstmState s) {
            check(s);
            h.copyFrom(s.h); c.copyFrom(s.c); n.copyFrom(s.n); m.copyFrom(s.m);
        }

        public void download(SLstmState s) {
            check(s);
            h.copyTo(s.h); c.copyTo(s.c); n.copyTo(s.n); m.copyTo(s.m);
        }

        private void check(SLstmState s) {
            if (s.B != B || s.E != E)
                throw new IllegalArgumentException("CudaSLstm.State [B=" + B + ", E=" + E + "] vs " + s);
        }

        @Override public void close() {
            h.close(); c.close(); n.close(); m.close();
        }
    }

    private static void hostLen(String name, float[] a, long n) { CudaArgs.hostLen("CudaSLstm", name, a, n); }

    private static void need(String name, DeviceBuffer b, long bytes) { CudaArgs.need("CudaSLstm", name, b, bytes); }

    @Override public void close() {
        flag.close();
    }
}
