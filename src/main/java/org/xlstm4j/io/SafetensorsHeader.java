package org.xlstm4j.io;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.xlstm4j.io.SafetensorsException.quote;

/**
 * The JSON header of a safetensors file, parsed with a streaming parser (memory stays proportional to the header) and
 * validated as strictly as the official reader, plus a few checks it lacks:
 * <ul>
 *   <li>strict UTF-8, first byte '{', one JSON object, only whitespace after it (the official writer pads with spaces);
 *   <li>no duplicate keys anywhere (the official reader silently keeps one of them);
 *   <li>each tensor has a known dtype, a shape of at most {@value #MAX_RANK} non-negative integers whose element count
 *       and byte size do not overflow, and {@code data_offsets [begin, end]} with {@code end - begin} equal to that
 *       byte size and {@code end} inside the data section; other fields of a tensor entry are ignored, as officially;
 *   <li>the tensors, taken in offset order, tile the data section exactly: no overlap, no gap, no trailing bytes.
 *       The order of keys in the header is free (the format allows any order).
 * </ul>
 */
final class SafetensorsHeader {
    /** Tensors with more dimensions are rejected (PyTorch allows at most 64). */
    static final int MAX_RANK = 64;

    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(32).build())
            .build();

    /** Tensors in header order. */
    final LinkedHashMap<String, TensorInfo> tensors;
    /** The {@code __metadata__} map in header order (empty when absent). */
    final Map<String, String> metadata;

    private SafetensorsHeader(LinkedHashMap<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.tensors = tensors;
        this.metadata = Collections.unmodifiableMap(metadata);
    }

    static SafetensorsException invalid(Path path, String problem) {
        return new SafetensorsException(path + ": not a valid safetensors file: " + problem);
    }

    /** Parses and validates {@code header} (the JSON bytes) for a data section of {@code dataBytes} bytes. */
    static SafetensorsHeader parse(Path path, byte[] header, long dataBytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw invalid(path, "the header is not valid UTF-8");
        }
        if (text.isEmpty() || text.charAt(0) != '{')
            throw invalid(path, "the header does not start with '{'");

        LinkedHashMap<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        boolean sawMetadata = false;
        try (JsonParser p = JSON.createParser(text)) {
            p.nextToken(); // START_OBJECT, guaranteed by the '{' check
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                p.nextToken();
                if (key.equals("__metadata__")) {
                    if (sawMetadata) throw invalid(path, "duplicate key '__metadata__' in the header");
                    sawMetadata = true;
                    parseMetadata(path, p, metadata);
                } else {
                    if (tensors.containsKey(key)) throw invalid(path, "duplicate tensor name " + quote(key) + " in the header");
                    tensors.put(key, parseTensor(path, p, key, dataBytes));
                }
            }
            if (p.nextToken() != null) throw invalid(path, "extra content after the JSON header object");
        } catch (JsonProcessingException e) {
            long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
            throw invalid(path, "malformed JSON header: " + oneLine(e.getOriginalMessage()) + (at >= 0 ? " (at char " + at + ")" : ""));
        } catch (IOException e) { // not expected when parsing a String
            throw invalid(path, "malformed JSON header: " + oneLine(e.getMessage()));
        }
        checkTiling(path, tensors, dataBytes);
        return new SafetensorsHeader(tensors, metadata);
    }

    private static void parseMetadata(Path path, JsonParser p, Map<String, String> out) throws IOException {
        if (p.currentToken() == JsonToken.VALUE_NULL) return; // the official reader treats null as absent
        if (p.currentToken() != JsonToken.START_OBJECT) throw invalid(path, "__metadata__ is not a JSON object");
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            if (p.nextToken() != JsonToken.VALUE_STRING)
                throw invalid(path, "__metadata__ value of " + quote(key) + " is not a string");
            if (out.putIfAbsent(key, p.getText()) != null)
                throw invalid(path, "duplicate key " + quote(key) + " in __metadata__");
        }
    }

    private static TensorInfo parseTensor(Path path, JsonParser p, String name, long dataBytes) throws IOException {
        String q = quote(name);
        if (p.currentToken() != JsonToken.START_OBJECT) throw invalid(path, "entry " + q + " is not a JSON object");
        DType dtype = null;
        long[] shape = null, offsets = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            switch (field) {
                case "dtype" -> {
                    if (dtype != null) throw invalid(path, "tensor " + q + " has two 'dtype' fields");
                    if (p.currentToken() != JsonToken.VALUE_STRING) throw invalid(path, "tensor " + q + " has a dtype that is not a string");
                    dtype = DType.parse(p.getText());
                    if (dtype == null)
                        throw invalid(path, "tensor " + q + " has unknown or unsupported dtype " + quote(p.getText())
                                + " (supported: " + Arrays.toString(DType.values()) + ")");
                }
                case "shape" -> {
                    if (shape != null) throw invalid(path, "tensor " + q + " has two 'shape' fields");
                    shape = readNaturals(path, p, q, "shape", MAX_RANK);
                }
                case "data_offsets" -> {
                    if (offsets != null) throw invalid(path, "tensor " + q + " has two 'data_offsets' fields");
                    offsets = readNaturals(path, p, q, "data_offsets", 2);
                    if (offsets.length != 2) throw invalid(path, "tensor " + q + " has data_offsets with " + offsets.length + " entries, not 2");
                }
                default -> p.skipChildren(); // unknown fields are ignored, as the official reader does
            }
        }
        if (dtype == null) throw invalid(path, "tensor " + q + " has no dtype");
        if (shape == null) throw invalid(path, "tensor " + q + " has no shape");
        if (offsets == null) throw invalid(path, "tensor " + q + " has no data_offsets");

        long numel = 1, bytes;
        try {
            for (long d : shape) numel = Math.multiplyExact(numel, d);
            bytes = Math.multiplyExact(numel, (long) dtype.byteSize);
        } catch (ArithmeticException e) {
            throw invalid(path, "tensor " + q + " has shape " + Arrays.toString(shape) + " whose size overflows");
        }
        long begin = offsets[0], end = offsets[1];
        if (end < begin) throw invalid(path, "tensor " + q + " has data_offsets [" + begin + ", " + end + "] with end before begin");
        if (end > dataBytes)
            throw invalid(path, "tensor " + q + " has data_offsets [" + begin + ", " + end + "] beyond the end of the data section ("
                    + dataBytes + " bytes)");
        if (end - begin != bytes)
            throw invalid(path, "tensor " + q + " has " + (end - begin) + " bytes of data but " + dtype + " "
                    + Arrays.toString(shape) + " needs " + bytes);
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** Reads a JSON array of at most {@code maxLength} non-negative integers that fit in a long. */
    private static long[] readNaturals(Path path, JsonParser p, String q, String field, int maxLength) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) throw invalid(path, "tensor " + q + " has a " + field + " that is not an array");
        long[] values = new long[4];
        int n = 0;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            if (n == maxLength) throw invalid(path, "tensor " + q + " has a " + field + " with more than " + maxLength + " entries");
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT)
                throw invalid(path, "tensor " + q + " has a " + field + " entry that is not an integer: " + quote(p.getText()));
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER)
                throw invalid(path, "tensor " + q + " has a " + field + " entry that is too large: " + quote(p.getText()));
            long v = p.getLongValue();
            if (v < 0) throw invalid(path, "tensor " + q + " has a negative " + field + " entry " + v);
            if (n == values.length) values = Arrays.copyOf(values, 2 * n);
            values[n++] = v;
        }
        return Arrays.copyOf(values, n);
    }

    /** In offset order the tensors must cover {@code [0, dataBytes)} exactly once. */
    private static void checkTiling(Path path, Map<String, TensorInfo> tensors, long dataBytes) {
        List<TensorInfo> byOffset = new ArrayList<>(tensors.values());
        byOffset.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long pos = 0;
        TensorInfo previous = null;
        for (TensorInfo t : byOffset) {
            if (t.begin() < pos)
                throw invalid(path, "tensor " + quote(t.name()) + " (bytes " + t.begin() + ".." + t.end() + ") overlaps tensor "
                        + quote(previous.name()) + " (bytes " + previous.begin() + ".." + previous.end() + ")");
            if (t.begin() > pos)
                throw invalid(path, "gap of " + (t.begin() - pos) + " unused bytes before tensor " + quote(t.name()));
            pos = t.end();
            previous = t;
        }
        if (pos != dataBytes)
            throw invalid(path, (dataBytes - pos) + " bytes of trailing data after the last tensor");
    }

    private static String oneLine(String s) {
        if (s == null) return "";
        String line = s.split("[\\r\\n]", 2)[0];
        String quoted = quote(line);
        return quoted.substring(1, quoted.length() - 1);
    }
}
