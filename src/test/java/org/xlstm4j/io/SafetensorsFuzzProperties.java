package org.xlstm4j.io;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Robustness: a valid file with random bytes changed, cut short, extended, or with a random header length either
 * opens (and then every tensor reads) or fails with {@link SafetensorsException}; never another exception, never a hang.
 */
class SafetensorsFuzzProperties {
    /** A small valid file with every dtype and metadata. */
    private static final byte[] VALID = new SafetensorsWriter()
            .metadata("format", "pt")
            .putFloats("w.f32", new float[]{1, -2, 3.5f, 4, 5, 6}, 2, 3)
            .putFloats("w.bf16", DType.BF16, new float[]{0.5f, -1, 2}, 3)
            .putFloats("w.f16", DType.F16, new float[]{7, 8}, 2, 1)
            .putDoubles("w.f64", new double[]{Math.E}, 1)
            .putLongs("i.i64", new long[]{-1, 2}, 2)
            .putInts("i.i32", new int[]{3}, 1, 1)
            .putBytes("i.u8", DType.U8, new byte[]{9, 10}, 2)
            .putBytes("i.bool", DType.BOOL, new byte[]{1}, 1)
            .toByteArray();
    private static final int HEADER_END = 8 + (int) ByteBuffer.wrap(VALID).order(ByteOrder.LITTLE_ENDIAN).getLong(0);

    /** One way of damaging the file, applied with a seed. */
    enum Damage { FLIP_HEADER_BYTES, FLIP_DATA_BYTES, FLIP_ANY_BYTES, SET_HEADER_CHARS, TRUNCATE, EXTEND, INSERT, HEADER_LENGTH }

    @Provide Arbitrary<byte[]> damagedFiles() {
        return Combinators.combine(Arbitraries.of(Damage.class), Arbitraries.longs(), Arbitraries.integers().between(1, 6))
                .as(SafetensorsFuzzProperties::damage);
    }

    static byte[] damage(Damage kind, long seed, int count) {
        Random r = new Random(seed);
        byte[] b = VALID.clone();
        switch (kind) {
            case FLIP_HEADER_BYTES -> { for (int i = 0; i < count; i++) b[8 + r.nextInt(HEADER_END - 8)] ^= (byte) (1 + r.nextInt(255)); }
            case FLIP_DATA_BYTES -> { for (int i = 0; i < count; i++) b[HEADER_END + r.nextInt(b.length - HEADER_END)] = (byte) r.nextInt(256); }
            case FLIP_ANY_BYTES -> { for (int i = 0; i < count; i++) b[r.nextInt(b.length)] = (byte) r.nextInt(256); }
            case SET_HEADER_CHARS -> { // structure-aware: digits, quotes, brackets and commas are where the meaning is
                byte[] alphabet = "0123456789-,[]{}\":eE. F3216BU8IOL".getBytes();
                for (int i = 0; i < count; i++) b[8 + r.nextInt(HEADER_END - 8)] = alphabet[r.nextInt(alphabet.length)];
            }
            case TRUNCATE -> b = Arrays.copyOf(b, r.nextInt(b.length));
            case EXTEND -> {
                int n = b.length;
                b = Arrays.copyOf(b, n + 1 + r.nextInt(64));
                for (int i = n; i < b.length; i++) b[i] = (byte) r.nextInt(256);
            }
            case INSERT -> {
                int at = r.nextInt(b.length), n = 1 + r.nextInt(16);
                byte[] c = new byte[b.length + n];
                System.arraycopy(b, 0, c, 0, at);
                for (int i = 0; i < n; i++) c[at + i] = (byte) r.nextInt(256);
                System.arraycopy(b, at, c, at + n, b.length - at);
                b = c;
            }
            case HEADER_LENGTH -> {
                long[] choices = {r.nextLong(), r.nextInt(b.length + 16), HEADER_END - 8 + r.nextInt(9) - 4, -r.nextInt(10),
                        Long.MAX_VALUE, 100_000_000L};
                ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(0, choices[r.nextInt(choices.length)]);
            }
        }
        return b;
    }

    @Property(tries = 600)
    void damagedFilesLoadFullyOrFailWithSafetensorsException(@ForAll("damagedFiles") byte[] bytes) throws IOException {
        Path tmp = Files.createTempFile("xlstm4j-fuzz", ".safetensors");
        try {
            Files.write(tmp, bytes);
            boolean loaded = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> openAndReadAll(tmp));
            Statistics.label("outcome").collect(loaded ? "loaded" : "rejected");
            Statistics.label("outcome").coverage(c -> {
                c.check("loaded").count(n -> n > 0);   // data-only damage must still load
                c.check("rejected").count(n -> n > 0);
            });
        } finally {
            Files.delete(tmp);
        }
    }

    /** Returns false when the file is rejected with a SafetensorsException, true when it loads and reads. */
    private static boolean openAndReadAll(Path p) {
        SafetensorsFile f;
        try {
            f = SafetensorsFile.open(p);
        } catch (SafetensorsException expected) {
            return false;
        }
        try (f) {
            List<String> names = f.names();
            for (String name : names) {
                TensorInfo t = f.info(name);
                assertEquals(t.byteSize(), f.segment(name).byteSize());
                int n = t.dtype().isFloatingPoint() ? f.floats(name).length : f.longs(name).length;
                assertEquals(t.numel(), n);
            }
        }
        return true;
    }
}
