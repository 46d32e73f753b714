package org.xlstm4j.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.*;

/**
 * A memory-mapped safetensors file (8-byte little-endian header length, JSON header, raw little-endian data).
 * Tensor data is never copied onto the heap unless asked for with {@link #floats} or {@link #longs}.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are rejected before anything is allocated (the official limit is 100 MB). */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final LinkedHashMap<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafetensorsFile(Path path, Arena arena, MemorySegment data, LinkedHashMap<String, TensorInfo> tensors,
                            Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /** Opens and validates a file; throws {@link SafetensorsException} with a one-line message on any problem. */
    public static SafetensorsFile open(Path path) {
        Arena arena = Arena.ofShared();
        try {
            long size;
            MemorySegment whole;
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
                size = ch.size();
                if (size == 0) throw bad(path, "empty file");
                if (size < 8) throw bad(path, "file is " + size + " bytes, shorter than the 8-byte header length");
                whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            }
            long headerLen = whole.get(I64, 0);
            if (headerLen < 2 || headerLen > MAX_HEADER_BYTES)
                throw bad(path, "header length " + headerLen + " is not plausible (2.." + MAX_HEADER_BYTES + " bytes)");
            if (8 + headerLen > size)
                throw bad(path, "header length " + headerLen + " runs beyond the end of the file (" + size + " bytes)");
            byte[] header = whole.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            MemorySegment dataSeg = whole.asSlice(8 + headerLen);
            LinkedHashMap<String, TensorInfo> infos = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            parseHeader(path, header, dataSeg.byteSize(), infos, meta);
            return new SafetensorsFile(path, arena, dataSeg, infos, meta);
        } catch (NoSuchFileException e) {
            arena.close();
            throw new SafetensorsException(path + ": no such file");
        } catch (IOException e) {
            arena.close();
            throw new SafetensorsException(path + ": cannot read: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static SafetensorsException bad(Path path, String problem) {
        return new SafetensorsException(path + ": not a valid safetensors file: " + problem);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    static {
        JSON.getFactory().setStreamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(16).build());
    }

    private static void parseHeader(Path path, byte[] header, long dataBytes, LinkedHashMap<String, TensorInfo> out,
                                    Map<String, String> meta) {
        JsonNode root;
        try (JsonParser p = JSON.getFactory().createParser(header)) {
            root = JSON.readTree(p);
            if (p.nextToken() != null) throw bad(path, "extra content after the JSON header");
        } catch (IOException e) {
            String msg = e.getMessage() == null ? "" : e.getMessage().split("\n", 2)[0];
            throw bad(path, "malformed JSON header (" + msg + ")");
        }
        if (root == null || !root.isObject()) throw bad(path, "header is not a JSON object");
        List<TensorInfo> list = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (!v.isObject()) throw bad(path, "__metadata__ is not an object");
                for (Iterator<Map.Entry<String, JsonNode>> m = v.fields(); m.hasNext(); ) {
                    Map.Entry<String, JsonNode> kv = m.next();
                    if (!kv.getValue().isTextual()) throw bad(path, "__metadata__ value of '" + kv.getKey() + "' is not a string");
                    meta.put(kv.getKey(), kv.getValue().asText());
                }
                continue;
            }
            if (!v.isObject()) throw bad(path, "entry '" + name + "' is not an object");
            JsonNode dt = v.get("dtype"), sh = v.get("shape"), off = v.get("data_offsets");
            if (dt == null || !dt.isTextual()) throw bad(path, "tensor '" + name + "' has no dtype string");
            DType dtype = DType.parse(dt.asText());
            if (dtype == null) throw bad(path, "tensor '" + name + "' has unknown dtype '" + dt.asText() + "'");
            if (sh == null || !sh.isArray()) throw bad(path, "tensor '" + name + "' has no shape array");
            long[] shape = new long[sh.size()];
            long numel = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0)
                    throw bad(path, "tensor '" + name + "' has invalid dimension " + d + " in its shape");
                shape[i] = d.asLong();
                try {
                    numel = Math.multiplyExact(numel, shape[i]);
                } catch (ArithmeticException ex) {
                    throw bad(path, "tensor '" + name + "' shape " + sh + " overflows");
                }
            }
            if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
                    || !off.get(1).isIntegralNumber() || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong())
                throw bad(path, "tensor '" + name + "' has no valid data_offsets [begin, end]");
            long begin = off.get(0).asLong(), end = off.get(1).asLong();
            if (begin < 0 || end < begin) throw bad(path, "tensor '" + name + "' has invalid data_offsets [" + begin + ", " + end + "]");
            if (end > dataBytes)
                throw bad(path, "tensor '" + name + "' data_offsets [" + begin + ", " + end + "] run beyond the data section (" + dataBytes + " bytes)");
            long expected;
            try {
                expected = Math.multiplyExact(numel, (long) dtype.byteSize);
            } catch (ArithmeticException ex) {
                throw bad(path, "tensor '" + name + "' byte size overflows");
            }
            if (end - begin != expected)
                throw bad(path, "tensor '" + name + "' has " + (end - begin) + " bytes but shape " + sh + " of " + dtype + " needs " + expected);
            list.add(new TensorInfo(name, dtype, shape, begin, end));
        }
        list.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long pos = 0;
        for (TensorInfo t : list) {
            if (t.begin() != pos) {
                if (t.begin() < pos) throw bad(path, "tensor '" + t.name() + "' overlaps the previous tensor");
                throw bad(path, "gap of " + (t.begin() - pos) + " bytes before tensor '" + t.name() + "'");
            }
            pos = t.end();
            out.put(t.name(), t);
        }
        if (pos != dataBytes) throw bad(path, (dataBytes - pos) + " bytes of trailing data after the last tensor");
    }

    public Path path() { return path; }

    /** The {@code __metadata__} string map (empty when absent). */
    public Map<String, String> metadata() { return Collections.unmodifiableMap(metadata); }

    /** Tensor names in file order. */
    public List<String> names() { return List.copyOf(tensors.keySet()); }

    public boolean contains(String name) { return tensors.containsKey(name); }

    public Collection<TensorInfo> infos() { return Collections.unmodifiableCollection(tensors.values()); }

    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) throw new SafetensorsException(path + ": no tensor named '" + name + "'");
        return t;
    }

    /** The raw little-endian bytes of one tensor, memory-mapped (valid until {@link #close()}). */
    public MemorySegment segment(String name) {
        TensorInfo t = info(name);
        return data.asSlice(t.begin(), t.end() - t.begin());
    }

    /** Copies a floating-point tensor (F32, F16, BF16, F64) into a new float32 array. */
    public float[] floats(String name) {
        TensorInfo t = info(name);
        MemorySegment s = segment(name);
        int n = Math.toIntExact(t.numel());
        float[] out = new float[n];
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(s, F32, 0, out, 0, n);
            case F64 -> { for (int i = 0; i < n; i++) out[i] = (float) s.getAtIndex(F64, i); }
            case BF16 -> { for (int i = 0; i < n; i++) out[i] = Float.intBitsToFloat((s.getAtIndex(I16, i) & 0xffff) << 16); }
            case F16 -> { for (int i = 0; i < n; i++) out[i] = Float.float16ToFloat(s.getAtIndex(I16, i)); }
            default -> throw new SafetensorsException(path + ": tensor '" + name + "' is " + t.dtype() + ", expected a floating-point dtype");
        }
        return out;
    }

    /** Copies an integer tensor (I64, I32, U8, BOOL) into a new long array. */
    public long[] longs(String name) {
        TensorInfo t = info(name);
        MemorySegment s = segment(name);
        int n = Math.toIntExact(t.numel());
        long[] out = new long[n];
        switch (t.dtype()) {
            case I64 -> MemorySegment.copy(s, I64, 0, out, 0, n);
            case I32 -> { for (int i = 0; i < n; i++) out[i] = s.getAtIndex(I32, i); }
            case U8, BOOL -> { for (int i = 0; i < n; i++) out[i] = s.get(ValueLayout.JAVA_BYTE, i) & 0xff; }
            default -> throw new SafetensorsException(path + ": tensor '" + name + "' is " + t.dtype() + ", expected an integer dtype");
        }
        return out;
    }

    @Override public void close() { arena.close(); }
}
