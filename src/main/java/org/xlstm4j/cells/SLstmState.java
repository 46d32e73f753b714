package org.xlstm4j.cells;

import java.util.Arrays;

/**
 * Recurrent state of one sLSTM layer (spec §2.1): hidden h, cell c, normalizer n and log-space stabilizer m, each
 * [B, E] row-major with E = NH·DH (head-major within a row). c and n are the true cell and normalizer scaled by
 * exp(−m). All zeros is the official initial state.
 *
 * <p>The official code keeps the four tensors stacked as one (4, B, E) tensor in the order [h, c, n, m]
 * ({@link #toOfficial()}, {@link #fromOfficial(float[])}).
 */
public final class SLstmState {
    public final int B, E;
    /** Hidden state (the cell output of the last step), [B, E]. */
    public final float[] h;
    /** Stabilized cell state, [B, E]. */
    public final float[] c;
    /** Stabilized normalizer, [B, E]. */
    public final float[] n;
    /** Log-space stabilizer, [B, E]. */
    public final float[] m;

    private SLstmState(int B, int E) {
        if (B < 1 || E < 1) throw new IllegalArgumentException("SLstmState: bad shape B=" + B + " E=" + E);
        this.B = B;
        this.E = E;
        int size = Math.multiplyExact(B, E);
        this.h = new float[size];
        this.c = new float[size];
        this.n = new float[size];
        this.m = new float[size];
    }

    /** The official initial state: h = c = n = m = 0. */
    public static SLstmState zeros(int B, int E) {
        return new SLstmState(B, E);
    }

    /** A deep copy. */
    public SLstmState copy() {
        SLstmState s = new SLstmState(B, E);
        s.copyFrom(this);
        return s;
    }

    /** Overwrites this state with {@code other} (same shape required). */
    public void copyFrom(SLstmState other) {
        if (other.B != B || other.E != E)
            throw new IllegalArgumentException("SLstmState.copyFrom: shape " + other + " != " + this);
        System.arraycopy(other.h, 0, h, 0, h.length);
        System.arraycopy(other.c, 0, c, 0, c.length);
        System.arraycopy(other.n, 0, n, 0, n.length);
        System.arraycopy(other.m, 0, m, 0, m.length);
    }

    /** Back to the initial state (all zeros). */
    public void reset() {
        Arrays.fill(h, 0f);
        Arrays.fill(c, 0f);
        Arrays.fill(n, 0f);
        Arrays.fill(m, 0f);
    }

    /** The official stacked layout: a new (4, B, E) array holding [h, c, n, m]. */
    public float[] toOfficial() {
        int size = B * E;
        float[] stacked = new float[4 * size];
        System.arraycopy(h, 0, stacked, 0, size);
        System.arraycopy(c, 0, stacked, size, size);
        System.arraycopy(n, 0, stacked, 2 * size, size);
        System.arraycopy(m, 0, stacked, 3 * size, size);
        return stacked;
    }

    /** Loads this state from the official stacked (4, B, E) layout [h, c, n, m]; returns {@code this}. */
    public SLstmState fromOfficial(float[] stacked) {
        int size = B * E;
        if (stacked.length != 4 * size)
            throw new IllegalArgumentException("SLstmState.fromOfficial: expected (4, " + B + ", " + E + ") = "
                    + 4 * size + " values, got " + stacked.length);
        System.arraycopy(stacked, 0, h, 0, size);
        System.arraycopy(stacked, size, c, 0, size);
        System.arraycopy(stacked, 2 * size, n, 0, size);
        System.arraycopy(stacked, 3 * size, m, 0, size);
        return this;
    }

    @Override public String toString() { return "SLstmState[B=" + B + ", E=" + E + "]"; }
}
