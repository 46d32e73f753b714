package org.xlstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A block of plain device memory (cuMemAlloc, never managed memory): its address and size. Closing it gives it back
 * to the {@link CachingAllocator} it came from (which may hand it out again). Host copies are synchronous and go
 * through a native staging buffer.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CachingAllocator owner;
    private final CudaDriver drv;
    private long address;
    /** Bytes asked for. */
    public final long bytes;
    /** Bytes actually allocated (the allocator's rounded size). */
    final long capacity;

    DeviceBuffer(CachingAllocator owner, CudaDriver drv, long address, long bytes, long capacity) {
        this.owner = owner;
        this.drv = drv;
        this.address = address;
        this.bytes = bytes;
        this.capacity = capacity;
    }

    /** The CUdeviceptr. */
    public long address() {
        if (address == 0) throw new IllegalStateException("DeviceBuffer is closed");
        return address;
    }

    /** Copies {@code src} to the start of this buffer (float32). */
    public void copyFrom(float[] src) {
        long n = (long) src.length * 4;
        checkFits(n);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(n, 16);
            MemorySegment.copy(src, 0, staging, JAVA_FLOAT, 0, src.length);
            drv.memcpyHtoD(address(), staging, n);
        }
    }

    /** Copies the start of this buffer into {@code dst} (float32). */
    public void copyTo(float[] dst) {
        long n = (long) dst.length * 4;
        checkFits(n);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(n, 16);
            drv.memcpyDtoH(staging, address(), n);
            MemorySegment.copy(staging, JAVA_FLOAT, 0, dst, 0, dst.length);
        }
    }

    /** Copies {@code src} rounded to bfloat16 (round to nearest even) to the start of this buffer. */
    public void copyFromAsBf16(float[] src) {
        long n = (long) src.length * 2;
        checkFits(n);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(n, 16);
            for (int i = 0; i < src.length; i++) staging.setAtIndex(JAVA_SHORT, i, Bf16.fromFloat(src[i]));
            drv.memcpyHtoD(address(), staging, n);
        }
    }

    /** Copies the start of this buffer, read as bfloat16, into {@code dst} as float32. */
    public void copyToFromBf16(float[] dst) {
        long n = (long) dst.length * 2;
        checkFits(n);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment staging = a.allocate(n, 16);
            drv.memcpyDtoH(staging, address(), n);
            for (int i = 0; i < dst.length; i++) dst[i] = Bf16.toFloat(staging.getAtIndex(JAVA_SHORT, i));
        }
    }

    /** Sets every byte to zero (synchronous). */
    public void zero() {
        drv.memsetD8(address(), (byte) 0, bytes);
    }

    /** Sets every byte to zero on {@code stream}. */
    public void zero(CudaStream stream) {
        drv.memsetD8Async(address(), (byte) 0, bytes, stream.handle());
    }

    private void checkFits(long n) {
        if (n > bytes) throw new IllegalArgumentException("DeviceBuffer: " + n + " bytes do not fit in " + bytes);
    }

    /** Closes every buffer of {@code buffers} and empties the collection (a map's values() view empties the map). */
    static void closeAll(java.util.Collection<? extends DeviceBuffer> buffers) {
        for (DeviceBuffer b : buffers) b.close();
        buffers.clear();
    }

    /** Gives the memory back to its allocator (or frees it when it has none). */
    @Override public void close() {
        if (address == 0) return;
        long a = address;
        address = 0;
        if (owner != null) owner.release(a, capacity);
        else drv.memFree(a);
    }

    @Override public String toString() {
        return "DeviceBuffer[0x" + Long.toHexString(address) + ", " + bytes + " bytes]";
    }
}
