// xlstm4j: CUDA kernels of the mLSTM cell (spec §3), compiled at run time with NVRTC (bf16.cuh inlined).
//
// Conventions are those of org.xlstm4j.cells.MLstmCell (NeurIPS convention, spec §3.2 table): keys enter the state
// scaled by s = 1/sqrt(DK); the state is C [DK, DV] = Σ w·k̂·vᵀ, n [DK] = Σ w·k̂, both times exp(-m); eps is added
// after stabilization (spec §3.5). Layouts: q, k [BH, T, DK], v, h [BH, T, DV], gates [BH, T] (BH = B·NH);
// states C [BH, DK, DV], n [BH, DK], m [BH], all fp32. Inputs q, k, v and output h are fp32 or bf16 (suffix _f32 /
// _bf16); gates, states and every accumulation are fp32.
//
// Chunkwise forward (spec §3.4), two kernels:
//   mlstm_chunk_states_*  : the inter-chunk recurrence; for every chunk c it stores the state (C, n, m) entering c,
//                           and writes the final state. Grid (BH, DV/64, DK/64): each block owns a 64×64 tile of C
//                           and walks the chunks in order.
//   mlstm_chunk_outputs_* : the intra-chunk parallel part, tiled: per (chunk, head, 128 columns of DV), the L×L gated
//                           score matrix P = (q·k̂) ⊙ exp(logD − m) and h = (α·(Q C) + P V) / (max(|α·Q n + P 1|, e^−m) + eps).
// bf16 with DK ≤ 256, DK and DV multiples of 8: mlstm_chunkwise_tc_bf16_dk* instead, one fused kernel on the tensor
// cores that keeps the state on chip (see their comments below; dk256 splits DK over 8 warps); the two kernels above
// remain for fp32 and other shapes.
// Step (decode): mlstm_step_* (spec §3.2), one token, state C updated in place, n and m read from one buffer and
// written to another (so that the blocks of a head never race).

#include "bf16.cuh"

#define LMAX 64          // largest chunk supported
#define OUT_TV 128       // outputs kernel: columns of DV per block
#define KT 32            // outputs kernel: DK slice of the Q·Kᵀ product
#define CT 16            // outputs kernel: rows of C / V staged per step
#define FULL_MASK 0xffffffffu
#define NEG_INF __int_as_float(0xff800000)


// The sum over the four lanes of a fragment row (lanes 4i .. 4i + 3).
__device__ __forceinline__ float quad_sum(float x) {
    x += __shfl_xor_sync(FULL_MASK, x, 1);
    return x + __shfl_xor_sync(FULL_MASK, x, 2);
}

// acc[i][j] += a_i·b_j for a 4×8 register tile: a = 4 consecutive floats, b = two runs of 4 (b0 then b1).
__device__ __forceinline__ void fma_4x8(float (&acc)[4][8], float4 a, float4 b0, float4 b1) {
    const float av[4] = {a.x, a.y, a.z, a.w};
    const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
}

// log σ(x) = −softplus(−x), without overflow
__device__ __forceinline__ float log_sigmoid(float x) {
    return x >= 0.f ? -log1pf(expf(-x)) : x - log1pf(expf(x));
}

// Warp 0 only: bcum[τ] = Σ_{u≤τ} log σ(f̃_u) over the chunk's len (≤ 64) tokens starting at gate index go0 (spec §3.4 b_τ).
__device__ __forceinline__ void chunk_forget_cumsum(const float* fg, long long go0, int len, float* bcum) {
    const int lane = threadIdx.x & 31;
    float x0 = lane < len ? log_sigmoid(fg[go0 + lane]) : 0.f;
    float x1 = lane + 32 < len ? log_sigmoid(fg[go0 + lane + 32]) : 0.f;
    for (int o = 1; o < 32; o <<= 1) {
        float y0 = __shfl_up_sync(FULL_MASK, x0, o), y1 = __shfl_up_sync(FULL_MASK, x1, o);
        if (lane >= o) { x0 += y0; x1 += y1; }
    }
    x1 += __shfl_sync(FULL_MASK, x0, 31);
    bcum[lane] = x0;
    bcum[lane + 32] = x1;
    __syncwarp();
}

__device__ __forceinline__ float warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) x = fmaxf(x, __shfl_xor_sync(FULL_MASK, x, o));
    return x;
}

// ---------------------------------------------------------------------------------------------------------------
// Inter-chunk recurrence (spec §3.4): with g = b_{len−1}, a_σ = g − b_σ + ĩ_σ, m' = max(g + m, max_σ a_σ),
// C' = e^{g+m−m'} C + Σ_σ e^{a_σ−m'} k̂_σ v_σᵀ, n' likewise. Stores the state entering each chunk:
// cStates [BH, NC, DK, DV], nStates [BH, NC, DK], mStates [BH, NC + 1] (entry NC: the final m).
// cState/nState/mInit: the initial state (null = zeros, m = 0); the final C and n overwrite cState/nState in place
// (each block reads and writes only its own tile); the final m goes to mStates[.., NC] only, since every block of a
// head reads mInit (the outputs kernel copies it to the caller's m).
// Grid (BH, ceil(DV / ST_DV), ceil(DK / ST_DK)), 256 threads, dynamic shared memory ST_SMEM bytes. Thread (tx, ty)
// = (tid % 32, tid / 32) owns rows ty·8 + i (i < 8) and columns tx·4 + j (j < 4) of the block's C tile, so each step
// over σ reads two float4 of k̂ (the same for the whole warp) and one float4 of v.
#define ST_DK 64
#define ST_DV 128
#define ST_SMEM (LMAX * (ST_DK + ST_DV) * 4)
template <typename T>
__device__ void chunk_states(const T* __restrict__ k, const T* __restrict__ v, const float* __restrict__ ig,
                             const float* __restrict__ fg, float* __restrict__ cStates, float* __restrict__ nStates,
                             float* __restrict__ mStates, float* cState, float* nState, const float* mInit,
                             int T_, int L, int NC, int DK, int DV, float scale) {
    __shared__ float bcum[LMAX], wgt[LMAX], scal[2];
    extern __shared__ float4 dynamic_smem[];
    float* kw = reinterpret_cast<float*>(dynamic_smem);   // [LMAX][ST_DK], k̂ times the gate weight
    float* vs = kw + LMAX * ST_DK;                         // [LMAX][ST_DV]
    const int bh = blockIdx.x, d0 = blockIdx.y * ST_DV, a0 = blockIdx.z * ST_DK;
    const int tid = threadIdx.x, tx = tid & 31, ty = tid >> 5;
    const bool ownsN = blockIdx.y == 0, ownsM = blockIdx.y == 0 && blockIdx.z == 0;
    const bool vec = (DV & 3) == 0;

    float c[8][4];
#pragma unroll
    for (int i = 0; i < 8; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int a = a0 + ty * 8 + i, d = d0 + tx * 4 + j;
            c[i][j] = (cState != nullptr && a < DK && d < DV) ? cState[((long long) bh * DK + a) * DV + d] : 0.f;
        }
    float nreg = 0.f;
    if (ownsN && tid < ST_DK && a0 + tid < DK && nState != nullptr) nreg = nState[(long long) bh * DK + a0 + tid];
    float mPrev = mInit != nullptr ? mInit[bh] : 0.f;

    for (int ch = 0; ch < NC; ch++) {
        const long long t0 = (long long) ch * L;
        const int len = min(L, (int) (T_ - t0));
        const long long go0 = (long long) bh * T_ + t0;
        // the state entering chunk ch
        const long long cBase = ((long long) bh * NC + ch) * DK;
#pragma unroll
        for (int i = 0; i < 8; i++) {
            int a = a0 + ty * 8 + i, d = d0 + tx * 4;
            if (a >= DK) continue;
            float* dst = cStates + (cBase + a) * DV + d;
            if (vec && d + 3 < DV) {
                *reinterpret_cast<float4*>(dst) = make_float4(c[i][0], c[i][1], c[i][2], c[i][3]);
            } else {
#pragma unroll
                for (int j = 0; j < 4; j++) if (d + j < DV) dst[j] = c[i][j];
            }
        }
        if (ownsN && tid < ST_DK && a0 + tid < DK) nStates[cBase + a0 + tid] = nreg;
        if (ownsM && tid == 0) mStates[(long long) bh * (NC + 1) + ch] = mPrev;

        if (tid < 32) {
            chunk_forget_cumsum(fg, go0, len, bcum);
            const int lane = tid;
            const float g = bcum[len - 1];
            float u0 = lane < len ? g - bcum[lane] + ig[go0 + lane] : NEG_INF;
            float u1 = lane + 32 < len ? g - bcum[lane + 32] + ig[go0 + lane + 32] : NEG_INF;
            const float mNew = fmaxf(g + mPrev, warp_max(fmaxf(u0, u1)));
            wgt[lane] = lane < len ? expf(u0 - mNew) * scale : 0.f;             // e^{a_σ − m'} / sqrt(DK)
            wgt[lane + 32] = lane + 32 < len ? expf(u1 - mNew) * scale : 0.f;
            if (lane == 0) { scal[0] = expf(g + mPrev - mNew); scal[1] = mNew; }
        }
        for (int e = tid; e < LMAX * ST_DV; e += blockDim.x) {
            int s = e / ST_DV, x = e % ST_DV;
            vs[e] = (s < len && d0 + x < DV) ? load(v, (go0 + s) * DV + d0 + x) : 0.f;
        }
        __syncthreads();
        for (int e = tid; e < LMAX * ST_DK; e += blockDim.x) {
            int s = e / ST_DK, x = e % ST_DK;
            kw[e] = (s < len && a0 + x < DK) ? wgt[s] * load(k, (go0 + s) * DK + a0 + x) : 0.f;
        }
        __syncthreads();
        const float beta = scal[0];
        mPrev = scal[1];
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) c[i][j] *= beta;
        for (int s = 0; s < len; s++) {
            const float4 k0 = *reinterpret_cast<const float4*>(kw + s * ST_DK + ty * 8);
            const float4 k1 = *reinterpret_cast<const float4*>(kw + s * ST_DK + ty * 8 + 4);
            const float4 vv = *reinterpret_cast<const float4*>(vs + s * ST_DV + tx * 4);
            const float kv[8] = {k0.x, k0.y, k0.z, k0.w, k1.x, k1.y, k1.z, k1.w};
            const float vj[4] = {vv.x, vv.y, vv.z, vv.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) c[i][j] = fmaf(kv[i], vj[j], c[i][j]);
        }
        if (ownsN && tid < ST_DK) {
            nreg *= beta;
            for (int s = 0; s < len; s++) nreg += kw[s * ST_DK + tid];
        }
        __syncthreads();   // smem is rewritten by the next chunk
    }
    if (cState != nullptr) {
#pragma unroll
        for (int i = 0; i < 8; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) {
                int a = a0 + ty * 8 + i, d = d0 + tx * 4 + j;
                if (a < DK && d < DV) cState[((long long) bh * DK + a) * DV + d] = c[i][j];
            }
    }
    if (nState != nullptr && ownsN && tid < ST_DK && a0 + tid < DK) nState[(long long) bh * DK + a0 + tid] = nreg;
    if (ownsM && tid == 0) mStates[(long long) bh * (NC + 1) + NC] = mPrev;
}

// ---------------------------------------------------------------------------------------------------------------
// Intra-chunk outputs (spec §3.4) with the state (C, n, m) entering the chunk: logD[τ,σ] = b_τ − b_σ + ĩ_σ (σ ≤ τ),
// m_τ = max(b_τ + m, max_σ logD[τ,σ]), α_τ = e^{b_τ + m − m_τ}, P[τ,σ] = s·(q_τ·k_σ)·e^{logD[τ,σ] − m_τ},
// h_τ = (α_τ·q_τᵀC + Σ_σ P[τ,σ] v_σ) / (max(|α_τ·q_τ·n + Σ_σ P[τ,σ]|, e^{−m_τ}) + eps).
// Block: 256 threads, (tx, ty) = (tid % 16, tid / 16); a thread owns chunk rows τ = ty·4 + i (i < 4), S columns
// σ = tx·4 + j and output columns tx·4 + j + 64·jj (j < 4, jj < 2). Q, K and P are kept transposed in shared memory
// ([k][row]) so that every operand is read as float4. skipState: the entering state of chunk 0 is all zero (no
// initial state), so its Q·C term is skipped. mOut (may be null): receives the final m.
#define OPAD (LMAX + 4)
template <typename T>
__device__ void chunk_outputs(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                              const float* __restrict__ ig, const float* __restrict__ fg, T* __restrict__ h,
                              const float* __restrict__ cStates, const float* __restrict__ nStates,
                              const float* __restrict__ mStates, float* __restrict__ mOut, int skipState,
                              int T_, int L, int NC, int DK, int DV, float scale, float eps) {
    __shared__ float bcum[LMAX], igs[LMAX], stab[LMAX], alpha[LMAX], rsum[LMAX];
    __shared__ __align__(16) float qsT[KT][OPAD];
    __shared__ __align__(16) float ksT[KT][OPAD];
    __shared__ __align__(16) float psT[LMAX][OPAD];
    __shared__ __align__(16) float cs[CT][OUT_TV];
    __shared__ float ns[CT];
    const int ch = blockIdx.x, bh = blockIdx.y, d0 = blockIdx.z * OUT_TV;
    const int tid = threadIdx.x, tx = tid & 15, ty = tid >> 4;
    const long long t0 = (long long) ch * L;
    const int len = min(L, (int) (T_ - t0));
    const long long go0 = (long long) bh * T_ + t0;
    const float mPrev = mStates[(long long) bh * (NC + 1) + ch];
    if (mOut != nullptr && ch == 0 && blockIdx.z == 0 && tid == 0) mOut[bh] = mStates[(long long) bh * (NC + 1) + NC];

    if (tid < 32) {
        chunk_forget_cumsum(fg, go0, len, bcum);
        const int lane = tid;
        float i0 = lane < len ? ig[go0 + lane] : 0.f, i1 = lane + 32 < len ? ig[go0 + lane + 32] : 0.f;
        float u0 = lane < len ? i0 - bcum[lane] : NEG_INF;
        float u1 = lane + 32 < len ? i1 - bcum[lane + 32] : NEG_INF;
        for (int o = 1; o < 32; o <<= 1) {                                // prefix max of ĩ_σ − b_σ
            float y0 = __shfl_up_sync(FULL_MASK, u0, o), y1 = __shfl_up_sync(FULL_MASK, u1, o);
            if (lane >= o) { u0 = fmaxf(u0, y0); u1 = fmaxf(u1, y1); }
        }
        u1 = fmaxf(u1, __shfl_sync(FULL_MASK, u0, 31));
        igs[lane] = i0;
        igs[lane + 32] = i1;
        float mi0 = bcum[lane] + mPrev, s0 = fmaxf(mi0, bcum[lane] + u0);
        float mi1 = bcum[lane + 32] + mPrev, s1 = fmaxf(mi1, bcum[lane + 32] + u1);
        stab[lane] = lane < len ? s0 : 0.f;
        alpha[lane] = lane < len ? expf(mi0 - s0) : 0.f;
        stab[lane + 32] = lane + 32 < len ? s1 : 0.f;
        alpha[lane + 32] = lane + 32 < len ? expf(mi1 - s1) : 0.f;
    }

    // S = Q Kᵀ over the chunk, DK in slices of KT
    float sacc[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) sacc[i][j] = 0.f;
    for (int kk0 = 0; kk0 < DK; kk0 += KT) {
        __syncthreads();
        for (int e = tid; e < LMAX * KT; e += blockDim.x) {
            int r = e / KT, x = e % KT;
            bool ok = r < len && kk0 + x < DK;
            qsT[x][r] = ok ? load(q, (go0 + r) * DK + kk0 + x) : 0.f;
            ksT[x][r] = ok ? load(k, (go0 + r) * DK + kk0 + x) : 0.f;
        }
        __syncthreads();
#pragma unroll 8
        for (int x = 0; x < KT; x++) {
            const float4 qv = *reinterpret_cast<const float4*>(&qsT[x][ty * 4]);
            const float4 kv = *reinterpret_cast<const float4*>(&ksT[x][tx * 4]);
            const float qa[4] = {qv.x, qv.y, qv.z, qv.w}, ka[4] = {kv.x, kv.y, kv.z, kv.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 4; j++) sacc[i][j] = fmaf(qa[i], ka[j], sacc[i][j]);
        }
    }
    // P = s·S ⊙ e^{logD − m_τ}, causal, stored transposed: psT[σ][τ]
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int tau = ty * 4 + i, sg = tx * 4 + j;
            float p = 0.f;
            if (sg <= tau && tau < len) p = scale * sacc[i][j] * expf(bcum[tau] - bcum[sg] + igs[sg] - stab[tau]);
            psT[sg][tau] = p;
        }

    // inter-chunk part: α_τ·(q_τᵀ C), α_τ·(q_τ·n)
    float acc[4][8];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 8; j++) acc[i][j] = 0.f;
    float qn = 0.f;
    if (!(skipState && ch == 0)) {
        const long long cBase = ((long long) bh * NC + ch) * DK;
        for (int kk0 = 0; kk0 < DK; kk0 += CT) {
            __syncthreads();
            for (int e = tid; e < LMAX * CT; e += blockDim.x) {
                int r = e / CT, x = e % CT;
                qsT[x][r] = (r < len && kk0 + x < DK) ? load(q, (go0 + r) * DK + kk0 + x) : 0.f;
            }
            for (int e = tid; e < CT * OUT_TV; e += blockDim.x) {
                int r = e / OUT_TV, x = e % OUT_TV;
                cs[r][x] = (kk0 + r < DK && d0 + x < DV) ? cStates[(cBase + kk0 + r) * DV + d0 + x] : 0.f;
            }
            if (tid < CT) ns[tid] = kk0 + tid < DK ? nStates[cBase + kk0 + tid] : 0.f;
            __syncthreads();
#pragma unroll 4
            for (int x = 0; x < CT; x++) {
                fma_4x8(acc, *reinterpret_cast<const float4*>(&qsT[x][ty * 4]),
                        *reinterpret_cast<const float4*>(&cs[x][tx * 4]), *reinterpret_cast<const float4*>(&cs[x][tx * 4 + 64]));
            }
            {   // q_τ·n: four threads per row τ = tid / 4, each a quarter of the slice (summed below)
                const int r = tid >> 2, x0 = (tid & 3) * (CT / 4);
#pragma unroll
                for (int x = x0; x < x0 + CT / 4; x++) qn = fmaf(qsT[x][r], ns[x], qn);
            }
        }
#pragma unroll
        for (int i = 0; i < 4; i++) {
            float al = alpha[ty * 4 + i];
#pragma unroll
            for (int j = 0; j < 8; j++) acc[i][j] *= al;
        }
    }
    __syncthreads();   // psT complete; qsT/cs free
    {   // r_τ = α_τ·(q_τ·n) + Σ_σ P[τ,σ]: four threads per row τ = tid / 4, σ split in quarters, then summed
        const int r = tid >> 2, s0 = (tid & 3) * (LMAX / 4);
        float part = 0.f;
        for (int sg = s0; sg < s0 + LMAX / 4 && sg <= r; sg++) part += psT[sg][r];   // P is 0 past len
        qn = quad_sum(qn);
        part = quad_sum(part);
        if ((tid & 3) == 0) rsum[r] = alpha[r] * qn + part;
    }
    // intra-chunk part: P V, V in slices of CT rows
    for (int s0 = 0; s0 < len; s0 += CT) {
        for (int e = tid; e < CT * OUT_TV; e += blockDim.x) {
            int r = e / OUT_TV, x = e % OUT_TV;
            cs[r][x] = (s0 + r < len && d0 + x < DV) ? load(v, (go0 + s0 + r) * DV + d0 + x) : 0.f;
        }
        __syncthreads();
#pragma unroll 4
        for (int x = 0; x < CT; x++) {
            fma_4x8(acc, *reinterpret_cast<const float4*>(&psT[s0 + x][ty * 4]),
                    *reinterpret_cast<const float4*>(&cs[x][tx * 4]), *reinterpret_cast<const float4*>(&cs[x][tx * 4 + 64]));
        }
        __syncthreads();
    }
    // h = num / (max(|r|, e^{−m}) + eps)   (spec §3.4, §3.5)
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int tau = ty * 4 + i;
        if (tau >= len) continue;
        float inv = 1.f / (fmaxf(fabsf(rsum[tau]), expf(-stab[tau])) + eps);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int d = d0 + tx * 4 + (j & 3) + 64 * (j >> 2);
            if (d < DV) store(h, (go0 + tau) * DV + d, acc[i][j] * inv);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// One recurrent step (spec §3.2): m' = max(log σ(f̃) + m, ĩ), f' = e^{log σ(f̃) + m − m'}, i' = e^{ĩ − m'},
// C = f'C + i'·k̂ vᵀ, n = f'n + i'·k̂, h = (qᵀC) / (max(|q·n|, e^{−m'}) + eps). Grid (BH, ceil(DV / 32)), block
// STEP_COLS × STEP_ROWS threads: a warp owns 32 consecutive columns of one row of C (coalesced), the STEP_ROWS warps
// split the DK rows and their partial qᵀC are summed through shared memory. Dynamic shared memory 2·DK floats.
// nIn ≠ nOut and mIn ≠ mOut (the blocks of one head all read the old n and m; block column 0 writes the new ones).
#define STEP_COLS 32
#define STEP_ROWS 8
// Rows a, a + STEP_ROWS, … of one column of C in batches of U: all U loads first, then the updates in row order.
template <int U>
__device__ __forceinline__ int step_rows(float* __restrict__ col, int a, int DK, int DV, float fa, float vd,
                                         const float* ksh, const float* qsh, float& acc) {
    for (; a + (U - 1) * STEP_ROWS < DK; a += U * STEP_ROWS) {
        float c[U];
#pragma unroll
        for (int u = 0; u < U; u++) c[u] = col[(long long) (a + u * STEP_ROWS) * DV];
#pragma unroll
        for (int u = 0; u < U; u++) {
            const int r = a + u * STEP_ROWS;
            float cv = fa * c[u] + ksh[r] * vd;
            col[(long long) r * DV] = cv;
            acc = fmaf(qsh[r], cv, acc);
        }
    }
    return a;
}
template <typename T>
__device__ void step(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                     const float* __restrict__ ig, const float* __restrict__ fg, T* __restrict__ h,
                     float* __restrict__ C, const float* __restrict__ nIn, float* __restrict__ nOut,
                     const float* __restrict__ mIn, float* __restrict__ mOut, int DK, int DV, float scale, float eps) {
    extern __shared__ float sm[];
    float* qsh = sm;
    float* ksh = sm + DK;
    __shared__ float gates[3];
    __shared__ float red[STEP_ROWS];
    __shared__ float part[STEP_ROWS][STEP_COLS];
    const int bh = blockIdx.x, tid = threadIdx.x, cx = tid % STEP_COLS, ry = tid / STEP_COLS;
    const int nthreads = STEP_COLS * STEP_ROWS;
    const int d = blockIdx.y * STEP_COLS + cx;
    if (tid == 0) {
        float fl = log_sigmoid(fg[bh]), mp = mIn[bh], ip = ig[bh];
        float mn = fmaxf(fl + mp, ip);
        gates[0] = expf(fl + mp - mn);
        gates[1] = expf(ip - mn) * scale;
        gates[2] = mn;
    }
    __syncthreads();
    const float fa = gates[0], ia = gates[1], mn = gates[2];
    float qn = 0.f;
    for (int a = tid; a < DK; a += nthreads) {
        float qa = load(q, (long long) bh * DK + a), ka = ia * load(k, (long long) bh * DK + a);
        qsh[a] = qa;
        ksh[a] = ka;
        float nv = fa * nIn[(long long) bh * DK + a] + ka;
        if (blockIdx.y == 0) nOut[(long long) bh * DK + a] = nv;
        qn = fmaf(qa, nv, qn);
    }
    for (int o = 16; o > 0; o >>= 1) qn += __shfl_xor_sync(FULL_MASK, qn, o);
    if (cx == 0) red[ry] = qn;
    __syncthreads();
    float acc = 0.f;
    if (d < DV) {
        const float vd = load(v, (long long) bh * DV + d);
        float* col = C + (long long) bh * DK * DV + d;
        int a = ry;
        // 32 (then 8) rows' loads in flight before their updates: with one block per SM, a load per row and update kept
        // the step latency-bound (8 µs → 4 µs at DK 256, DV 512). Same arithmetic and summation order as the plain loop.
        a = step_rows<32>(col, a, DK, DV, fa, vd, ksh, qsh, acc);
        a = step_rows<8>(col, a, DK, DV, fa, vd, ksh, qsh, acc);
        for (; a < DK; a += STEP_ROWS) {
            float cv = fa * col[(long long) a * DV] + ksh[a] * vd;
            col[(long long) a * DV] = cv;
            acc = fmaf(qsh[a], cv, acc);
        }
    }
    part[ry][cx] = acc;
    __syncthreads();
    if (ry == 0 && d < DV) {
        float s = 0.f, qnAll = 0.f;
        for (int r = 0; r < STEP_ROWS; r++) { s += part[r][cx]; qnAll += red[r]; }
        store(h, (long long) bh * DV + d, s / (fmaxf(fabsf(qnAll), expf(-mn)) + eps));
    }
    if (tid == 0 && blockIdx.y == 0) mOut[bh] = mn;
}

// ---------------------------------------------------------------------------------------------------------------
// bf16 chunkwise forward on the tensor cores, one fused kernel (spec §3.4): mlstm_chunkwise_tc_bf16_dk{32,64,128}.
// A block owns one head and TC_TV = 64 columns of DV and walks the chunks in order, so the state never leaves the
// chip: warp w keeps rows 16w..16w+15 of its slice of Cᵀ [DV, DK] in fp32 mma accumulators (the accumulator layout
// of an m16n8 pair is the A-operand layout of an m16k16 step, so Cᵀ feeds the Q·C product straight from registers,
// rounded to bf16). Per chunk, with mma.sync m16n8k16 bf16 → fp32:
//   S = Q Kᵀ [L, L]       warp w: rows τ = 16w.., all σ; P = s·S ⊙ e^{logD − m_τ} (fp32 row sums), P → smem bf16;
//   hᵀ = α ⊙ (Cᵀ Qᵀ)      [TV, L], Cᵀ from registers;
//   hᵀ += Vᵀ Pᵀ           causal tiles only;
//   Cᵀ = β Cᵀ + (w ⊙ Vᵀ) K   the state update, reusing the Vᵀ fragments (w_σ = e^{a_σ − m'}/√DK applied to them);
//   n = β n + Σ_σ w_σ k_σ (fp32, every block of the head, redundantly), den_τ = α_τ q_τ·n + Σ_σ P[τ,σ].
// q, k, v chunks arrive by cp.async one chunk ahead (two stages); h leaves through a shared tile, 16-byte stores.
// The gate quantities (cumulative log forget gates, stabilizers, α, w, β) of chunk c + 1 are computed by warp 0 while
// the block works on chunk c, after its share of S (the smallest, by causality), into the other of two buffers.
// Measured on the H200 (B=8, NH=16, T=8192, DK=128, DV=256, L=64): 2.11 ms, 255 registers, 2 blocks per SM.
// Needs DK ≤ DKP (DKP = 32, 64 or 128), DK % 8 == 0, DV % 8 == 0 (16-byte rows), L ≤ 64; rows past the end of the
// sequence and columns past DK or DV are zero-filled. Grid (ceil(DV / 64), B·NH), 128 threads, dynamic shared memory
// tc_smem_bytes(DKP). State (may be null): C [BH, DK, DV] read and overwritten in place (each block its own columns);
// n and m read from nIn/mIn and the final ones written to nOut/mOut by block column 0 (other buffers, since every
// block of a head reads the initial ones).
#define TC_TV 64
#define TC_VS (TC_TV + 8)     // row stride (elements) of the V, P and H tiles: 16 bytes of padding against bank conflicts

__host__ __device__ constexpr int tc_qk_stride(int dkp) { return dkp + 8; }
__host__ __device__ constexpr int tc_stage_elems(int dkp) { return 2 * LMAX * tc_qk_stride(dkp) + LMAX * TC_VS; }
__host__ __device__ constexpr int tc_smem_bytes(int dkp) { return (2 * tc_stage_elems(dkp) + 2 * LMAX * TC_VS) * 2; }

__device__ __forceinline__ unsigned smem_u32(const void* p) {
    unsigned a;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(a) : "l"(p));
    return a;
}
__device__ __forceinline__ void cp_async16(unsigned dst, const void* src, bool valid) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" :: "r"(dst), "l"(src), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait1() { asm volatile("cp.async.wait_group 1;\n" ::: "memory"); }
__device__ __forceinline__ void ldsm_x4(unsigned a, unsigned& r0, unsigned& r1, unsigned& r2, unsigned& r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a));
}
__device__ __forceinline__ void ldsm_x4_t(unsigned a, unsigned& r0, unsigned& r1, unsigned& r2, unsigned& r3) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r0), "=r"(r1), "=r"(r2), "=r"(r3) : "r"(a));
}
// d += a·b, m16n8k16, bf16 operands, fp32 accumulators
__device__ __forceinline__ void mma_bf16(float* d, unsigned a0, unsigned a1, unsigned a2, unsigned a3,
                                         unsigned b0, unsigned b1) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
                 "{%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}
// two floats → bf16x2 (round to nearest even), lo in the low half
// Two m16n8k16 products sharing the A fragment a0..a3: the B fragments of both n-halves from one ldmatrix.x4 at
// shared address b (transposed with _t), into d0 and d1.
__device__ __forceinline__ void mma_x2(float* d0, float* d1, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b) {
    unsigned b0, b1, b2, b3;
    ldsm_x4(b, b0, b1, b2, b3);
    mma_bf16(d0, a0, a1, a2, a3, b0, b1);
    mma_bf16(d1, a0, a1, a2, a3, b2, b3);
}
__device__ __forceinline__ void mma_x2_t(float* d0, float* d1, unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b) {
    unsigned b0, b1, b2, b3;
    ldsm_x4_t(b, b0, b1, b2, b3);
    mma_bf16(d0, a0, a1, a2, a3, b0, b1);
    mma_bf16(d1, a0, a1, a2, a3, b2, b3);
}

// Zeroes N mma accumulator fragments (four floats each).
template <int N>
__device__ __forceinline__ void zero_tiles(float (&a)[N][4]) {
#pragma unroll
    for (int j = 0; j < N; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) a[j][e] = 0.f;
}

__device__ __forceinline__ unsigned pack_bf16(float lo, float hi) {
    unsigned r;
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(r) : "f"(hi), "f"(lo));
    return r;
}
__device__ __forceinline__ unsigned scale_bf16x2(unsigned x, float slo, float shi) {
    return pack_bf16(__uint_as_float(x << 16) * slo, __uint_as_float(x & 0xffff0000u) * shi);
}

// Warp-level, one warp: the gate quantities of chunk gc (spec §3.4) — b = cumsum log σ(f̃), the output
// stabilizers and α, the state-update weights and β — from the pre-activations held in pig*/pfg*, whose next
// chunk's values it then loads; mPrev advances to the m after chunk gc. Shared by the fused chunkwise kernels.
__device__ __forceinline__ void chunk_gates(int gc, int lane, int L, int T_, int NC, long long gbase, float scale,
                                            const float* __restrict__ ig, const float* __restrict__ fg,
                                            float* bcum, float* igs, float* stab, float* alpha, float* wgt, float* beta,
                                            float& pig0, float& pig1, float& pfg0, float& pfg1, float& mPrev) {
    const long long t0 = (long long) gc * L;
    const int len = min(L, (int) (T_ - t0));
    // gates of this chunk (spec §3.4): b = cumsum log σ(f̃); output stabilizers; state-update weights
    float x0 = lane < len ? log_sigmoid(pfg0) : 0.f, x1 = lane + 32 < len ? log_sigmoid(pfg1) : 0.f;
    const float i0 = pig0, i1 = pig1;
    for (int o = 1; o < 32; o <<= 1) {
        float y0 = __shfl_up_sync(FULL_MASK, x0, o), y1 = __shfl_up_sync(FULL_MASK, x1, o);
        if (lane >= o) { x0 += y0; x1 += y1; }
    }
    x1 += __shfl_sync(FULL_MASK, x0, 31);
    const float gsum = __shfl_sync(FULL_MASK, len - 1 < 32 ? x0 : x1, (len - 1) & 31);
    bcum[lane] = x0;
    bcum[lane + 32] = x1;
    igs[lane] = i0;
    igs[lane + 32] = i1;
    float u0 = lane < len ? i0 - x0 : NEG_INF, u1 = lane + 32 < len ? i1 - x1 : NEG_INF;
    for (int o = 1; o < 32; o <<= 1) {                            // prefix max of ĩ_σ − b_σ
        float y0 = __shfl_up_sync(FULL_MASK, u0, o), y1 = __shfl_up_sync(FULL_MASK, u1, o);
        if (lane >= o) { u0 = fmaxf(u0, y0); u1 = fmaxf(u1, y1); }
    }
    u1 = fmaxf(u1, __shfl_sync(FULL_MASK, u0, 31));
    float mi0 = x0 + mPrev, s0 = fmaxf(mi0, x0 + u0);
    float mi1 = x1 + mPrev, s1 = fmaxf(mi1, x1 + u1);
    stab[lane] = lane < len ? s0 : 0.f;
    alpha[lane] = lane < len ? expf(mi0 - s0) : 0.f;
    stab[lane + 32] = lane + 32 < len ? s1 : 0.f;
    alpha[lane + 32] = lane + 32 < len ? expf(mi1 - s1) : 0.f;
    float a0 = lane < len ? gsum - x0 + i0 : NEG_INF, a1 = lane + 32 < len ? gsum - x1 + i1 : NEG_INF;
    const float mNew = fmaxf(gsum + mPrev, warp_max(fmaxf(a0, a1)));
    wgt[lane] = lane < len ? expf(a0 - mNew) * scale : 0.f;
    wgt[lane + 32] = lane + 32 < len ? expf(a1 - mNew) * scale : 0.f;
    if (lane == 0) *beta = expf(gsum + mPrev - mNew);
    mPrev = mNew;
    if (gc + 1 < NC) {                                            // prefetch the next chunk's gates
        const long long n0 = gbase + t0 + L;
        const int nlen = min(L, (int) (T_ - t0 - L));
        pig0 = lane < nlen ? ig[n0 + lane] : 0.f;
        pfg0 = lane < nlen ? fg[n0 + lane] : 0.f;
        pig1 = lane + 32 < nlen ? ig[n0 + lane + 32] : 0.f;
        pfg1 = lane + 32 < nlen ? fg[n0 + lane + 32] : 0.f;
    }
}

// ---- pieces shared by the two fused kernels below (the same code in both; NT = threads of the block, the row group
// of a warp = which 16 rows of a tile it owns)

// The fp32 state tile a warp keeps in registers: rows dv = drow + (e ≥ 2 ? 8 : 0), columns dk = acol + 8j + (e & 1),
// read from (or, STORE, written to) cState [BH, DK, DV].
template <int NJ, bool STORE>
__device__ __forceinline__ void tc_state_tile(float (&cT)[NJ][4], float* cState, int bh, int DK, int DV, int drow, int acol) {
#pragma unroll
    for (int j = 0; j < NJ; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) {
            int d = drow + (e >> 1) * 8, a = acol + 8 * j + (e & 1);
            if (STORE) {
                if (a < DK && d < DV) cState[((long long) bh * DK + a) * DV + d] = cT[j][e];
            } else {
                cT[j][e] = (cState != nullptr && a < DK && d < DV) ? cState[((long long) bh * DK + a) * DV + d] : 0.f;
            }
        }
}

// Chunk ch's q, k rows [64][DKP] and v rows [64][TC_TV] into stage st of the shared tiles; zero-fill outside.
template <int DKP, int NT>
__device__ __forceinline__ void tc_load_chunk(bf16_t* smem, const bf16_t* q, const bf16_t* k, const bf16_t* v, int ch, int st,
                                              int L, int T_, int DK, int DV, int d0, long long gbase, int tid) {
    constexpr int QS = tc_qk_stride(DKP), STAGE = tc_stage_elems(DKP), CQ = DKP / 8;
    const long long t0 = (long long) ch * L;
    const int len = min(L, (int) (T_ - t0));
    bf16_t* Qs = smem + st * STAGE;
    bf16_t* Ks = Qs + LMAX * QS;
    bf16_t* Vs = Ks + LMAX * QS;
    for (int e = tid; e < LMAX * CQ; e += NT) {
        int r = e / CQ, c = e % CQ;
        bool ok = r < len && 8 * c < DK;
        long long off = ok ? (gbase + t0 + r) * DK + 8 * c : 0;
        cp_async16(smem_u32(Qs + r * QS + 8 * c), q + off, ok);
        cp_async16(smem_u32(Ks + r * QS + 8 * c), k + off, ok);
    }
    for (int e = tid; e < LMAX * (TC_TV / 8); e += NT) {
        int r = e / (TC_TV / 8), c = e % (TC_TV / 8);
        bool ok = r < len && d0 + 8 * c < DV;
        long long off = ok ? (gbase + t0 + r) * DV + d0 + 8 * c : 0;
        cp_async16(smem_u32(Vs + r * TC_VS + 8 * c), v + off, ok);
    }
}

// The gate warp's pre-activations of the first chunk (lanes hold positions lane and lane + 32).
__device__ __forceinline__ void tc_first_gates(int lane, int L, int T_, long long gbase, const float* ig, const float* fg,
                                               float& pig0, float& pig1, float& pfg0, float& pfg1) {
    const int len = min(L, T_);
    if (lane < len) { pig0 = ig[gbase + lane]; pfg0 = fg[gbase + lane]; }
    if (lane + 32 < len) { pig1 = ig[gbase + lane + 32]; pfg1 = fg[gbase + lane + 32]; }
}

// ldmatrix lane offsets (bytes) for row group rg: "nk" = B operand stored n-major (k contiguous), or A row-major.
template <int QS>
__device__ __forceinline__ void tc_lane_offsets(int lane, int rg, unsigned& offQrowA, unsigned& offNK, unsigned& offNKp,
                                                unsigned& offVt, unsigned& offKt) {
    const int li = lane >> 3, lr = lane & 7;
    offQrowA = ((16 * rg + lr + (li & 1) * 8) * QS + (li >> 1) * 8) * 2;   // A: Q rows
    offNK = ((lr + (li >> 1) * 8) * QS + (li & 1) * 8) * 2;                // B: n rows of Q/K
    offNKp = ((lr + (li >> 1) * 8) * TC_VS + (li & 1) * 8) * 2;            // B: n rows of P
    offVt = ((lr + (li >> 1) * 8) * TC_VS + 16 * rg + (li & 1) * 8) * 2;   // A: Vᵀ (trans)
    offKt = ((lr + (li & 1) * 8) * QS + (li >> 1) * 8) * 2;                // B: K (trans)
}

// hᵀ ← Cᵀ·Qᵀ for the warp's rows (state columns kb + 16·kk, kk < NJ/2), nothing when skip (a zero state).
template <int NJ, int QS>
__device__ __forceinline__ void tc_state_times_q(float (&hT)[8][4], const float (&cT)[NJ][4], unsigned qA, unsigned offNK,
                                                 int kb, bool skip) {
    zero_tiles(hT);
#pragma unroll
    for (int kk = 0; kk < NJ / 2; kk++) {
        if (skip) break;
        const unsigned a0 = pack_bf16(cT[2 * kk][0], cT[2 * kk][1]), a1 = pack_bf16(cT[2 * kk][2], cT[2 * kk][3]);
        const unsigned a2 = pack_bf16(cT[2 * kk + 1][0], cT[2 * kk + 1][1]);
        const unsigned a3 = pack_bf16(cT[2 * kk + 1][2], cT[2 * kk + 1][3]);
#pragma unroll
        for (int jp = 0; jp < 4; jp++) {
            mma_x2(hT[2 * jp], hT[2 * jp + 1], a0, a1, a2, a3, qA + offNK + (16 * jp * QS + kb + kk * 16) * 2);
        }
    }
}

// hᵀ columns τ scaled by α_τ, the state by β (the chunk's decays, spec §3.4).
template <int NJ>
__device__ __forceinline__ void tc_decay(float (&hT)[8][4], float (&cT)[NJ][4], const float* alpha, float beta, int t4) {
#pragma unroll
    for (int j = 0; j < 8; j++) {
        const float al0 = alpha[8 * j + 2 * t4], al1 = alpha[8 * j + 2 * t4 + 1];
        hT[j][0] *= al0; hT[j][1] *= al1; hT[j][2] *= al0; hT[j][3] *= al1;
    }
#pragma unroll
    for (int j = 0; j < NJ; j++)
#pragma unroll
        for (int e = 0; e < 4; e++) cT[j][e] *= beta;
}

// The double-buffered pipeline's turn: start loading chunk ch + 1 into the other stage, then wait for chunk ch.
template <typename Load>
__device__ __forceinline__ void tc_next_chunk(Load& load_chunk, int ch, int NC, int st) {
    if (ch + 1 < NC) load_chunk(ch + 1, st ^ 1);
    cp_async_commit();
    cp_async_wait1();
    __syncthreads();                                                  // (1) chunk ch and its gates ready
}

// Stage st's q, k, v tiles and the shared-memory addresses of them and of P.
template <int QS, int STAGE>
__device__ __forceinline__ void tc_stage_tiles(const bf16_t* smem, int st, const bf16_t* Ps, const bf16_t*& Qs,
                                               const bf16_t*& Ks, const bf16_t*& Vs, unsigned& qA, unsigned& kA,
                                               unsigned& vA, unsigned& pA) {
    Qs = smem + st * STAGE;
    Ks = Qs + LMAX * QS;
    Vs = Ks + LMAX * QS;
    qA = smem_u32(Qs); kA = smem_u32(Ks); vA = smem_u32(Vs); pA = smem_u32(Ps);
}

// Cᵀ += (w ⊙ Vᵀ)·K for σ-tile ks: the Vᵀ fragment a0..a3 scaled by the chunk weights, times K columns kb + 16·jp.
template <int NJ, int QS>
__device__ __forceinline__ void tc_state_update(float (&cT)[NJ][4], unsigned a0, unsigned a1, unsigned a2, unsigned a3,
                                                const float* wgt, int ks, int t4, unsigned kA, unsigned offKt, int kb) {
    const int sg = 16 * ks + 2 * t4;
    const float w0 = wgt[sg], w1 = wgt[sg + 1], w8 = wgt[sg + 8], w9 = wgt[sg + 9];
    a0 = scale_bf16x2(a0, w0, w1);
    a1 = scale_bf16x2(a1, w0, w1);
    a2 = scale_bf16x2(a2, w8, w9);
    a3 = scale_bf16x2(a3, w8, w9);
#pragma unroll
    for (int jp = 0; jp < NJ / 2; jp++) {
        mma_x2_t(cT[2 * jp], cT[2 * jp + 1], a0, a1, a2, a3, kA + offKt + (ks * 16 * QS + kb + 16 * jp) * 2);
    }
}

// One fragment of S (columns sg, sg + 1 of rows ta, tb) to P = scale·S·e^(b_τ − m_τ + ĩ_σ − b_σ) on and below the
// diagonal (0 elsewhere and past len), into Ps as bf16; the row sums accumulate in rs0, rs1 (spec §3.4).
__device__ __forceinline__ void tc_p_fragment(const float (&sj)[4], int sg, int ta, int tb, int len, float ba, float bb,
                                              const float* igs, const float* bcum, float scale, bf16_t* Ps,
                                              float& rs0, float& rs1) {
    const float c0 = igs[sg] - bcum[sg], c1 = igs[sg + 1] - bcum[sg + 1];
    float p0 = (sg <= ta && ta < len) ? scale * sj[0] * expf(ba + c0) : 0.f;
    float p1 = (sg + 1 <= ta && ta < len) ? scale * sj[1] * expf(ba + c1) : 0.f;
    float p2 = (sg <= tb && tb < len) ? scale * sj[2] * expf(bb + c0) : 0.f;
    float p3 = (sg + 1 <= tb && tb < len) ? scale * sj[3] * expf(bb + c1) : 0.f;
    rs0 += p0 + p1;
    rs1 += p2 + p3;
    *reinterpret_cast<unsigned*>(Ps + ta * TC_VS + sg) = pack_bf16(p0, p1);
    *reinterpret_cast<unsigned*>(Ps + tb * TC_VS + sg) = pack_bf16(p2, p3);
}

// q_r·n over columns kb .. kb + N of row r, two lanes per row taking alternate pairs (both lanes get the sum).
template <int QS, int N>
__device__ __forceinline__ float tc_q_dot_n(const bf16_t* Qs, const float* ns, int r, int half, int kb) {
    float qv[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll 4
    for (int x = 0; x < N / 2; x += 2) {
        const int xx = kb + 2 * x + 2 * half;
        const unsigned pr = *reinterpret_cast<const unsigned*>(Qs + r * QS + xx);
        qv[(x >> 1) & 3] = fmaf(__uint_as_float(pr << 16), ns[xx], qv[(x >> 1) & 3]);
        qv[(x >> 1) & 3] = fmaf(__uint_as_float(pr & 0xffff0000u), ns[xx + 1], qv[(x >> 1) & 3]);
    }
    float qn = (qv[0] + qv[1]) + (qv[2] + qv[3]);
    return qn + __shfl_xor_sync(FULL_MASK, qn, 1);
}

// What one turn of the chunk loop reads: stage st's gate quantities, its q, k, v tiles and their shared-memory
// addresses (and P's), and the ldmatrix lane offsets of row group rg.
struct TcTurn {
    const float *bcum, *igs, *stab, *alpha, *wgt;
    const bf16_t *Qs, *Ks, *Vs;
    unsigned qA, kA, vA, pA, offQrowA, offNK, offNKp, offVt, offKt;
};
template <int QS, int STAGE>
__device__ __forceinline__ TcTurn tc_turn(const bf16_t* smem, int st, const bf16_t* Ps, int lane, int rg,
                                          const float (*bcumB)[LMAX], const float (*igsB)[LMAX], const float (*stabB)[LMAX],
                                          const float (*alphaB)[LMAX], const float (*wgtB)[LMAX]) {
    TcTurn u;
    u.bcum = bcumB[st]; u.igs = igsB[st]; u.stab = stabB[st]; u.alpha = alphaB[st]; u.wgt = wgtB[st];
    tc_stage_tiles<QS, STAGE>(smem, st, Ps, u.Qs, u.Ks, u.Vs, u.qA, u.kA, u.vA, u.pA);
    tc_lane_offsets<QS>(lane, rg, u.offQrowA, u.offNK, u.offNKp, u.offVt, u.offKt);
    return u;
}

// The chunk's h tile (bf16 in shared memory) out to h [BH, T, DV], rows < len.
template <int NT>
__device__ __forceinline__ void tc_store_h(bf16_t* h, const bf16_t* Hs, int tid, int len, long long gbase, long long t0,
                                           int d0, int DV) {
    for (int e = tid; e < LMAX * (TC_TV / 8); e += NT) {
        const int r = e / (TC_TV / 8), c = e % (TC_TV / 8);
        if (r < len && d0 + 8 * c < DV)
            *reinterpret_cast<uint4*>(h + (gbase + t0 + r) * DV + d0 + 8 * c) =
                    *reinterpret_cast<const uint4*>(Hs + r * TC_VS + 8 * c);
    }
}

template <int DKP>
__device__ void chunkwise_tc(const bf16_t* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v,
                             const float* __restrict__ ig, const float* __restrict__ fg, bf16_t* __restrict__ h,
                             float* cState, const float* nIn, float* nOut, const float* mIn, float* mOut,
                             int T_, int L, int NC, int DK, int DV, float scale, float eps) {
    constexpr int QS = tc_qk_stride(DKP), STAGE = tc_stage_elems(DKP), NJ = DKP / 8;
    extern __shared__ float4 dynamic_smem[];
    bf16_t* smem = reinterpret_cast<bf16_t*>(dynamic_smem);
    bf16_t* Ps = smem + 2 * STAGE;            // P [τ][σ]
    bf16_t* Hs = Ps + LMAX * TC_VS;           // h tile [τ][dv]
    // gate quantities of a chunk, two buffers: warp 0 computes chunk ch + 1's while the block works on chunk ch
    __shared__ float bcumB[2][LMAX], igsB[2][LMAX], stabB[2][LMAX], alphaB[2][LMAX], wgtB[2][LMAX], betaB[2];
    __shared__ float den[LMAX];
    __shared__ float ns[DKP];

    const int d0 = blockIdx.x * TC_TV, bh = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t4 = lane & 3;
    const long long gbase = (long long) bh * T_;

    // the state: warp rows dv = d0 + 16·warp + g (+8), columns dk = 8j + 2·t4 (+1)
    float cT[NJ][4];
    tc_state_tile<NJ, false>(cT, cState, bh, DK, DV, d0 + 16 * warp + g, 2 * t4);
    float nreg = 0.f;
    if (tid < DKP) {
        nreg = (nIn != nullptr && tid < DK) ? nIn[(long long) bh * DK + tid] : 0.f;
        ns[tid] = nreg;
    }
    float mPrev = mIn != nullptr ? mIn[bh] : 0.f;   // used by warp 0
    const bool hasState = cState != nullptr;

    // chunk loader: q, k rows [64][DKP], v rows [64][TC_TV] into stage st; zero-fill outside
    auto load_chunk = [&](int ch, int st) {
        tc_load_chunk<DKP, 128>(smem, q, k, v, ch, st, L, T_, DK, DV, d0, gbase, tid);
    };
    load_chunk(0, 0);
    cp_async_commit();
    float pig0 = 0.f, pig1 = 0.f, pfg0 = 0.f, pfg1 = 0.f;   // warp 0: gate pre-activations of the next chunk
    if (warp == 0) tc_first_gates(lane, L, T_, gbase, ig, fg, pig0, pig1, pfg0, pfg1);

    // warp 0: the gate quantities of chunk gc (spec §3.4) into buffer gc & 1, from the pre-activations held in
    // pig*/pfg*, whose next chunk's values it then loads; mPrev advances to the m after chunk gc
    auto compute_gates = [&](int gc) {
        const int b = gc & 1;
        chunk_gates(gc, lane, L, T_, NC, gbase, scale, ig, fg, bcumB[b], igsB[b], stabB[b], alphaB[b], wgtB[b], &betaB[b],
                    pig0, pig1, pfg0, pfg1, mPrev);
    };
    if (warp == 0) compute_gates(0);
    for (int ch = 0; ch < NC; ch++) {
        const int st = ch & 1;
        const long long t0 = (long long) ch * L;
        const int len = min(L, (int) (T_ - t0));
        tc_next_chunk(load_chunk, ch, NC, st);
        const auto [bcum, igs, stab, alpha, wgt, Qs, Ks, Vs, qA, kA, vA, pA, offQrowA, offNK, offNKp, offVt, offKt] =
                tc_turn<QS, STAGE>(smem, st, Ps, lane, warp, bcumB, igsB, stabB, alphaB, wgtB);

        {   // ---- S = Q Kᵀ, rows τ = 16·warp + g (+8); P and the row sums
            float s[8][4];
            zero_tiles(s);
#pragma unroll
            for (int kk = 0; kk < DKP / 16; kk++) {
                unsigned a0, a1, a2, a3;
                ldsm_x4(qA + offQrowA + kk * 32, a0, a1, a2, a3);
#pragma unroll
                for (int jp = 0; jp < 4; jp++) {
                    if (16 * jp > 16 * warp + 15) continue;                  // causal: σ-tiles past the rows
                    mma_x2(s[2 * jp], s[2 * jp + 1], a0, a1, a2, a3, kA + offNK + (16 * jp * QS + kk * 16) * 2);
                }
            }
            float rs0 = 0.f, rs1 = 0.f;
            const int ta = 16 * warp + g, tb = ta + 8;
            const float ba = bcum[ta] - stab[ta], bb = bcum[tb] - stab[tb];
#pragma unroll
            for (int j = 0; j < 8; j++) {
                tc_p_fragment(s[j], 8 * j + 2 * t4, ta, tb, len, ba, bb, igs, bcum, scale, Ps, rs0, rs1);
            }
            rs0 = quad_sum(rs0);
            rs1 = quad_sum(rs1);
            // q_τ·n for rows 16·warp + lane/2, two lanes per row
            const int r = 16 * warp + (lane >> 1), half = lane & 1;
            const float qn = tc_q_dot_n<QS, DKP>(Qs, ns, r, half, 0);
            // den_τ = α_τ q_τ·n + Σ_σ P[τ, σ]: lane 8·i (i < 4) holds the row sums of rows 16w + 2i (+8) … gather
            const float rsA = __shfl_sync(FULL_MASK, rs0, ((lane >> 1) & 7) * 4);   // row 16w + (lane>>1) if < 8
            const float rsB = __shfl_sync(FULL_MASK, rs1, ((lane >> 1) & 7) * 4);   // row 16w + (lane>>1) if ≥ 8
            if (half == 0)   // den holds 1 / (max(|α q·n + Σ P|, e^{−m_τ}) + eps)
                den[r] = 1.f / (fmaxf(fabsf(alpha[r] * qn + ((lane >> 1) < 8 ? rsA : rsB)), expf(-stab[r])) + eps);
        }
        if (warp == 0 && ch + 1 < NC) compute_gates(ch + 1);             // off the critical path: warp 0 has the least S work
        __syncthreads();                                                  // (2) P, den ready

        {   // ---- hᵀ = α ⊙ (Cᵀ Qᵀ) + Vᵀ Pᵀ; then Cᵀ = β Cᵀ + (w ⊙ Vᵀ) K
            float hT[8][4];
            tc_state_times_q<NJ, QS>(hT, cT, qA, offNK, 0, !hasState && ch == 0);   // the zero state adds nothing
            const float beta = betaB[st];
            tc_decay<NJ>(hT, cT, alpha, beta, t4);
#pragma unroll
            for (int ks = 0; ks < LMAX / 16; ks++) {
                unsigned a0, a1, a2, a3;
                ldsm_x4_t(vA + offVt + ks * 16 * TC_VS * 2, a0, a1, a2, a3);
#pragma unroll
                for (int jp = 0; jp < 4; jp++) {
                    if (16 * ks > 16 * jp + 15) continue;                    // causal: Pᵀ[σ, τ] = 0 for σ > τ
                    mma_x2(hT[2 * jp], hT[2 * jp + 1], a0, a1, a2, a3, pA + offNKp + (16 * jp * TC_VS + ks * 16) * 2);
                }
                tc_state_update<NJ, QS>(cT, a0, a1, a2, a3, wgt, ks, t4, kA, offKt, 0);
            }
            // normalize, stage h in shared memory as [τ][dv]
#pragma unroll
            for (int j = 0; j < 8; j++)
#pragma unroll
                for (int e = 0; e < 2; e++) {
                    const int tau = 8 * j + 2 * t4 + e;
                    const float inv = den[tau];
                    const int dl = 16 * warp + g;
                    store(Hs, tau * TC_VS + dl, hT[j][e] * inv);
                    store(Hs, tau * TC_VS + dl + 8, hT[j][2 + e] * inv);
                }
            if (tid < DKP) {                                              // n = β n + Σ_σ w_σ k_σ
                float acc[4] = {0.f, 0.f, 0.f, 0.f};       // wgt and the k rows are zero past len
#pragma unroll 8
                for (int sg = 0; sg < LMAX; sg++)
                    acc[sg & 3] = fmaf(wgt[sg], __uint_as_float(((unsigned) Ks[sg * QS + tid]) << 16), acc[sg & 3]);
                nreg = beta * nreg + ((acc[0] + acc[1]) + (acc[2] + acc[3]));
            }
        }
        __syncthreads();                                                  // (3) H ready; everyone done with stage st
        if (tid < DKP) ns[tid] = nreg;
        tc_store_h<128>(h, Hs, tid, len, gbase, t0, d0, DV);
        // the next iteration's barrier (1) orders these reads of Hs and ns before they are rewritten
    }
    if (cState != nullptr) tc_state_tile<NJ, true>(cT, cState, bh, DK, DV, d0 + 16 * warp + g, 2 * t4);
    if (blockIdx.x == 0) {
        if (nOut != nullptr && tid < DK) nOut[(long long) bh * DK + tid] = nreg;
        if (mOut != nullptr && tid == 0) mOut[bh] = mPrev;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// bf16 chunkwise forward on the tensor cores for DK ≤ 256 (the xLSTM-7B heads: DK = 256, DV = 512):
// mlstm_chunkwise_tc_bf16_dk256. The math and the data flow are those of chunkwise_tc above, but the block has 8 warps
// and the state of its TC_TV = 64 columns of DV is split in two halves of DK: warp w = 4·kh + rg keeps rows
// dv = 16·rg.. of Cᵀ for the columns dk = 128·kh..128·kh + 127 (64 fp32 accumulators per thread, as at DK = 128).
// Per chunk:
//   S = Q Kᵀ        warp (rg, kh): rows τ = 16·rg.., the σ-tiles jp ∈ {kh, kh + 2} with jp ≤ rg (causal), over all
//                   of DK; P → smem bf16; its partial row sums and the q·n over its half of DK → smem, which
//                   threads 0..63 combine into den after the barrier;
//   hᵀ = α ⊙ (Cᵀ Qᵀ) + Vᵀ Pᵀ   each warp over its half of DK, and over the σ-tiles ks ∈ {0, 3} (kh = 0) or {1, 2}
//                   (kh = 1) of Vᵀ Pᵀ (equal work by causality); the kh = 1 partials reach the kh = 0 warps through
//                   an fp32 exchange tile in shared memory, and those normalize and stage h;
//   Cᵀ = β Cᵀ + (w ⊙ Vᵀ) K   each warp for its half of DK;  n = β n + Σ_σ w_σ k_σ: thread tid keeps n[tid].
// Warp 4 (rg = 0, kh = 1: no S tiles) computes the gate quantities of the next chunk. Shared memory: two stages of
// q, k [64][264] and v [64][72], the P and h tiles (bf16) and the exchange tile (16 KiB fp32): tc2_smem_bytes()
// = 188416 bytes dynamic (the opt-in up to 227 KiB of Hopper), so one block of 256 threads per SM.
// Measured on the H200 (B=8, NH=8, T=2048, DK=256, DV=512, L=64): 0.97 ms (the two fp32 kernels took about 6.3 ms),
// 207 registers, no spills; in the 7B prefill at 8×2048 the 32 mLSTM calls take 39 ms of 431 ms.
// Needs DK ≤ 256, DK % 8 == 0, DV % 8 == 0, L ≤ 64 (columns past DK are zero-filled: any DK ≤ 256 runs, at the cost
// of DK = 256). Grid (ceil(DV / 64), B·NH), 256 threads. State arguments as for chunkwise_tc.
#define TC2_DKP 256
#define TC2_THREADS 256
#define TC2_RED (4 * 8 * 32 * 4)    // floats of the hᵀ exchange tile: 4 row groups × 8 n-tiles × 32 lanes × 4
__host__ __device__ constexpr int tc2_smem_bytes() {
    return (2 * tc_stage_elems(TC2_DKP) + 2 * LMAX * TC_VS) * 2 + TC2_RED * 4;
}

__device__ void chunkwise_tc2(const bf16_t* __restrict__ q, const bf16_t* __restrict__ k, const bf16_t* __restrict__ v,
                              const float* __restrict__ ig, const float* __restrict__ fg, bf16_t* __restrict__ h,
                              float* cState, const float* nIn, float* nOut, const float* mIn, float* mOut,
                              int T_, int L, int NC, int DK, int DV, float scale, float eps) {
    constexpr int DKP = TC2_DKP, DKH = DKP / 2, QS = tc_qk_stride(DKP), STAGE = tc_stage_elems(DKP), NJ = DKH / 8;
    constexpr int NT = TC2_THREADS, GW = 4;   // GW: the warp that computes the gate quantities
    extern __shared__ float4 dynamic_smem[];
    bf16_t* smem = reinterpret_cast<bf16_t*>(dynamic_smem);
    bf16_t* Ps = smem + 2 * STAGE;            // P [τ][σ]
    bf16_t* Hs = Ps + LMAX * TC_VS;           // h tile [τ][dv]
    float* red = reinterpret_cast<float*>(Hs + LMAX * TC_VS);   // hᵀ partials of the kh = 1 warps, fragment order
    __shared__ float bcumB[2][LMAX], igsB[2][LMAX], stabB[2][LMAX], alphaB[2][LMAX], wgtB[2][LMAX], betaB[2];
    __shared__ float den[LMAX], rsP[2][LMAX], qnP[2][LMAX];
    __shared__ float ns[DKP];

    const int d0 = blockIdx.x * TC_TV, bh = blockIdx.y;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t4 = lane & 3;
    const int rg = warp & 3, kh = warp >> 2, kb = DKH * kh;
    const long long gbase = (long long) bh * T_;

    // the state: rows dv = d0 + 16·rg + g (+8), columns dk = kb + 8j + 2·t4 (+1)
    float cT[NJ][4];
    tc_state_tile<NJ, false>(cT, cState, bh, DK, DV, d0 + 16 * rg + g, kb + 2 * t4);
    float nreg = (nIn != nullptr && tid < DK) ? nIn[(long long) bh * DK + tid] : 0.f;   // n[tid]
    ns[tid] = nreg;
    float mPrev = mIn != nullptr ? mIn[bh] : 0.f;   // used by warp GW
    const bool hasState = cState != nullptr;

    auto load_chunk = [&](int ch, int st) {
        tc_load_chunk<DKP, NT>(smem, q, k, v, ch, st, L, T_, DK, DV, d0, gbase, tid);
    };
    load_chunk(0, 0);
    cp_async_commit();
    float pig0 = 0.f, pig1 = 0.f, pfg0 = 0.f, pfg1 = 0.f;   // warp GW: gate pre-activations of the next chunk
    if (warp == GW) tc_first_gates(lane, L, T_, gbase, ig, fg, pig0, pig1, pfg0, pfg1);

    // warp GW: the gate quantities of chunk gc into buffer gc & 1 (as in chunkwise_tc)
    auto compute_gates = [&](int gc) {
        const int b = gc & 1;
        chunk_gates(gc, lane, L, T_, NC, gbase, scale, ig, fg, bcumB[b], igsB[b], stabB[b], alphaB[b], wgtB[b], &betaB[b],
                    pig0, pig1, pfg0, pfg1, mPrev);
    };
    if (warp == GW) compute_gates(0);
    for (int ch = 0; ch < NC; ch++) {
        const int st = ch & 1;
        const long long t0 = (long long) ch * L;
        const int len = min(L, (int) (T_ - t0));
        tc_next_chunk(load_chunk, ch, NC, st);
        const auto [bcum, igs, stab, alpha, wgt, Qs, Ks, Vs, qA, kA, vA, pA, offQrowA, offNK, offNKp, offVt, offKt] =
                tc_turn<QS, STAGE>(smem, st, Ps, lane, rg, bcumB, igsB, stabB, alphaB, wgtB);

        {   // ---- S = Q Kᵀ: rows τ = 16·rg + g (+8), σ-tiles jp = kh + 2u (u < 2) up to the diagonal
            const bool has0 = kh <= rg, has1 = kh + 2 <= rg;
            float s[4][4];
            zero_tiles(s);
            if (has0) {
#pragma unroll
                for (int kk = 0; kk < DKP / 16; kk++) {
                    unsigned a0, a1, a2, a3;
                    ldsm_x4(qA + offQrowA + kk * 32, a0, a1, a2, a3);
#pragma unroll
                    for (int u = 0; u < 2; u++) {
                        if (u == 1 && !has1) continue;
                        mma_x2(s[2 * u], s[2 * u + 1], a0, a1, a2, a3,
                               kA + offNK + (16 * (kh + 2 * u) * QS + kk * 16) * 2);
                    }
                }
            }
            float rs0 = 0.f, rs1 = 0.f;
            const int ta = 16 * rg + g, tb = ta + 8;
            const float ba = bcum[ta] - stab[ta], bb = bcum[tb] - stab[tb];
#pragma unroll
            for (int u = 0; u < 2; u++) {
                if (!(u == 0 ? has0 : has1)) continue;
#pragma unroll
                for (int hj = 0; hj < 2; hj++) {
                    tc_p_fragment(s[2 * u + hj], 16 * (kh + 2 * u) + 8 * hj + 2 * t4, ta, tb, len, ba, bb, igs, bcum, scale, Ps,
                                  rs0, rs1);
                }
            }
            rs0 = quad_sum(rs0);
            rs1 = quad_sum(rs1);
            if (t4 == 0) { rsP[kh][ta] = rs0; rsP[kh][tb] = rs1; }
            // q_τ·n over this warp's half of DK, rows 16·rg + lane/2, two lanes per row
            const int r = 16 * rg + (lane >> 1), half = lane & 1;
            const float qn = tc_q_dot_n<QS, DKH>(Qs, ns, r, half, kb);
            if (half == 0) qnP[kh][r] = qn;
        }
        if (warp == GW && ch + 1 < NC) compute_gates(ch + 1);            // warp GW has no S tiles
        __syncthreads();                                                  // (2) P and the partial sums ready
        if (tid < LMAX)   // den holds 1 / (max(|α q·n + Σ P|, e^{−m_τ}) + eps); read after barrier (R)
            den[tid] = 1.f / (fmaxf(fabsf(alpha[tid] * (qnP[0][tid] + qnP[1][tid]) + (rsP[0][tid] + rsP[1][tid])),
                                    expf(-stab[tid])) + eps);

        {   // ---- hᵀ = α ⊙ (Cᵀ Qᵀ) + Vᵀ Pᵀ (partial, this warp's share); then Cᵀ = β Cᵀ + (w ⊙ Vᵀ) K
            float hT[8][4];
            tc_state_times_q<NJ, QS>(hT, cT, qA, offNK, kb, !hasState && ch == 0);   // the zero state adds nothing
            const float beta = betaB[st];
            tc_decay<NJ>(hT, cT, alpha, beta, t4);
#pragma unroll
            for (int ks = 0; ks < LMAX / 16; ks++) {
                unsigned a0, a1, a2, a3;
                ldsm_x4_t(vA + offVt + ks * 16 * TC_VS * 2, a0, a1, a2, a3);
                if ((ks == 0 || ks == 3) == (kh == 0)) {                     // this warp's σ-tiles of Vᵀ Pᵀ
#pragma unroll
                    for (int jp = 0; jp < 4; jp++) {
                        if (ks > jp) continue;                               // causal: Pᵀ[σ, τ] = 0 for σ > τ
                        mma_x2(hT[2 * jp], hT[2 * jp + 1], a0, a1, a2, a3, pA + offNKp + (16 * jp * TC_VS + ks * 16) * 2);
                    }
                }
                tc_state_update<NJ, QS>(cT, a0, a1, a2, a3, wgt, ks, t4, kA, offKt, kb);
            }
            {   // n[tid] = β n[tid] + Σ_σ w_σ k_σ[tid]   (wgt and the k rows are zero past len)
                float acc[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll 8
                for (int sg = 0; sg < LMAX; sg++)
                    acc[sg & 3] = fmaf(wgt[sg], __uint_as_float(((unsigned) Ks[sg * QS + tid]) << 16), acc[sg & 3]);
                nreg = beta * nreg + ((acc[0] + acc[1]) + (acc[2] + acc[3]));
            }
            float4* red4 = reinterpret_cast<float4*>(red) + rg * 8 * 32 + lane;
            if (kh == 1) {
#pragma unroll
                for (int j = 0; j < 8; j++) red4[j * 32] = make_float4(hT[j][0], hT[j][1], hT[j][2], hT[j][3]);
            }
            __syncthreads();                                              // (R) partials and den ready
            if (kh == 0) {   // sum, normalize, stage h in shared memory as [τ][dv]
                const int dl = 16 * rg + g;
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    const float4 o = red4[j * 32];
                    hT[j][0] += o.x; hT[j][1] += o.y; hT[j][2] += o.z; hT[j][3] += o.w;
#pragma unroll
                    for (int e = 0; e < 2; e++) {
                        const int tau = 8 * j + 2 * t4 + e;
                        const float inv = den[tau];
                        store(Hs, tau * TC_VS + dl, hT[j][e] * inv);
                        store(Hs, tau * TC_VS + dl + 8, hT[j][2 + e] * inv);
                    }
                }
            }
        }
        __syncthreads();                                                  // (3) H ready; everyone done with stage st
        ns[tid] = nreg;
        tc_store_h<NT>(h, Hs, tid, len, gbase, t0, d0, DV);
        // the next iteration's barriers order these reads of Hs and ns before they are rewritten
    }
    if (cState != nullptr) tc_state_tile<NJ, true>(cT, cState, bh, DK, DV, d0 + 16 * rg + g, kb + 2 * t4);
    if (blockIdx.x == 0) {
        if (nOut != nullptr && tid < DK) nOut[(long long) bh * DK + tid] = nreg;
        if (mOut != nullptr && tid == 32 * GW) mOut[bh] = mPrev;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Utilities: deterministic uniform random fill (a hash of the index, not a stream generator) and fp32 → bf16.
__device__ __forceinline__ float hash_uniform(unsigned long long i, unsigned seed) {
    unsigned long long x = i * 0x9E3779B97F4A7C15ull + ((unsigned long long) seed << 32 | seed);
    x ^= x >> 30; x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27; x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return (float) (x >> 40) * (1.0f / 16777216.0f);
}

extern "C" {

__global__ void __launch_bounds__(256, 4) mlstm_chunk_states_f32(const float* k, const float* v, const float* ig,
        const float* fg, float* cStates, float* nStates, float* mStates, float* cState, float* nState,
        const float* mInit, int T, int L, int NC, int DK, int DV, float scale) {
    chunk_states<float>(k, v, ig, fg, cStates, nStates, mStates, cState, nState, mInit, T, L, NC, DK, DV, scale);
}

__global__ void __launch_bounds__(256, 4) mlstm_chunk_states_bf16(const bf16_t* k, const bf16_t* v, const float* ig,
        const float* fg, float* cStates, float* nStates, float* mStates, float* cState, float* nState,
        const float* mInit, int T, int L, int NC, int DK, int DV, float scale) {
    chunk_states<bf16_t>(k, v, ig, fg, cStates, nStates, mStates, cState, nState, mInit, T, L, NC, DK, DV, scale);
}

__global__ void __launch_bounds__(256) mlstm_chunk_outputs_f32(const float* q, const float* k, const float* v,
        const float* ig, const float* fg, float* h, const float* cStates, const float* nStates, const float* mStates,
        float* mOut, int skipState, int T, int L, int NC, int DK, int DV, float scale, float eps) {
    chunk_outputs<float>(q, k, v, ig, fg, h, cStates, nStates, mStates, mOut, skipState, T, L, NC, DK, DV, scale, eps);
}

__global__ void __launch_bounds__(256) mlstm_chunk_outputs_bf16(const bf16_t* q, const bf16_t* k, const bf16_t* v,
        const float* ig, const float* fg, bf16_t* h, const float* cStates, const float* nStates, const float* mStates,
        float* mOut, int skipState, int T, int L, int NC, int DK, int DV, float scale, float eps) {
    chunk_outputs<bf16_t>(q, k, v, ig, fg, h, cStates, nStates, mStates, mOut, skipState, T, L, NC, DK, DV, scale, eps);
}

__global__ void mlstm_step_f32(const float* q, const float* k, const float* v, const float* ig, const float* fg,
        float* h, float* C, const float* nIn, float* nOut, const float* mIn, float* mOut, int DK, int DV,
        float scale, float eps) {
    step<float>(q, k, v, ig, fg, h, C, nIn, nOut, mIn, mOut, DK, DV, scale, eps);
}

__global__ void mlstm_step_bf16(const bf16_t* q, const bf16_t* k, const bf16_t* v, const float* ig, const float* fg,
        bf16_t* h, float* C, const float* nIn, float* nOut, const float* mIn, float* mOut, int DK, int DV,
        float scale, float eps) {
    step<bf16_t>(q, k, v, ig, fg, h, C, nIn, nOut, mIn, mOut, DK, DV, scale, eps);
}

#define TC_KERNEL(DKP) \
__global__ void __launch_bounds__(128, 2) mlstm_chunkwise_tc_bf16_dk##DKP(const bf16_t* q, const bf16_t* k, \
        const bf16_t* v, const float* ig, const float* fg, bf16_t* h, float* cState, const float* nIn, float* nOut, \
        const float* mIn, float* mOut, int T, int L, int NC, int DK, int DV, float scale, float eps) { \
    chunkwise_tc<DKP>(q, k, v, ig, fg, h, cState, nIn, nOut, mIn, mOut, T, L, NC, DK, DV, scale, eps); \
}
TC_KERNEL(32)
TC_KERNEL(64)
TC_KERNEL(128)

__global__ void __launch_bounds__(TC2_THREADS, 1) mlstm_chunkwise_tc_bf16_dk256(const bf16_t* q, const bf16_t* k,
        const bf16_t* v, const float* ig, const float* fg, bf16_t* h, float* cState, const float* nIn, float* nOut,
        const float* mIn, float* mOut, int T, int L, int NC, int DK, int DV, float scale, float eps) {
    chunkwise_tc2(q, k, v, ig, fg, h, cState, nIn, nOut, mIn, mOut, T, L, NC, DK, DV, scale, eps);
}

// p[i] = lo + (hi − lo)·u_i, u_i uniform in [0, 1) from a hash of (i, seed)
__global__ void fill_uniform_f32(float* p, long long n, unsigned seed, float lo, float hi) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        p[i] = lo + (hi - lo) * hash_uniform((unsigned long long) i, seed);
}

__global__ void fill_uniform_bf16(bf16_t* p, long long n, unsigned seed, float lo, float hi) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        store(p, i, lo + (hi - lo) * hash_uniform((unsigned long long) i, seed));
}

}  // extern "C"
