// xlstm4j: CUDA kernels of the mLSTM cell (spec §3), compiled at run time with NVRTC (no headers needed).
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
// Step (decode): mlstm_step_* (spec §3.2), one token, state C updated in place, n and m read from one buffer and
// written to another (so that the blocks of a head never race).

typedef unsigned short bf16_t;

#define LMAX 64          // largest chunk supported
#define OUT_TV 128       // outputs kernel: columns of DV per block
#define KT 32            // outputs kernel: DK slice of the Q·Kᵀ product
#define CT 16            // outputs kernel: rows of C / V staged per step
#define FULL_MASK 0xffffffffu
#define NEG_INF __int_as_float(0xff800000)

__device__ __forceinline__ float load(const float* p, long long i) { return p[i]; }
__device__ __forceinline__ float load(const bf16_t* p, long long i) { return __uint_as_float(((unsigned) p[i]) << 16); }
__device__ __forceinline__ void store(float* p, long long i, float x) { p[i] = x; }
__device__ __forceinline__ void store(bf16_t* p, long long i, float x) {
    unsigned u = __float_as_uint(x);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu) != 0u) { p[i] = (bf16_t) ((u >> 16) | 0x40u); return; }
    u += 0x7fffu + ((u >> 16) & 1u);                       // round to nearest even
    p[i] = (bf16_t) (u >> 16);
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
                const float4 qv = *reinterpret_cast<const float4*>(&qsT[x][ty * 4]);
                const float4 c0 = *reinterpret_cast<const float4*>(&cs[x][tx * 4]);
                const float4 c1 = *reinterpret_cast<const float4*>(&cs[x][tx * 4 + 64]);
                const float qa[4] = {qv.x, qv.y, qv.z, qv.w};
                const float cv[8] = {c0.x, c0.y, c0.z, c0.w, c1.x, c1.y, c1.z, c1.w};
#pragma unroll
                for (int i = 0; i < 4; i++)
#pragma unroll
                    for (int j = 0; j < 8; j++) acc[i][j] = fmaf(qa[i], cv[j], acc[i][j]);
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
        qn += __shfl_xor_sync(FULL_MASK, qn, 1);
        qn += __shfl_xor_sync(FULL_MASK, qn, 2);
        part += __shfl_xor_sync(FULL_MASK, part, 1);
        part += __shfl_xor_sync(FULL_MASK, part, 2);
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
            const float4 pv = *reinterpret_cast<const float4*>(&psT[s0 + x][ty * 4]);
            const float4 v0 = *reinterpret_cast<const float4*>(&cs[x][tx * 4]);
            const float4 v1 = *reinterpret_cast<const float4*>(&cs[x][tx * 4 + 64]);
            const float pa[4] = {pv.x, pv.y, pv.z, pv.w};
            const float vv[8] = {v0.x, v0.y, v0.z, v0.w, v1.x, v1.y, v1.z, v1.w};
#pragma unroll
            for (int i = 0; i < 4; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(pa[i], vv[j], acc[i][j]);
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
        for (int a = ry; a < DK; a += STEP_ROWS) {
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
