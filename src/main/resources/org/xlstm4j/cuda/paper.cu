// Element-wise and small kernels of the paper architecture's forward (org.xlstm4j.cuda.CudaXLstmOps), fp32.
// Layouts as in org.xlstm4j.model.XLstmOps: activations rows-major [rows, features]. Compiled by NVRTC on first use.

#include "reduce.cuh"

#define GRID_STRIDE(i, n) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
                               i += (long long)blockDim.x * gridDim.x)

__device__ __forceinline__ float sigmoidf_(float x) { return 1.f / (1.f + expf(-x)); }
__device__ __forceinline__ float siluf_(float x) { return x / (1.f + expf(-x)); }

extern "C" __global__ void p_embed(const int* ids, const float* w, float* x, int E) {
    long long r = blockIdx.x;
    const float* src = w + (long long)ids[r] * E;
    for (int i = threadIdx.x; i < E; i += blockDim.x) x[r * E + i] = src[i];
}


// spec §1: LayerNorm over groups of gdim values (groups = 1: a LayerNorm; = NH: the multi-head norm), one block per
// (row, group): y = (x − mean)/sqrt(var + eps)·(off + w) (+ b), biased variance.
extern "C" __global__ void p_group_norm(const float* x, const float* w, const float* b, float* y, int gdim, float eps,
                                        float off, int groups) {
    __shared__ float shared[32];
    long long base = (long long)blockIdx.x * gdim;
    int g = blockIdx.x % groups;
    float s = 0.f;
    for (int i = threadIdx.x; i < gdim; i += blockDim.x) s += x[base + i];
    float mean = block_sum(s, shared) / gdim;
    float q = 0.f;
    for (int i = threadIdx.x; i < gdim; i += blockDim.x) { float d = x[base + i] - mean; q += d * d; }
    float rstd = rsqrtf(block_sum(q, shared) / gdim + eps);
    for (int i = threadIdx.x; i < gdim; i += blockDim.x) {
        int c = g * gdim + i;
        float v = (x[base + i] - mean) * rstd * (off + w[c]);
        y[base + i] = b ? v + b[c] : v;
    }
}

// y[r, j] += bias[j]
extern "C" __global__ void p_add_bias(float* y, const float* bias, long long n, int N) {
    GRID_STRIDE(i, n) y[i] += bias[i % N];
}

// spec §1: block-diagonal projection, W [heads, dout, din]; one thread per output.
extern "C" __global__ void p_headwise(const float* x, const float* W, const float* bias, float* y, long long rows,
                                      int heads, int din, int dout) {
    long long n = rows * heads * dout;
    GRID_STRIDE(i, n) {
        int o = (int)(i % dout);
        long long rh = i / dout;
        int h = (int)(rh % heads);
        long long r = rh / heads;
        const float* xr = x + r * heads * din + (long long)h * din;
        const float* wr = W + ((long long)h * dout + o) * din;
        float s = 0.f;
        for (int d = 0; d < din; d++) s += xr[d] * wr[d];
        y[i] = bias ? s + bias[h * dout + o] : s;
    }
}

// spec §2.4: depthwise causal conv, w [C, K], history from state [B, K, C] (the last K inputs, oldest first).
extern "C" __global__ void p_causal_conv(const float* x, const float* w, const float* bias, float* y,
                                         const float* state, int B, int T, int C, int K) {
    long long n = (long long)B * T * C;
    GRID_STRIDE(i, n) {
        int c = (int)(i % C);
        long long bt = i / C;
        int t = (int)(bt % T), b = (int)(bt / T);
        float acc = bias ? bias[c] : 0.f;
        for (int j = 0; j < K; j++) {
            int s = t - K + 1 + j;
            float v;
            if (s >= 0) v = x[((long long)b * T + s) * C + c];
            else if (state) v = state[((long long)b * K + K + s) * C + c];
            else continue;
            acc += w[c * K + j] * v;
        }
        y[i] = acc;
    }
}

// After p_causal_conv: the state keeps the last K inputs (rows shift toward the front; read before written).
extern "C" __global__ void p_conv_state(const float* x, float* state, int B, int T, int C, int K) {
    long long n = (long long)B * C;
    GRID_STRIDE(i, n) {
        int c = (int)(i % C), b = (int)(i / C);
        float* s = state + (long long)b * K * C + c;
        for (int j = 0; j < K; j++) {
            int t = T - K + j;
            s[(long long)j * C] = t >= 0 ? x[((long long)b * T + t) * C + c] : s[(long long)(T + j) * C];
        }
    }
}

extern "C" __global__ void p_silu(const float* x, float* y, long long n) { GRID_STRIDE(i, n) y[i] = siluf_(x[i]); }

// spec §4.1 step 4: g[r, o] = b[o] + W[o]·[q_r | k_r | v_r], W [NH, 3I]; one warp per (row, gate, head).
extern "C" __global__ void p_mlstm_gates(const float* q, const float* k, const float* v, const float* Wi,
                                         const float* bi, const float* Wf, const float* bf, float* gi, float* gf,
                                         long long rows, int I, int NH) {
    long long warp = ((long long)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (warp >= rows * 2 * NH) return;
    int o = (int)(warp % NH), g = (int)((warp / NH) % 2);
    long long r = warp / (2 * NH);
    const float* W = (g == 0 ? Wi : Wf) + (long long)o * 3 * I;
    float s = 0.f;
    for (int j = lane; j < I; j += 32) {
        s += W[j] * q[r * I + j];
        s += W[I + j] * k[r * I + j];
        s += W[2 * I + j] * v[r * I + j];
    }
    s = warp_sum(s);
    if (lane == 0) (g == 0 ? gi : gf)[r * NH + o] = (g == 0 ? bi : bf)[o] + s;
}

// spec §4.1 steps 6–7: out = (hn + skip ⊙ xc) ⊙ SiLU(z)
extern "C" __global__ void p_mlstm_output(const float* hn, const float* xc, const float* z, const float* skip,
                                          float* out, long long n, int I) {
    GRID_STRIDE(i, n) out[i] = (hn[i] + skip[i % I] * xc[i]) * siluf_(z[i]);
}

// spec §2.2: [i | f | z | o] per row, gate-major
extern "C" __global__ void p_interleave(const float* gi, const float* gf, const float* gz, const float* go,
                                        float* gates, long long rows, int E) {
    long long n = rows * 4 * E;
    GRID_STRIDE(i, n) {
        int c = (int)(i % (4 * E));
        long long r = i / (4 * E);
        int g = c / E, e = c % E;
        const float* src = g == 0 ? gi : g == 1 ? gf : g == 2 ? gz : go;
        gates[i] = src[r * E + e];
    }
}

// spec §2.6: h = act(gate) ⊙ up, up [rows, 2P] = [gate | up]; act exact GELU or SiLU
extern "C" __global__ void p_gated_act(const float* up, float* h, long long rows, int P, int gelu) {
    long long n = rows * P;
    GRID_STRIDE(i, n) {
        long long r = i / P;
        int j = (int)(i % P);
        float x = up[r * 2 * P + j], u = up[r * 2 * P + P + j];
        float a = gelu ? 0.5f * x * (1.f + erff(x * 0.70710678118654752f)) : siluf_(x);
        h[i] = a * u;
    }
}

extern "C" __global__ void p_add(const float* src, float* dst, long long n) { GRID_STRIDE(i, n) dst[i] += src[i]; }
extern "C" __global__ void p_sum(const float* a, const float* b, float* y, long long n) { GRID_STRIDE(i, n) y[i] = a[i] + b[i]; }
extern "C" __global__ void p_copy(const float* src, float* dst, long long n) { GRID_STRIDE(i, n) dst[i] = src[i]; }
