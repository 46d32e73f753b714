package org.xlstm4j.large;

import org.xlstm4j.tensor.Activations;

/**
 * The soft cap of xLSTM-7B (spec §6.1), {@code y = c·tanh(x/c)}, on the gate pre-activations (c = 15) and the logits
 * (c = 30), in place, and its backward: {@code dy/dx = 1 − tanh²(x/c) = 1 − (y/c)²}, computed from the saved output so
 * the input need not be kept.
 */
final class SoftCap {
    private SoftCap() {}

    /** a[off .. off+n) ← c·tanh(a/c). */
    static void forward(float[] a, int off, int n, float cap) {
        for (int i = off; i < off + n; i++) a[i] = Activations.softcap(a[i], cap);
    }

    /** d[off .. off+n) ← d·(1 − (y/c)²), with y the forward's output. */
    static void backward(float[] y, float[] d, int off, int n, float cap) {
        float inv = 1f / cap;
        for (int i = off; i < off + n; i++) {
            float t = y[i] * inv;
            d[i] *= 1f - t * t;
        }
    }
}
