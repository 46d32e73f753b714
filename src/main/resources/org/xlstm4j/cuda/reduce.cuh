#pragma once
// Sums across a warp and across a block in fixed orders (so results do not depend on scheduling), shared by the
// kernels of large.cu and paper.cu.

// the sum of v over the 32 lanes of a warp (butterfly: every lane gets the total)
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}
// the sum of one value per thread over the block (blockDim.x a multiple of 32, at most 1024; red: 32 floats of shared
// memory): each warp's sum, then the warps' sums added in warp order; every thread gets the total
__device__ float block_sum(float v, float* red) {
    v = warp_sum(v);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, nw = blockDim.x >> 5;
    __syncthreads();
    if (lane == 0) red[warp] = v;
    __syncthreads();
    float s = 0.f;
    for (int w = 0; w < nw; w++) s += red[w];
    return s;
}
