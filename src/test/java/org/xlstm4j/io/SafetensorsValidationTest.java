package org.xlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.io.IoFixtures.file;

/** One test per validation rule of the reader: each malformed file gives one line naming the file and the problem. */
class SafetensorsValidationTest {
    @TempDir Path dir;
    private int counter;

    private Path write(byte[] bytes) throws IOException {
        Path p = dir.resolve("case" + (counter++) + ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    /** Opening must fail with a one-line message that names the file and contains {@code expected}. */
    private void rejects(byte[] bytes, String expected) throws IOException {
        Path p = write(bytes);
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(p).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(p + ": "), m);
        assertFalse(m.contains("\n") || m.contains("\r"), "one line: " + m);
        assertTrue(m.contains(expected), "expected '" + expected + "' in: " + m);
        assertTrue(m.length() < 600, "short message: " + m);
    }

    private SafetensorsFile accepts(byte[] bytes) throws IOException {
        return SafetensorsFile.open(write(bytes));
    }

    private static byte[] f32Data(int n) { return new byte[4 * n]; }

    private static String tensor(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    private static byte[] withHeaderLength(long n, byte[] rest) {
        return ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN).putLong(n).put(rest).array();
    }

    // --- file framing ---

    @Test void emptyFile() throws IOException { rejects(new byte[0], "empty file"); }

    @Test void shorterThanTheLengthField() throws IOException { rejects(new byte[5], "shorter than the 8-byte header length"); }

    @Test void headerLengthBeyondTheFile() throws IOException {
        rejects(withHeaderLength(100, "{}".getBytes()), "runs beyond the end of the file");
    }

    @Test void absurdHeaderLengthsAreRejectedWithoutAllocating() throws IOException {
        rejects(withHeaderLength(100_000_001L, "{}".getBytes()), "exceeds the limit");
        rejects(withHeaderLength(-1L, "{}".getBytes()), "18446744073709551615 exceeds the limit");
        rejects(withHeaderLength(Long.MAX_VALUE, new byte[0]), "exceeds the limit");
    }

    @Test void headerTooShortForJson() throws IOException {
        rejects(withHeaderLength(0, new byte[0]), "too short");
        rejects(withHeaderLength(1, "{".getBytes()), "too short");
    }

    // --- the JSON itself ---

    @Test void malformedJson() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F32\",", new byte[0]), "malformed JSON header");
        rejects(file("{\"a\" 1}", new byte[0]), "malformed JSON header");
    }

    @Test void headerMustBeAnObjectStartingAtTheFirstByte() throws IOException {
        rejects(file(" {}", new byte[0]), "does not start with '{'");
        rejects(file("[1,2]", new byte[0]), "does not start with '{'");
    }

    @Test void nonUtf8Header() throws IOException {
        byte[] header = "{\"abcd\":{}}".getBytes();
        header[3] = (byte) 0xff;
        header[4] = (byte) 0xfe;
        rejects(file(header, new byte[0]), "not valid UTF-8");
        // an overlong encoding of '"' and an encoded surrogate are invalid UTF-8 as well
        rejects(file(new byte[]{'{', (byte) 0xc0, (byte) 0xa2, '}'}, new byte[0]), "not valid UTF-8");
        rejects(file(new byte[]{'{', '"', (byte) 0xed, (byte) 0xa0, (byte) 0x80, '"', ':', '1', '}'}, new byte[0]), "not valid UTF-8");
    }

    @Test void contentAfterTheJsonObject() throws IOException {
        rejects(file("{}x", new byte[0]), "malformed JSON header");
        rejects(file("{}{}", new byte[0]), "extra content after the JSON header");
        rejects(file("{}\0\0", new byte[0]), "malformed JSON header");
    }

    @Test void duplicateTensorNames() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("a", "F32", "[1]", 4, 8) + "}", f32Data(2)),
                "duplicate tensor name 'a'");
    }

    @Test void duplicateMetadataKeys() throws IOException {
        rejects(file("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", new byte[0]), "duplicate key 'k' in __metadata__");
        rejects(file("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0]), "duplicate key '__metadata__'");
    }

    @Test void duplicateFieldsInATensorEntry() throws IOException {
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]}}", f32Data(1)), "two 'dtype'");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"shape\":[1],\"data_offsets\":[0,4]}}", f32Data(1)), "two 'shape'");
    }

    @Test void metadataMustMapStringsToStrings() throws IOException {
        rejects(file("{\"__metadata__\":[]}", new byte[0]), "__metadata__ is not a JSON object");
        rejects(file("{\"__metadata__\":{\"n\":1}}", new byte[0]), "value of 'n' is not a string");
    }

    @Test void entryMustBeAnObjectWithAllFields() throws IOException {
        rejects(file("{\"a\":5}", new byte[0]), "entry 'a' is not a JSON object");
        rejects(file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", f32Data(1)), "has no dtype");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", f32Data(1)), "has no shape");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", f32Data(1)), "has no data_offsets");
        rejects(file("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", f32Data(1)), "dtype that is not a string");
    }

    // --- dtype, shape, sizes ---

    @Test void unknownDtype() throws IOException {
        rejects(file("{" + tensor("a", "Q4_K", "[1]", 0, 4) + "}", f32Data(1)), "unknown or unsupported dtype 'Q4_K'");
        rejects(file("{" + tensor("a", "f32", "[1]", 0, 4) + "}", f32Data(1)), "unknown or unsupported dtype 'f32'");
    }

    @Test void negativeOrNonIntegerDimensions() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[-1]", 0, 4) + "}", f32Data(1)), "negative shape entry -1");
        rejects(file("{" + tensor("a", "F32", "[1.5]", 0, 4) + "}", f32Data(1)), "not an integer");
        rejects(file("{" + tensor("a", "F32", "[\"2\"]", 0, 4) + "}", f32Data(1)), "not an integer");
        rejects(file("{" + tensor("a", "F32", "[100000000000000000000]", 0, 4) + "}", f32Data(1)), "too large");
        rejects(file("{" + tensor("a", "F32", "4", 0, 4) + "}", f32Data(1)), "not an array");
    }

    @Test void overflowingShapes() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[4294967296,4294967296]", 0, 4) + "}", f32Data(1)), "overflows");
        // the element count fits in a long but the byte size does not
        rejects(file("{" + tensor("a", "F64", "[4611686018427387904]", 0, 4) + "}", f32Data(1)), "overflows");
    }

    @Test void tooManyDimensions() throws IOException {
        String shape = "[" + "1,".repeat(64) + "1]";
        rejects(file("{" + tensor("a", "F32", shape, 0, 4) + "}", f32Data(1)), "more than 64 entries");
    }

    @Test void byteSizeMustMatchShapeTimesDtype() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[2,3]", 0, 20) + "}", new byte[20]), "has 20 bytes of data but F32 [2, 3] needs 24");
        rejects(file("{" + tensor("a", "BF16", "[3]", 0, 4) + "}", new byte[4]), "needs 6");
    }

    // --- offsets and tiling ---

    @Test void offsetsOutOfRange() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[2]", 0, 8) + "}", f32Data(1)), "beyond the end of the data section (4 bytes)");
        rejects(file("{" + tensor("a", "F32", "[1]", 8, 4) + "}", f32Data(1)), "end before begin");
        rejects(file("{" + tensor("a", "F32", "[1]", -4, 0) + "}", f32Data(1)), "negative data_offsets entry");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", f32Data(2)), "more than 2 entries");
        rejects(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", f32Data(2)), "with 1 entries, not 2");
    }

    @Test void overlappingTensors() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "F32", "[2]", 4, 12) + "}", f32Data(3)),
                "tensor 'b' (bytes 4..12) overlaps tensor 'a' (bytes 0..8)");
        rejects(file("{" + tensor("a", "F32", "[2]", 0, 8) + "," + tensor("b", "F32", "[2]", 0, 8) + "}", f32Data(2)), "overlaps");
    }

    @Test void gapsBetweenOrBeforeTensors() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[1]", 0, 4) + "," + tensor("b", "F32", "[1]", 8, 12) + "}", f32Data(3)),
                "gap of 4 unused bytes before tensor 'b'");
        rejects(file("{" + tensor("a", "F32", "[1]", 4, 8) + "}", f32Data(2)), "gap of 4 unused bytes before tensor 'a'");
    }

    @Test void trailingGarbageAfterTheLastTensor() throws IOException {
        rejects(file("{" + tensor("a", "F32", "[1]", 0, 4) + "}", f32Data(2)), "4 bytes of trailing data after the last tensor");
        rejects(file("{}", new byte[3]), "3 bytes of trailing data");
    }

    // --- what the format allows ---

    @Test void headerOrderNeedNotBeOffsetOrder() throws IOException {
        byte[] data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f).putFloat(3f).array();
        String header = "{" + tensor("late", "F32", "[1]", 8, 12) + "," + tensor("early", "F32", "[2]", 0, 8) + "}";
        try (SafetensorsFile f = accepts(file(header, data))) {
            assertEquals(List.of("late", "early"), f.names());
            assertArrayEquals(new float[]{3f}, f.floats("late"));
            assertArrayEquals(new float[]{1f, 2f}, f.floats("early"));
        }
    }

    @Test void whitespacePaddingNullMetadataUnknownFieldsAndEmptyTensorsAreAccepted() throws IOException {
        String header = "{\"__metadata__\":null,\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"a\":{\"extra\":{\"nested\":[1,2]},\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}\n\t  ";
        try (SafetensorsFile f = accepts(file(header, new byte[]{5, 6}))) {
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new long[]{5, 6}, f.longs("a"));
            assertEquals(0, f.floats("z").length);
        }
        try (SafetensorsFile f = accepts(file("{}", new byte[0]))) {
            assertTrue(f.names().isEmpty());
        }
    }

    // --- paths ---

    @Test void missingFileAndFolders() {
        Path missing = dir.resolve("nope.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        e = assertThrows(SafetensorsException.class, () -> SafetensorsFile.open(dir));
        assertTrue(e.getMessage().contains("is a folder"), e.getMessage());
    }

    @Test void hostileNamesAreQuotedShortAndOnOneLine() throws IOException {
        String longName = "n".repeat(5000) + "\\n";
        rejects(file("{\"" + longName + "\":7}", new byte[0]), "...(5001 chars)");
        rejects(file("{\"line\\nbreak\":7}", new byte[0]), "'line\\u000abreak'");
    }
}
