package org.xlstm4j.tensor;

/** Plain single-threaded loops: the scalar twin every SIMD kernel is tested against. */
public final class ScalarKernels implements Kernels {
    @Override
    public void matmulXWt(float[] x, int xOff, float[] w, int wOff, float[] y, int yOff, int M, int N, int K, boolean acc) {
        for (int m = 0; m < M; m++) {
            for (int n = 0; n < N; n++) {
                float s = 0f;
                int xi = xOff + m * K, wi = wOff + n * K;
                for (int k = 0; k < K; k++) s += x[xi + k] * w[wi + k];
                int yi = yOff + m * N + n;
                y[yi] = acc ? y[yi] + s : s;
            }
        }
    }

    @Override
    public void matmulDyW(float[] dy, int dyOff, float[] w, int wOff, float[] dx, int dxOff, int M, int N, int K, boolean acc) {
        for (int m = 0; m < M; m++) {
            int di = dxOff + m * K;
            if (!acc) java.util.Arrays.fill(dx, di, di + K, 0f);
            for (int n = 0; n < N; n++) {
                float g = dy[dyOff + m * N + n];
                int wi = wOff + n * K;
                for (int k = 0; k < K; k++) dx[di + k] += g * w[wi + k];
            }
        }
    }

    @Override
    public void matmulDyTX(float[] dy, int dyOff, float[] x, int xOff, float[] dw, int dwOff, int M, int N, int K, boolean acc) {
        if (!acc) java.util.Arrays.fill(dw, dwOff, dwOff + N * K, 0f);
        for (int m = 0; m < M; m++) {
            int xi = xOff + m * K;
            for (int n = 0; n < N; n++) {
                float g = dy[dyOff + m * N + n];
                int wi = dwOff + n * K;
                for (int k = 0; k < K; k++) dw[wi + k] += g * x[xi + k];
            }
        }
    }

    @Override public int threads() { return 1; }

    @Override public String name() { return "scalar"; }
}
