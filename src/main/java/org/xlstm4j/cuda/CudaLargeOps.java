package org.xlstm4j.cuda;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.large.LargeConfig;
import org.xlstm4j.large.LargeOps;
import org.xlstm4j.large.XLstmLarge;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.LMState;
import org.xlstm4j.tensor.MappedWeight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * {@link LargeOps} on a GPU: the xLSTM-Large forward of {@link XLstmLarge} on device buffers, all work queued on one
 * stream. Weights are uploaded once, in their stored dtype ({@link Precision#STORED}: bf16/f16 matrices multiply
 * through cublasGemmEx with the fp32 activations rounded to that type and fp32 accumulation, f32 ones through SGEMM;
 * the mLSTM cell then runs with bf16 q, k, v, h when any matrix is 16-bit), or widened to f32
 * ({@link Precision#FP32}: SGEMM and an fp32 cell throughout, for parity). Element-wise work, norms and layout moves
 * are the kernels of {@code large.cu}; the cell is {@link CudaMLstm}. States are {@link CudaLargeState}s on the device.
 * Decoding steps are captured once into a {@link CudaGraph} and replayed (the first step of a state runs eagerly, to
 * load and warm everything up; a capture failure falls back to eager steps).
 */
public final class CudaLargeOps implements LargeOps<DeviceBuffer> {
    /** How matrices are stored and multiplied on the device. */
    public enum Precision {
        /** As stored in the checkpoint (bf16 → bf16 GEMM with fp32 accumulation, f16 → f16, f32 → SGEMM). */
        STORED,
        /** Every matrix widened to f32, SGEMM and an fp32 cell (parity mode). */
        FP32;

        public static Precision parse(String s) {
            return switch (s.toLowerCase()) {
                case "stored", "auto", "bf16" -> STORED;
                case "fp32", "f32", "float32" -> FP32;
                default -> throw new UserError("unknown CUDA precision '" + s + "' (stored or fp32)");
            };
        }
    }

    private static final int F32 = 0, BF16 = 1, F16 = 2, THREADS = 256;

    /** A matrix on the device: its buffer, element kind, shape. */
    private record Matrix(DeviceBuffer buf, int kind, int rows, int cols) {}

    private final CudaDevice device;
    private final CudaStream stream;
    private final CuBlas blas;
    private final CudaModule mod;
    private final CudaMLstm cell;
    private final LargeConfig config;
    private final Precision precision;
    /** Seed of device-made random weights (benchmarks), or null: weights are uploaded. */
    private final Long randomSeed;
    private final Map<MappedWeight, Matrix> matrices = new IdentityHashMap<>();
    private final Map<float[], DeviceBuffer> vectors = new IdentityHashMap<>();
    private final List<CudaLargeState> states = new ArrayList<>();
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private DType cellType = DType.FP32;
    /** Every matrix is bf16 on the device (so prefill norms may write bf16 only). */
    private boolean allBf16 = true;
    /** The cell's type in the current pass: {@link #cellType} for multi-token passes, fp32 for decoding steps. */
    private DType segType = DType.FP32;
    /** Activations rounded to 16 bits for a GEMM, of which source buffer (null: none valid) and kind. */
    private DeviceBuffer half, halfOf;
    private int halfKind;
    private DeviceBuffer ids, logits, flag, tokQ, tokK, tokV, tokI, tokF, tokH;
    private final Arena hostArena = Arena.ofShared();
    private final HostBuffer idsHost = new HostBuffer();
    private int idsCount;
    /** Bumped whenever a buffer is reallocated (a captured graph holds addresses). */
    private long generation;
    private boolean useGraphs = true, capturing;
    private final DecodeGraph graph = new DecodeGraph();
    /** Small-batch products queued for one fused launch (see {@link #matmul}): same input, up to 6 matrices. */
    private final Matrix[] pendW = new Matrix[6];
    private final DeviceBuffer[] pendY = new DeviceBuffer[6];
    private DeviceBuffer pendX;
    /** Gate pre-activations queued to be applied while the gates move to the heads layout. */
    private final DeviceBuffer[] gateG = new DeviceBuffer[2];
    private final float[][] gateBias = new float[2][];
    private int gateCount, gateRows, gateNH;
    private Double gateCap;
    /** A move of a whole pass from the cell's heads layout [B, NH, Ts, DV] to the rows layout, queued. */
    private record FromHeads(DeviceBuffer src, DeviceBuffer dst, int B, int Ts, int NH, int DV) {}
    /** Queued to be skipped by a norm that reads the heads layout itself (null: none). */
    private FromHeads fromHeads;
    /** A multi-head norm of {@code rows} rows, src (rows layout, or heads layout with Ts tokens) → dst, queued. */
    private record PendingNorm(DeviceBuffer src, DeviceBuffer dst, boolean heads, int Ts, int rows, MultiHeadLayerNorm norm) {}
    /** Queued to be fused with the output gate that follows it (null: none). */
    private PendingNorm pendingNorm;
    /** The graph's copy-backs (src, dst, floats) gathered during a capture, launched by one kernel at its end. */
    private long[] copyEntries = new long[0];
    private int copyCount;
    private DeviceBuffer copyTable;
    /** A residual add queued to be fused with the RMSNorm that usually follows it (x += d over n values). */
    private DeviceBuffer addX, addD;
    private long addN;
    private int pendCount, pendRows, pendK, pendKind;
    /** Rows up to which products of 16-bit matrices use the GEMV kernel instead of cuBLAS. */
    static final int GEMV_MAX_ROWS = 4;
    /** Fewest output rows of one launch for the two-rows-per-warp GEMV. */
    static final int GEMV2_MIN_ROWS = 8192;
    /**
     * 1: one output row per warp; 2: two rows per warp with streamed weight loads (when every N is even and there are at
     * least {@link #GEMV2_MIN_ROWS} rows in the launch); 3 (default): large.cu's gemv3 kernels with fused epilogues
     * (SwiGLU into the FFN's gate/up launch, the cell's q/k/v/gates written in its layout and type, the head's soft cap and
     * finite check), so the swiglu, pack_step, soft_cap and check_finite launches of decoding go away.
     */
    private int gemvVariant = Integer.getInteger("xlstm4j.cuda.gemv", 3);
    /**
     * Variant 3 (large.cu's gemv3 kernels: batched weight loads, fused epilogues): launches of at least this many rows
     * (every N even) take two rows per warp, others one; loads in flight per lane per row (4 or 8) for one and two rows.
     */
    private int gemv3Min2 = Integer.getInteger("xlstm4j.cuda.gemv3.min2", 8192);
    private int gemv3U1 = Integer.getInteger("xlstm4j.cuda.gemv3.u1", 8), gemv3U2 = Integer.getInteger("xlstm4j.cuda.gemv3.u2", 4);
    /**
     * Variant 3, split-K form (large.cu's gemv3_s kernels): a launch of one matrix (no SwiGLU pair) with at most
     * {@link #GEMV3_SPLIT_MAX_ROWS} rows (the out and down projections of the 7B model) takes {@code gemv3SplitW} warps per
     * output row (2, 4 or 8; 0: off) with {@code gemv3SplitU} loads in flight per lane (4 or 8), the warp sums added in a
     * fixed order (deterministic).
     */
    private int gemv3SplitW = Integer.getInteger("xlstm4j.cuda.gemv3.split", 4),
            gemv3SplitU = Integer.getInteger("xlstm4j.cuda.gemv3.splitu", 4);
    static final int GEMV3_SPLIT_MAX_ROWS = 4096;
    /** The epilogue of the queued GEMV launch (variant 3): SwiGLU pair, bf16 outputs, biases, soft cap, finite flag. */
    private boolean pendPair;
    private int pendHalfMask, pendCapMask;
    private float pendCap = 1f;
    private final DeviceBuffer[] pendBias = new DeviceBuffer[6];
    private Long pendFlag;
    /** The head's GEMV checks the logits for non-finite values into the int after them (see {@link #head}). */
    private boolean headFlag, graphHeadFlag;
    private long headFlagOffset, graphHeadFlagOffset;
    private MemorySegment logitsHost = MemorySegment.NULL;
    private boolean profiling;
    private final Map<String, long[]> profile = new java.util.LinkedHashMap<>();
    private String section;
    private long sectionStart;

    /**
     * A backend for {@code config} on {@code device}; {@code randomSeed} non-null makes every matrix on the device from
     * that seed (N(0, 2/(5·cols)), in the stored dtype) instead of copying it (the matrices' bytes are never read).
     */
    public CudaLargeOps(CudaDevice device, LargeConfig config, Precision precision, Long randomSeed) {
        this.device = device;
        this.config = config;
        this.precision = precision;
        this.randomSeed = randomSeed;
        device.makeCurrent();
        this.mod = device.module("large.cu");
        this.stream = device.newStream();
        CuBlas b = null;
        CudaMLstm c = null;
        try {
            b = device.newCuBlas();
            b.setStream(stream);
            c = new CudaMLstm(device, config.numHeads, config.qkHeadDim(), config.vHeadDim(), (float) config.eps);
        } catch (RuntimeException | Error e) {
            if (b != null) b.close();
            stream.close();
            throw e;
        }
        this.blas = b;
        this.cell = c;
        this.flag = device.allocate(4);
        launch1d("copy_f32", 1, flag, flag, 1L);        // loads the module's code before any graph capture
        mod.kernel("copy_many").launch(stream, 1, 1, 1, 32, 1, 1, 0, null, 0);
        stream.synchronize();
    }

    @Override public boolean headWritesHostLogits() { return false; }

    /** Frees a buffer that queued work may still read: waits for the stream first (the memory may be handed out again). */
    private void release(DeviceBuffer b) {
        if (b == null) return;
        if (capturing) throw new IllegalStateException("CudaLargeOps: buffer growth during a graph capture");
        stream.synchronize();
        b.close();
        generation++;
    }

    /** Loads a checkpoint folder onto device 0 (CUDA must be available: see {@link Cuda#available()}). */
    public static XLstmLarge load(Path dir, Precision precision) {
        CudaDevice d = Cuda.device();
        return XLstmLarge.load(dir, c -> new CudaLargeOps(d, c, precision, null));
    }

    /** Whether decoding steps are captured into a CUDA graph (default true). */
    public void setUseGraphs(boolean on) {
        useGraphs = on;
        if (!on) dropGraph();
    }

    /** How many decoding steps were replays of a captured graph. */
    public long graphReplays() { return graph.replays(); }

    public CudaDevice device() { return device; }

    /** Bytes of weights on the device. */
    public long weightBytes() {
        long n = 0;
        for (Matrix m : matrices.values()) n += m.buf.bytes;
        return n;
    }

    /** Waits for all queued work (errors of that work surface here). */
    public void synchronize() {
        device.makeCurrent();
        if (!capturing) flush();
        stream.synchronize();
    }

    // ---------------------------------------------------------------------------------------------- buffers, weights

    @Override public DeviceBuffer ensure(DeviceBuffer a, long n) {
        long bytes = Math.max(4, n * 4);
        if (a != null && a.bytes >= bytes) return a;
        device.makeCurrent();
        if (dgCount > 0) flushDeferred();               // (a held-back GEMM may use a)
        if (a != null) {
            owned.remove(a);
            release(a);
        }
        DeviceBuffer b = device.allocate(bytes);
        owned.add(b);
        generation++;
        return b;
    }

    @Override public void prepare(MappedWeight w) {
        if (w == null || matrices.containsKey(w)) return;
        device.makeCurrent();
        int kind = switch (w.storage()) {
            case F32 -> F32;
            case BF16 -> BF16;
            case F16 -> F16;
        };
        long n = (long) w.rows() * w.cols();
        DeviceBuffer buf;
        if (randomSeed != null) {
            int k = precision == Precision.FP32 ? F32 : kind;
            buf = device.allocate(n * (k == F32 ? 4 : 2));
            float std = (float) Math.sqrt(2.0 / (5.0 * w.cols()));
            long seed = randomSeed * 0x9E3779B97F4A7C15L + matrices.size();
            launch1d(k == F32 ? "fill_normal_f32" : k == BF16 ? "fill_normal_bf16" : "fill_normal_f16", n, buf, n, seed, std);
            kind = k;
        } else {
            DeviceBuffer stored = upload(w.data(), n * w.storage().bytes);
            if (precision == Precision.FP32 && kind != F32) {
                buf = device.allocate(n * 4);
                launch1d(kind == BF16 ? "widen_bf16" : "widen_f16", n, stored, buf, n);
                stream.synchronize();
                stored.close();
                kind = F32;
            } else {
                buf = stored;
            }
        }
        if (kind != F32) cellType = DType.BF16;
        if (kind != BF16) allBf16 = false;
        matrices.put(w, new Matrix(buf, kind, w.rows(), w.cols()));
    }

    private DeviceBuffer upload(MemorySegment data, long bytes) {
        DeviceBuffer b = device.allocate(bytes);
        if (data.isNative()) {
            device.driver().memcpyHtoD(b.address(), data, bytes);
        } else {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(bytes, 16);
                s.copyFrom(data.asSlice(0, bytes));
                device.driver().memcpyHtoD(b.address(), s, bytes);
            }
        }
        return b;
    }

    private Matrix matrix(MappedWeight w) {
        Matrix m = matrices.get(w);
        if (m == null) {
            if (capturing) throw new IllegalStateException("CudaLargeOps: weight first used during a graph capture");
            prepare(w);
            m = matrices.get(w);
        }
        return m;
    }

    private DeviceBuffer vector(float[] v) {
        DeviceBuffer b = vectors.get(v);
        if (b == null) {
            if (capturing) throw new IllegalStateException("CudaLargeOps: vector first used during a graph capture");
            b = device.allocate((long) v.length * 4);
            b.copyFrom(v);
            vectors.put(v, b);
        }
        return b;
    }

    // ---------------------------------------------------------------------------------------------- the ops

    @Override public void setTokens(int[] idx, int B, int T, int p0, int Ts) {
        device.makeCurrent();
        int n = B * Ts;
        MemorySegment host = idsHost.atLeast(n * 4L);
        for (int b = 0; b < B; b++) MemorySegment.copy(idx, b * T + p0, host, JAVA_INT, (long) b * Ts * 4, Ts);
        if (ids == null || ids.bytes < n * 4L) {
            release(ids);
            ids = device.allocate(Math.max(64, n * 8L));
            generation++;
        }
        device.driver().memcpyHtoDAsync(ids.address(), host, n * 4L, stream.handle());
        idsCount = n;
    }

    @Override public void embed(MappedWeight embedding, DeviceBuffer x, int B, int Ts) {
        begin("embed");
        halfOf = null;
        Matrix m = matrix(embedding);
        String k = m.kind == F32 ? "embed_f32" : m.kind == BF16 ? "embed_bf16" : "embed_f16";
        mod.kernel(k).launch(stream, B * Ts, 1, 1, THREADS, 1, 1, 0, ids, m.buf, x, m.cols);
    }

    @Override public void rmsNorm(RMSNorm norm, DeviceBuffer x, DeviceBuffer y, int rows) {
        // prefill with bf16 weights: every reader of y is a bf16 GEMM, so y is written only as the bf16 staging copy
        // those GEMMs read (as the fused SwiGLU does for the down projection)
        boolean halfOnly = rows > GEMV_MAX_ROWS && ffnBf16 && allBf16 && norm.dim() <= 4 * 1024 && y != x;
        if (addX == x && addN == (long) rows * norm.dim() && y != x && y != addD) {    // residual + norm, one kernel
            DeviceBuffer d = addD;
            addX = addD = null;
            begin("residual + rms_norm");
            invalidate(x);
            invalidate(y);
            if (halfOnly) {
                mod.kernel("add_rms_norm_r4_h").launch(stream, rows, 1, 1, 1024, 1, 1, 0, x, d, vector(norm.weight.data),
                        stagingFor(y, (long) rows * norm.dim()), norm.dim(), (float) config.normEps);
                return;
            }
            mod.kernel(norm.dim() <= 4 * 1024 ? "add_rms_norm_r4" : "add_rms_norm").launch(stream, rows, 1, 1, 1024, 1, 1, 0, x, d, vector(norm.weight.data), y,
                    norm.dim(), (float) config.normEps);
            return;
        }
        begin("rms_norm");
        invalidate(y);
        if (halfOnly) {
            mod.kernel("rms_norm_r4_h").launch(stream, rows, 1, 1, 1024, 1, 1, 0, x, vector(norm.weight.data),
                    stagingFor(y, (long) rows * norm.dim()), norm.dim(), (float) config.normEps);
            return;
        }
        mod.kernel(norm.dim() <= 4 * 1024 ? "rms_norm_r4" : "rms_norm").launch(stream, rows, 1, 1, 1024, 1, 1, 0, x, vector(norm.weight.data), y, norm.dim(),
                (float) config.normEps);
    }

    @Override public void copy(DeviceBuffer src, DeviceBuffer dst, long n) {
        begin("copy");
        invalidate(dst);
        launch1d("copy_f32", n, src, dst, n);
    }

    /**
     * Products with at most {@link #GEMV_MAX_ROWS} rows (decoding) of 16-bit matrices are queued and launched together
     * by the memory-bound GEMV kernel (fp32 activations × stored weights, one pass over the weights): the six
     * projections of the mLSTM layer's input become one launch, the FFN's gate and up another. Every other op first
     * launches what is queued.
     */
    @Override public void matmul(DeviceBuffer x, MappedWeight w, DeviceBuffer y, int rows) {
        Matrix m = matrix(w);
        if (gemvFits(m, rows)) {
            if (addX != null) flush();                  // (keeps the order: queued products, then the add)
            if (pendCount > 0 && (pendX != x || pendCount == pendW.length || pendK != m.cols || pendKind != m.kind
                    || pendRows != rows)) flush();
            if (pendCount == 0) mark("gemv (decode)");
            invalidate(y);
            pendX = x;
            pendRows = rows;
            pendK = m.cols;
            pendKind = m.kind;
            pendW[pendCount] = m;
            pendY[pendCount++] = y;
            return;
        }
        if (ffnBf16 && m.kind == BF16 && m.rows % 8 == 0) {
            // prefill: held back (at most two sharing x), so that a SwiGLU reading both can have them written in bf16
            if (dgCount > 0 && (dgX != x || dgCount == 2 || dgRows != rows)) flushDeferred();
            String name = profiling ? "gemm " + rows + "x" + m.rows + "x" + m.cols + " 16-bit" : "gemm";
            if (dgCount == 0) begin(name);
            else mark(name);
            invalidate(y);
            dgX = x;
            dgRows = rows;
            dgW[dgCount] = m;
            dgY[dgCount++] = y;
            return;
        }
        begin(profiling ? "gemm " + rows + "x" + m.rows + "x" + m.cols + (m.kind == F32 ? " f32" : " 16-bit") : "gemm");
        invalidate(y);
        gemm(x, m, y, rows);
    }

    /**
     * Prefill SwiGLU fused with the bf16 conversion ({@code -Dxlstm4j.cuda.ffn=fused}, the default; "f32" = the separate
     * SwiGLU and conversion passes): the gate and up GEMMs are held back until the SwiGLU that reads both, which then
     * writes SiLU(gate)·up in bf16 straight into the staging buffer the down projection reads (bit for bit the same
     * input as before; {@code gate} then holds the product only as that bf16 copy). 8×2048 prefill on the H200:
     * 434–440 → 426–429 ms. (bf16 outputs of the gate/up GEMMs themselves saved another 4% but put the bf16 logits of
     * the hf_tiny_bf16 fixture at 2.13e-2, over the 2e-2 bound, so they are not offered.)
     */
    private final String ffnMode = System.getProperty("xlstm4j.cuda.ffn", "fused");
    private final boolean ffnBf16 = !ffnMode.equals("f32");
    private DeviceBuffer dgX;
    private int dgRows, dgCount;
    private final Matrix[] dgW = new Matrix[2];
    private final DeviceBuffer[] dgY = new DeviceBuffer[2];

    /** Runs the held-back prefill GEMMs with fp32 outputs, as {@link #gemm} does. */
    private void flushDeferred() {
        int c = dgCount;
        dgCount = 0;
        for (int j = 0; j < c; j++) {
            gemm(dgX, dgW[j], dgY[j], dgRows);
            dgW[j] = null;
            dgY[j] = null;
        }
        dgX = null;
    }

    /** The bf16 staging buffer, at least n values, made the (only) copy of {@code y}. */
    private DeviceBuffer stagingFor(DeviceBuffer y, long n) {
        if (half == null || half.bytes < n * 2) {
            release(half);
            half = device.allocate(n * 2);
            generation++;
        }
        halfOf = y;
        halfKind = BF16;
        return half;
    }

    /** Converts x to bf16 in the staging buffer unless it is there already. */
    private DeviceBuffer halfInput(DeviceBuffer x, int kind, long n) {
        if (halfOf != x || halfKind != kind) {
            if (half == null || half.bytes < n * 2) {
                release(half);
                half = device.allocate(n * 2);
                generation++;
            }
            if (kind == BF16 && n % 4 == 0) launch1d("to_bf16_v4", n / 4, x, half, n / 4);
            else launch1d(kind == BF16 ? "to_bf16" : "to_f16", n, x, half, n);
            halfOf = x;
            halfKind = kind;
        }
        return half;
    }

    private static boolean gemvFits(Matrix m, int rows) {
        return rows <= GEMV_MAX_ROWS && m.kind != F32 && m.cols % 8 == 0;
    }

    /** Launches the queued small-batch products, then a queued residual add (which may read their output). */
    private void flush() {
        flushDeferred();
        flushGemv();
        flushGates();
        flushAdd();
        flushFromHeads();
        flushNorm();
    }

    private void flushGemv() {
        if (pendCount == 0) return;
        Object[] args = new Object[21];
        args[0] = pendX;
        args[1] = pendRows;
        args[2] = pendK;
        int total = 0;
        for (int j = 0; j < 6; j++) {
            boolean on = j < pendCount;
            args[3 + 3 * j] = on ? pendW[j].buf : null;
            args[4 + 3 * j] = on ? pendY[j] : null;
            args[5 + 3 * j] = on ? pendW[j].rows : 0;
            if (on) total += pendW[j].rows;
        }
        boolean even = true;
        for (int j = 0; j < pendCount; j++) even &= pendW[j].rows % 2 == 0;
        if (gemvVariant == 3 && gemv3SplitW > 0 && !pendPair && pendCount == 1 && total <= GEMV3_SPLIT_MAX_ROWS) {
            launchGemv3(-gemv3SplitW, gemv3SplitU, pendKind, total, args, pendBias, pendHalfMask, pendCap, pendCapMask,
                    pendFlag);
            clearPending();
            return;
        }
        if (gemvVariant == 3) {
            launchGemv3(pendPair ? 0 : even && total >= gemv3Min2 ? 2 : 1, pendPair ? gemv3U2 : even && total >= gemv3Min2
                    ? gemv3U2 : gemv3U1, pendKind, pendPair ? pendW[0].rows : total, args, pendBias, pendHalfMask,
                    pendCap, pendCapMask, pendFlag);
            clearPending();
            return;
        }
        // two rows per warp pays off when there are enough rows to keep every SM busy (measured on an H200: 3.3 vs
        // 2.0 TB/s at 12304 rows of K 4096, but 2.3 vs 2.9 TB/s at 4096 rows)
        launchGemv(gemvVariant == 2 && even && total >= GEMV2_MIN_ROWS ? 2 : 1, pendKind, total, args);
        clearPending();
    }

    private void clearPending() {
        java.util.Arrays.fill(pendW, null);
        java.util.Arrays.fill(pendY, null);
        java.util.Arrays.fill(pendBias, null);
        pendX = null;
        pendCount = 0;
        pendPair = false;
        pendHalfMask = pendCapMask = 0;
        pendCap = 1f;
        pendFlag = null;
    }

    /**
     * A gemv3 launch: {@code rpw} 1 or 2 output rows per warp, 0 the SwiGLU pair form (rows = N0), negative the split-K
     * form with -rpw warps per row (matrix 0 only, rows = N0); {@code u} weight loads
     * in flight per lane and row; {@code args} the (x, R, K, W_j, Y_j, N_j) of {@link #launchGemv}.
     */
    private void launchGemv3(int rpw, int u, int kind, int rows, Object[] args, DeviceBuffer[] bias, int halfMask,
                             float cap, int capMask, Long flagAddress) {
        Object[] a = new Object[31];
        a[0] = args[0];
        a[1] = args[1];
        a[2] = args[2];
        for (int j = 0; j < 6; j++) {
            a[3 + 4 * j] = args[3 + 3 * j];
            a[4 + 4 * j] = args[4 + 3 * j];
            a[5 + 4 * j] = args[5 + 3 * j];
            a[6 + 4 * j] = bias == null ? null : bias[j];
        }
        a[27] = halfMask;
        a[28] = cap;
        a[29] = capMask;
        a[30] = flagAddress;
        int warps = THREADS / 32, perBlock = rpw < 0 ? warps / -rpw : rpw == 2 ? 2 * warps : warps;
        String k = "gemv3_" + (rpw < 0 ? "s" + -rpw : rpw == 0 ? "p2" : rpw == 2 ? "r2" : "r1") + "u" + u + "_"
                + (kind == BF16 ? "bf16" : "f16");
        mod.kernel(k).launch(stream, (rows + perBlock - 1) / perBlock, 1, 1, THREADS, 1, 1, 0, a);
    }

    /** Variant 3's launch shapes (see the fields); drops a captured graph. */
    public void setGemv3(int min2, int u1, int u2) {
        if ((u1 != 4 && u1 != 8) || (u2 != 4 && u2 != 8)) throw new IllegalArgumentException("gemv3 loads per lane: 4 or 8");
        gemv3Min2 = min2;
        gemv3U1 = u1;
        gemv3U2 = u2;
        dropGraph();
        graph.cool();
    }

    /** Variant 3's split-K form (see the field): {@code w} warps per row (0 off, 2, 4, 8), {@code u} loads per lane (4, 8). */
    public void setGemv3Split(int w, int u) {
        if ((w != 0 && w != 2 && w != 4 && w != 8) || (u != 4 && u != 8))
            throw new IllegalArgumentException("gemv3 split: 0, 2, 4 or 8 warps per row, 4 or 8 loads per lane");
        gemv3SplitW = w;
        gemv3SplitU = u;
        dropGraph();
        graph.cool();
    }

    private void launchGemv(int variant, int kind, int totalRows, Object[] args) {
        int warps = THREADS / 32, perBlock = warps * variant;
        String k = (variant == 2 ? "gemv2_" : "gemv_") + (kind == BF16 ? "bf16" : "f16");
        mod.kernel(k).launch(stream, (totalRows + perBlock - 1) / perBlock, 1, 1, THREADS, 1, 1, 0, args);
    }

    /** Selects the GEMV kernel of decoding (1 or 2, see the field); drops a captured graph. */
    public void setGemvVariant(int v) {
        if (v < 1 || v > 3) throw new IllegalArgumentException("GEMV variant must be 1, 2 or 3, got " + v);
        gemvVariant = v;
        dropGraph();
        graph.cool();
    }

    /**
     * Weight bandwidth (GB/s) of the decoding GEMV kernels, variant 1 and 2, on a random bf16 matrix [N, K] with one
     * input row: best of {@code reps} timed launches after a warm-up, by CUDA events.
     */
    public double[] gemvBandwidth(int K, int N, int reps) {
        device.makeCurrent();
        double[] out = new double[2 + GEMV3_SHAPES.length];
        try (DeviceBuffer w = device.allocate((long) N * K * 2); DeviceBuffer x = device.allocate(K * 4L);
             DeviceBuffer y = device.allocate(N * 4L); CudaEvent e0 = device.newEvent(); CudaEvent e1 = device.newEvent()) {
            launch1d("fill_normal_bf16", (long) N * K, w, (long) N * K, 7L, 0.02f);
            launch1d("fill_normal_f32", K, x, (long) K, 8L, 1f);
            Object[] args = new Object[21];
            args[0] = x;
            args[1] = 1;
            args[2] = K;
            for (int j = 0; j < 6; j++) {
                args[3 + 3 * j] = j == 0 ? w : null;
                args[4 + 3 * j] = j == 0 ? y : null;
                args[5 + 3 * j] = j == 0 ? N : 0;
            }
            float[] ref = null, got = new float[N];
            for (int v = 1; v <= out.length; v++) {
                int[] s = v > 2 ? GEMV3_SHAPES[v - 3] : null;
                if (s != null && s[0] == 2 && N % 2 != 0) continue;
                if (s != null && s[0] < 0 && N > GEMV3_SPLIT_MAX_ROWS) continue;
                Runnable l = s == null ? launchOld(v, N, args) : () -> launchGemv3(s[0], s[1], BF16, N, args, null, 0, 1f, 0, null);
                l.run();
                float best = Float.MAX_VALUE;
                for (int r = 0; r < reps; r++) {
                    e0.record(stream);
                    l.run();
                    e1.record(stream);
                    best = Math.min(best, e1.elapsedSince(e0));
                }
                out[v - 1] = (double) N * K * 2 / (best / 1e3) / 1e9;
                if (s != null) {
                    stream.synchronize();
                    y.copyTo(got);
                    if (ref == null) ref = got.clone();
                    double md = 0, my = 0;
                    for (int i = 0; i < N; i++) {
                        md = Math.max(md, Math.abs((double) got[i] - ref[i]));
                        my = Math.max(my, Math.abs(ref[i]));
                    }
                    gemvCheck[v - 3] = md / Math.max(my, 1e-30);
                }
            }
        }
        return out;
    }

    /** The gemv3 shapes {@link #gemvBandwidth} times after variants 1 and 2: {rows per warp, loads per lane}. */
    public static final int[][] GEMV3_SHAPES = {{1, 8}, {1, 4}, {2, 4}, {2, 8}, {-2, 4}, {-4, 4}, {-4, 8}, {-8, 4}};

    /** The largest relative difference (max |Δ| / max |y|) of each gemv3 shape's output from the first's, after {@link #gemvBandwidth}. */
    public double[] gemvCheck = new double[GEMV3_SHAPES.length];

    private Runnable launchOld(int v, int N, Object[] args) { return () -> launchGemv(v, BF16, N, args); }

    /** Before an op: launch the queued products, and (when profiling) close the previous op's time. */
    private void begin(String name) {
        flush();
        mark(name);
    }

    /** Profiling: waits for the stream and books the time since the last mark on the section then running. */
    private void mark(String name) {
        if (!profiling || capturing) return;
        stream.synchronize();
        long now = System.nanoTime();
        if (section != null) {
            long[] a = profile.computeIfAbsent(section, k -> new long[2]);
            a[0] += now - sectionStart;
            a[1]++;
        }
        section = name;
        sectionStart = now;
    }

    /**
     * Turns profiling on or off: every op then waits for the GPU, and its time is booked by op (and by GEMM shape);
     * for finding where the time goes, not for speed.
     */
    public void setProfiling(boolean on) {
        profiling = on;
        profile.clear();
        section = null;
    }

    /** The profile since {@link #setProfiling}: time per op, largest first, one line each. */
    public String profileReport() {
        mark(null);
        long total = 0;
        for (long[] a : profile.values()) total += a[0];
        StringBuilder sb = new StringBuilder();
        List<Map.Entry<String, long[]>> es = new ArrayList<>(profile.entrySet());
        es.sort((p, q) -> Long.compare(q.getValue()[0], p.getValue()[0]));
        for (Map.Entry<String, long[]> e : es)
            sb.append(String.format("  %-34s %9.2f ms %5.1f%%  (%d calls)%n", e.getKey(), e.getValue()[0] / 1e6,
                    100.0 * e.getValue()[0] / Math.max(1, total), e.getValue()[1]));
        sb.append(String.format("  %-34s %9.2f ms%n", "total", total / 1e6));
        return sb.toString();
    }

    /** y[rows, m.rows] = x[rows, m.cols]·mᵀ. */
    private void gemm(DeviceBuffer x, Matrix m, DeviceBuffer y, int rows) {
        if (m.kind == F32) {
            blas.sgemmRowMajor(false, true, rows, m.rows, m.cols, 1f, x, m.cols, m.buf, m.cols, 0f, y, m.rows);
            return;
        }
        long n = (long) rows * m.cols;
        halfInput(x, m.kind, n);
        blas.gemm16RowMajorF32Out(m.kind == F16, false, true, rows, m.rows, m.cols, 1f, half, m.cols, m.buf, m.cols, 0f, y, m.rows);
    }

    /** Queued (both gates of a layer together), applied by {@link #toHeads} on the way to the heads layout. */
    @Override public void gatePreactivations(DeviceBuffer g, float[] bias, int rows, int NH, Double cap) {
        if (gateCount == 1 && gateRows == rows && gateNH == NH && java.util.Objects.equals(gateCap, cap) && gateG[0] != g) {
            invalidate(g);
            gateG[1] = g;
            gateBias[1] = bias;
            gateCount = 2;
            return;
        }
        if (gemvVariant == 3 && gateCount == 0 && pendCount > 0 && pendRows == rows && pendIndex(g) >= 0 && addX == null
                && fromHeads == null && pendingNorm == null) {
            mark("gates");                              // the queued products stay queued: toHeads may fuse them
        } else {
            begin("gates");
        }
        invalidate(g);
        gateG[0] = g;
        gateBias[0] = bias;
        gateRows = rows;
        gateNH = NH;
        gateCap = cap;
        gateCount = 1;
    }

    private int pendIndex(DeviceBuffer y) {
        for (int j = 0; j < pendCount; j++) if (pendY[j] == y) return j;
        return -1;
    }

    private void flushGates() {
        for (int j = 0; j < gateCount; j++) {
            long n = (long) gateRows * gateNH;
            launch1d("gate_preact", n, gateG[j], vector(gateBias[j]), n, gateNH, gateCap == null ? 1f : gateCap.floatValue(),
                    gateCap == null ? 0 : 1);
        }
        clearGates();
    }

    private void clearGates() {
        gateG[0] = gateG[1] = null;
        gateBias[0] = gateBias[1] = null;
        gateCount = 0;
    }

    @Override public void toHeads(DeviceBuffer q, DeviceBuffer k, DeviceBuffer v, DeviceBuffer ig, DeviceBuffer fg,
                                  DeviceBuffer qh, DeviceBuffer kh, DeviceBuffer vh, DeviceBuffer igh, DeviceBuffer fgh,
                                  int B, int Ts, int a, int b, int NH, int DK, int DV) {
        // one token per sequence (decoding) runs the step in fp32 whatever the weights: its inputs are a few KiB, and
        // rounding q, k, v to bf16 there cost 9e-3 of the step logits on hf_tiny_bf16 (2e-6 in fp32) for no speed
        // (segType is set once nothing queued still needs the previous pass's type: after begin() flushed it)
        DType type = Ts == 1 ? DType.FP32 : cellType;
        boolean fuse = gateCount == 2 && gateG[0] == ig && gateG[1] == fg && a == 0 && b == Ts;
        if (fuse && Ts == 1 && gemvVariant == 3 && pendCount > 0 && pendRows == B && addX == null && fromHeads == null
                && pendingNorm == null) {
            int jq = pendIndex(q), jk = pendIndex(k), jv = pendIndex(v), ji = pendIndex(ig), jf = pendIndex(fg);
            if (jq >= 0 && jk >= 0 && jv >= 0 && ji >= 0 && jf >= 0) {
                // decoding: the rows and heads layouts coincide, so the queued products write the cell's inputs
                // themselves (q, k, v in the cell's type; the gates with their bias and soft cap)
                pendY[jq] = qh;
                pendY[jk] = kh;
                pendY[jv] = vh;
                pendY[ji] = igh;
                pendY[jf] = fgh;
                segType = type;                             // nothing is queued on this path (checked above)
                if (segType == DType.BF16) pendHalfMask = (1 << jq) | (1 << jk) | (1 << jv);
                pendBias[ji] = vector(gateBias[0]);
                pendBias[jf] = vector(gateBias[1]);
                if (gateCap != null) {
                    pendCapMask = (1 << ji) | (1 << jf);
                    pendCap = gateCap.floatValue();
                }
                clearGates();
                invalidate(qh);
                invalidate(kh);
                invalidate(vh);
                begin("to_heads (fused into the gemv)");
                halfOf = null;
                return;
            }
        }
        DeviceBuffer ib = null, fb = null;
        float cap = gateCap == null ? 1f : gateCap.floatValue();
        int hasCap = gateCap == null ? 0 : 1;
        if (fuse) {                                     // the queued gate pre-activations are applied here
            ib = vector(gateBias[0]);
            fb = vector(gateBias[1]);
            clearGates();
        }
        begin("to_heads");
        segType = type;
        halfOf = null;
        if (Ts == 1) {                                  // decoding: the layouts coincide, one launch packs all five
            mod.kernel(segType == DType.BF16 ? "pack_step_bf16" : "pack_step_f32").launch(stream, B * NH, 1, 1, 128, 1, 1,
                    0, q, k, v, ig, fg, qh, kh, vh, igh, fgh, DK, DV, ib, fb, cap, hasCap, NH);
            return;
        }
        int n = b - a, hr = B * NH * n;
        if (segType == DType.BF16 && DK % 4 == 0 && DV % 4 == 0) {
            launch1d("to_heads_bf16_v4", (long) hr * DK / 4, q, qh, B, Ts, a, n, NH, DK / 4);
            launch1d("to_heads_bf16_v4", (long) hr * DK / 4, k, kh, B, Ts, a, n, NH, DK / 4);
            launch1d("to_heads_bf16_v4", (long) hr * DV / 4, v, vh, B, Ts, a, n, NH, DV / 4);
        } else {
            String kq = segType == DType.BF16 ? "to_heads_bf16" : "to_heads_f32";
            mod.kernel(kq).launch(stream, hr, 1, 1, 128, 1, 1, 0, q, qh, B, Ts, a, n, NH, DK);
            mod.kernel(kq).launch(stream, hr, 1, 1, 128, 1, 1, 0, k, kh, B, Ts, a, n, NH, DK);
            mod.kernel(kq).launch(stream, hr, 1, 1, 128, 1, 1, 0, v, vh, B, Ts, a, n, NH, DV);
        }
        if (fuse) {
            launch1d("gates_to_heads_preact", hr, ig, igh, B, Ts, a, n, NH, ib, cap, hasCap);
            launch1d("gates_to_heads_preact", hr, fg, fgh, B, Ts, a, n, NH, fb, cap, hasCap);
        } else {
            launch1d("gates_to_heads", hr, ig, igh, B, Ts, a, n, NH);
            launch1d("gates_to_heads", hr, fg, fgh, B, Ts, a, n, NH);
        }
    }

    @Override public void mlstm(DeviceBuffer qh, DeviceBuffer kh, DeviceBuffer vh, DeviceBuffer igh, DeviceBuffer fgh,
                                DeviceBuffer hh, int B, int n, int chunk, BlockState state) {
        begin(chunk > 0 ? "mlstm chunkwise" : "mlstm step");
        halfOf = null;
        CudaLargeState s = state(state);
        if (!capturing) {
            s.beforeDeviceUse();
            s.graphFresh = false;
        }
        DeviceMLstmState d = s.dev;
        if (chunk > 0) {
            cell.forwardChunkwise(stream, segType, qh, kh, vh, igh, fgh, hh, B, n, Math.min(chunk, CudaMLstm.MAX_CHUNK), d);
        } else if (n == 1) {
            DeviceBuffer inN = d.n(), inM = d.m();
            cell.step(stream, segType, qh, kh, vh, igh, fgh, hh, B, d);
            if (capturing) {                            // the replays read inN/inM again: keep them current
                s.capturedN = inN;
                s.capturedM = inM;
                if (d.n() != inN) addCopy(d.n(), inN, inN.bytes / 4);
                if (d.m() != inM) addCopy(d.m(), inM, inM.bytes / 4);
            }
        } else {                                        // the recurrence token by token (spec §3.2)
            int BH = B * config.numHeads, DK = config.qkHeadDim(), DV = config.vHeadDim();
            long e = segType.bytes;
            tokQ = tokBuf(tokQ, BH * DK * e);
            tokK = tokBuf(tokK, BH * DK * e);
            tokV = tokBuf(tokV, BH * DV * e);
            tokH = tokBuf(tokH, BH * DV * e);
            tokI = tokBuf(tokI, BH * 4L);
            tokF = tokBuf(tokF, BH * 4L);
            String sl = segType == DType.BF16 ? "token_slice_u16" : "token_slice_u32";
            String un = segType == DType.BF16 ? "token_unslice_u16" : "token_unslice_u32";
            for (int t = 0; t < n; t++) {
                launch1d(sl, (long) BH * DK, qh, tokQ, BH, n, t, DK);
                launch1d(sl, (long) BH * DK, kh, tokK, BH, n, t, DK);
                launch1d(sl, (long) BH * DV, vh, tokV, BH, n, t, DV);
                launch1d("token_slice_u32", BH, igh, tokI, BH, n, t, 1);
                launch1d("token_slice_u32", BH, fgh, tokF, BH, n, t, 1);
                cell.step(stream, segType, tokQ, tokK, tokV, tokI, tokF, tokH, B, d);
                launch1d(un, (long) BH * DV, tokH, hh, BH, n, t, DV);
            }
        }
    }

    private DeviceBuffer tokBuf(DeviceBuffer b, long bytes) {
        if (b != null && b.bytes >= bytes) return b;
        release(b);
        generation++;
        return device.allocate(bytes);
    }

    private CudaLargeState state(BlockState s) {
        if (s instanceof CudaLargeState c && states.contains(c)) return c;
        throw new IllegalArgumentException("the recurrent state was not made by this CUDA model (use its newState)");
    }

    private void addCopy(DeviceBuffer src, DeviceBuffer dst, long floats) {
        if (copyEntries.length < 3 * (copyCount + 1)) copyEntries = java.util.Arrays.copyOf(copyEntries, 6 * (copyCount + 1));
        copyEntries[3 * copyCount] = src.address();
        copyEntries[3 * copyCount + 1] = dst.address();
        copyEntries[3 * copyCount + 2] = floats;
        copyCount++;
    }

    /** A move of the whole pass back to the rows layout is queued: the multi-head norm reads the heads layout itself. */
    @Override public void fromHeads(DeviceBuffer hh, DeviceBuffer h, int B, int Ts, int a, int b, int NH, int DV) {
        begin("from_heads");
        invalidate(h);
        if (a == 0 && b == Ts) {
            fromHeads = new FromHeads(hh, h, B, Ts, NH, DV);
            return;
        }
        launchFromHeads(hh, h, B, Ts, a, b, NH, DV);
    }

    private void launchFromHeads(DeviceBuffer hh, DeviceBuffer h, int B, int Ts, int a, int b, int NH, int DV) {
        mod.kernel(segType == DType.BF16 ? "from_heads_bf16" : "from_heads_f32").launch(stream, B * NH * (b - a), 1, 1,
                128, 1, 1, 0, hh, h, B, Ts, a, b - a, NH, DV);
    }

    private void flushFromHeads() {
        if (fromHeads == null) return;
        FromHeads f = fromHeads;
        fromHeads = null;
        launchFromHeads(f.src(), f.dst(), f.B(), f.Ts(), 0, f.Ts(), f.NH(), f.DV());
    }

    /** Queued: fused with the output gate that follows (and reading the cell's heads layout when the move was queued). */
    @Override public void multiHeadNorm(MultiHeadLayerNorm norm, DeviceBuffer h, DeviceBuffer hn, int rows) {
        FromHeads f = fromHeads != null && fromHeads.dst() == h ? fromHeads : null;
        if (f != null) fromHeads = null;                // the norm reads the heads layout: the move is not needed
        begin("multihead_norm");
        invalidate(hn);
        pendingNorm = f != null ? new PendingNorm(f.src(), hn, true, f.Ts(), rows, norm)
                : new PendingNorm(h, hn, false, 1, rows, norm);
    }

    private void launchNorm(DeviceBuffer o) {
        PendingNorm p = pendingNorm;
        pendingNorm = null;
        DeviceBuffer src = p.src(), dst = p.dst();
        MultiHeadLayerNorm norm = p.norm();
        String type = p.heads() && segType == DType.BF16 ? "bf16" : "f32";
        int dh = norm.headDim(), nh = norm.numHeads();
        long pairs = (long) p.rows() * nh;
        if (dh <= 1024 && pairs >= 4096) {              // many rows: one warp per (row, head), 8 per block (decoding
            // steps keep one block per head: with a handful of heads the warps would share one SM)
            // with bf16 weights the gated output's one reader is the out projection's bf16 GEMM: write only its staging copy
            boolean halfOnly = o != null && allBf16 && ffnBf16;
            DeviceBuffer out = halfOnly ? stagingFor(dst, pairs * dh) : dst;
            mod.kernel((dh <= 512 ? "mh_norm_w16_" : "mh_norm_w32_") + type + (halfOnly ? "_h" : "")).launch(stream,
                    (int) ((pairs + 7) / 8), 1, 1, 256, 1, 1, 0, src, p.heads() ? 1 : 0, p.Ts(), vector(norm.weight.data), o,
                    out, nh, dh, (float) config.normEps, pairs);
            return;
        }
        String k = (dh <= 4 * THREADS ? "mh_norm_r4_" : "mh_norm_") + type;
        mod.kernel(k).launch(stream, p.rows(), nh, 1, THREADS, 1, 1, 0, src, p.heads() ? 1 : 0, p.Ts(),
                vector(norm.weight.data), o, dst, nh, dh, (float) config.normEps);
    }

    private void flushNorm() {
        if (pendingNorm != null) launchNorm(null);
    }

    @Override public void outputGate(DeviceBuffer o, DeviceBuffer hn, long n) {
        PendingNorm p = pendingNorm;
        if (p != null && p.dst() == hn && n == (long) p.rows() * p.norm().numHeads() * p.norm().headDim() && o != hn) {
            pendingNorm = null;                         // (begin must not launch it alone)
            begin("multihead_norm + output_gate");
            pendingNorm = p;
            launchNorm(o);
            return;
        }
        begin("output_gate");
        invalidate(hn);
        elementwise("output_gate", n, o, hn, COUNT);
    }

    @Override public void swiGlu(DeviceBuffer gate, DeviceBuffer up, long n) {
        if (gemvVariant == 3 && pendCount == 2 && pendY[0] == gate && pendY[1] == up && gate != up
                && pendW[0].rows == pendW[1].rows && n == (long) pendRows * pendW[0].rows) {
            pendPair = true;                            // one launch writes SiLU(gate)·up into gate (up is not written)
            begin("swiglu (fused into the gemv)");
            invalidate(gate);
            return;
        }
        if (dgCount == 2 && dgY[0] == gate && dgY[1] == up && gate != up && dgW[0].rows == dgW[1].rows
                && n == (long) dgRows * dgW[0].rows) {
            Matrix mg = dgW[0], mu = dgW[1];
            DeviceBuffer x = dgX;
            int rows = dgRows;
            dgCount = 0;
            dgW[0] = dgW[1] = null;
            dgY[0] = dgY[1] = null;
            dgX = null;
            gemm(x, mg, gate, rows);
            gemm(x, mu, up, rows);
            begin("swiglu (f32 in, bf16 out)");
            if (half.bytes < n * 2) {                   // (the staging buffer held x; it is overwritten now)
                release(half);
                half = device.allocate(n * 2);
                generation++;
            }
            elementwise("swiglu_f32_bf16", n, gate, up, half, COUNT);
            halfOf = gate;                              // what the down projection reads
            halfKind = BF16;
            return;
        }
        begin("swiglu");
        invalidate(gate);
        elementwise("swiglu", n, gate, up, COUNT);
    }

    /** Queued: launched with the next op, fused into it when that is the RMSNorm of x. */
    @Override public void addInPlace(DeviceBuffer x, DeviceBuffer d, long n) {
        begin("residual");
        invalidate(x);
        addX = x;
        addD = d;
        addN = n;
    }

    private void flushAdd() {
        if (addX == null) return;
        DeviceBuffer x = addX, d = addD;
        long n = addN;
        addX = addD = null;
        elementwise("add_inplace", n, x, d, COUNT);
    }

    @Override public void head(DeviceBuffer xn, MappedWeight lmHead, float[] host, int B, int T, int p0, int Ts, Double cap) {
        begin("lm_head");
        Matrix m = matrix(lmHead);
        long n = (long) B * Ts * m.rows;
        if (logits == null || logits.bytes < n * 4 + 4) {
            release(logits);
            logits = device.allocate(n * 4 + 4);        // + the int a fused finite check sets
            generation++;
        }
        headFlag = false;
        if (gemvVariant == 3 && gemvFits(m, B * Ts)) {  // soft cap and finite check in the GEMV's epilogue
            long at = logits.address() + n * 4;
            device.driver().memsetD8Async(at, (byte) 0, 4, stream.handle());
            matmul(xn, lmHead, logits, B * Ts);
            if (cap != null) {
                pendCapMask = 1;
                pendCap = cap.floatValue();
            }
            pendFlag = at;
            flush();
            headFlag = true;
            headFlagOffset = n * 4;
            return;
        }
        if (gemvFits(m, B * Ts)) {
            matmul(xn, lmHead, logits, B * Ts);
            flush();
        } else {
            gemm(xn, m, logits, B * Ts);
        }
        if (cap != null) elementwise("soft_cap", n, logits, COUNT, cap.floatValue());
    }

    @Override public void finishPass(float[] host, int B, int T, int p0, int Ts) {
        begin("logits check + copy to host");
        int V = config.vocabSize;
        long n = (long) B * Ts * V;
        if (headFlag && headFlagOffset == n * 4 && n * 4 <= (64L << 20)) {
            // the head's GEMV checked the logits into the int after them: one copy brings both
            long bytes = host == null ? 4 : n * 4 + 4, from = host == null ? n * 4 : 0;
            if (logitsHost.byteSize() < bytes) logitsHost = hostArena.allocate(Math.max(bytes, 1 << 16), 16);
            stream.synchronize();
            device.driver().memcpyDtoH(logitsHost, logits.address() + from, bytes);
            if (logitsHost.get(JAVA_INT, bytes - 4) != 0)
                throw new CudaException("the CUDA forward produced non-finite logits (NaN or infinity) at tokens " + p0
                        + ".." + (p0 + Ts - 1));
            if (host == null) return;
            if (Ts == T) MemorySegment.copy(logitsHost, JAVA_FLOAT, 0, host, 0, Math.toIntExact(n));
            else for (int b = 0; b < B; b++)
                MemorySegment.copy(logitsHost, JAVA_FLOAT, (long) b * Ts * V * 4, host, (b * T + p0) * V, Ts * V);
            return;
        }
        flag.zero(stream);
        launch1d("check_finite", n, logits, n, flag);
        stream.synchronize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(4);
            device.driver().memcpyDtoH(f, flag.address(), 4);
            if (f.get(JAVA_INT, 0) != 0)
                throw new CudaException("the CUDA forward produced non-finite logits (NaN or infinity) at tokens " + p0
                        + ".." + (p0 + Ts - 1));
            if (host == null) return;
            MemorySegment s = a.allocate(n * 4, 16);
            device.driver().memcpyDtoH(s, logits.address(), n * 4);
            if (Ts == T) MemorySegment.copy(s, JAVA_FLOAT, 0, host, 0, Math.toIntExact(n));
            else for (int b = 0; b < B; b++)
                MemorySegment.copy(s, JAVA_FLOAT, (long) b * Ts * V * 4, host, (b * T + p0) * V, Ts * V);
        }
    }

    // ---------------------------------------------------------------------------------------------- decoding graph

    @Override public void decodeStep(LMState s, int B, Runnable step) {
        if (!useGraphs) {
            step.run();
            return;
        }
        if (graph.canReplay(s, B, generation)) {
            for (var bs : s.blocks) {
                CudaLargeState c = state(bs);
                c.beforeDeviceUse();
                if (!c.graphFresh) {                    // bring the captured step's inputs up to date
                    DeviceMLstmState d = c.dev;
                    if (d.n() != c.capturedN) launch1d("copy_f32", d.n().bytes / 4, d.n(), c.capturedN, d.n().bytes / 4);
                    if (d.m() != c.capturedM) launch1d("copy_f32", d.m().bytes / 4, d.m(), c.capturedM, d.m().bytes / 4);
                }
            }
            graph.replay(stream);
            for (var bs : s.blocks) ((CudaLargeState) bs).graphFresh = true;
            halfOf = null;
            headFlag = graphHeadFlag;                   // what the captured head does
            headFlagOffset = graphHeadFlagOffset;
            return;
        }
        if (graph.warmedUp(s, B, generation)) {
            dropGraph();
            int nb = s.blocks.length;
            DeviceBuffer[] beforeN = new DeviceBuffer[nb], beforeM = new DeviceBuffer[nb];
            for (int i = 0; i < nb; i++) {
                CudaLargeState c = state(s.blocks[i]);
                c.beforeDeviceUse();
                beforeN[i] = c.dev.n();
                beforeM[i] = c.dev.m();
            }
            if (copyTable == null || copyTable.bytes < 48L * nb) {
                release(copyTable);
                copyTable = device.allocate(48L * nb);
            }
            copyCount = 0;
            long gen = generation;
            CudaGraph g;
            capturing = true;
            halfOf = null;
            try {
                g = CudaGraph.capture(device, stream, () -> {
                    step.run();
                    if (copyCount > 0)                  // the steps' new n, m into the buffers the next replay reads
                        mod.kernel("copy_many").launch(stream, copyCount, 1, 1, THREADS, 1, 1, 0, copyTable, copyCount);
                });
            } catch (CudaException | IllegalStateException e) {
                capturing = false;
                halfOf = null;
                useGraphs = false;                      // eager from now on
                // nothing ran, but the capture may have switched a state's current n/m: the data is in the old ones
                for (int i = 0; i < nb; i++) {
                    DeviceMLstmState d = ((CudaLargeState) s.blocks[i]).dev;
                    if (d.n() != beforeN[i]) launch1d("copy_f32", d.n().bytes / 4, beforeN[i], d.n(), d.n().bytes / 4);
                    if (d.m() != beforeM[i]) launch1d("copy_f32", d.m().bytes / 4, beforeM[i], d.m(), d.m().bytes / 4);
                }
                System.err.println("note: CUDA graph capture failed, decoding without graphs: " + e.getMessage());
                step.run();
                return;
            } finally {
                capturing = false;
            }
            if (generation != gen) {                    // a buffer moved during the capture: do not trust the graph
                g.close();
                throw new IllegalStateException("CudaLargeOps: buffers changed during the graph capture");
            }
            if (copyCount > 0) {
                try (Arena a = Arena.ofConfined()) {
                    MemorySegment t = a.allocate(24L * copyCount, 16);
                    MemorySegment.copy(copyEntries, 0, t, java.lang.foreign.ValueLayout.JAVA_LONG, 0, 3 * copyCount);
                    device.driver().memcpyHtoD(copyTable.address(), t, 24L * copyCount);
                }
            }
            graph.set(g, s, B, generation);
            graphHeadFlag = headFlag;
            graphHeadFlagOffset = headFlagOffset;
            // nothing ran yet: the captured step reads capturedN/M, which hold the state now
            for (var bs : s.blocks) ((CudaLargeState) bs).graphFresh = true;
            graph.replay(stream);
            halfOf = null;
            return;
        }
        step.run();
        graph.warm(s, B, generation);
    }

    private void dropGraph() {
        graph.drop(stream);
    }

    /** Frees the device memory of a state made by {@link #newBlockState} (it must not be used afterwards). */
    @Override public void release(BlockState state) {
        if (state instanceof CudaLargeState c && states.remove(c)) {
            if (graph.holds(c)) dropGraph();
            stream.synchronize();
            c.close();
        }
    }

    /** Waits for everything queued on the device, including the host copies and memsets of the states. */
    void deviceSynchronize() {
        device.synchronize();
    }

    @Override public BlockState newBlockState(int B, int NH, int DK, int DV) {
        CudaLargeState s = new CudaLargeState(this, new DeviceMLstmState(device, B, NH, DK, DV));
        states.add(s);
        return s;
    }

    // ---------------------------------------------------------------------------------------------- helpers

    /** The 16-bit copy of {@code b} is no longer valid once b is written. */
    private void invalidate(DeviceBuffer b) {
        if (halfOf == b) halfOf = null;
    }

    private void launch1d(String kernel, long n, Object... args) {
        mod.launch1d(kernel, stream, n, args);
    }

    /** Stands in an {@link #elementwise} argument list for the element count the kernel is given. */
    private static final Object COUNT = new Object();

    /**
     * An element-wise kernel over n floats: its {@code _v4} twin (float4 accesses, n/4 elements) when n is a multiple
     * of 4, else the scalar one; {@link #COUNT} in {@code args} becomes the element count of the chosen kernel.
     */
    private void elementwise(String kernel, long n, Object... args) {
        boolean v4 = n % 4 == 0;
        long count = v4 ? n / 4 : n;
        Object[] a = args.clone();
        for (int i = 0; i < a.length; i++) if (a[i] == COUNT) a[i] = count;
        launch1d(v4 ? kernel + "_v4" : kernel, count, a);
    }

    @Override public void close() {
        device.afterStream(stream, () -> {
            dropGraph();
            for (CudaLargeState s : states) s.close();
            states.clear();
            for (Matrix m : matrices.values()) m.buf.close();
            matrices.clear();
            DeviceBuffer.closeAll(vectors.values());
            DeviceBuffer.closeAll(owned);
            for (DeviceBuffer b : new DeviceBuffer[]{half, ids, logits, flag, tokQ, tokK, tokV, tokI, tokF, tokH, copyTable})
                if (b != null) b.close();
            cell.close();
            blas.close();
            stream.close();
            hostArena.close();
            idsHost.close();
        });
    }
}
