package org.xlstm4j.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA stream (non-blocking with respect to the legacy default stream); work on it runs in order. */
public final class CudaStream implements AutoCloseable {
    private final CudaDriver drv;
    private MemorySegment handle;

    CudaStream(CudaDriver drv) {
        this.drv = drv;
        this.handle = drv.streamCreate(CudaDriver.STREAM_NON_BLOCKING);
    }

    /** The CUstream handle. */
    public MemorySegment handle() {
        if (handle == null) throw new IllegalStateException("CudaStream is closed");
        return handle;
    }

    /** Waits until all work queued on this stream is done (errors of that work surface here). */
    public void synchronize() {
        drv.streamSynchronize(handle());
    }

    @Override public void close() {
        if (handle == null) return;
        MemorySegment h = handle;
        handle = null;
        drv.streamDestroy(h);
    }
}
