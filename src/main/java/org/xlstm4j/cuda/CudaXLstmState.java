package org.xlstm4j.cuda;

import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlockState;
import org.xlstm4j.blocks.SLstmBlockState;

import java.util.Map;

/**
 * The recurrent state of one paper-architecture block on the GPU ({@link CudaXLstmOps}): the device copy (mLSTM C, n,
 * m or sLSTM h, c, n, m, plus the conv buffer; fp32) is the live one, and a host copy of the CPU block state's type is
 * made only when asked for. {@link #tensors()} brings the state to the host and assumes the caller may change those
 * arrays, so the next use on the device uploads them again. Same tensor names as the CPU states, so state files
 * move between CPU and GPU.
 */
public final class CudaXLstmState implements BlockState {
    final CudaXLstmOps ops;
    /** The host copy: an {@link MLstmBlockState} or {@link SLstmBlockState}. */
    private final BlockState host;
    final DeviceMLstmState mlstm;       // null for an sLSTM block
    final CudaSLstm.State slstm;        // null for an mLSTM block
    final DeviceBuffer conv;
    private boolean hostStale, deviceStale;

    CudaXLstmState(CudaXLstmOps ops, BlockState host, DeviceMLstmState mlstm, CudaSLstm.State slstm, DeviceBuffer conv) {
        this.ops = ops;
        this.host = host;
        this.mlstm = mlstm;
        this.slstm = slstm;
        this.conv = conv;
        conv.zero();
    }

    /** Before the device reads or writes the state: upload what the host may have changed. */
    void beforeDeviceUse() {
        if (deviceStale) {
            transfer(true);
            deviceStale = false;
        }
        hostStale = true;
    }

    /** Copies the host state to the device ({@code toDevice}) or back, after the queued work is done. */
    private void transfer(boolean toDevice) {
        ops.synchronize();
        float[] hostConv;
        if (host instanceof MLstmBlockState m) {
            if (toDevice) mlstm.upload(m.cell); else mlstm.download(m.cell);
            hostConv = m.conv;
        } else {
            SLstmBlockState s = (SLstmBlockState) host;
            if (toDevice) slstm.upload(s.cell); else slstm.download(s.cell);
            hostConv = s.conv;
        }
        if (hostConv.length > 0) {
            if (toDevice) conv.copyFrom(hostConv); else conv.copyTo(hostConv);
        }
        // the blocking copies and memsets run on the NULL stream, which the compute stream (non-blocking) does not wait
        // for, and a copy from pageable memory may return before its DMA is done: wait for them here
        if (toDevice) ops.deviceSynchronize();
    }

    @Override public int batch() { return host.batch(); }

    @Override public void reset() {
        ops.synchronize();
        if (mlstm != null) mlstm.reset();
        else { slstm.h.zero(); slstm.c.zero(); slstm.n.zero(); slstm.m.zero(); }
        conv.zero();
        ops.deviceSynchronize();                  // (see transfer)
        host.reset();
        hostStale = false;
        deviceStale = false;
    }

    @Override public void copyFrom(BlockState other) {
        BlockState.copyTensors(other, this);
    }

    @Override public Map<String, float[]> tensors() {
        if (hostStale && !deviceStale) transfer(false);
        hostStale = false;
        deviceStale = true;                       // the caller may write into the arrays
        return host.tensors();
    }

    void close() {
        if (mlstm != null) mlstm.close();
        if (slstm != null) slstm.close();
        conv.close();
    }
}
