package org.xlstm4j.cuda;

import org.xlstm4j.cells.MLstmState;

/**
 * The mLSTM cell on a GPU (spec §3), same math, conventions and layouts as {@link org.xlstm4j.cells.MLstmCell}:
 * q, k {@code [B, NH, T, DK]}, v, h {@code [B, NH, T, DV]}, gate pre-activations {@code [B, NH, T]} (fp32), keys
 * scaled by 1/sqrt(DK) into the state, eps added after stabilization. Kernels in {@code mlstm.cu}:
 * <ul>
 *   <li>{@link #forwardChunkwise}: the TFLA-style chunkwise forward (spec §3.4). bf16 ({@link #fused}): one kernel on
 *       the tensor cores (mma.sync bf16, fp32 accumulation) in which each block walks the chunks of one head for 64
 *       columns of DV, keeping its slice of the state in registers (DK ≤ 128: 4 warps; 128 < DK ≤ 256: 8 warps, each
 *       with half of DK). fp32 and other shapes: an inter-chunk recurrence
 *       kernel that stores the state entering every chunk, then a tiled intra-chunk kernel that combines the chunk's
 *       own attention-like part with the entering state's contribution. Chunk size 1..64, any T (the last chunk may
 *       be shorter, as on the CPU).</li>
 *   <li>{@link #step}: one token of the recurrence (spec §3.2), for decoding.</li>
 * </ul>
 * q, k, v, h are fp32 or bf16 ({@link DType}); gates, states and all accumulation are fp32. The object owns a
 * workspace for the per-chunk states (grown on demand; B·NH·⌈T/L⌉·DK·DV floats), so calls on it must not overlap
 * on different streams.
 */
public final class CudaMLstm implements AutoCloseable {
    /** Largest chunk size the kernels take. */
    public static final int MAX_CHUNK = 64;
    /** Tile sizes and shared memory of the kernels (ST_DK, ST_DV, OUT_TV, STEP_* in mlstm.cu). */
    private static final int STATE_DK = 64, STATE_DV = 128, STATE_SMEM = MAX_CHUNK * (STATE_DK + STATE_DV) * 4,
            OUT_TILE = 128, STEP_COLS = 32, STEP_ROWS = 8;

    /** The fused tensor-core kernel (bf16): padded DK sizes it is built for, columns of DV per block (TC_* in mlstm.cu). */
    private static final int[] TC_DKP = {32, 64, 128};
    private static final int TC_TV = 64, TC_THREADS = 128;

    /** Shared memory of the fused kernel: two stages of q, k [64][DKP + 8] and v [64][72], plus the P and h tiles (bf16). */
    static int tcSmemBytes(int dkp) {
        int stage = 2 * MAX_CHUNK * (dkp + 8) + MAX_CHUNK * (TC_TV + 8);
        return (2 * stage + 2 * MAX_CHUNK * (TC_TV + 8)) * 2;
    }

    /**
     * The fused kernel for 128 < DK ≤ 256 (mlstm_chunkwise_tc_bf16_dk256, the xLSTM-7B heads): 8 warps splitting the
     * state's DK in halves; shared memory as {@link #tcSmemBytes}(256) plus a 16 KiB fp32 exchange tile (TC2_* in mlstm.cu).
     */
    private static final int TC2_DKP = 256, TC2_THREADS = 256, TC2_SMEM = tcSmemBytes(TC2_DKP) + 4 * 8 * 32 * 4 * 4;

    /**
     * Whether {@link #forwardChunkwise} runs the fused tensor-core kernel (one launch, the state kept on chip) for this
     * type: bf16 with DK ≤ 256 and DK, DV multiples of 8 (DK > 128 only where the device grants the larger kernel's
     * shared memory); otherwise the two fp32-FMA kernels (states, then outputs).
     */
    public boolean fused(DType dtype) {
        return dtype == DType.BF16 && (dhqk <= 128 || dhqk <= TC2_DKP && tc2) && dhqk % 8 == 0 && dhv % 8 == 0;
    }

    /** Whether the device took the DK ≤ 256 kernel's shared memory (about 189 KiB; Hopper allows 227 KiB). */
    private final boolean tc2;

    private final CudaDevice device;
    private final CudaModule module;
    public final int numHeads, dhqk, dhv;
    public final float eps;
    private DeviceBuffer cStates, nStates, mStates;

    /** A cell of {@code numHeads} heads with query/key size {@code dhqk} and value size {@code dhv}; eps = 1e-6. */
    public CudaMLstm(CudaDevice device, int numHeads, int dhqk, int dhv) {
        this(device, numHeads, dhqk, dhv, 1e-6f);
    }

    public CudaMLstm(CudaDevice device, int numHeads, int dhqk, int dhv, float eps) {
        if (numHeads < 1 || dhqk < 1 || dhv < 1)
            throw new IllegalArgumentException("CudaMLstm: bad shape NH=" + numHeads + " DHQK=" + dhqk + " DHV=" + dhv);
        this.device = device;
        this.module = device.module("mlstm.cu");
        for (DType t : DType.values())           // the state kernel's 48 KiB of dynamic shared memory needs the opt-in
            module.kernel("mlstm_chunk_states_" + t.suffix).setMaxDynamicSharedMemory(STATE_SMEM);
        for (int dkp : TC_DKP) module.kernel("mlstm_chunkwise_tc_bf16_dk" + dkp).setMaxDynamicSharedMemory(tcSmemBytes(dkp));
        boolean big = false;
        if (dhqk > 128 && dhqk <= TC2_DKP) {      // only where it would run; a smaller opt-in keeps the two-kernel path
            try {
                module.kernel("mlstm_chunkwise_tc_bf16_dk" + TC2_DKP).setMaxDynamicSharedMemory(TC2_SMEM);
                big = true;
            } catch (CudaException e) {
                big = false;
            }
        }
        this.tc2 = big;
        this.numHeads = numHeads;
        this.dhqk = dhqk;
        this.dhv = dhv;
        this.eps = eps;
    }

    /** Floating-point operations counted for one chunkwise forward: B·NH·T·(2L(DK + DV) + 4·DK·DV). */
    public static double flops(int B, int NH, int T, int L, int DK, int DV) {
        int l = Math.min(L, T);
        return (double) B * NH * T * (2.0 * l * (DK + DV) + 4.0 * DK * DV);
    }

    /**
     * Chunkwise forward on device buffers, queued on {@code stream}. {@code state} null: start from zeros and keep
     * no final state; else start from it and overwrite it with the final state.
     */
    public void forwardChunkwise(CudaStream stream, DType dtype, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                                 DeviceBuffer igatePreact, DeviceBuffer fgatePreact, DeviceBuffer h, int B, int T,
                                 int chunkSize, DeviceMLstmState state) {
        forwardChunkwise(stream, dtype, q, k, v, igatePreact, fgatePreact, h, B, T, chunkSize, state, null);
    }

    /**
     * As the public form; {@code afterStates} (may be null) is recorded between the two kernels, for timing (not at
     * all on the fused path, {@link #fused}).
     */
    void forwardChunkwise(CudaStream stream, DType dtype, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                          DeviceBuffer igatePreact, DeviceBuffer fgatePreact, DeviceBuffer h, int B, int T,
                          int chunkSize, DeviceMLstmState state, CudaEvent afterStates) {
        if (chunkSize < 1 || chunkSize > MAX_CHUNK)
            throw new IllegalArgumentException("CudaMLstm: chunk size " + chunkSize + " outside 1.." + MAX_CHUNK);
        checkSequence(dtype, q, k, v, igatePreact, fgatePreact, h, B, T);
        checkState(state, B);
        device.makeCurrent();
        final int L = Math.min(chunkSize, T), nc = (T + L - 1) / L, bh = B * numHeads;
        if (!fused(dtype)) ensureWorkspace((long) bh * nc, bh * (nc + 1L));
        float scale = (float) (1.0 / Math.sqrt(dhqk));
        if (fused(dtype) && dhqk > 128) {
            module.kernel("mlstm_chunkwise_tc_bf16_dk" + TC2_DKP).launch(stream, ceil(dhv, TC_TV), bh, 1, TC2_THREADS, 1, 1,
                    TC2_SMEM, q, k, v, igatePreact, fgatePreact, h,
                    state == null ? null : state.c(), state == null ? null : state.n(),
                    state == null ? null : state.nOther(), state == null ? null : state.m(),
                    state == null ? null : state.mOther(), T, L, nc, dhqk, dhv, scale, eps);
            if (state != null) state.flip();
            return;
        }
        if (fused(dtype)) {
            int dkp = dhqk <= 32 ? 32 : dhqk <= 64 ? 64 : 128;
            module.kernel("mlstm_chunkwise_tc_bf16_dk" + dkp).launch(stream, ceil(dhv, TC_TV), bh, 1, TC_THREADS, 1, 1,
                    tcSmemBytes(dkp), q, k, v, igatePreact, fgatePreact, h,
                    state == null ? null : state.c(), state == null ? null : state.n(),
                    state == null ? null : state.nOther(), state == null ? null : state.m(),
                    state == null ? null : state.mOther(), T, L, nc, dhqk, dhv, scale, eps);
            if (state != null) state.flip();
            return;
        }
        module.kernel("mlstm_chunk_states_" + dtype.suffix).launch(stream, bh, ceil(dhv, STATE_DV), ceil(dhqk, STATE_DK),
                256, 1, 1, STATE_SMEM,
                k, v, igatePreact, fgatePreact, cStates, nStates, mStates,
                state == null ? null : state.c(), state == null ? null : state.n(), state == null ? null : state.m(),
                T, L, nc, dhqk, dhv, scale);
        if (afterStates != null) afterStates.record(stream);
        module.kernel("mlstm_chunk_outputs_" + dtype.suffix).launch(stream, nc, bh, ceil(dhv, OUT_TILE), 256, 1, 1, 0,
                q, k, v, igatePreact, fgatePreact, h, cStates, nStates, mStates,
                state == null ? null : state.m(), state == null ? 1 : 0,
                T, L, nc, dhqk, dhv, scale, eps);
    }

    /**
     * One token on device buffers, queued on {@code stream}: q, k {@code [B, NH, DK]}, v, h {@code [B, NH, DV]},
     * gates {@code [B, NH]}; {@code state} is advanced.
     */
    public void step(CudaStream stream, DType dtype, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v,
                     DeviceBuffer igatePreact, DeviceBuffer fgatePreact, DeviceBuffer h, int B, DeviceMLstmState state) {
        checkSequence(dtype, q, k, v, igatePreact, fgatePreact, h, B, 1);
        if (state == null) throw new IllegalArgumentException("CudaMLstm.step: state must not be null");
        checkState(state, B);
        device.makeCurrent();
        module.kernel("mlstm_step_" + dtype.suffix).launch(stream, B * numHeads, ceil(dhv, STEP_COLS), 1,
                STEP_COLS * STEP_ROWS, 1, 1, 2 * dhqk * 4,
                q, k, v, igatePreact, fgatePreact, h, state.c(), state.n(), state.nOther(), state.m(), state.mOther(),
                dhqk, dhv, (float) (1.0 / Math.sqrt(dhqk)), eps);
        state.flip();
    }

    /**
     * Host convenience, same contract as {@link org.xlstm4j.cells.MLstmCell#forwardChunkwise(float[], float[], float[],
     * float[], float[], float[], int, int, int, MLstmState)}: copies in, runs, copies h (and the state, when given)
     * back. With {@link DType#BF16} q, k, v are rounded to bf16 on the way in and h comes back from bf16.
     */
    public void forwardChunkwise(float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact, float[] h,
                                 int B, int T, int chunkSize, MLstmState state, DType dtype) {
        long bht = (long) B * numHeads * T;
        checkHost(q, k, v, igatePreact, fgatePreact, h, bht);
        try (CudaStream s = device.newStream();
             DeviceBuffer dq = upload(q, bht * dhqk, dtype); DeviceBuffer dk = upload(k, bht * dhqk, dtype);
             DeviceBuffer dv = upload(v, bht * dhv, dtype);
             DeviceBuffer di = upload(igatePreact, bht, DType.FP32); DeviceBuffer df = upload(fgatePreact, bht, DType.FP32);
             DeviceBuffer dh = device.allocate(bht * dhv * dtype.bytes);
             DeviceMLstmState ds = state == null ? null : new DeviceMLstmState(device, B, numHeads, dhqk, dhv)) {
            if (ds != null) ds.upload(state);
            forwardChunkwise(s, dtype, dq, dk, dv, di, df, dh, B, T, chunkSize, ds);
            s.synchronize();
            download(dh, h, bht * dhv, dtype);
            if (ds != null) ds.download(state);
        }
    }

    /** Host convenience for {@link #step(CudaStream, DType, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, int, DeviceMLstmState)}. */
    public void step(float[] q, float[] k, float[] v, float[] igatePreact, float[] fgatePreact, float[] h, int B,
                     MLstmState state, DType dtype) {
        long bh = (long) B * numHeads;
        checkHost(q, k, v, igatePreact, fgatePreact, h, bh);
        if (state == null) throw new IllegalArgumentException("CudaMLstm.step: state must not be null");
        try (CudaStream s = device.newStream();
             DeviceBuffer dq = upload(q, bh * dhqk, dtype); DeviceBuffer dk = upload(k, bh * dhqk, dtype);
             DeviceBuffer dv = upload(v, bh * dhv, dtype);
             DeviceBuffer di = upload(igatePreact, bh, DType.FP32); DeviceBuffer df = upload(fgatePreact, bh, DType.FP32);
             DeviceBuffer dh = device.allocate(bh * dhv * dtype.bytes);
             DeviceMLstmState ds = new DeviceMLstmState(device, B, numHeads, dhqk, dhv)) {
            ds.upload(state);
            step(s, dtype, dq, dk, dv, di, df, dh, B, ds);
            s.synchronize();
            download(dh, h, bh * dhv, dtype);
            ds.download(state);
        }
    }

    private DeviceBuffer upload(float[] a, long n, DType dtype) {
        DeviceBuffer b = device.allocate(n * dtype.bytes);
        float[] src = a.length == n ? a : java.util.Arrays.copyOf(a, Math.toIntExact(n));
        if (dtype == DType.BF16) b.copyFromAsBf16(src);
        else b.copyFrom(src);
        return b;
    }

    private static void download(DeviceBuffer b, float[] dst, long n, DType dtype) {
        float[] out = dst.length == n ? dst : new float[Math.toIntExact(n)];
        if (dtype == DType.BF16) b.copyToFromBf16(out);
        else b.copyTo(out);
        if (out != dst) System.arraycopy(out, 0, dst, 0, out.length);
    }

    private void ensureWorkspace(long chunkHeads, long mCount) {
        long cBytes = chunkHeads * dhqk * dhv * 4, nBytes = chunkHeads * dhqk * 4, mBytes = mCount * 4;
        if (cStates == null || cStates.bytes < cBytes) { if (cStates != null) cStates.close(); cStates = device.allocate(cBytes); }
        if (nStates == null || nStates.bytes < nBytes) { if (nStates != null) nStates.close(); nStates = device.allocate(nBytes); }
        if (mStates == null || mStates.bytes < mBytes) { if (mStates != null) mStates.close(); mStates = device.allocate(mBytes); }
    }

    private void checkSequence(DType dtype, DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer ig,
                               DeviceBuffer fg, DeviceBuffer h, int B, int T) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("CudaMLstm: bad B=" + B + " T=" + T);
        long bht = (long) B * numHeads * T;
        if ((long) B * numHeads > 65535) throw new IllegalArgumentException("CudaMLstm: B·NH = " + (long) B * numHeads + " > 65535");
        need("q", q, bht * dhqk * dtype.bytes);
        need("k", k, bht * dhqk * dtype.bytes);
        need("v", v, bht * dhv * dtype.bytes);
        need("h", h, bht * dhv * dtype.bytes);
        need("igatePreact", ig, bht * 4);
        need("fgatePreact", fg, bht * 4);
    }

    private void checkState(DeviceMLstmState s, int B) {
        if (s != null && !(s.B == B && s.NH == numHeads && s.DK == dhqk && s.DV == dhv))
            throw new IllegalArgumentException("CudaMLstm: state " + s + " does not match [B=" + B + ", NH=" + numHeads
                    + ", DHQK=" + dhqk + ", DHV=" + dhv + "]");
    }

    private void checkHost(float[] q, float[] k, float[] v, float[] ig, float[] fg, float[] h, long rows) {
        hostLen("q", q, rows * dhqk);
        hostLen("k", k, rows * dhqk);
        hostLen("v", v, rows * dhv);
        hostLen("h", h, rows * dhv);
        hostLen("igatePreact", ig, rows);
        hostLen("fgatePreact", fg, rows);
    }

    private static void hostLen(String name, float[] a, long n) { CudaArgs.hostLen("CudaMLstm", name, a, n); }

    private static void need(String name, DeviceBuffer b, long bytes) { CudaArgs.need("CudaMLstm", name, b, bytes); }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Frees the workspace. */
    @Override public void close() {
        if (cStates != null) cStates.close();
        if (nStates != null) nStates.close();
        if (mStates != null) mStates.close();
        cStates = nStates = mStates = null;
    }
}
