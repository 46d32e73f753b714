package org.xlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** SafetensorsWriter → SafetensorsFile for every dtype, layout, metadata, atomic replacement and writer-side checks. */
class SafetensorsRoundTripTest {
    @TempDir Path dir;

    private static float[] randomFloats(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian() * 3;
        return a;
    }

    @Test void everyDtypeRoundTrips() {
        Random r = new Random(1);
        float[] f32 = randomFloats(r, 6), f16 = randomFloats(r, 5), bf16 = randomFloats(r, 7), f64f = randomFloats(r, 3);
        double[] f64 = {Math.PI, -1e300, Double.MIN_VALUE, 0.1};
        long[] i64 = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 1L << 40};
        int[] i32 = {Integer.MIN_VALUE, -7, 0, 3, Integer.MAX_VALUE, 65536};
        byte[] u8 = {0, 1, 127, (byte) 128, (byte) 255};
        byte[] bool = {1, 0, 0, 1};
        Path file = dir.resolve("all.safetensors");
        new SafetensorsWriter()
                .metadata("format", "pt").metadata(Map.of("note", "ünïcödé \"quoted\"\n"))
                .putFloats("f32", f32, 2, 3)
                .putFloats("f16", DType.F16, f16, 5)
                .putFloats("bf16", DType.BF16, bf16, 7, 1)
                .putFloats("f64_from_floats", DType.F64, f64f, 3)
                .putDoubles("f64", f64, 2, 2)
                .putLongs("i64", i64, 6)
                .putInts("i32", i32, 3, 2)
                .putBytes("u8", DType.U8, u8, 5)
                .putBytes("bool", DType.BOOL, bool, 2, 2)
                .write(file);

        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt", "note", "ünïcödé \"quoted\"\n"), f.metadata());
            assertEquals(9, f.names().size());
            assertArrayEquals(f32, f.floats("f32"));
            assertArrayEquals(new long[]{2, 3}, f.info("f32").shape());
            for (int i = 0; i < f16.length; i++)
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(f16[i])), f.floats("f16")[i], 0f);
            for (int i = 0; i < bf16.length; i++) {
                float got = f.floats("bf16")[i];
                // BF16 keeps the upper 16 bits: relative error at most 2^-8 and exactly representable as such
                assertEquals(0, Float.floatToRawIntBits(got) & 0xffff);
                assertEquals(bf16[i], got, Math.abs(bf16[i]) * 0x1p-8f);
            }
            assertEquals(DType.F64, f.info("f64_from_floats").dtype());
            assertArrayEquals(f64f, f.floats("f64_from_floats"));
            MemorySegment s = f.segment("f64");
            for (int i = 0; i < f64.length; i++) assertEquals(f64[i], s.getAtIndex(LittleEndian.F64, i));
            float[] f64AsFloats = f.floats("f64");
            for (int i = 0; i < f64.length; i++) assertEquals((float) f64[i], f64AsFloats[i]);
            assertArrayEquals(i64, f.longs("i64"));
            long[] i32Back = f.longs("i32");
            for (int i = 0; i < i32.length; i++) assertEquals(i32[i], i32Back[i]);
            assertArrayEquals(new long[]{0, 1, 127, 128, 255}, f.longs("u8"));
            assertArrayEquals(new long[]{1, 0, 0, 1}, f.longs("bool"));
            assertEquals(DType.BOOL, f.info("bool").dtype());
        }
    }

    @Test void layoutFollowsTheOfficialWriter() throws IOException {
        byte[] bytes = new SafetensorsWriter()
                .putBytes("a_u8", DType.U8, new byte[]{1, 2, 3}, 3)
                .putFloats("z_f32", new float[]{1, 2}, 2)
                .putFloats("b_bf16", DType.BF16, new float[]{1, 2, 3}, 3)
                .putLongs("m_i64", new long[]{5}, 1)
                .putFloats("a_f32", new float[]{3}, 1)
                .metadata("format", "pt")
                .toByteArray();
        String header = IoFixtures.headerText(bytes);
        assertEquals(0, header.length() % 8, "header padded to a multiple of 8");
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"},\"m_i64\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"a_f32\":"), header);
        String trimmed = header.stripTrailing();
        assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        try (SafetensorsFile f = IoFixtures.open(bytes)) {
            // widest dtype first, then by name; every tensor aligned to its element size from an 8-aligned data start
            assertEquals(List.of("m_i64", "a_f32", "z_f32", "b_bf16", "a_u8"), f.names());
            for (String n : f.names()) assertEquals(0, f.info(n).begin() % f.info(n).dtype().byteSize, n);
            assertArrayEquals(new float[]{3}, f.floats("a_f32"));
            assertArrayEquals(new long[]{1, 2, 3}, f.longs("a_u8"));
        }
    }

    @Test void scalarsAndEmptyTensors() {
        byte[] bytes = new SafetensorsWriter()
                .putFloats("scalar", new float[]{42f})
                .putFloats("empty", new float[0], 0, 3)
                .putLongs("empty_long", new long[0], 4, 0)
                .toByteArray();
        try (SafetensorsFile f = IoFixtures.open(bytes)) {
            assertEquals(0, f.info("scalar").rank());
            assertArrayEquals(new float[]{42f}, f.floats("scalar"));
            assertEquals(0, f.floats("empty").length);
            assertArrayEquals(new long[]{0, 3}, f.info("empty").shape());
            assertEquals(0, f.longs("empty_long").length);
        }
        try (SafetensorsFile f = IoFixtures.open(new SafetensorsWriter().toByteArray())) {
            assertTrue(f.names().isEmpty());
            assertEquals(0, f.dataBytes());
        }
    }

    @Test void largeTensorsSpanSeveralWriteChunks() {
        Random r = new Random(3);
        float[] big = randomFloats(r, 700_003);   // 2.8 MB as F32: three 1 MiB chunks
        long[] longs = new long[300_001];
        for (int i = 0; i < longs.length; i++) longs[i] = r.nextLong();
        byte[] bytes = new SafetensorsWriter().putFloats("big", big, 700_003).putFloats("big16", DType.BF16, big, 700_003)
                .putLongs("l", longs, 300_001).toByteArray();
        try (SafetensorsFile f = IoFixtures.open(bytes)) {
            assertArrayEquals(big, f.floats("big"));
            float[] b16 = f.floats("big16");
            for (int i = 0; i < big.length; i += 997)
                assertEquals(Float.floatToRawIntBits(BFloat16.toFloat(BFloat16.fromFloat(big[i]))), Float.floatToRawIntBits(b16[i]));
            assertArrayEquals(longs, f.longs("l"));
            float[] dst = new float[big.length + 5];
            f.floats("big", dst, 5);
            assertEquals(big[700_002], dst[700_007]);
        }
    }

    @Test void unusualNamesAreEscapedAndRoundTrip() {
        List<String> names = List.of("quote\"back\\slash", "new\nline\ttab\u0001ctl\u007f", "ünï😀", "a/b.c", "");
        SafetensorsWriter w = new SafetensorsWriter();
        for (int i = 0; i < names.size(); i++) w.putInts(names.get(i), new int[]{i}, 1);
        try (SafetensorsFile f = IoFixtures.open(w.toByteArray())) {
            assertEquals(names.size(), f.names().size());
            for (int i = 0; i < names.size(); i++) assertEquals(i, f.longs(names.get(i))[0]);
        }
    }

    @Test void copyingEveryTensorOfAFileReproducesIt() {
        byte[] original = new SafetensorsWriter().metadata("k", "v").putFloats("x", DType.F16, new float[]{1, 2}, 2)
                .putInts("y", new int[]{1, 2, 3}, 3).toByteArray();
        try (SafetensorsFile f = IoFixtures.open(original)) {
            SafetensorsWriter w = new SafetensorsWriter().metadata(f.metadata());
            for (String n : f.names()) w.copy(f, n);
            assertArrayEquals(original, w.toByteArray());
        }
    }

    @Test void writeReplacesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path file = dir.resolve("m.safetensors");
        new SafetensorsWriter().putFloats("a", new float[]{1}, 1).write(file);
        new SafetensorsWriter().putFloats("b", new float[]{2, 3}, 2).write(file);
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals(List.of("b"), f.names());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(file), s.toList());
        }
    }

    @Test void writeErrorsAreOneLineNamingTheFile() {
        Path file = dir.resolve("no/such/folder/m.safetensors");
        SafetensorsException e = assertThrows(SafetensorsException.class,
                () -> new SafetensorsWriter().putFloats("a", new float[]{1}, 1).write(file));
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test void writerRejectsInconsistentTensors() {
        SafetensorsWriter w = new SafetensorsWriter().putFloats("a", new float[4], 2, 2);
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("a", new float[4], 4), "duplicate name");
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("b", new float[4], 3), "shape mismatch");
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("c", new float[4], -1, -4), "negative dim");
        assertThrows(IllegalArgumentException.class, () -> w.putFloats("d", DType.I32, new float[1], 1), "not a float dtype");
        assertThrows(IllegalArgumentException.class, () -> w.putBytes("e", DType.BOOL, new byte[]{2}, 1), "bool byte");
        assertThrows(IllegalArgumentException.class, () -> w.putBytes("e", DType.F32, new byte[4], 1), "bytes as F32");
        assertThrows(IllegalArgumentException.class, () -> w.putInts("__metadata__", new int[1], 1), "reserved name");
        assertThrows(IllegalArgumentException.class, () -> w.putInts("bad\uD800", new int[1], 1), "lone surrogate");
        assertThrows(IllegalArgumentException.class, () -> w.putRaw("r", DType.F32, new long[]{3},
                MemorySegment.ofArray(new byte[8])), "raw size mismatch");
        assertThrows(IllegalArgumentException.class, () -> w.metadata("k", null), "null metadata value");
        assertThrows(IllegalArgumentException.class, () -> w.putRaw("o", DType.F64, new long[]{1L << 40, 1L << 23},
                MemorySegment.ofArray(new byte[8])), "overflowing shape");
        assertEquals(1, w.size());
    }

    @Test void typeMismatchedReadsAreRejected() {
        try (SafetensorsFile f = IoFixtures.open(new SafetensorsWriter().putLongs("l", new long[]{1}, 1)
                .putFloats("f", new float[]{1}, 1).toByteArray())) {
            assertThrows(SafetensorsException.class, () -> f.floats("l"));
            assertThrows(SafetensorsException.class, () -> f.longs("f"));
            assertThrows(SafetensorsException.class, () -> f.info("missing"));
            assertThrows(SafetensorsException.class, () -> f.segment("missing"));
            assertThrows(IllegalArgumentException.class, () -> f.floats("f", new float[1], 1));
            assertFalse(f.contains("missing"));
            f.close();
            SafetensorsException closed = assertThrows(SafetensorsException.class, () -> f.segment("f"));
            assertTrue(closed.getMessage().contains("closed"));
            f.close(); // idempotent
        }
    }

    /**
     * A 5 GB BF16 file (sparse on disk) opens at once: tensors are mapped, not copied, and one larger than a Java
     * array is still addressable through its segment.
     */
    @Test void multiGigabyteFileOpensWithoutCopying() throws IOException {
        long rows = 65_536, cols = 40_000, bigBytes = rows * cols * 2;   // 2.6e9 elements > Integer.MAX_VALUE
        String header = "{\"big\":{\"dtype\":\"BF16\",\"shape\":[" + rows + "," + cols + "],\"data_offsets\":[0," + bigBytes + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[" + bigBytes + "," + (bigBytes + 4) + "]}}";
        byte[] head = IoFixtures.file(header, new byte[0]);
        Path file = dir.resolve("huge.safetensors");
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(head));
            ch.write(java.nio.ByteBuffer.wrap(new byte[]{0, 0, (byte) 0x80, 0x3f}), head.length + bigBytes); // 1.0f, leaves a hole
        }
        long t0 = System.nanoTime();
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertTrue(System.nanoTime() - t0 < 2_000_000_000L, "opening must not read the data");
            assertEquals(bigBytes, f.segment("big").byteSize());
            assertEquals(0, f.segment("big").get(LittleEndian.I16, bigBytes - 2));
            assertArrayEquals(new float[]{1f}, f.floats("tail"));
            SafetensorsException e = assertThrows(SafetensorsException.class, () -> f.floats("big"));
            assertTrue(e.getMessage().contains("too many for one Java array"), e.getMessage());
        }
    }

    /**
     * Tensor data is read from the file's mapping, not copied: the segment is native and (on Linux, where
     * /proc/self/maps tells) its address lies in a mapping of this very file. (It is a plain native segment over the
     * mapping rather than a {@code MappedMemorySegment}, see {@link org.xlstm4j.tensor.HugePages#asPlainNative}.)
     */
    @Test void readsAreBackedByTheMappingNotTheHeap() throws Exception {
        try (SafetensorsFile f = IoFixtures.open(new SafetensorsWriter().putInts("x", new int[]{7, 8}, 2).toByteArray())) {
            MemorySegment s = f.segment("x");
            assertTrue(s.isNative(), "tensor data is off the heap");
            assertTrue(s.isReadOnly(), "tensor data cannot be written through the segment");
            assertEquals(8, s.get(ValueLayout.JAVA_BYTE, 4));
            java.nio.file.Path maps = java.nio.file.Path.of("/proc/self/maps");
            if (java.nio.file.Files.isReadable(maps)) {
                // the fixture deletes the file at once ("… (deleted)" in maps): resolve its folder, which still exists
                java.nio.file.Path p = f.path().toAbsolutePath();
                String file = p.getParent().toRealPath().resolve(p.getFileName()).toString();
                boolean inMapping = java.nio.file.Files.readAllLines(maps).stream().anyMatch(l -> {
                    String[] range = l.split(" ")[0].split("-");
                    long lo = Long.parseUnsignedLong(range[0], 16), hi = Long.parseUnsignedLong(range[1], 16);
                    return l.contains(" " + file) && s.address() >= lo && s.address() < hi;
                });
                assertTrue(inMapping, "the tensor's address lies in a mapping of " + file);
            }
        }
    }
}
