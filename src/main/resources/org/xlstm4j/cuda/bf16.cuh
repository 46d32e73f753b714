// xlstm4j: bfloat16 as the upper half of a float32, and typed element access, shared by the kernel sources
// (mlstm.cu, slstm.cu, large.cu include it; CudaDevice inlines it before NVRTC compiles a source, so the disk cache key
// covers it too).
#pragma once

typedef unsigned short bf16_t;

__device__ __forceinline__ float bf16_to_f32(bf16_t b) { return __uint_as_float(((unsigned) b) << 16); }
// round to nearest even; a NaN stays a (quiet) NaN
__device__ __forceinline__ bf16_t f32_to_bf16(float x) {
    unsigned u = __float_as_uint(x);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0u) return (bf16_t) ((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (bf16_t) (u >> 16);
}

__device__ __forceinline__ float load(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float load(const bf16_t* p, long long i) { return bf16_to_f32(p[i]); }
__device__ __forceinline__ void store(float* p, long long i, float x) { p[i] = x; }
__device__ __forceinline__ void store(bf16_t* p, long long i, float x) { p[i] = f32_to_bf16(x); }
