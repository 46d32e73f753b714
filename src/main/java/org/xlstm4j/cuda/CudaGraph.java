package org.xlstm4j.cuda;

import java.lang.foreign.MemorySegment;

/**
 * A CUDA graph captured from a stream and instantiated: replaying it launches the captured kernels and copies again,
 * with the same arguments, at the cost of one launch (for per-token decoding).
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaDriver drv;
    private MemorySegment graph, exec;

    private CudaGraph(CudaDriver drv, MemorySegment graph, MemorySegment exec) {
        this.drv = drv;
        this.graph = graph;
        this.exec = exec;
    }

    /**
     * Captures what {@code work} queues on {@code stream} (nothing runs during the capture) and instantiates it.
     * If {@code work} throws, the capture is ended and the partial graph discarded before the exception propagates.
     */
    public static CudaGraph capture(CudaDevice device, CudaStream stream, Runnable work) {
        CudaDriver drv = device.driver();
        drv.streamBeginCapture(stream.handle(), CudaDriver.CAPTURE_MODE_THREAD_LOCAL);
        MemorySegment graph;
        try {
            work.run();
        } catch (RuntimeException | Error e) {
            try {
                MemorySegment g = drv.streamEndCapture(stream.handle());
                if (!g.equals(MemorySegment.NULL)) drv.graphDestroy(g);
            } catch (CudaException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        graph = drv.streamEndCapture(stream.handle());
        try {
            return new CudaGraph(drv, graph, drv.graphInstantiate(graph));
        } catch (CudaException e) {
            drv.graphDestroy(graph);
            throw e;
        }
    }

    /** Replays the graph on {@code stream}. */
    public void launch(CudaStream stream) {
        if (exec == null) throw new IllegalStateException("CudaGraph is closed");
        drv.graphLaunch(exec, stream.handle());
    }

    @Override public void close() {
        if (exec == null) return;
        MemorySegment e = exec, g = graph;
        exec = null;
        graph = null;
        drv.graphExecDestroy(e);
        drv.graphDestroy(g);
    }
}
