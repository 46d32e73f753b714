package org.xlstm4j.cells;

import java.util.Arrays;

/**
 * Recurrent state of one mLSTM layer (spec §3.2), NeurIPS convention: keys enter the state already scaled by
 * 1/sqrt(DHQK), so {@code c} holds Σ w·k̂·vᵀ stored as (DHQK × DHV) and {@code n} holds Σ w·k̂, both multiplied by
 * exp(−m) (the stabilizer). Zeros with m = 0 is the official initial state.
 *
 * <p>Layouts (row-major): {@code c [B, NH, DHQK, DHV]}, {@code n [B, NH, DHQK]}, {@code m [B, NH]}.
 */
public final class MLstmState {
    public final int B, NH, DHQK, DHV;
    /** Matrix memory, [B, NH, DHQK, DHV]. */
    public final float[] c;
    /** Normalizer, [B, NH, DHQK]. */
    public final float[] n;
    /** Log-space stabilizer, [B, NH]. */
    public final float[] m;

    private MLstmState(int B, int NH, int DHQK, int DHV) {
        if (B < 1 || NH < 1 || DHQK < 1 || DHV < 1)
            throw new IllegalArgumentException("MLstmState: bad shape B=" + B + " NH=" + NH + " DHQK=" + DHQK + " DHV=" + DHV);
        this.B = B;
        this.NH = NH;
        this.DHQK = DHQK;
        this.DHV = DHV;
        this.c = new float[Math.multiplyExact(Math.multiplyExact(B * NH, DHQK), DHV)];
        this.n = new float[B * NH * DHQK];
        this.m = new float[B * NH];
    }

    /** The official initial state: C = 0, n = 0, m = 0. */
    public static MLstmState zeros(int B, int NH, int DHQK, int DHV) {
        return new MLstmState(B, NH, DHQK, DHV);
    }

    /** A deep copy. */
    public MLstmState copy() {
        MLstmState s = new MLstmState(B, NH, DHQK, DHV);
        s.copyFrom(this);
        return s;
    }

    /** Overwrites this state with {@code other} (same shape required). */
    public void copyFrom(MLstmState other) {
        if (!sameShape(other.B, other.NH, other.DHQK, other.DHV))
            throw new IllegalArgumentException("MLstmState.copyFrom: shape " + other.shapeString() + " != " + shapeString());
        System.arraycopy(other.c, 0, c, 0, c.length);
        System.arraycopy(other.n, 0, n, 0, n.length);
        System.arraycopy(other.m, 0, m, 0, m.length);
    }

    /** Back to the initial state (all zeros, m = 0). */
    public void reset() {
        Arrays.fill(c, 0f);
        Arrays.fill(n, 0f);
        Arrays.fill(m, 0f);
    }

    /** Whether this state has the given shape. */
    public boolean sameShape(int B, int NH, int DHQK, int DHV) {
        return this.B == B && this.NH == NH && this.DHQK == DHQK && this.DHV == DHV;
    }

    String shapeString() {
        return "[B=" + B + ", NH=" + NH + ", DHQK=" + DHQK + ", DHV=" + DHV + "]";
    }

    @Override public String toString() { return "MLstmState" + shapeString(); }
}
