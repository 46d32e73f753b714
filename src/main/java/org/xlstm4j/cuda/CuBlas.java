package org.xlstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * cuBLAS through the FFM API: one handle bound to a stream, with row-major GEMM wrappers. cuBLAS is column-major; a
 * row-major matrix X (rows × cols, leading dimension ld) is, read column-major, Xᵀ with the same ld. So the row-major
 * product C = op(A)·op(B) (M × N, inner K) is computed as the column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: cuBLAS is called with
 * the operands swapped, m = N, n = M, and each operand's transpose flag kept (a row-major operand that is not
 * transposed is passed as CUBLAS_OP_N, since its column-major reading is already the transpose the swap needs).
 * Leading dimensions are the row-major ones (elements between consecutive rows).
 */
public final class CuBlas implements AutoCloseable {
    static final int OP_N = 0, OP_T = 1;
    /** cudaDataType_t. */
    static final int R_32F = 0, R_16F = 2, R_16BF = 14;
    /** cublasComputeType_t CUBLAS_COMPUTE_32F. */
    static final int COMPUTE_32F = 68;
    /** cublasGemmAlgo_t CUBLAS_GEMM_DEFAULT. */
    static final int GEMM_DEFAULT = -1;

    private final NativeFunctions lib;
    private final MethodHandle create, destroy, setStream, sgemm, gemmEx, statusName;
    private MemorySegment handle;
    private final Arena scalars = Arena.ofShared();
    private final MemorySegment alphaBeta;

    CuBlas(CudaLibraries.Loaded loaded) {
        lib = new NativeFunctions(loaded);
        create = lib.require("cublasCreate_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        destroy = lib.require("cublasDestroy_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        setStream = lib.require("cublasSetStream_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        sgemm = lib.require("cublasSgemm_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        gemmEx = lib.require("cublasGemmEx", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
        statusName = lib.optional(FunctionDescriptor.of(ADDRESS, JAVA_INT), "cublasGetStatusName");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeFunctions.call(create, "cublasCreate_v2", p), "cublasCreate_v2");
            handle = p.get(ADDRESS, 0);
        }
        alphaBeta = scalars.allocate(JAVA_FLOAT, 2);
    }

    /** Where the library was found. */
    public String where() {
        return lib.where();
    }

    private void check(int status, String call) {
        if (status == 0) return;
        String name = statusName == null ? null : NativeFunctions.cString(NativeFunctions.callPointer(statusName, "cublasGetStatusName", status));
        throw new CudaException(CudaException.format(call, status, name, null, null), status);
    }

    /** Makes the following calls run on {@code stream}. */
    public void setStream(CudaStream stream) {
        check(NativeFunctions.call(setStream, "cublasSetStream_v2", handle, stream.handle()), "cublasSetStream_v2");
    }

    /**
     * Row-major fp32 C = alpha·op(A)·op(B) + beta·C, C M × N, op(A) M × K, op(B) K × N (cublasSgemm_v2).
     * {@code lda}, {@code ldb}, {@code ldc}: row-major leading dimensions.
     */
    public void sgemmRowMajor(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceBuffer A, int lda,
                              DeviceBuffer B, int ldb, float beta, DeviceBuffer C, int ldc) {
        alphaBeta.setAtIndex(JAVA_FLOAT, 0, alpha);
        alphaBeta.setAtIndex(JAVA_FLOAT, 1, beta);
        check(NativeFunctions.call(sgemm, "cublasSgemm_v2", handle, transB ? OP_T : OP_N, transA ? OP_T : OP_N,
                N, M, K, alphaBeta, MemorySegment.ofAddress(B.address()), ldb, MemorySegment.ofAddress(A.address()), lda,
                alphaBeta.asSlice(4), MemorySegment.ofAddress(C.address()), ldc), "cublasSgemm_v2");
    }

    /**
     * Row-major C = alpha·op(A)·op(B) + beta·C with bf16 A and B, fp32 accumulation (cublasGemmEx, CUBLAS_COMPUTE_32F);
     * C is fp32 ({@code outBf16} false) or bf16.
     */
    public void gemmBf16RowMajor(boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceBuffer A, int lda,
                                 DeviceBuffer B, int ldb, float beta, DeviceBuffer C, int ldc, boolean outBf16) {
        gemmEx(R_16BF, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, outBf16 ? R_16BF : R_32F);
    }

    /**
     * Row-major C = alpha·op(A)·op(B) + beta·C with 16-bit A and B ({@code f16}: IEEE half, else bfloat16), fp32
     * accumulation (cublasGemmEx, CUBLAS_COMPUTE_32F) and fp32 C.
     */
    public void gemm16RowMajorF32Out(boolean f16, boolean transA, boolean transB, int M, int N, int K, float alpha,
                                     DeviceBuffer A, int lda, DeviceBuffer B, int ldb, float beta, DeviceBuffer C, int ldc) {
        gemmEx(f16 ? R_16F : R_16BF, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, R_32F);
    }

    private void gemmEx(int abType, boolean transA, boolean transB, int M, int N, int K, float alpha, DeviceBuffer A, int lda,
                        DeviceBuffer B, int ldb, float beta, DeviceBuffer C, int ldc, int cType) {
        alphaBeta.setAtIndex(JAVA_FLOAT, 0, alpha);
        alphaBeta.setAtIndex(JAVA_FLOAT, 1, beta);
        check(NativeFunctions.call(gemmEx, "cublasGemmEx", handle, transB ? OP_T : OP_N, transA ? OP_T : OP_N, N, M, K,
                alphaBeta, MemorySegment.ofAddress(B.address()), abType, ldb, MemorySegment.ofAddress(A.address()), abType, lda,
                alphaBeta.asSlice(4), MemorySegment.ofAddress(C.address()), cType, ldc,
                COMPUTE_32F, GEMM_DEFAULT), "cublasGemmEx");
    }

    @Override public void close() {
        if (handle == null) return;
        MemorySegment h = handle;
        handle = null;
        check(NativeFunctions.call(destroy, "cublasDestroy_v2", h), "cublasDestroy_v2");
        scalars.close();
    }
}
