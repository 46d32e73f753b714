package org.xlstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A native host staging buffer that grows by doubling and frees what it outgrew (each size in its own arena), so a
 * backend that sees many input sizes keeps at most one buffer of the largest. Callers must be done with the old
 * segment (its copies finished) before asking for more.
 */
final class HostBuffer implements AutoCloseable {
    private Arena arena;
    private MemorySegment segment = MemorySegment.NULL;

    /** A segment of at least {@code bytes} bytes (the current one when large enough; contents undefined after growth). */
    MemorySegment atLeast(long bytes) {
        if (segment.byteSize() >= bytes) return segment;
        long size = Math.max(Math.max(64, bytes), 2 * segment.byteSize());
        Arena next = Arena.ofShared();
        MemorySegment s = next.allocate(size, 64);
        if (arena != null) arena.close();
        arena = next;
        segment = s;
        return s;
    }

    @Override public void close() {
        if (arena != null) arena.close();
        arena = null;
        segment = MemorySegment.NULL;
    }
}
