package org.xlstm4j.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A simple caching allocator of plain device memory (cuMemAlloc_v2): sizes are rounded up (to 512 bytes below
 * 1 MiB, to 2 MiB above), and a closed {@link DeviceBuffer} goes to the free list of its rounded size, from which the
 * next request of that size is served without a driver call. When cuMemAlloc runs out of memory, the cached blocks
 * are freed and the allocation is tried once more. Thread-safe. Buffers handed back must no longer be used by queued
 * GPU work on another stream (work on one stream is ordered, so reuse on the same stream is safe).
 */
public final class CachingAllocator implements AutoCloseable {
    static final long SMALL = 1L << 20, SMALL_ROUND = 512, LARGE_ROUND = 2L << 20;
    /** CUDA_ERROR_OUT_OF_MEMORY. */
    private static final int OUT_OF_MEMORY = 2;

    private final CudaDriver drv;
    private final Map<Long, ArrayDeque<Long>> free = new HashMap<>();
    private long cachedBytes, liveBytes, allocations, reuses;

    CachingAllocator(CudaDriver drv) {
        this.drv = drv;
    }

    /** The allocation size of a request of {@code bytes}. */
    static long roundedSize(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("CachingAllocator: negative size " + bytes);
        long r = bytes < SMALL ? SMALL_ROUND : LARGE_ROUND;
        return Math.max(r, (bytes + r - 1) / r * r);
    }

    /** A buffer of at least {@code bytes} (contents undefined). */
    public synchronized DeviceBuffer allocate(long bytes) {
        long size = roundedSize(bytes);
        ArrayDeque<Long> list = free.get(size);
        if (list != null && !list.isEmpty()) {
            long a = list.pop();
            cachedBytes -= size;
            liveBytes += size;
            reuses++;
            return new DeviceBuffer(this, drv, a, bytes, size);
        }
        long a;
        try {
            a = drv.memAlloc(size);
        } catch (CudaException e) {
            if (e.code != OUT_OF_MEMORY || cachedBytes == 0) throw e;
            releaseCached();
            a = drv.memAlloc(size);
        }
        liveBytes += size;
        allocations++;
        return new DeviceBuffer(this, drv, a, bytes, size);
    }

    synchronized void release(long address, long size) {
        free.computeIfAbsent(size, s -> new ArrayDeque<>()).push(address);
        liveBytes -= size;
        cachedBytes += size;
    }

    /** Frees every cached (unused) block. */
    public synchronized void releaseCached() {
        for (ArrayDeque<Long> list : free.values())
            while (!list.isEmpty()) drv.memFree(list.pop());
        free.clear();
        cachedBytes = 0;
    }

    /** Bytes held in buffers handed out and not yet closed. */
    public synchronized long liveBytes() {
        return liveBytes;
    }

    /** Bytes held in the free lists. */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }

    /** How many requests were served from the free lists. */
    public synchronized long reuses() {
        return reuses;
    }

    /** How many cuMemAlloc calls were made. */
    public synchronized long allocations() {
        return allocations;
    }

    /** Frees the cached blocks (buffers still handed out stay valid until closed, then go to the free lists). */
    @Override public void close() {
        releaseCached();
    }
}
