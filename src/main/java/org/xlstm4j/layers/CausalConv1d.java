package org.xlstm4j.layers;

import java.util.List;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;
import java.util.Objects;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;

/**
 * Depthwise causal 1-D convolution over time (spec §2.4): {@code y_t[d] = b[d] + Σ_{j<K} w[d,j]·x_{t−K+1+j}[d]},
 * with zeros (or the given history) before t = 0. Params: {@code name + ".conv.weight"} (D, 1, K) and
 * {@code name + ".conv.bias"} (D,) — pass name = "…conv1d" to get the official keys.
 *
 * <p>The state is the official step buffer [B, K, D]: the last K inputs, oldest first. {@link #step} rolls it left
 * and appends the new input; {@link #forward} with a state reads the K−1 previous inputs from its rows 1..K−1 and
 * leaves the last K inputs in it, so forward and step can be mixed freely.
 */
public final class CausalConv1d {
    public final Param weight;
    /** null when the conv has no bias. */
    public final Param bias;
    private final int channels, kernelSize;
    private float[] x;          // input of the last forward (owned by the caller)
    private float[] hist;       // [B, K−1, D] history used by the last forward (rows 1..K−1 of the incoming state)
    private boolean hasHist;    // false = the last forward used zero history
    private int lastB, lastT;
    private float[] wT;         // [K, D] taps as channel vectors
    private float[][] dwT = new float[0][];   // per batch row: [K + 1, D] tap gradients, then the bias gradient
    private float[] argY, argDy, argDx;
    private boolean argAcc;
    private final Kernels.Task forwardTask = this::forwardBatch;
    private final Kernels.Task backwardTask = this::backwardBatch;

    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static final int L = SP.length();

    public CausalConv1d(String name, int channels, int kernelSize, boolean hasBias) {
        if (channels <= 0 || kernelSize <= 0)
            throw new UserError(name + ": conv needs channels > 0 and kernel size > 0, got " + channels + ", " + kernelSize);
        this.channels = channels;
        this.kernelSize = kernelSize;
        this.weight = Params.create(name + ".conv.weight", channels, 1, kernelSize);
        this.bias = hasBias ? Params.create(name + ".conv.bias", channels) : null;
    }

    public int channels() { return channels; }

    public int kernelSize() { return kernelSize; }

    /** The parameters: weight, then bias if present. */
    public List<Param> params() { return bias == null ? List.of(weight) : List.of(weight, bias); }

    /**
     * y[B,T,D] = conv(x[B,T,D]). state [B,K,D] or null (zero history); when non-null it supplies the history and is
     * overwritten with the last K inputs. Keeps a reference to x for {@link #backward}.
     */
    public void forward(float[] x, float[] y, int B, int T, float[] state) {
        forward(null, x, y, B, T, state);
    }

    /** As {@link #forward(float[], float[], int, int, float[])}, the batch rows split over {@code k}'s threads. */
    public void forward(Kernels k, float[] x, float[] y, int B, int T, float[] state) {
        saveHistory(x, B, T, state);
        prepareTransposedWeight();
        argY = y;
        if (k == null || B == 1) for (int b = 0; b < B; b++) forwardBatch(b, 0);
        else k.parallelFor(B, forwardTask);
        argY = null;
        updateState(x, B, T, state);
    }

    private void forwardBatch(int b, int worker) {
        final int D = channels, K = kernelSize, H = K - 1, T = lastT;
        final float[] wT = this.wT, x = this.x, y = argY;
        for (int t = 0; t < T; t++) {
            int yo = (b * T + t) * D;
            for (int i = 0; i < D; i += L) {
                VectorMask<Float> m = SP.indexInRange(i, D);
                FloatVector acc = bias != null ? FloatVector.fromArray(SP, bias.data, i, m) : FloatVector.zero(SP);
                for (int j = 0; j < K; j++) {
                    int s = t - K + 1 + j; // spec §2.4: tap j sees x_{t−K+1+j}
                    float[] src;
                    int so;
                    if (s >= 0) { src = x; so = (b * T + s) * D; }
                    else if (hasHist) { src = hist; so = (b * H + H + s) * D; }
                    else continue;
                    acc = FloatVector.fromArray(SP, wT, j * D + i, m).fma(FloatVector.fromArray(SP, src, so + i, m), acc);
                }
                acc.intoArray(y, yo + i, m);
            }
        }
    }

    /** wT[j·D + d] = w[d, j]: the taps as channel vectors. */
    private void prepareTransposedWeight() {
        final int D = channels, K = kernelSize;
        if (wT == null) wT = new float[K * D];
        float[] w = weight.data;
        for (int d = 0; d < D; d++) for (int j = 0; j < K; j++) wT[j * D + d] = w[d * K + j];
    }

    private void saveHistory(float[] x, int B, int T, float[] state) {
        final int D = channels, K = kernelSize, H = K - 1;
        this.x = x;
        this.lastB = B;
        this.lastT = T;
        this.hasHist = state != null && H > 0;
        if (hasHist) { // save the history rows 1..K−1 of each batch's state, needed by backward
            if (hist == null || hist.length < B * H * D) hist = new float[B * H * D];
            for (int b = 0; b < B; b++) System.arraycopy(state, (b * K + 1) * D, hist, b * H * D, H * D);
        }
    }

    private void updateState(float[] x, int B, int T, float[] state) {
        final int D = channels, K = kernelSize;
        if (state != null) { // state[j] = x_{T−K+j}, taken from x or from the old history (read before overwritten)
            for (int b = 0; b < B; b++) {
                for (int j = 0; j < K; j++) {
                    int s = T - K + j, dst = (b * K + j) * D;
                    if (s >= 0) System.arraycopy(x, (b * T + s) * D, state, dst, D);
                    else System.arraycopy(state, (b * K + K + s) * D, state, dst, D);
                }
            }
        }
    }

    /** Scalar twin of {@link #forward} (plain loops over channels). */
    public void forwardScalar(float[] x, float[] y, int B, int T, float[] state) {
        final int D = channels, K = kernelSize, H = K - 1;
        saveHistory(x, B, T, state);
        float[] w = weight.data;
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int yo = (b * T + t) * D;
                if (bias != null) System.arraycopy(bias.data, 0, y, yo, D);
                else java.util.Arrays.fill(y, yo, yo + D, 0f);
                for (int j = 0; j < K; j++) {
                    int s = t - K + 1 + j; // spec §2.4: tap j sees x_{t−K+1+j}
                    float[] src;
                    int so;
                    if (s >= 0) { src = x; so = (b * T + s) * D; }
                    else if (hasHist) { src = hist; so = (b * H + H + s) * D; }
                    else continue;
                    for (int d = 0; d < D; d++) y[yo + d] += w[d * K + j] * src[so + d];
                }
            }
        }
        updateState(x, B, T, state);
    }

    /**
     * Backward of the most recent forward (with the history it used): weight.grad and bias.grad +=, and
     * dx[B,T,D] written (or added into when accumulateDx; skipped when dx is null). No gradient flows into the
     * incoming state.
     */
    public void backward(float[] dy, float[] dx, boolean accumulateDx) {
        backward(null, dy, dx, accumulateDx);
    }

    /** As {@link #backward(float[], float[], boolean)}, the batch rows split over {@code k}'s threads. */
    public void backward(Kernels k, float[] dy, float[] dx, boolean accumulateDx) {
        final int D = channels, K = kernelSize, B = lastB;
        prepareTransposedWeight();
        // one partial per batch row, summed in row order: the result does not depend on which thread ran which row
        if (dwT.length < B) dwT = java.util.Arrays.copyOf(dwT, B);
        for (int r = 0; r < B; r++) {
            if (dwT[r] == null || dwT[r].length != (K + 1) * D) dwT[r] = new float[(K + 1) * D];   // K taps, then the bias gradient
            else java.util.Arrays.fill(dwT[r], 0f);
        }
        argDy = dy; argDx = dx; argAcc = accumulateDx;
        if (k == null || B == 1) for (int b = 0; b < B; b++) backwardBatch(b, 0);
        else k.parallelFor(B, backwardTask);
        argDy = argDx = null;
        float[] dw = weight.grad;
        for (int r = 0; r < B; r++) {
            float[] p = dwT[r];
            for (int d = 0; d < D; d++) for (int j = 0; j < K; j++) dw[d * K + j] += p[j * D + d];
            if (bias != null) for (int d = 0; d < D; d++) bias.grad[d] += p[K * D + d];
        }
    }

    private void backwardBatch(int b, int worker) {
        final int D = channels, K = kernelSize, H = K - 1, T = lastT;
        final float[] wT = this.wT, x = this.x, dy = argDy, dx = argDx, part = dwT[b];
        final boolean accumulateDx = argAcc, hasBias = bias != null;
        for (int t = 0; t < T; t++) {
            int go = (b * T + t) * D;
            for (int i = 0; i < D; i += L) {
                VectorMask<Float> m = SP.indexInRange(i, D);
                FloatVector g = FloatVector.fromArray(SP, dy, go + i, m);
                if (hasBias) g.add(FloatVector.fromArray(SP, part, K * D + i, m)).intoArray(part, K * D + i, m);
                // dx_t = Σ_j w[:, j] ⊙ dy_{t+K−1−j}: gathered, so dx can be written or accumulated in one pass
                if (dx != null) {
                    FloatVector acc = accumulateDx ? FloatVector.fromArray(SP, dx, go + i, m) : FloatVector.zero(SP);
                    for (int j = 0; j < K; j++) {
                        int u = t + K - 1 - j;
                        if (u < T) acc = FloatVector.fromArray(SP, wT, j * D + i, m)
                                .fma(FloatVector.fromArray(SP, dy, (b * T + u) * D + i, m), acc);
                    }
                    acc.intoArray(dx, go + i, m);
                }
                for (int j = 0; j < K; j++) {
                    int s = t - K + 1 + j;
                    float[] src;
                    int so;
                    if (s >= 0) { src = x; so = (b * T + s) * D; }
                    else if (hasHist) { src = hist; so = (b * H + H + s) * D; }
                    else continue;
                    g.fma(FloatVector.fromArray(SP, src, so + i, m), FloatVector.fromArray(SP, part, j * D + i, m))
                            .intoArray(part, j * D + i, m);
                }
            }
        }
    }

    /** Scalar twin of {@link #backward}. */
    public void backwardScalar(float[] dy, float[] dx, boolean accumulateDx) {
        final int D = channels, K = kernelSize, H = K - 1, B = lastB, T = lastT;
        float[] w = weight.data, dw = weight.grad;
        if (dx != null && !accumulateDx) java.util.Arrays.fill(dx, 0, B * T * D, 0f);
        for (int b = 0; b < B; b++) {
            for (int t = 0; t < T; t++) {
                int go = (b * T + t) * D;
                for (int j = 0; j < K; j++) {
                    int s = t - K + 1 + j;
                    float[] src;
                    int so;
                    if (s >= 0) { src = x; so = (b * T + s) * D; }
                    else if (hasHist) { src = hist; so = (b * H + H + s) * D; }
                    else continue;
                    for (int d = 0; d < D; d++) dw[d * K + j] += dy[go + d] * src[so + d];
                    if (dx != null && s >= 0) for (int d = 0; d < D; d++) dx[so + d] += w[d * K + j] * dy[go + d];
                }
            }
        }
        if (bias != null) {
            float[] db = bias.grad;
            for (int r = 0; r < B * T; r++) for (int d = 0; d < D; d++) db[d] += dy[r * D + d];
        }
    }

    /**
     * One token per sequence: x, y [B, D]; state [B, K, D] is rolled left by one row, x written into row K−1, and
     * {@code y = b + Σ_j state[j]·w[:, j]} (spec §2.4 step mode). Not differentiable (inference only).
     */
    public void step(float[] x, float[] y, int B, float[] state) {
        Objects.requireNonNull(state, "conv step needs a state buffer");
        final int D = channels, K = kernelSize;
        prepareTransposedWeight();
        final float[] wT = this.wT;
        for (int b = 0; b < B; b++) {
            int so = b * K * D, yo = b * D;
            System.arraycopy(state, so + D, state, so, (K - 1) * D);
            System.arraycopy(x, b * D, state, so + (K - 1) * D, D);
            for (int i = 0; i < D; i += L) {
                VectorMask<Float> m = SP.indexInRange(i, D);
                FloatVector acc = bias != null ? FloatVector.fromArray(SP, bias.data, i, m) : FloatVector.zero(SP);
                for (int j = 0; j < K; j++)
                    acc = FloatVector.fromArray(SP, wT, j * D + i, m).fma(FloatVector.fromArray(SP, state, so + j * D + i, m), acc);
                acc.intoArray(y, yo + i, m);                                         // spec §2.4
            }
        }
    }

    /** Scalar twin of {@link #step}. */
    public void stepScalar(float[] x, float[] y, int B, float[] state) {
        Objects.requireNonNull(state, "conv step needs a state buffer");
        final int D = channels, K = kernelSize;
        float[] w = weight.data;
        for (int b = 0; b < B; b++) {
            int so = b * K * D, yo = b * D;
            System.arraycopy(state, so + D, state, so, (K - 1) * D);
            System.arraycopy(x, b * D, state, so + (K - 1) * D, D);
            for (int d = 0; d < D; d++) {
                float acc = bias != null ? bias.data[d] : 0f;
                for (int j = 0; j < K; j++) acc += w[d * K + j] * state[so + j * D + d]; // spec §2.4
                y[yo + d] = acc;
            }
        }
    }
}
