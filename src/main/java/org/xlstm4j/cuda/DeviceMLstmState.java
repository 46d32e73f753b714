package org.xlstm4j.cuda;

import org.xlstm4j.cells.MLstmState;

/**
 * The recurrent state of an mLSTM layer on the device, same convention and layouts as {@link MLstmState} (fp32):
 * {@code c [B, NH, DK, DV]}, {@code n [B, NH, DK]}, {@code m [B, NH]}. n and m are double-buffered so that the step
 * kernel reads one copy and writes the other ({@link #n()} / {@link #m()} are the current ones).
 */
public final class DeviceMLstmState implements AutoCloseable {
    public final int B, NH, DK, DV;
    private final DeviceBuffer c;
    private final DeviceBuffer[] n = new DeviceBuffer[2], m = new DeviceBuffer[2];
    private int current;

    /** A zero state (C = 0, n = 0, m = 0) on {@code device}. */
    public DeviceMLstmState(CudaDevice device, int B, int NH, int DK, int DV) {
        if (B < 1 || NH < 1 || DK < 1 || DV < 1)
            throw new IllegalArgumentException("DeviceMLstmState: bad shape B=" + B + " NH=" + NH + " DK=" + DK + " DV=" + DV);
        this.B = B;
        this.NH = NH;
        this.DK = DK;
        this.DV = DV;
        long bh = (long) B * NH;
        c = device.allocate(bh * DK * DV * 4);
        for (int i = 0; i < 2; i++) {
            n[i] = device.allocate(bh * DK * 4);
            m[i] = device.allocate(bh * 4);
        }
        reset();
    }

    public DeviceBuffer c() { return c; }
    public DeviceBuffer n() { return n[current]; }
    public DeviceBuffer m() { return m[current]; }
    DeviceBuffer nOther() { return n[1 - current]; }
    DeviceBuffer mOther() { return m[1 - current]; }

    /** After a step wrote the other n and m buffers: they become the current ones. */
    void flip() {
        current = 1 - current;
    }

    /** Back to zeros (synchronous). */
    public void reset() {
        c.zero();
        for (int i = 0; i < 2; i++) { n[i].zero(); m[i].zero(); }
    }

    public boolean sameShape(MLstmState s) {
        return s.sameShape(B, NH, DK, DV);
    }

    /** Copies a host state to the device (synchronous). */
    public void upload(MLstmState s) {
        if (!sameShape(s)) throw new IllegalArgumentException("DeviceMLstmState.upload: shape mismatch " + s + " vs " + this);
        c.copyFrom(s.c);
        n().copyFrom(s.n);
        m().copyFrom(s.m);
    }

    /** Copies this state into a host state (synchronous; queued work on other streams must be done). */
    public void download(MLstmState s) {
        if (!sameShape(s)) throw new IllegalArgumentException("DeviceMLstmState.download: shape mismatch " + s + " vs " + this);
        c.copyTo(s.c);
        n().copyTo(s.n);
        m().copyTo(s.m);
    }

    @Override public void close() {
        c.close();
        for (int i = 0; i < 2; i++) { n[i].close(); m[i].close(); }
    }

    @Override public String toString() {
        return "DeviceMLstmState[B=" + B + ", NH=" + NH + ", DK=" + DK + ", DV=" + DV + "]";
    }
}
