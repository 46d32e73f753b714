package org.xlstm4j.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Pure-Java pieces: error message format, bf16 rounding, allocator size classes, dtype parsing. */
class CudaMessagesTest {
    @Test void errorMessageNamesCallCodeAndError() {
        assertEquals("cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory, 1024 bytes",
                CudaException.format("cuMemAlloc_v2", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory", "1024 bytes"));
        assertEquals("cublasGemmEx failed: CUBLAS_STATUS_INVALID_VALUE (7)",
                CudaException.format("cublasGemmEx", 7, "CUBLAS_STATUS_INVALID_VALUE", null, null));
        assertEquals("cuInit failed: error (999)", CudaException.format("cuInit", 999, null, "", ""));
        assertEquals("nvrtcCompileProgram failed: NVRTC_ERROR_COMPILATION (6), a b",
                CudaException.format("nvrtcCompileProgram", 6, "NVRTC_ERROR_COMPILATION", "NVRTC_ERROR_COMPILATION", "a\nb"));
    }

    @Test void bf16RoundsToNearestEven() {
        assertEquals(1.0f, Bf16.round(1.0f));
        assertEquals(1.0f, Bf16.round(1.0f + 0x1p-8f));                 // exactly half way, ties to even (down)
        assertEquals(1.0f + 0x1p-6f, Bf16.round(1.0f + 0x1p-7f + 0x1p-8f)); // half way, ties to even (up)
        assertEquals(1.0f + 0x1p-7f, Bf16.round(1.0f + 0x1p-7f + 0x1p-10f));
        assertEquals(-2.5f, Bf16.round(-2.5f));
        assertEquals(Float.POSITIVE_INFINITY, Bf16.round(Float.POSITIVE_INFINITY));
        assertEquals(true, Float.isNaN(Bf16.round(Float.NaN)));
        assertEquals((short) 0x3f80, Bf16.fromFloat(1.0f));
    }

    @Test void allocatorSizeClasses() {
        assertEquals(512, CachingAllocator.roundedSize(0));
        assertEquals(512, CachingAllocator.roundedSize(1));
        assertEquals(1024, CachingAllocator.roundedSize(513));
        assertEquals(1L << 20, CachingAllocator.roundedSize((1L << 20) - 1));
        assertEquals(2L << 20, CachingAllocator.roundedSize(1L << 20));
        assertEquals(4L << 20, CachingAllocator.roundedSize((2L << 20) + 1));
        assertThrows(IllegalArgumentException.class, () -> CachingAllocator.roundedSize(-1));
    }

    @Test void dtypeParsing() {
        assertEquals(DType.BF16, DType.parse("BF16"));
        assertEquals(DType.FP32, DType.parse("float32"));
        assertThrows(IllegalArgumentException.class, () -> DType.parse("fp16"));
    }

    @Test void flopCount() {
        // B·NH·T·(2L(DK + DV) + 4·DK·DV) at the TFLA shape
        assertEquals(8.0 * 16 * 8192 * (2 * 64 * 384 + 4 * 128 * 256), CudaMLstm.flops(8, 16, 8192, 64, 128, 256));
        assertEquals(CudaMLstm.flops(1, 1, 10, 10, 4, 4), CudaMLstm.flops(1, 1, 10, 64, 4, 4), "L is capped at T");
    }
}
