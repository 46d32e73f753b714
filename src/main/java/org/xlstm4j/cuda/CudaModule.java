package org.xlstm4j.cuda;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/** A loaded module (compiled kernels): its functions by name, looked up once. */
public final class CudaModule implements AutoCloseable {
    private final CudaDriver drv;
    private MemorySegment module;
    private final String name;
    private final Map<String, CudaKernel> kernels = new HashMap<>();

    CudaModule(CudaDriver drv, byte[] image, String name) {
        this.drv = drv;
        this.name = name;
        this.module = drv.moduleLoadData(image, name);
    }

    /** The kernel {@code function} (an {@code extern "C"} name). */
    public synchronized CudaKernel kernel(String function) {
        if (module == null) throw new IllegalStateException("CudaModule " + name + " is closed");
        return kernels.computeIfAbsent(function, f -> new CudaKernel(drv, drv.moduleGetFunction(module, f), name + ":" + f));
    }

    /**
     * Launches a grid-stride kernel over {@code n} elements on {@code stream}: 256-thread blocks, at most 2²⁰ of them
     * (nothing for n ≤ 0).
     */
    public void launch1d(String function, CudaStream stream, long n, Object... args) {
        if (n <= 0) return;
        int grid = (int) Math.min((n + 255) / 256, 1L << 20);
        kernel(function).launch(stream, grid, 1, 1, 256, 1, 1, 0, args);
    }

    @Override public synchronized void close() {
        if (module == null) return;
        MemorySegment m = module;
        module = null;
        kernels.clear();
        drv.moduleUnload(m);
    }
}
