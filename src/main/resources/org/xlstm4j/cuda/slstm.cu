// xlstm4j: CUDA kernel of the sLSTM forward (spec §2), compiled at run time with NVRTC (no headers needed).
//
// Same math, conventions and layouts as org.xlstm4j.cells.SLstmCell (the official vanilla code path):
//   x     [B, T, 4E]  the input part W·x of the gate pre-activations, rows [i | f | z | o], column g·E + h·DH + j
//   R     [NH, DH, 4DH] the recurrent kernel in the official *cuda* layout (h, k, g, j) (= SLstmCell's vanilla
//                     (h, g, j, k) transposed per head, SLstmCell.recurrentKernelToCuda), so that one row k of a head is
//                     4·DH contiguous values and consecutive threads read consecutive output rows g·DH + j
//   bias  [4E]        vanilla (gate, head, unit) order, fp32
//   h     [B, T, E]   output hidden states
//   state h, c, n, m  [B, E] each, fp32; read at the start (hasState) and overwritten with the final state
// x, R and h are fp32 or bf16 (suffix _f32 / _bf16); bias, states, gate math and every accumulation are fp32, and the
// recurrence uses the fp32 h (only the stored output is rounded in bf16 mode).
//
// One launch for the whole sequence: grid (ceil(B / BB), NH), one block per (tile of BB batch rows, head) that walks
// all T steps. Per step: (1) every thread owns RPT consecutive output rows of the 4·DH gate rows (RPT = 1 in fp32,
// 2 in bf16: one 32-bit load gives two bf16 weights) and one of S slices of k (S = 1, 2, 4; the host picks 2 where it fits: more warps and shorter
// FMA chains for small heads), and computes its part of Σ_k R[k][row]·h_{t−1}[b][k] for its BB batch rows, h_{t−1}
// read from shared memory as float4 broadcasts; slice 0 adds x + b; (2) the block's BB·DH units add up the S partial
// sums, apply the stabilized gates (spec §2.1), keep c, n, m in shared memory and publish h. Two __syncthreads per
// step; the next step's x is prefetched into registers during the product.
//
// Where R lives: rows k < KS of the head's R are copied into shared memory once (KS chosen by the host: all DH rows
// when 4·DH²·sizeof(R) + the small per-step arrays fit the per-block opt-in, e.g. up to DH ≈ 108 fp32 / DH ≈ 156 bf16
// on Hopper's 227 KiB); rows k ≥ KS are read from global memory every step (they stay in L2: a head's R is at most
// 1 MiB), eight loads in flight per thread. So DH = 256 bf16 keeps about 100 of 256 rows on chip and streams the
// rest from L2. (A thread-block-cluster split of a head with the h exchange through distributed shared memory would
// keep all of R on chip; not done yet.)
//
// The vanilla rule "m = ĩ while the normalizer is all zero over the whole [B, E] tensor" (spec §2.5) is applied as
// SLstmCell's SIMD path does: exact at t = 0 (slstm_all_zero evaluates it over the initial n before the main kernel,
// into *zeroFlag), assumed false for t ≥ 1 (n > 0 after any step that starts from n = 0: i' or f' is 1 there).

#include "bf16.cuh"


// RPT consecutive weights of one R row k: r[q] = R[i + q]
__device__ __forceinline__ void loadRow(const float* p, long long i, float* r) { r[0] = p[i]; }
__device__ __forceinline__ void loadRow(const bf16_t* p, long long i, float* r) {
    unsigned u = *(const unsigned*) (p + i);               // i even, rows 4·DH long: 4-byte aligned
    r[0] = __uint_as_float(u << 16);
    r[1] = __uint_as_float(u & 0xffff0000u);
}

// log σ(x) = −softplus(−x), without overflow
__device__ __forceinline__ float log_sigmoid(float x) {
    return x >= 0.f ? -log1pf(expf(-x)) : x - log1pf(expf(x));
}

__device__ __forceinline__ float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

// Shared memory (dynamic): R rows [KS][4DH] of T, then fp32 h [BB][DHP] (DHP = DH rounded up to 4, zero padded),
// partial pre-activations [S][BB][4DH], c, n, m [BB][DH].
// Threads: tid = s·NRP + rg, rg the row group (rows rg·RPT ..), NRP = blockDim.x / S (a multiple of 32, so a warp reads
// 32 consecutive row groups of one k); s < S the k slice: the smem rows [0, KS) and the L2 rows [KS, DH) are each
// split in S parts, partial sums go to slice s of the pre-activation buffer and the pointwise phase adds them up.
template <typename T, int RPT, int BB>
__device__ void slstm_forward(const T* __restrict__ x, const T* __restrict__ R, const float* __restrict__ bias,
                              T* __restrict__ hOut, float* hState, float* cState, float* nState, float* mState,
                              int hasState, const int* __restrict__ zeroFlag, int B, int T_, int NH, int DH, int KS,
                              int S) {
    extern __shared__ float4 smem4[];
    const int hd = blockIdx.y, b0 = blockIdx.x * BB, tid = threadIdx.x, NT = blockDim.x;
    const int G = 4 * DH, E = NH * DH, DHP = (DH + 3) & ~3, NRP = NT / S;
    T* Rs = (T*) smem4;
    float* shH = (float*) ((char*) smem4 + (size_t) KS * G * sizeof(T));   // KS·4DH·sizeof(T) is a multiple of 16
    float* shPre = shH + BB * DHP;
    float* shC = shPre + S * BB * G;
    float* shN = shC + BB * DH;
    float* shM = shN + BB * DH;
    const T* Rh = R + (long long) hd * DH * G;

    // stage R rows k < KS (32-bit words)
    {
        const unsigned* src = (const unsigned*) Rh;
        unsigned* dst = (unsigned*) Rs;
        const int words = (int) ((long long) KS * G * sizeof(T) / 4);
        for (int i = tid; i < words; i += NT) dst[i] = src[i];
    }
    for (int p = tid; p < BB * DHP; p += NT) {
        int b = p / DHP, j = p - b * DHP, bb = b0 + b;
        shH[p] = hasState && bb < B && j < DH ? hState[(long long) bb * E + hd * DH + j] : 0.f;
    }
    for (int p = tid; p < BB * DH; p += NT) {
        int b = p / DH, j = p - b * DH, bb = b0 + b;
        bool v = hasState && bb < B;
        long long s = (long long) bb * E + hd * DH + j;
        shC[p] = v ? cState[s] : 0.f;
        shN[p] = v ? nState[s] : 0.f;
        shM[p] = v ? mState[s] : 0.f;
    }
    const bool zeroStart = !hasState || *zeroFlag != 0;

    // this thread's rows r0 .. r0 + RPT − 1 of the 4·DH gate rows, its k slice, bias and x columns (slice 0 adds them)
    const int sl = tid / NRP, r0 = (tid - sl * NRP) * RPT;
    const bool active = r0 < G, first = sl == 0;
    const int sq = ((KS >> 2) + S - 1) / S * 4, ks0 = min(KS, sl * sq), ks1 = min(KS, ks0 + sq);
    const int gq = (DH - KS + S - 1) / S, kg0 = min(DH, KS + sl * gq), kg1 = min(DH, kg0 + gq);
    float bv[RPT];
    int col[RPT];
    #pragma unroll
    for (int q = 0; q < RPT; q++) {
        int r = r0 + q < G ? r0 + q : G - 1, g = r / DH, j = r - g * DH;
        col[q] = g * E + hd * DH + j;
        bv[q] = first ? bias[col[q]] : 0.f;
    }
    float xr[BB][RPT];
    #pragma unroll
    for (int b = 0; b < BB; b++)
        #pragma unroll
        for (int q = 0; q < RPT; q++)
            xr[b][q] = active && first && b0 + b < B ? load(x, (long long) (b0 + b) * T_ * 4 * E + col[q]) : 0.f;
    __syncthreads();

    for (int t = 0; t < T_; t++) {
        if (active) {
            float acc[BB][RPT], acc2[BB][RPT];
            #pragma unroll
            for (int b = 0; b < BB; b++)
                #pragma unroll
                for (int q = 0; q < RPT; q++) acc[b][q] = acc2[b][q] = 0.f;
            // rows of this slice in shared memory, four k at a time (two independent FMA chains)
            #pragma unroll 2
            for (int k = ks0; k < ks1; k += 4) {
                float4 hv[BB];
                #pragma unroll
                for (int b = 0; b < BB; b++) hv[b] = *(const float4*) (shH + b * DHP + k);
                float w0[RPT], w1[RPT], w2[RPT], w3[RPT];
                loadRow(Rs, (long long) k * G + r0, w0);
                loadRow(Rs, (long long) (k + 1) * G + r0, w1);
                loadRow(Rs, (long long) (k + 2) * G + r0, w2);
                loadRow(Rs, (long long) (k + 3) * G + r0, w3);
                #pragma unroll
                for (int b = 0; b < BB; b++)
                    #pragma unroll
                    for (int q = 0; q < RPT; q++) {
                        acc[b][q] = fmaf(w1[q], hv[b].y, fmaf(w0[q], hv[b].x, acc[b][q]));
                        acc2[b][q] = fmaf(w3[q], hv[b].w, fmaf(w2[q], hv[b].z, acc2[b][q]));
                    }
            }
            // rows of this slice in global memory (L2): eight loads in flight per thread
            int k = kg0;
            for (; k + 8 <= kg1; k += 8) {
                float w[8][RPT];
                #pragma unroll
                for (int u = 0; u < 8; u++) loadRow(Rh, (long long) (k + u) * G + r0, w[u]);
                #pragma unroll
                for (int b = 0; b < BB; b++)
                    #pragma unroll
                    for (int u = 0; u < 8; u++) {
                        float hk = shH[b * DHP + k + u];
                        #pragma unroll
                        for (int q = 0; q < RPT; q++) {
                            if (u & 1) acc2[b][q] = fmaf(w[u][q], hk, acc2[b][q]);
                            else acc[b][q] = fmaf(w[u][q], hk, acc[b][q]);
                        }
                    }
            }
            for (; k < kg1; k++) {
                float w[RPT];
                loadRow(Rh, (long long) k * G + r0, w);
                #pragma unroll
                for (int b = 0; b < BB; b++) {
                    float hk = shH[b * DHP + k];
                    #pragma unroll
                    for (int q = 0; q < RPT; q++) acc[b][q] = fmaf(w[q], hk, acc[b][q]);
                }
            }
            float* part = shPre + sl * BB * G;
            #pragma unroll
            for (int b = 0; b < BB; b++)
                #pragma unroll
                for (int q = 0; q < RPT; q++)
                    if (r0 + q < G) part[b * G + r0 + q] = acc[b][q] + acc2[b][q] + xr[b][q] + bv[q];  // Wx + Ry + b
            if (first && t + 1 < T_) {                          // prefetch the next step's x
                #pragma unroll
                for (int b = 0; b < BB; b++)
                    #pragma unroll
                    for (int q = 0; q < RPT; q++)
                        xr[b][q] = b0 + b < B ? load(x, ((long long) (b0 + b) * T_ + t + 1) * 4 * E + col[q]) : 0.f;
            }
        }
        __syncthreads();
        for (int p = tid; p < BB * DH; p += NT) {
            int b = p / DH, j = p - b * DH, bb = b0 + b;
            if (bb >= B) continue;
            float iPre = 0.f, fPre = 0.f, zPre = 0.f, oPre = 0.f;
            for (int s = 0; s < S; s++) {
                const float* pre = shPre + (s * BB + b) * G;
                iPre += pre[j]; fPre += pre[DH + j]; zPre += pre[2 * DH + j]; oPre += pre[3 * DH + j];
            }
            float logf = shM[p] + log_sigmoid(fPre);                          // spec §2.1: logf = m + logσ(f̃)
            float m = t == 0 && zeroStart ? iPre : fmaxf(iPre, logf);         // spec §2.1 / §2.5
            float ig = fminf(expf(iPre - m), 1.f), fg = fminf(expf(logf - m), 1.f);
            float c = fg * shC[p] + ig * tanhf(zPre);                         // c = f'c + i'z
            float n = fg * shN[p] + ig;                                       // n = f'n + i'
            float h = sigmoid(oPre) * c / n;                                  // h = o·c/n (no eps)
            shC[p] = c;
            shN[p] = n;
            shM[p] = m;
            shH[b * DHP + j] = h;
            store(hOut, ((long long) bb * T_ + t) * E + hd * DH + j, h);
        }
        __syncthreads();
    }
    if (hasState) {
        for (int p = tid; p < BB * DH; p += NT) {
            int b = p / DH, j = p - b * DH, bb = b0 + b;
            if (bb >= B) continue;
            long long s = (long long) bb * E + hd * DH + j;
            hState[s] = shH[b * DHP + j];
            cState[s] = shC[p];
            nState[s] = shN[p];
            mState[s] = shM[p];
        }
    }
}

extern "C" {

// *flag = 1 if n[0 .. count) is all zero, else 0. One block.
__global__ void slstm_all_zero(const float* __restrict__ n, long long count, int* flag) {
    int nz = 0;
    for (long long i = threadIdx.x; i < count; i += blockDim.x) nz |= n[i] != 0.f;
    nz = __syncthreads_or(nz);
    if (threadIdx.x == 0) *flag = nz ? 0 : 1;
}

#define SLSTM_KERNEL(NAME, T, RPT, BB)                                                                                 \
__global__ void __launch_bounds__(1024) NAME(const T* x, const T* R, const float* bias, T* h, float* hS, float* cS,   \
        float* nS, float* mS, int hasState, const int* zeroFlag, int B, int T_, int NH, int DH, int KS, int S) {       \
    slstm_forward<T, RPT, BB>(x, R, bias, h, hS, cS, nS, mS, hasState, zeroFlag, B, T_, NH, DH, KS, S);               \
}

SLSTM_KERNEL(slstm_forward_f32_b1, float, 1, 1)
SLSTM_KERNEL(slstm_forward_f32_b2, float, 1, 2)
SLSTM_KERNEL(slstm_forward_f32_b4, float, 1, 4)
SLSTM_KERNEL(slstm_forward_bf16_b1, bf16_t, 2, 1)
SLSTM_KERNEL(slstm_forward_bf16_b2, bf16_t, 2, 2)
SLSTM_KERNEL(slstm_forward_bf16_b4, bf16_t, 2, 4)

}  // extern "C"
