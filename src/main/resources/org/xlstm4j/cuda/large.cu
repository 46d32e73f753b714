// xlstm4j: element-wise and layout kernels of the xLSTM-Large forward (spec §6.1) on CUDA, compiled at run time with
// NVRTC (bf16.cuh inlined). Used by org.xlstm4j.cuda.CudaLargeOps; the matrix products go through cuBLAS and the mLSTM
// cell through mlstm.cu. Activations are fp32 row-major; weights are fp32, bf16 or f16 (suffix _f32 / _bf16 / _f16);
// the cell's q, k, v, h are fp32 or bf16. Every reduction accumulates in fp32. Element-wise kernels use grid-stride
// loops over 64-bit indices.

#include "bf16.cuh"
#include "reduce.cuh"

typedef unsigned short u16;                                // the bits of a bf16 or f16 value
__device__ __forceinline__ float f16_to_f32(u16 h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
__device__ __forceinline__ u16 f32_to_f16(float x) { u16 h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }

__device__ __forceinline__ float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }

#define GRID_STRIDE(i, n) for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                               i += (long long) gridDim.x * blockDim.x)

// Sum over the block (blockDim.x a multiple of 32, ≤ 1024); every thread gets the result.
// element access by type: fp32 as is, u16 as bf16 (rounded to nearest even on the way in)
template <typename T> __device__ __forceinline__ void put(T* p, long long i, float x);
template <> __device__ __forceinline__ void put<float>(float* p, long long i, float x) { p[i] = x; }
template <> __device__ __forceinline__ void put<u16>(u16* p, long long i, float x) { p[i] = f32_to_bf16(x); }
__device__ __forceinline__ float get(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float get(const u16* p, long long i) { return bf16_to_f32(p[i]); }


// ---- embedding gather: x[r, :] = W[ids[r], :] (grid: rows)
extern "C" __global__ void embed_f32(const int* ids, const float* w, float* x, int E) {
    const float* src = w + (long long) ids[blockIdx.x] * E;
    float* dst = x + (long long) blockIdx.x * E;
    for (int i = threadIdx.x; i < E; i += blockDim.x) dst[i] = src[i];
}
extern "C" __global__ void embed_bf16(const int* ids, const u16* w, float* x, int E) {
    const u16* src = w + (long long) ids[blockIdx.x] * E;
    float* dst = x + (long long) blockIdx.x * E;
    for (int i = threadIdx.x; i < E; i += blockDim.x) dst[i] = bf16_to_f32(src[i]);
}
extern "C" __global__ void embed_f16(const int* ids, const u16* w, float* x, int E) {
    const u16* src = w + (long long) ids[blockIdx.x] * E;
    float* dst = x + (long long) blockIdx.x * E;
    for (int i = threadIdx.x; i < E; i += blockDim.x) dst[i] = f16_to_f32(src[i]);
}

// ---- RMSNorm (spec §6.1): y = x / sqrt(mean(x²) + eps) · w, one block per row; ADD: a residual first, x += d, in
// the same pass (x is written back). Y = float, or u16 when y is written only as the bf16 copy a GEMM reads.
template <bool ADD, typename Y>
__device__ void rms_norm_rows(float* x, const float* d, const float* w, Y* y, int dim, float eps) {
    __shared__ float red[32];
    float* xr = x + (long long) blockIdx.x * dim;
    Y* yr = y + (long long) blockIdx.x * dim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < dim; i += blockDim.x) {
        float v = xr[i];
        if (ADD) { v += d[(long long) blockIdx.x * dim + i]; xr[i] = v; }
        ss += v * v;
    }
    float rs = rsqrtf(block_sum(ss, red) / dim + eps);
    for (int i = threadIdx.x; i < dim; i += blockDim.x) put<Y>(yr, i, (xr[i] * rs) * w[i]);
}

// the same for dim ≤ 4·blockDim.x, each thread's values held in registers between the passes (one round trip to
// memory instead of two; the same elements per thread in the same order, so the same sums)
template <bool ADD, typename Y>
__device__ void rms_norm_rows_r4(float* x, const float* d, const float* w, Y* y, int dim, float eps) {
    __shared__ float red[32];
    float* xr = x + (long long) blockIdx.x * dim;
    Y* yr = y + (long long) blockIdx.x * dim;
    float v[4], wv[4], ss = 0.f;
#pragma unroll
    for (int u = 0; u < 4; u++) {
        int i = threadIdx.x + u * blockDim.x;
        if (i < dim) {
            float t = xr[i];
            if (ADD) { t += d[(long long) blockIdx.x * dim + i]; xr[i] = t; }
            v[u] = t; wv[u] = w[i]; ss += t * t;
        }
    }
    float rs = rsqrtf(block_sum(ss, red) / dim + eps);
#pragma unroll
    for (int u = 0; u < 4; u++) {
        int i = threadIdx.x + u * blockDim.x;
        if (i < dim) put<Y>(yr, i, (v[u] * rs) * wv[u]);
    }
}
extern "C" __global__ void rms_norm(const float* x, const float* w, float* y, int dim, float eps) {
    rms_norm_rows<false, float>((float*) x, nullptr, w, y, dim, eps);
}
extern "C" __global__ void add_rms_norm(float* x, const float* d, const float* w, float* y, int dim, float eps) {
    rms_norm_rows<true, float>(x, d, w, y, dim, eps);
}
extern "C" __global__ void rms_norm_r4(const float* x, const float* w, float* y, int dim, float eps) {
    rms_norm_rows_r4<false, float>((float*) x, nullptr, w, y, dim, eps);
}
extern "C" __global__ void add_rms_norm_r4(float* x, const float* d, const float* w, float* y, int dim, float eps) {
    rms_norm_rows_r4<true, float>(x, d, w, y, dim, eps);
}
extern "C" __global__ void rms_norm_r4_h(const float* x, const float* w, u16* y, int dim, float eps) {
    rms_norm_rows_r4<false, u16>((float*) x, nullptr, w, y, dim, eps);
}
extern "C" __global__ void add_rms_norm_r4_h(float* x, const float* d, const float* w, u16* y, int dim, float eps) {
    rms_norm_rows_r4<true, u16>(x, d, w, y, dim, eps);
}

// ---- MultiHeadLayerNorm (spec §6.1): per (row, head) LayerNorm over gdim features, scale w, no bias.
// grid (rows, groups)
extern "C" __global__ void group_norm(const float* x, const float* w, float* y, int groups, int gdim, float eps) {
    __shared__ float red[32];
    long long o = ((long long) blockIdx.x * groups + blockIdx.y) * gdim;
    const float* xr = x + o;
    float* yr = y + o;
    const float* wr = w + (long long) blockIdx.y * gdim;
    float s = 0.f;
    for (int i = threadIdx.x; i < gdim; i += blockDim.x) s += xr[i];
    float mu = block_sum(s, red) / gdim;
    float ss = 0.f;
    for (int i = threadIdx.x; i < gdim; i += blockDim.x) { float d = xr[i] - mu; ss += d * d; }
    float rs = rsqrtf(block_sum(ss, red) / gdim + eps);
    for (int i = threadIdx.x; i < gdim; i += blockDim.x) yr[i] = (xr[i] - mu) * rs * wr[i];
}

// ---- fp32 activations to the 16-bit type of a weight, for cuBLAS
extern "C" __global__ void to_bf16(const float* x, u16* y, long long n) { GRID_STRIDE(i, n) y[i] = f32_to_bf16(x[i]); }
extern "C" __global__ void to_f16(const float* x, u16* y, long long n) { GRID_STRIDE(i, n) y[i] = f32_to_f16(x[i]); }

// ---- gate pre-activations [rows, NH]: g = cap·tanh((g + b)/cap) (spec §6.1), or g + b when hasCap = 0
extern "C" __global__ void gate_preact(float* g, const float* bias, long long n, int NH, float cap, int hasCap) {
    GRID_STRIDE(i, n) {
        float a = g[i] + bias[i % NH];
        g[i] = hasCap ? cap * tanhf(a / cap) : a;
    }
}

// ---- layouts: rows [B, Ts, NH·D] tokens [a, a+n) ↔ heads [B, NH, n, D]; the heads side in fp32 or bf16

// grid: B·NH·n rows of the heads layout (one block each), threads over D; 32-bit index math except the offsets
template <typename T>
__device__ void to_heads(const float* src, T* dst, int B, int Ts, int a, int n, int NH, int D) {
    int r = blockIdx.x, t = r % n, bh = r / n, hd = bh % NH, b = bh / NH;
    const float* s = src + (((long long) b * Ts + a + t) * NH + hd) * D;
    T* d = dst + (long long) r * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x) put<T>(d, i, s[i]);
}
template <typename T>
__device__ void from_heads(const T* src, float* dst, int B, int Ts, int a, int n, int NH, int D) {
    int r = blockIdx.x, t = r % n, bh = r / n, hd = bh % NH, b = bh / NH;
    const T* s = src + (long long) r * D;
    float* d = dst + (((long long) b * Ts + a + t) * NH + hd) * D;
    for (int i = threadIdx.x; i < D; i += blockDim.x) d[i] = get(s, i);
}
extern "C" __global__ void to_heads_f32(const float* s, float* d, int B, int Ts, int a, int n, int NH, int D) { to_heads<float>(s, d, B, Ts, a, n, NH, D); }
extern "C" __global__ void to_heads_bf16(const float* s, u16* d, int B, int Ts, int a, int n, int NH, int D) { to_heads<u16>(s, d, B, Ts, a, n, NH, D); }
// to_heads_bf16 four values per thread (D % 4 == 0): float4 in, four bf16 out; the prefill's q, k, v moves ran at
// ~1.8 TB/s with one 128-thread block per head row
extern "C" __global__ void to_heads_bf16_v4(const float4* src, uint2* dst, int B, int Ts, int a, int n, int NH, int D4) {
    long long total = (long long) B * NH * n * D4;
    GRID_STRIDE(i, total) {
        int c = (int) (i % D4);
        long long r = i / D4;
        int t = (int) (r % n);
        long long bh = r / n;
        int hd = (int) (bh % NH);
        long long b = bh / NH;
        float4 v = src[((b * Ts + a + t) * NH + hd) * D4 + c];
        uint2 o;
        o.x = (unsigned) f32_to_bf16(v.x) | ((unsigned) f32_to_bf16(v.y) << 16);
        o.y = (unsigned) f32_to_bf16(v.z) | ((unsigned) f32_to_bf16(v.w) << 16);
        dst[i] = o;
    }
}
extern "C" __global__ void from_heads_f32(const float* s, float* d, int B, int Ts, int a, int n, int NH, int D) { from_heads<float>(s, d, B, Ts, a, n, NH, D); }
extern "C" __global__ void from_heads_bf16(const u16* s, float* d, int B, int Ts, int a, int n, int NH, int D) { from_heads<u16>(s, d, B, Ts, a, n, NH, D); }
// the gates [B, Ts, NH] tokens [a, a+n) → [B, NH, n], one thread per value
extern "C" __global__ void gates_to_heads(const float* src, float* dst, int B, int Ts, int a, int n, int NH) {
    int total = B * NH * n;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        int t = i % n, bh = i / n, hd = bh % NH, b = bh / NH;
        dst[i] = src[((long long) b * Ts + a + t) * NH + hd];
    }
}

// ---- small-batch matrix products (decoding): y_j[r, o] = Σ_k x[r, k]·W_j[o, k] for up to 6 16-bit matrices W_j
// [N_j, K] sharing the fp32 input x [R, K] (R ≤ 4, K a multiple of 8). One warp per output row of the concatenated
// matrices, 16-byte weight loads (8 values), fp32 accumulation, a warp reduction. Memory-bound: reads each weight once.
template <int KIND>
__device__ __forceinline__ void unpack8(uint4 w, float* f) {
    unsigned u[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int j = 0; j < 4; j++) {
        if (KIND == 1) {
            f[2 * j] = __uint_as_float(u[j] << 16);
            f[2 * j + 1] = __uint_as_float(u[j] & 0xffff0000u);
        } else {
            f[2 * j] = f16_to_f32((u16) (u[j] & 0xffffu));
            f[2 * j + 1] = f16_to_f32((u16) (u[j] >> 16));
        }
    }
}

// which of up to six matrices (N0..N5 output rows each) global output row g falls in: its index, with g made local to
// it; -1 past the last (warp-uniform)
__device__ __forceinline__ int pick6(int& g, int N0, int N1, int N2, int N3, int N4, int N5) {
    if (g < N0) return 0;
    if ((g -= N0) < N1) return 1;
    if ((g -= N1) < N2) return 2;
    if ((g -= N2) < N3) return 3;
    if ((g -= N3) < N4) return 4;
    if ((g -= N4) < N5) return 5;
    return -1;
}
template <typename P>
__device__ __forceinline__ P sel6(int j, P a0, P a1, P a2, P a3, P a4, P a5) {
    return j == 0 ? a0 : j == 1 ? a1 : j == 2 ? a2 : j == 3 ? a3 : j == 4 ? a4 : a5;
}
// x[0..8)·f[0..8) in one fixed order (every decoding GEMV variant sums the same way)
__device__ __forceinline__ float dot8(float4 a, float4 b, const float* f) {
    return a.x * f[0] + a.y * f[1] + a.z * f[2] + a.w * f[3] + b.x * f[4] + b.y * f[5] + b.z * f[6] + b.w * f[7];
}
// for the R ≤ 4 rows r of x [R, K]: a0[r] += x[r, 8c..8c+8)·f0, and with TWO a1[r] += the same chunk·f1 (each x chunk
// loaded once for both)
template <int TWO>
__device__ __forceinline__ void dot_chunk(const float* __restrict__ x, int R, int K, int c, const float* f0,
                                          const float* f1, float* a0, float* a1) {
#pragma unroll
    for (int r = 0; r < 4; r++) {
        if (r < R) {
            const float4* xr = (const float4*) (x + (long long) r * K) + 2 * c;
            float4 a = __ldg(xr), b = __ldg(xr + 1);
            a0[r] += dot8(a, b, f0);
            if (TWO) a1[r] += dot8(a, b, f1);
        }
    }
}
template <int KIND>
__device__ void gemv_multi(const float* __restrict__ x, int R, int K,
                           const u16* W0, float* Y0, int N0, const u16* W1, float* Y1, int N1,
                           const u16* W2, float* Y2, int N2, const u16* W3, float* Y3, int N3,
                           const u16* W4, float* Y4, int N4, const u16* W5, float* Y5, int N5) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int g = blockIdx.x * (blockDim.x >> 5) + warp;
    int j = pick6(g, N0, N1, N2, N3, N4, N5);
    if (j < 0) return;                                      // warp-uniform
    const u16* W = sel6(j, W0, W1, W2, W3, W4, W5);
    float* Y = sel6(j, Y0, Y1, Y2, Y3, Y4, Y5);
    int N = sel6(j, N0, N1, N2, N3, N4, N5);
    const uint4* wr = (const uint4*) (W + (long long) g * K);
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    int K8 = K >> 3;
#pragma unroll 4
    for (int c = lane; c < K8; c += 32) {
        uint4 w = __ldg(wr + c);
        float f[8];
        unpack8<KIND>(w, f);
        dot_chunk<0>(x, R, K, c, f, f, acc, acc);
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        if (r < R) {
            float v = warp_sum(acc[r]);
            if (lane == 0) Y[(long long) r * N + g] = v;
        }
    }
}
// the same with two output rows per warp (every N_j even): each x load serves two weight rows, and the weights are
// streamed past L1 (ld.global.nc.L1::no_allocate) so that x stays there
__device__ __forceinline__ uint4 ld_stream(const uint4* p) {
    uint4 v;
    asm("ld.global.nc.L1::no_allocate.v4.u32 {%0, %1, %2, %3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}
template <int KIND>
__device__ void gemv2_multi(const float* __restrict__ x, int R, int K,
                            const u16* W0, float* Y0, int N0, const u16* W1, float* Y1, int N1,
                            const u16* W2, float* Y2, int N2, const u16* W3, float* Y3, int N3,
                            const u16* W4, float* Y4, int N4, const u16* W5, float* Y5, int N5) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int g = 2 * (blockIdx.x * (blockDim.x >> 5) + warp);
    int j = pick6(g, N0, N1, N2, N3, N4, N5);
    if (j < 0) return;                                      // warp-uniform
    const u16* W = sel6(j, W0, W1, W2, W3, W4, W5);
    float* Y = sel6(j, Y0, Y1, Y2, Y3, Y4, Y5);
    int N = sel6(j, N0, N1, N2, N3, N4, N5);
    int K8 = K >> 3;
    const uint4* w0 = (const uint4*) (W + (long long) g * K);
    const uint4* w1 = w0 + K8;
    float a0[4] = {0.f, 0.f, 0.f, 0.f}, a1[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll 2
    for (int c = lane; c < K8; c += 32) {
        uint4 u0 = ld_stream(w0 + c), u1 = ld_stream(w1 + c);
        float f0[8], f1[8];
        unpack8<KIND>(u0, f0);
        unpack8<KIND>(u1, f1);
        dot_chunk<1>(x, R, K, c, f0, f1, a0, a1);
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        if (r < R) {
            float v0 = a0[r], v1 = a1[r];
            v0 = warp_sum(v0);
            v1 = warp_sum(v1);
            if (lane == 0) { Y[(long long) r * N + g] = v0; Y[(long long) r * N + g + 1] = v1; }
        }
    }
}
// entry points of the versions-1/2 GEMVs (KIND 1 = bf16, 2 = f16 weights), one product per output group 0..5
#define GEMV_PARAMS const float* x, int R, int K, \
        const u16* W0, float* Y0, int N0, const u16* W1, float* Y1, int N1, const u16* W2, float* Y2, int N2, \
        const u16* W3, float* Y3, int N3, const u16* W4, float* Y4, int N4, const u16* W5, float* Y5, int N5
#define GEMV_ARGS x, R, K, W0, Y0, N0, W1, Y1, N1, W2, Y2, N2, W3, Y3, N3, W4, Y4, N4, W5, Y5, N5
extern "C" __global__ void gemv2_bf16(GEMV_PARAMS) { gemv2_multi<1>(GEMV_ARGS); }
extern "C" __global__ void gemv2_f16(GEMV_PARAMS) { gemv2_multi<2>(GEMV_ARGS); }
extern "C" __global__ void gemv_bf16(GEMV_PARAMS) { gemv_multi<1>(GEMV_ARGS); }
extern "C" __global__ void gemv_f16(GEMV_PARAMS) { gemv_multi<2>(GEMV_ARGS); }

// ---- decoding GEMV, version 3: the same products and the same per-lane summation order as gemv/gemv2 above (so the
// same sums), but each lane first issues U (one row per warp) or 2·U (two rows) independent 16-byte weight loads and
// only then does the arithmetic: more bytes in flight per warp. Fused epilogues, per output value v of matrix j:
// v += bias_j[o] (when bias_j is not null), v = cap·tanh(v/cap) (bit j of capMask), a non-finite v sets *flag (when
// flag is not null), stored as bf16 (bit j of halfMask: the mLSTM cell's q, k, v in decoding, where the rows and heads
// layouts coincide) or fp32. PAIR: the SwiGLU form, warp w takes row w of W0 (gate) and of W1 (up), N0 = N1, and writes
// Y0[r, w] = SiLU(gate)·up (the swiglu kernel's arithmetic).
template <int KIND, int TWO, int U>
__device__ __forceinline__ void dot_rows(const float* __restrict__ x, int R, int K, const uint4* p0, const uint4* p1,
                                         int lane, float* a0, float* a1) {
    int K8 = K >> 3, c = lane;
    for (; c + 32 * (U - 1) < K8; c += 32 * U) {
        uint4 u0[U], u1[U];
#pragma unroll
        for (int i = 0; i < U; i++) {
            u0[i] = ld_stream(p0 + c + 32 * i);
            if (TWO) u1[i] = ld_stream(p1 + c + 32 * i);
        }
#pragma unroll
        for (int i = 0; i < U; i++) {
            float f0[8], f1[8];
            unpack8<KIND>(u0[i], f0);
            if (TWO) unpack8<KIND>(u1[i], f1);
            dot_chunk<TWO>(x, R, K, c + 32 * i, f0, f1, a0, a1);
        }
    }
    for (; c < K8; c += 32) {
        uint4 w0 = ld_stream(p0 + c), w1;
        if (TWO) w1 = ld_stream(p1 + c);
        float f0[8], f1[8];
        unpack8<KIND>(w0, f0);
        if (TWO) unpack8<KIND>(w1, f1);
        dot_chunk<TWO>(x, R, K, c, f0, f1, a0, a1);
    }
}
__device__ __forceinline__ void gemv_store(void* Y, long long idx, int o, float v, int j, const float* bias,
                                           int halfMask, float cap, int capMask, int* flag) {
    if (bias != 0) v += bias[o];
    if ((capMask >> j) & 1) v = cap * tanhf(v / cap);
    if (flag != 0 && !(fabsf(v) <= 3.402823466e38f)) *flag = 1;
    if ((halfMask >> j) & 1) ((u16*) Y)[idx] = f32_to_bf16(v);
    else ((float*) Y)[idx] = v;
}
#define GEMV3_PARAMS const float* x, int R, int K, \
        const u16* W0, void* Y0, int N0, const float* B0, const u16* W1, void* Y1, int N1, const float* B1, \
        const u16* W2, void* Y2, int N2, const float* B2, const u16* W3, void* Y3, int N3, const float* B3, \
        const u16* W4, void* Y4, int N4, const float* B4, const u16* W5, void* Y5, int N5, const float* B5, \
        int halfMask, float cap, int capMask, int* flag
#define GEMV3_ARGS x, R, K, W0, Y0, N0, B0, W1, Y1, N1, B1, W2, Y2, N2, B2, W3, Y3, N3, B3, W4, Y4, N4, B4, \
        W5, Y5, N5, B5, halfMask, cap, capMask, flag
template <int KIND, int RPW, int U, int PAIR>
__device__ void gemv3_multi(GEMV3_PARAMS) {
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int g = (blockIdx.x * (blockDim.x >> 5) + warp) * (PAIR ? 1 : RPW), j;
    const u16* W; void* Y; int N; const float* bias;
    if (PAIR) {
        if (g >= N0) return;
        W = W0; Y = Y0; N = N0; bias = 0; j = 0;
    }
    else {
        j = pick6(g, N0, N1, N2, N3, N4, N5);
        if (j < 0) return;                                  // warp-uniform
        W = sel6(j, W0, W1, W2, W3, W4, W5);
        Y = sel6(j, Y0, Y1, Y2, Y3, Y4, Y5);
        N = sel6(j, N0, N1, N2, N3, N4, N5);
        bias = sel6(j, B0, B1, B2, B3, B4, B5);
    }
    const uint4* p0 = (const uint4*) (W + (long long) g * K);
    const uint4* p1 = PAIR ? (const uint4*) (W1 + (long long) g * K) : p0 + (K >> 3);
    float a0[4] = {0.f, 0.f, 0.f, 0.f}, a1[4] = {0.f, 0.f, 0.f, 0.f};
    dot_rows<KIND, (PAIR || RPW == 2) ? 1 : 0, U>(x, R, K, p0, p1, lane, a0, a1);
#pragma unroll
    for (int r = 0; r < 4; r++) {
        if (r < R) {
            float v0 = a0[r], v1 = a1[r];
            v0 = warp_sum(v0);
            if (PAIR || RPW == 2) v1 = warp_sum(v1);
            if (lane == 0) {
                long long idx = (long long) r * N + g;
                if (PAIR) ((float*) Y)[idx] = v0 * sigmoidf_(v0) * v1;
                else {
                    gemv_store(Y, idx, g, v0, j, bias, halfMask, cap, capMask, flag);
                    if (RPW == 2) gemv_store(Y, idx + 1, g + 1, v1, j, bias, halfMask, cap, capMask, flag);
                }
            }
        }
    }
}
#define GEMV3_KERNEL(name, KIND, RPW, U, PAIR) \
    extern "C" __global__ void name(GEMV3_PARAMS) { gemv3_multi<KIND, RPW, U, PAIR>(GEMV3_ARGS); }
GEMV3_KERNEL(gemv3_r1u8_bf16, 1, 1, 8, 0)
GEMV3_KERNEL(gemv3_r1u4_bf16, 1, 1, 4, 0)
GEMV3_KERNEL(gemv3_r2u4_bf16, 1, 2, 4, 0)
GEMV3_KERNEL(gemv3_r2u8_bf16, 1, 2, 8, 0)
GEMV3_KERNEL(gemv3_p2u4_bf16, 1, 2, 4, 1)
GEMV3_KERNEL(gemv3_p2u8_bf16, 1, 2, 8, 1)
GEMV3_KERNEL(gemv3_r1u8_f16, 2, 1, 8, 0)
GEMV3_KERNEL(gemv3_r1u4_f16, 2, 1, 4, 0)
GEMV3_KERNEL(gemv3_r2u4_f16, 2, 2, 4, 0)
GEMV3_KERNEL(gemv3_r2u8_f16, 2, 2, 8, 0)
GEMV3_KERNEL(gemv3_p2u4_f16, 2, 2, 4, 1)
GEMV3_KERNEL(gemv3_p2u8_f16, 2, 2, 8, 1)

// ---- decoding GEMV, split-K form for launches of one matrix with few rows (the 4096-row out and down projections,
// where one warp per row leaves the SMs short of loads in flight): W warps per output row, warp w of a row takes the
// 16-byte chunks c ≡ 32·w + lane (mod 32·W) of K, U loads in flight per lane (predicated, so short K still batches);
// each warp reduces by shuffles, then warp 0 of the row adds the W warp sums in the fixed order w = 0..W-1 (shared
// memory, no atomics: deterministic) and applies gemv_store's epilogue (bias, cap, finite flag, bf16 or fp32) for
// matrix 0. Block: blockDim.x/32/W rows. Only W0/Y0/N0/B0 are read.
template <int KIND, int W, int U>
__device__ void gemv3_split(GEMV3_PARAMS) {
    __shared__ float part[4][32];
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int rpb = (blockDim.x >> 5) / W;
    int g = blockIdx.x * rpb + warp / W, w = warp % W;
    bool on = g < N0;                                       // warp-uniform
    float a[4] = {0.f, 0.f, 0.f, 0.f};
    if (on) {
        const uint4* p = (const uint4*) (W0 + (long long) g * K);
        const int S = 32 * W;
        int K8 = K >> 3;
        for (int c = 32 * w + lane; c < K8; c += S * U) {
            uint4 u[U];
#pragma unroll
            for (int i = 0; i < U; i++) {
                if (c + S * i < K8) u[i] = ld_stream(p + c + S * i);
                else u[i] = make_uint4(0u, 0u, 0u, 0u);
            }
#pragma unroll
            for (int i = 0; i < U; i++) {
                if (c + S * i < K8) {
                    float f[8];
                    unpack8<KIND>(u[i], f);
                    dot_chunk<0>(x, R, K, c + S * i, f, f, a, a);
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        if (r < R) {
            float v = warp_sum(a[r]);
            if (lane == 0) part[r][warp] = v;
        }
    }
    __syncthreads();
    if (on && w == 0 && lane < R) {
        float v = 0.f;
        for (int i = 0; i < W; i++) v += part[lane][warp + i];
        gemv_store(Y0, (long long) lane * N0 + g, g, v, 0, B0, halfMask, cap, capMask, flag);
    }
}
#define GEMV3S_KERNEL(name, KIND, W, U) \
    extern "C" __global__ void name(GEMV3_PARAMS) { gemv3_split<KIND, W, U>(GEMV3_ARGS); }
GEMV3S_KERNEL(gemv3_s2u4_bf16, 1, 2, 4)
GEMV3S_KERNEL(gemv3_s2u8_bf16, 1, 2, 8)
GEMV3S_KERNEL(gemv3_s4u4_bf16, 1, 4, 4)
GEMV3S_KERNEL(gemv3_s4u8_bf16, 1, 4, 8)
GEMV3S_KERNEL(gemv3_s8u4_bf16, 1, 8, 4)
GEMV3S_KERNEL(gemv3_s8u8_bf16, 1, 8, 8)
GEMV3S_KERNEL(gemv3_s2u4_f16, 2, 2, 4)
GEMV3S_KERNEL(gemv3_s2u8_f16, 2, 2, 8)
GEMV3S_KERNEL(gemv3_s4u4_f16, 2, 4, 4)
GEMV3S_KERNEL(gemv3_s4u8_f16, 2, 4, 8)
GEMV3S_KERNEL(gemv3_s8u4_f16, 2, 8, 4)
GEMV3S_KERNEL(gemv3_s8u8_f16, 2, 8, 8)

// ---- one token t of a head-layout tensor [BH, n, D] ↔ [BH, D] (the recurrent form, token by token); 16- or 32-bit units
extern "C" __global__ void token_slice_u32(const unsigned* src, unsigned* dst, int BH, int n, int t, int D) {
    long long total = (long long) BH * D;
    GRID_STRIDE(i, total) dst[i] = src[((i / D) * n + t) * D + i % D];
}
extern "C" __global__ void token_slice_u16(const u16* src, u16* dst, int BH, int n, int t, int D) {
    long long total = (long long) BH * D;
    GRID_STRIDE(i, total) dst[i] = src[((i / D) * n + t) * D + i % D];
}
extern "C" __global__ void token_unslice_u32(const unsigned* src, unsigned* dst, int BH, int n, int t, int D) {
    long long total = (long long) BH * D;
    GRID_STRIDE(i, total) dst[((i / D) * n + t) * D + i % D] = src[i];
}
extern "C" __global__ void token_unslice_u16(const u16* src, u16* dst, int BH, int n, int t, int D) {
    long long total = (long long) BH * D;
    GRID_STRIDE(i, total) dst[((i / D) * n + t) * D + i % D] = src[i];
}

// ---- element-wise
// (the _v4 forms take n4 = n/4 float4 elements; the caller uses them when n is a multiple of 4)
extern "C" __global__ void output_gate(const float* o, float* hn, long long n) { GRID_STRIDE(i, n) hn[i] *= sigmoidf_(o[i]); }
extern "C" __global__ void output_gate_v4(const float4* o, float4* hn, long long n4) {
    GRID_STRIDE(i, n4) {
        float4 a = o[i], h = hn[i];
        h.x *= sigmoidf_(a.x); h.y *= sigmoidf_(a.y); h.z *= sigmoidf_(a.z); h.w *= sigmoidf_(a.w);
        hn[i] = h;
    }
}
extern "C" __global__ void add_inplace(float* x, const float* d, long long n) { GRID_STRIDE(i, n) x[i] += d[i]; }
extern "C" __global__ void add_inplace_v4(float4* x, const float4* d, long long n4) {
    GRID_STRIDE(i, n4) { float4 a = x[i], b = d[i]; a.x += b.x; a.y += b.y; a.z += b.z; a.w += b.w; x[i] = a; }
}
extern "C" __global__ void swiglu(float* g, const float* u, long long n) {
    GRID_STRIDE(i, n) { float a = g[i]; g[i] = a * sigmoidf_(a) * u[i]; }
}
// SwiGLU from fp32 gate/up to the bf16 input of the down projection (the swiglu + to_bf16 passes in one)
extern "C" __global__ void swiglu_f32_bf16(const float* g, const float* u, u16* y, long long n) {
    GRID_STRIDE(i, n) { float a = g[i]; y[i] = f32_to_bf16(a * sigmoidf_(a) * u[i]); }
}
extern "C" __global__ void swiglu_f32_bf16_v4(const float4* g, const float4* u, uint2* y, long long n4) {
    GRID_STRIDE(i, n4) {
        float4 a = g[i], b = u[i];
        uint2 r;
        r.x = (unsigned) f32_to_bf16(a.x * sigmoidf_(a.x) * b.x) | ((unsigned) f32_to_bf16(a.y * sigmoidf_(a.y) * b.y) << 16);
        r.y = (unsigned) f32_to_bf16(a.z * sigmoidf_(a.z) * b.z) | ((unsigned) f32_to_bf16(a.w * sigmoidf_(a.w) * b.w) << 16);
        y[i] = r;
    }
}
extern "C" __global__ void swiglu_v4(float4* g, const float4* u, long long n4) {
    GRID_STRIDE(i, n4) {
        float4 a = g[i], b = u[i];
        a.x = a.x * sigmoidf_(a.x) * b.x; a.y = a.y * sigmoidf_(a.y) * b.y;
        a.z = a.z * sigmoidf_(a.z) * b.z; a.w = a.w * sigmoidf_(a.w) * b.w;
        g[i] = a;
    }
}
extern "C" __global__ void soft_cap(float* x, long long n, float cap) { GRID_STRIDE(i, n) x[i] = cap * tanhf(x[i] / cap); }
extern "C" __global__ void soft_cap_v4(float4* x, long long n4, float cap) {
    GRID_STRIDE(i, n4) {
        float4 a = x[i];
        a.x = cap * tanhf(a.x / cap); a.y = cap * tanhf(a.y / cap); a.z = cap * tanhf(a.z / cap); a.w = cap * tanhf(a.w / cap);
        x[i] = a;
    }
}
extern "C" __global__ void to_bf16_v4(const float4* x, uint2* y, long long n4) {
    GRID_STRIDE(i, n4) {
        float4 a = x[i];
        uint2 r;
        r.x = (unsigned) f32_to_bf16(a.x) | ((unsigned) f32_to_bf16(a.y) << 16);
        r.y = (unsigned) f32_to_bf16(a.z) | ((unsigned) f32_to_bf16(a.w) << 16);
        y[i] = r;
    }
}
// decoding (one token per sequence, Ts = n = 1): rows and heads layouts coincide, so q, k, v (to the cell's type) and
// the gates (with their bias and soft cap, spec §6.1, when ib is not null) are packed in one launch.
// grid: B·NH rows, threads over DV.
__device__ __forceinline__ float gate_value(float g, const float* bias, int h, float cap, int hasCap) {
    if (bias == 0) return g;
    float a = g + bias[h];
    return hasCap ? cap * tanhf(a / cap) : a;
}
template <typename T>
__device__ void pack_step(const float* q, const float* k, const float* v, const float* ig, const float* fg,
                          T* qh, T* kh, T* vh, float* igh, float* fgh, int DK, int DV,
                          const float* ib, const float* fb, float cap, int hasCap, int NH) {
    long long r = blockIdx.x;
    for (int i = threadIdx.x; i < DK; i += blockDim.x) {
        put<T>(qh, r * DK + i, q[r * DK + i]);
        put<T>(kh, r * DK + i, k[r * DK + i]);
    }
    for (int i = threadIdx.x; i < DV; i += blockDim.x) put<T>(vh, r * DV + i, v[r * DV + i]);
    if (threadIdx.x == 0) {
        int h = (int) (r % NH);
        igh[r] = gate_value(ig[r], ib, h, cap, hasCap);
        fgh[r] = gate_value(fg[r], fb, h, cap, hasCap);
    }
}
extern "C" __global__ void pack_step_f32(const float* q, const float* k, const float* v, const float* ig, const float* fg,
        float* qh, float* kh, float* vh, float* igh, float* fgh, int DK, int DV,
        const float* ib, const float* fb, float cap, int hasCap, int NH) {
    pack_step<float>(q, k, v, ig, fg, qh, kh, vh, igh, fgh, DK, DV, ib, fb, cap, hasCap, NH);
}
extern "C" __global__ void pack_step_bf16(const float* q, const float* k, const float* v, const float* ig, const float* fg,
        u16* qh, u16* kh, u16* vh, float* igh, float* fgh, int DK, int DV,
        const float* ib, const float* fb, float cap, int hasCap, int NH) {
    pack_step<u16>(q, k, v, ig, fg, qh, kh, vh, igh, fgh, DK, DV, ib, fb, cap, hasCap, NH);
}
// the gates [B, Ts, NH] tokens [a, a+n) → [B, NH, n] with their bias and soft cap applied on the way
extern "C" __global__ void gates_to_heads_preact(const float* src, float* dst, int B, int Ts, int a, int n, int NH,
                                                 const float* bias, float cap, int hasCap) {
    int total = B * NH * n;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < total; i += gridDim.x * blockDim.x) {
        int t = i % n, bh = i / n, hd = bh % NH, b = bh / NH;
        dst[i] = gate_value(src[((long long) b * Ts + a + t) * NH + hd], bias, hd, cap, hasCap);
    }
}
// the outputs of the graph's captured steps copied back (src, dst, floats per entry): one launch for all blocks
extern "C" __global__ void copy_many(const long long* table, int count) {
    int e = blockIdx.x;
    if (e >= count) return;
    const float* src = (const float*) table[3 * e];
    float* dst = (float*) table[3 * e + 1];
    long long n = table[3 * e + 2];
    for (long long i = threadIdx.x; i < n; i += blockDim.x) dst[i] = src[i];
}
// MultiHeadLayerNorm (spec §6.1) reading h either in rows layout [B·Ts, NH, DH] (fp32) or straight from the cell's
// heads layout [B, NH, Ts, DH] (fp32 or bf16), optionally times σ(o) (the output gate): grid (B·Ts, NH)
// the first of the gdim values of (row, head g): in the rows layout at yo, in the heads layout at [row / Ts, g, row % Ts]
template <typename T>
__device__ __forceinline__ const T* mh_source(const T* src, int heads, int Ts, long long row, int groups, int g,
                                              long long yo, int gdim) {
    return heads ? src + (((row / Ts) * groups + g) * Ts + row % Ts) * gdim : src + yo;
}
// a normalized value times σ(o[i]) when there is an output gate
__device__ __forceinline__ float mh_gate(float v, const float* o, long long i) { return o != 0 ? v * sigmoidf_(o[i]) : v; }
// one block per (row, head): grid (B·Ts, NH). PER > 0 (gdim ≤ PER·blockDim.x): each thread's values read once into
// registers; PER = 0: any gdim, values re-read for each pass. Both sum in the same order, so they give the same bits.
template <typename T, int PER>
__device__ void mh_norm(const T* src, int heads, int Ts, const float* w, const float* o, float* y, int groups,
                        int gdim, float eps) {
    __shared__ float red[32];
    int row = blockIdx.x, g = blockIdx.y;
    long long yo = ((long long) row * groups + g) * gdim;
    const T* xr = mh_source(src, heads, Ts, row, groups, g, yo, gdim);
    const float* wr = w + (long long) g * gdim;
    const int n = PER > 0 ? PER : (gdim + blockDim.x - 1) / blockDim.x;   // values per thread (at most)
    float xv[PER > 0 ? PER : 1] = {}, s = 0.f;        // with PER > 0: this thread's u-th value, index i
#pragma unroll
    for (int u = 0; u < n; u++) {
        int i = threadIdx.x + u * blockDim.x;
        if (i < gdim) {
            float x = get(xr, i);
            if (PER > 0) xv[PER > 0 ? u : 0] = x;
            s += x;
        }
    }
    float mu = block_sum(s, red) / gdim;
    float ss = 0.f;
#pragma unroll
    for (int u = 0; u < n; u++) {
        int i = threadIdx.x + u * blockDim.x;
        if (i < gdim) { float d = (PER > 0 ? xv[PER > 0 ? u : 0] : get(xr, i)) - mu; ss += d * d; }
    }
    float rs = rsqrtf(block_sum(ss, red) / gdim + eps);
#pragma unroll
    for (int u = 0; u < n; u++) {
        int i = threadIdx.x + u * blockDim.x;
        if (i < gdim) y[yo + i] = mh_gate(((PER > 0 ? xv[PER > 0 ? u : 0] : get(xr, i)) - mu) * rs * wr[i], o, yo + i);
    }
}
#define MH_NORM(NAME, T, PER) \
    extern "C" __global__ void NAME(const T* src, int heads, int Ts, const float* w, const float* o, float* y, \
                                    int groups, int gdim, float eps) { mh_norm<T, PER>(src, heads, Ts, w, o, y, groups, gdim, eps); }
MH_NORM(mh_norm_r4_f32, float, 4)
MH_NORM(mh_norm_r4_bf16, u16, 4)
MH_NORM(mh_norm_f32, float, 0)
MH_NORM(mh_norm_bf16, u16, 0)
// the same with one warp per (row, head) and up to 32·PER values per head in registers, sums by warp shuffles (no block
// barriers): blocks of 8 warps; the prefill's 16384 × 8 heads of 512 ran at ~1 TB/s as one 256-thread block each
template <typename T, int PER, typename U>
__device__ void mh_norm_warp(const T* src, int heads, int Ts, const float* w, const float* o, U* y, int groups,
                             int gdim, float eps, long long pairs) {
    long long pair = (long long) blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (pair >= pairs) return;
    int lane = threadIdx.x & 31, g = (int) (pair % groups);
    long long row = pair / groups, yo = pair * gdim;
    const T* xr = mh_source(src, heads, Ts, row, groups, g, yo, gdim);
    const float* wr = w + (long long) g * gdim;
    float xv[PER], s = 0.f;
#pragma unroll
    for (int u = 0; u < PER; u++) {
        int i = lane + 32 * u;
        xv[u] = i < gdim ? get(xr, i) : 0.f;
        s += xv[u];
    }
    s = warp_sum(s);
    float mu = s / gdim, ss = 0.f;
#pragma unroll
    for (int u = 0; u < PER; u++) {
        int i = lane + 32 * u;
        if (i < gdim) { float d = xv[u] - mu; ss += d * d; }
    }
    ss = warp_sum(ss);
    float rs = rsqrtf(ss / gdim + eps);
#pragma unroll
    for (int u = 0; u < PER; u++) {
        int i = lane + 32 * u;
        if (i < gdim) {
            put<U>(y, yo + i, mh_gate((xv[u] - mu) * rs * wr[i], o, yo + i));
        }
    }
}
// NAME(_h): fp32 output (or bf16 only, for a bf16 GEMM that is the output's one reader)
#define MH_NORM_WARP(NAME, T, PER, U) \
    extern "C" __global__ void NAME(const T* src, int heads, int Ts, const float* w, const float* o, U* y, int groups, \
                                    int gdim, float eps, long long pairs) { \
        mh_norm_warp<T, PER, U>(src, heads, Ts, w, o, y, groups, gdim, eps, pairs); }
MH_NORM_WARP(mh_norm_w16_f32, float, 16, float)
MH_NORM_WARP(mh_norm_w16_bf16, u16, 16, float)
MH_NORM_WARP(mh_norm_w32_f32, float, 32, float)
MH_NORM_WARP(mh_norm_w32_bf16, u16, 32, float)
MH_NORM_WARP(mh_norm_w16_f32_h, float, 16, u16)
MH_NORM_WARP(mh_norm_w16_bf16_h, u16, 16, u16)
MH_NORM_WARP(mh_norm_w32_f32_h, float, 32, u16)
MH_NORM_WARP(mh_norm_w32_bf16_h, u16, 32, u16)
extern "C" __global__ void copy_f32(const float* src, float* dst, long long n) { GRID_STRIDE(i, n) dst[i] = src[i]; }

// ---- seeded N(0, std²) weights made on the device (benchmarks at real shapes without a file): a hash of
// (seed, index) gives two uniforms, Box–Muller gives the normal value. Deterministic, order-free.
__device__ __forceinline__ unsigned long long mix64(unsigned long long z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
__device__ __forceinline__ float normal_at(unsigned long long seed, long long i) {
    unsigned long long h = mix64(seed ^ mix64((unsigned long long) i));
    float u1 = ((h >> 40) + 1) * (1.0f / 16777217.0f);          // (0, 1]
    float u2 = ((h >> 16) & 0xffffff) * (1.0f / 16777216.0f);   // [0, 1)
    return sqrtf(-2.f * logf(u1)) * cospif(2.f * u2);
}
extern "C" __global__ void fill_normal_f32(float* w, long long n, unsigned long long seed, float std) {
    GRID_STRIDE(i, n) w[i] = std * normal_at(seed, i);
}
extern "C" __global__ void fill_normal_bf16(u16* w, long long n, unsigned long long seed, float std) {
    GRID_STRIDE(i, n) w[i] = f32_to_bf16(std * normal_at(seed, i));
}
extern "C" __global__ void fill_normal_f16(u16* w, long long n, unsigned long long seed, float std) {
    GRID_STRIDE(i, n) w[i] = f32_to_f16(std * normal_at(seed, i));
}
// widen a 16-bit weight to fp32 on the device (fp32 mode with bf16/f16 checkpoints)
extern "C" __global__ void widen_bf16(const u16* s, float* d, long long n) { GRID_STRIDE(i, n) d[i] = bf16_to_f32(s[i]); }
extern "C" __global__ void widen_f16(const u16* s, float* d, long long n) { GRID_STRIDE(i, n) d[i] = f16_to_f32(s[i]); }
// any non-finite value in x[0..n) sets *flag (checked after a forward: never silent NaNs)
extern "C" __global__ void check_finite(const float* x, long long n, int* flag) {
    GRID_STRIDE(i, n) if (!(fabsf(x[i]) <= 3.402823466e38f)) *flag = 1;   // NaN or ±inf
}
