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
    private final CudaXLstmOps ops;
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
            ops.synchronize();
            if (host instanceof MLstmBlockState m) {
                mlstm.upload(m.cell);
                upload(m.conv);
            } else {
                SLstmBlockState s = (SLstmBlockState) host;
                slstm.upload(s.cell);
                upload(s.conv);
            }
            deviceStale = false;
        }
        hostStale = true;
    }

    private void upload(float[] a) {
        if (a.length > 0) conv.copyFrom(a);
    }

    private void download(float[] a) {
        if (a.length > 0) conv.copyTo(a);
    }

    @Override public int batch() { return host.batch(); }

    @Override public void reset() {
        ops.synchronize();
        if (mlstm != null) mlstm.reset();
        else { slstm.h.zero(); slstm.c.zero(); slstm.n.zero(); slstm.m.zero(); }
        conv.zero();
        host.reset();
        hostStale = false;
        deviceStale = false;
    }

    @Override public void copyFrom(BlockState other) {
        Map<String, float[]> o = other.tensors(), mine = tensors();
        for (Map.Entry<String, float[]> e : mine.entrySet()) {
            float[] src = o.get(e.getKey());
            if (src == null || src.length != e.getValue().length)
                throw new IllegalArgumentException("copyFrom: state shapes differ at '" + e.getKey() + "'");
            System.arraycopy(src, 0, e.getValue(), 0, src.length);
        }
    }

    @Override public Map<String, float[]> tensors() {
        if (hostStale && !deviceStale) {
            ops.synchronize();
            if (host instanceof MLstmBlockState m) {
                mlstm.download(m.cell);
                download(m.conv);
            } else {
                SLstmBlockState s = (SLstmBlockState) host;
                slstm.download(s.cell);
                download(s.conv);
            }
        }
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
