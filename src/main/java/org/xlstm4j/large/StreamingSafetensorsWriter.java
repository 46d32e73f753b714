package org.xlstm4j.large;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.xlstm4j.io.AtomicFiles;
import org.xlstm4j.io.BFloat16;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file (8-byte little-endian header length, JSON header padded with spaces to a multiple of 8,
 * then the tensors' bytes back to back) whose float tensors are <em>generated</em> while writing: each tensor is a
 * {@link Values} callback asked for one chunk of values at a time, converted to F32, BF16 or F16 and streamed out. A
 * multi-gigabyte checkpoint is written with one chunk of memory (unlike {@code SafetensorsWriter}, which references
 * whole arrays). Tensors are laid out in the order they were added. The file appears atomically.
 */
public final class StreamingSafetensorsWriter {
    /** Produces values [start, start + n) of a tensor (row-major) into {@code out[0 .. n)}. */
    @FunctionalInterface
    public interface Values {
        void fill(long start, float[] out, int n);
    }

    /** Elements per chunk (4 MiB of float32). */
    static final int CHUNK = 1 << 20;

    private record Entry(String name, DType dtype, long[] shape, long numel, Values values) {}

    private final List<Entry> entries = new ArrayList<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public StreamingSafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Adds a float tensor stored as F32, BF16 or F16 (rounded to nearest even). */
    public StreamingSafetensorsWriter add(String name, DType dtype, long[] shape, Values values) {
        if (dtype != DType.F32 && dtype != DType.BF16 && dtype != DType.F16)
            throw new IllegalArgumentException("tensor '" + name + "': cannot generate " + dtype);
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        for (Entry e : entries) if (e.name.equals(name)) throw new IllegalArgumentException("tensor '" + name + "' added twice");
        entries.add(new Entry(name, dtype, shape.clone(), n, values));
        return this;
    }

    /** Total size of the tensors' data in bytes. */
    public long dataBytes() {
        long n = 0;
        for (Entry e : entries) n += e.numel * e.dtype.byteSize;
        return n;
    }

    /** Writes the file atomically; a {@link SafetensorsException} names it when that fails. */
    public void write(Path file) {
        try {
            AtomicFiles.write(file, this::writeTo);
        } catch (IOException e) {
            throw new SafetensorsException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    private void writeTo(WritableByteChannel out) throws IOException {
        byte[] header = header();
        ByteBuffer buf = ByteBuffer.allocate(Math.max(8, CHUNK * 4)).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(header.length).flip();
        writeFully(out, buf);
        writeFully(out, ByteBuffer.wrap(header));
        float[] chunk = new float[CHUNK];
        for (Entry e : entries) {
            for (long start = 0; start < e.numel; start += CHUNK) {
                int n = (int) Math.min(CHUNK, e.numel - start);
                e.values.fill(start, chunk, n);
                buf.clear();
                switch (e.dtype) {
                    case F32 -> { for (int i = 0; i < n; i++) buf.putFloat(chunk[i]); }
                    case BF16 -> { for (int i = 0; i < n; i++) buf.putShort(BFloat16.fromFloat(chunk[i])); }
                    default -> { for (int i = 0; i < n; i++) buf.putShort(Float.floatToFloat16(chunk[i])); }
                }
                buf.flip();
                writeFully(out, buf);
            }
        }
    }

    /** {"__metadata__": {...}, name: {"dtype", "shape", "data_offsets": [begin, end]}, ...}, space-padded to 8 bytes. */
    private byte[] header() throws IOException {
        Map<String, Object> h = new LinkedHashMap<>();
        if (!metadata.isEmpty()) h.put("__metadata__", metadata);
        long offset = 0;
        for (Entry e : entries) {
            long end = offset + e.numel * e.dtype.byteSize;
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("dtype", e.dtype.name());
            t.put("shape", e.shape);
            t.put("data_offsets", new long[]{offset, end});
            h.put(e.name, t);
            offset = end;
        }
        byte[] json = new ObjectMapper().writeValueAsString(h).getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) / 8 * 8);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void writeFully(WritableByteChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) out.write(b);
    }
}
