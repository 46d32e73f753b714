package org.xlstm4j.cuda;

import java.lang.foreign.MemorySegment;

/** A CUDA event with timing, for measuring GPU time between two points of a stream. */
public final class CudaEvent implements AutoCloseable {
    private final CudaDriver drv;
    private MemorySegment handle;

    CudaEvent(CudaDriver drv) {
        this.drv = drv;
        this.handle = drv.eventCreate(0);
    }

    /** Records this event at the current end of {@code stream}. */
    public void record(CudaStream stream) {
        drv.eventRecord(handle(), stream.handle());
    }

    /** Waits until the work before the recorded point is done. */
    public void synchronize() {
        drv.eventSynchronize(handle());
    }

    /** Milliseconds from {@code start} to this event (both recorded; waits for this one). */
    public float elapsedSince(CudaEvent start) {
        synchronize();
        return drv.eventElapsedTime(start.handle(), handle());
    }

    MemorySegment handle() {
        if (handle == null) throw new IllegalStateException("CudaEvent is closed");
        return handle;
    }

    @Override public void close() {
        if (handle == null) return;
        MemorySegment h = handle;
        handle = null;
        drv.eventDestroy(h);
    }
}
