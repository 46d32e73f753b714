package org.xlstm4j.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a safetensors file from named tensors and writes it atomically ({@link AtomicFiles}).
 * <p>
 * The output is what the official writer produces for the same tensors: tensors laid out by dtype, widest first, then
 * by name (so every tensor is aligned to its element size), {@code __metadata__} first, compact JSON, the header padded
 * with spaces to a multiple of 8 bytes. Float arrays can be stored as F32, BF16 or F16 (rounded to nearest, ties to
 * even) or F64.
 * <p>
 * Arrays are referenced, not copied: leave them unchanged until {@link #write} returns. Data is streamed to disk in
 * 1 MiB chunks, so writing needs no second copy of a model in memory.
 * <pre>{@code
 * new SafetensorsWriter().metadata("format", "pt")
 *     .putFloats("lm_head.weight", DType.BF16, w, vocab, dim)
 *     .putLongs("step", new long[]{step})
 *     .write(Path.of("model.safetensors"));
 * }</pre>
 */
public final class SafetensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    /** One tensor to write; {@code data} is a float[], double[], long[], int[], byte[] or MemorySegment. */
    private record Entry(String name, byte[] utf8Name, DType dtype, long[] shape, long byteSize, Object data) {}

    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    private final LinkedHashMap<String, String> metadata = new LinkedHashMap<>();

    /** Adds (or replaces) one {@code __metadata__} entry. */
    public SafetensorsWriter metadata(String key, String value) {
        requireText(key, "metadata key");
        requireText(value, "metadata value");
        metadata.put(key, value);
        return this;
    }

    /** Adds (or replaces) several {@code __metadata__} entries, in key order (so the file's bytes do not depend on the map's). */
    public SafetensorsWriter metadata(Map<String, String> entries) {
        new java.util.TreeMap<>(entries).forEach(this::metadata);
        return this;
    }

    /** Adds a float tensor stored as F32. */
    public SafetensorsWriter putFloats(String name, float[] data, int... shape) {
        return putFloats(name, DType.F32, data, shape);
    }

    /** Adds a float tensor stored as {@code dtype}: F32, BF16 or F16 (rounded to nearest even), or F64. */
    public SafetensorsWriter putFloats(String name, DType dtype, float[] data, int... shape) {
        if (!dtype.isFloatingPoint()) throw new IllegalArgumentException("cannot store floats of '" + name + "' as " + dtype);
        return add(name, dtype, data.length, shape, data);
    }

    /** Adds a double tensor stored as F64. */
    public SafetensorsWriter putDoubles(String name, double[] data, int... shape) {
        return add(name, DType.F64, data.length, shape, data);
    }

    /** Adds a long tensor stored as I64. */
    public SafetensorsWriter putLongs(String name, long[] data, int... shape) {
        return add(name, DType.I64, data.length, shape, data);
    }

    /** Adds an int tensor stored as I32. */
    public SafetensorsWriter putInts(String name, int[] data, int... shape) {
        return add(name, DType.I32, data.length, shape, data);
    }

    /** Adds a byte tensor stored as U8, or as BOOL (then every byte must be 0 or 1). */
    public SafetensorsWriter putBytes(String name, DType dtype, byte[] data, int... shape) {
        if (dtype != DType.U8 && dtype != DType.BOOL) throw new IllegalArgumentException("cannot store bytes of '" + name + "' as " + dtype);
        if (dtype == DType.BOOL)
            for (byte b : data) if (b != 0 && b != 1) throw new IllegalArgumentException("BOOL tensor '" + name + "' holds the byte " + b);
        return add(name, dtype, data.length, shape, data);
    }

    /**
     * Adds a tensor given as its raw little-endian bytes (for example a {@link TensorSource#segment} of another file,
     * to reshard or rewrite a checkpoint without decoding it).
     */
    public SafetensorsWriter putRaw(String name, DType dtype, long[] shape, MemorySegment bytes) {
        long numel = numel(name, shape);
        if (bytes.byteSize() != numel * dtype.byteSize)
            throw new IllegalArgumentException("tensor '" + name + "' has " + bytes.byteSize() + " bytes but " + dtype + " "
                    + Arrays.toString(shape) + " needs " + numel * dtype.byteSize);
        return addChecked(name, dtype, shape.clone(), bytes.byteSize(), bytes);
    }

    /** Adds a tensor of {@code source} unchanged (same name, dtype, shape and bytes). */
    public SafetensorsWriter copy(TensorSource source, String name) {
        TensorInfo t = source.info(name);
        return putRaw(name, t.dtype(), t.shape(), source.segment(name));
    }

    /** Number of tensors added so far. */
    public int size() { return entries.size(); }

    /** Writes the file atomically; throws {@link SafetensorsException} naming the file when it cannot be written. */
    public void write(Path path) {
        try {
            AtomicFiles.write(path, this::writeTo);
        } catch (NoSuchFileException e) {
            throw new SafetensorsException(path + ": cannot write: no such folder " + path.toAbsolutePath().getParent(), e);
        } catch (AccessDeniedException e) {
            throw new SafetensorsException(path + ": cannot write: permission denied", e);
        } catch (IOException e) {
            throw new SafetensorsException(path + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The whole file as bytes (for files under 2 GB; mainly for tests). */
    public byte[] toByteArray() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            writeTo(Channels.newChannel(bytes));
        } catch (IOException e) {
            throw new AssertionError("in-memory write failed", e);
        }
        return bytes.toByteArray();
    }

    /** Streams the file (header length, header, data) to {@code out}. */
    public void writeTo(WritableByteChannel out) throws IOException {
        List<Entry> layout = new ArrayList<>(entries.values());
        layout.sort(Comparator.comparingInt((Entry e) -> -e.dtype.officialRank)
                .thenComparing(Entry::utf8Name, Arrays::compareUnsigned));
        byte[] header = header(layout);

        byte[] chunk = new byte[CHUNK_BYTES];
        MemorySegment seg = MemorySegment.ofArray(chunk);
        seg.set(LittleEndian.I64, 0, header.length);
        writeFully(out, chunk, 8);
        writeFully(out, header, header.length);
        for (Entry e : layout) writeData(out, e, chunk, seg);
    }

    // the official header layout: {"__metadata__":{...},"name":{"dtype":..,"shape":[..],"data_offsets":[b,e]},...}
    private byte[] header(List<Entry> layout) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            String sep = "";
            for (Map.Entry<String, String> m : metadata.entrySet()) {
                json.append(sep);
                appendJsonString(json, m.getKey());
                json.append(':');
                appendJsonString(json, m.getValue());
                sep = ",";
            }
            json.append('}');
        }
        long offset = 0;
        for (Entry e : layout) {
            if (json.length() > 1) json.append(',');
            appendJsonString(json, e.name);
            json.append(":{\"dtype\":\"").append(e.dtype.name()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape.length; i++) json.append(i == 0 ? "" : ",").append(e.shape[i]);
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + e.byteSize).append("]}");
            offset += e.byteSize;
        }
        json.append('}');
        byte[] utf8 = json.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(utf8, (utf8.length + 7) / 8 * 8);
        Arrays.fill(padded, utf8.length, padded.length, (byte) ' ');
        return padded;
    }

    /** JSON string escaping as serde_json does it: quote, backslash, short escapes, other controls as lowercase backslash-u. */
    private static void appendJsonString(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
            }
        }
        out.append('"');
    }

    private static void writeData(WritableByteChannel out, Entry e, byte[] chunk, MemorySegment seg) throws IOException {
        boolean bytewise = e.data instanceof byte[] || e.data instanceof MemorySegment;
        int unit = bytewise ? 1 : e.dtype.byteSize;
        long total = e.byteSize / unit;
        int perChunk = CHUNK_BYTES / unit;
        for (long start = 0; start < total; start += perChunk) {
            int n = (int) Math.min(perChunk, total - start);
            int s = (int) start;
            switch (e.data) {
                case float[] f when e.dtype == DType.F32 -> MemorySegment.copy(f, s, seg, LittleEndian.F32, 0, n);
                case float[] f when e.dtype == DType.BF16 -> {
                    for (int i = 0; i < n; i++) seg.setAtIndex(LittleEndian.I16, i, BFloat16.fromFloat(f[s + i]));
                }
                case float[] f when e.dtype == DType.F16 -> {
                    for (int i = 0; i < n; i++) seg.setAtIndex(LittleEndian.I16, i, Float.floatToFloat16(f[s + i]));
                }
                case float[] f -> { for (int i = 0; i < n; i++) seg.setAtIndex(LittleEndian.F64, i, f[s + i]); }
                case double[] d -> MemorySegment.copy(d, s, seg, LittleEndian.F64, 0, n);
                case long[] l -> MemorySegment.copy(l, s, seg, LittleEndian.I64, 0, n);
                case int[] x -> MemorySegment.copy(x, s, seg, LittleEndian.I32, 0, n);
                case byte[] b -> MemorySegment.copy(b, s, seg, ValueLayout.JAVA_BYTE, 0, n);
                case MemorySegment m -> MemorySegment.copy(m, start, seg, 0, n);
                default -> throw new AssertionError(e.data.getClass());
            }
            writeFully(out, chunk, n * unit);
        }
    }

    private static void writeFully(WritableByteChannel out, byte[] bytes, int length) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, length);
        while (b.hasRemaining()) out.write(b);
    }

    private SafetensorsWriter add(String name, DType dtype, int length, int[] shape, Object data) {
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) dims[i] = shape[i];
        long numel = numel(name, dims);
        if (numel != length)
            throw new IllegalArgumentException("tensor '" + name + "' has " + length + " elements but shape "
                    + Arrays.toString(shape) + " needs " + numel);
        return addChecked(name, dtype, dims, numel * dtype.byteSize, data);
    }

    private SafetensorsWriter addChecked(String name, DType dtype, long[] shape, long byteSize, Object data) {
        requireText(name, "tensor name");
        if (name.equals("__metadata__")) throw new IllegalArgumentException("'__metadata__' is reserved, not a tensor name");
        if (entries.containsKey(name)) throw new IllegalArgumentException("tensor '" + name + "' added twice");
        entries.put(name, new Entry(name, name.getBytes(StandardCharsets.UTF_8), dtype, shape, byteSize, data));
        return this;
    }

    private static long numel(String name, long[] shape) {
        if (shape.length > SafetensorsHeader.MAX_RANK)
            throw new IllegalArgumentException("tensor '" + name + "' has more than " + SafetensorsHeader.MAX_RANK + " dimensions");
        long n = 1;
        for (long d : shape)
            if (d < 0) throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension in " + Arrays.toString(shape));
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
            Math.multiplyExact(n, 8L); // the byte size of any dtype fits in a long
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("tensor '" + name + "' has a shape whose size overflows: " + Arrays.toString(shape));
        }
        return n;
    }

    private static void requireText(String s, String what) {
        if (s == null) throw new IllegalArgumentException(what + " is null");
        if (!StandardCharsets.UTF_8.newEncoder().canEncode(s))
            throw new IllegalArgumentException(what + " " + SafetensorsException.quote(s) + " is not valid Unicode (lone surrogate)");
    }
}
