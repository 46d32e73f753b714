package org.xlstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A kernel function of a loaded module, launched with cuLaunchKernel. Arguments are given in the kernel's parameter
 * order as {@link DeviceBuffer} (its address), {@code null} (a null pointer), {@link Long} (a 64-bit value or raw
 * device pointer), {@link Integer} (int) or {@link Float} (float).
 */
public final class CudaKernel {
    private final CudaDriver drv;
    private final MemorySegment function;
    public final String name;

    CudaKernel(CudaDriver drv, MemorySegment function, String name) {
        this.drv = drv;
        this.function = function;
        this.name = name;
    }

    /** Allows up to {@code bytes} of dynamic shared memory per block (above the default 48 KiB needs this). */
    public void setMaxDynamicSharedMemory(int bytes) {
        drv.funcSetAttribute(function, CudaDriver.FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes);
    }

    /** Queues the kernel on {@code stream} with a (gx, gy, gz) grid of (bx, by, bz) blocks. */
    public void launch(CudaStream stream, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes, Object... args) {
        if (gx < 1 || gy < 1 || gz < 1 || bx < 1 || by < 1 || bz < 1)
            throw new IllegalArgumentException(name + ": empty launch grid (" + gx + ", " + gy + ", " + gz + ") block ("
                    + bx + ", " + by + ", " + bz + ")");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment params = a.allocate(ADDRESS, Math.max(1, args.length));
            for (int i = 0; i < args.length; i++) {
                Object arg = args[i];
                MemorySegment slot;
                switch (arg) {
                    case null -> { slot = a.allocate(JAVA_LONG); slot.set(JAVA_LONG, 0, 0L); }
                    case DeviceBuffer b -> { slot = a.allocate(JAVA_LONG); slot.set(JAVA_LONG, 0, b.address()); }
                    case Long l -> { slot = a.allocate(JAVA_LONG); slot.set(JAVA_LONG, 0, l); }
                    case Integer n -> { slot = a.allocate(JAVA_INT); slot.set(JAVA_INT, 0, n); }
                    case Float f -> { slot = a.allocate(JAVA_FLOAT); slot.set(JAVA_FLOAT, 0, f); }
                    default -> throw new IllegalArgumentException(name + ": argument " + i + " has unsupported type "
                            + arg.getClass().getSimpleName());
                }
                params.setAtIndex(ADDRESS, i, slot);
            }
            drv.launchKernel(function, gx, gy, gz, bx, by, bz, sharedBytes, stream.handle(), params, name);
        }
    }
}
