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

    @Override public synchronized void close() {
        if (module == null) return;
        MemorySegment m = module;
        module = null;
        kernels.clear();
        drv.moduleUnload(m);
    }
}
