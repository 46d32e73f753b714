package org.xlstm4j.cuda;

import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.cells.MLstmState;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The recurrent state of one xLSTM-Large block on the GPU ({@link CudaLargeOps}): the device state (C, n, m, fp32) is
 * the live one; a host copy is made only when asked for. {@link #tensors()} (saving, loading, copying) brings the
 * state to the host and assumes the caller may then change those arrays, so the next use on the device uploads them
 * again. Same tensor names as {@link org.xlstm4j.blocks.MLstmBlockState}, so state files move between CPU and GPU.
 */
public final class CudaLargeState implements BlockState {
    private final CudaLargeOps ops;
    final DeviceMLstmState dev;
    private MLstmState host;
    /** The device holds a newer state than {@link #host}. */
    private boolean hostStale;
    /** {@link #host} may hold a newer state than the device (it was handed out). */
    private boolean deviceStale;
    /** Graph bookkeeping (see CudaLargeOps#decodeStep): the n and m buffers the captured step reads. */
    DeviceBuffer capturedN, capturedM;
    /** After a graph replay both n/m copies hold the state, so the next replay needs no re-sync. */
    boolean graphFresh;

    CudaLargeState(CudaLargeOps ops, DeviceMLstmState dev) {
        this.ops = ops;
        this.dev = dev;
    }

    /** Before the device reads or writes the state: upload what the host may have changed. */
    void beforeDeviceUse() {
        if (deviceStale) {
            dev.upload(host);
            // the blocking copies run on the NULL stream, which the compute stream (non-blocking) does not wait for,
            // and a copy from pageable memory may return before its DMA is done
            ops.deviceSynchronize();
            deviceStale = false;
            graphFresh = false;
        }
        hostStale = true;
    }

    boolean deviceStale() { return deviceStale; }

    @Override public int batch() { return dev.B; }

    @Override public void reset() {
        ops.synchronize();
        dev.reset();
        ops.deviceSynchronize();                  // (the memsets: see beforeDeviceUse)
        if (host != null) host.reset();
        hostStale = false;
        deviceStale = false;
        graphFresh = false;
    }

    @Override public void copyFrom(BlockState other) {
        BlockState.copyTensors(other, this);
    }

    @Override public Map<String, float[]> tensors() {
        if (host == null) {
            host = MLstmState.zeros(dev.B, dev.NH, dev.DK, dev.DV);
            hostStale = true;
        }
        if (hostStale && !deviceStale) {
            ops.synchronize();
            dev.download(host);
        }
        hostStale = false;
        deviceStale = true;                       // the caller may write into the arrays
        Map<String, float[]> m = new LinkedHashMap<>();
        m.put("mlstm.C", host.c);
        m.put("mlstm.n", host.n);
        m.put("mlstm.m", host.m);
        m.put("conv", new float[0]);
        return m;
    }

    void close() {
        dev.close();
    }
}
