package org.xlstm4j.io;

import org.xlstm4j.tensor.HugePages;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import static org.xlstm4j.io.SafetensorsException.quote;
import static org.xlstm4j.io.SafetensorsHeader.invalid;

/**
 * A memory-mapped safetensors file: an 8-byte little-endian header length N, N bytes of JSON header, then the raw
 * little-endian tensor data. Opening maps the file and validates the whole header (see {@link SafetensorsHeader} for
 * the rules); tensor data is never copied onto the heap unless asked for with {@link #floats} or {@link #longs}, so a
 * multi-gigabyte checkpoint opens instantly. Every problem is reported as a {@link SafetensorsException} whose one-line
 * message names the file.
 * <p>
 * The mapping stays valid until {@link #close()}; segments obtained from {@link #segment} must not be used after it.
 * Instances are safe to read from several threads.
 */
public final class SafetensorsFile implements TensorSource {
    /** Headers larger than this are rejected before anything is allocated (the official limit: 100,000,000 bytes). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, SafetensorsHeader header) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.header = header;
    }

    /** Maps and validates a file; throws {@link SafetensorsException} with a one-line message on any problem. */
    public static SafetensorsFile open(Path path) {
        if (Files.isDirectory(path)) throw new SafetensorsException(path + ": is a folder, not a safetensors file");
        Arena arena = Arena.ofShared();
        try {
            MemorySegment whole;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size == 0) throw invalid(path, "empty file");
                if (size < 8) throw invalid(path, "file of " + size + " bytes is shorter than the 8-byte header length");
                whole = HugePages.asPlainNative(ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena), arena);
                HugePages.advise(whole);   // 2 MiB pages where the kernel can (decoding speed)
            }
            long size = whole.byteSize();
            long headerLength = whole.get(LittleEndian.I64, 0); // unsigned in the format: a negative value is beyond any limit
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES)
                throw invalid(path, "header length " + Long.toUnsignedString(headerLength) + " exceeds the limit of "
                        + MAX_HEADER_BYTES + " bytes");
            if (headerLength > size - 8)
                throw invalid(path, "header length " + headerLength + " runs beyond the end of the file (" + size + " bytes)");
            if (headerLength < 2) throw invalid(path, "header length " + headerLength + " is too short for a JSON object");
            byte[] json = whole.asSlice(8, headerLength).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment data = whole.asSlice(8 + headerLength);
            SafetensorsHeader header = SafetensorsHeader.parse(path, json, data.byteSize());
            return new SafetensorsFile(path, arena, data, header);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new SafetensorsException(path + ": no such file");
        } catch (AccessDeniedException e) {
            arena.close();
            throw new SafetensorsException(path + ": permission denied");
        } catch (IOException e) {
            arena.close();
            throw new SafetensorsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** The file this was opened from. */
    @Override public Path path() { return path; }

    /** The {@code __metadata__} string map (empty when absent), in header order. */
    @Override public Map<String, String> metadata() { return header.metadata; }

    /** Tensor names in header order. */
    @Override public List<String> names() { return List.copyOf(header.tensors.keySet()); }

    @Override public boolean contains(String name) { return header.tensors.containsKey(name); }

    @Override public TensorInfo info(String name) {
        TensorInfo t = header.tensors.get(name);
        if (t == null) throw new SafetensorsException(path + ": no tensor named " + quote(name));
        return t;
    }

    /** Size of the data section in bytes (the sum of all tensors' sizes). */
    public long dataBytes() { return data.byteSize(); }

    /** The raw little-endian bytes of one tensor, memory-mapped (valid until {@link #close()}). */
    @Override public MemorySegment segment(String name) {
        TensorInfo t = info(name);
        if (!arena.scope().isAlive()) throw new SafetensorsException(path + ": already closed");
        return data.asSlice(t.begin(), t.byteSize());
    }

    /** Unmaps the file. */
    @Override public synchronized void close() {
        if (arena.scope().isAlive()) arena.close();
    }

    @Override public String toString() { return "SafetensorsFile[" + path + ", " + header.tensors.size() + " tensors]"; }
}
