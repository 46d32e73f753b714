package org.xlstm4j.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Test helpers: where the copied official fixtures are, and how to build raw safetensors bytes by hand. */
final class IoFixtures {
    private IoFixtures() {}

    /** A folder under src/test/resources/fixtures (copied from the official fixtures). */
    static Path fixture(String folder) {
        return org.xlstm4j.Fixtures.fixture(folder);
    }

    /** Every *.safetensors file in the fixtures, sorted. */
    static List<Path> allSafetensorsFiles() {
        try (Stream<Path> s = Files.walk(fixture(""))) {
            return s.filter(p -> p.toString().endsWith(".safetensors")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A file: 8-byte little-endian length of {@code header}, the header's UTF-8 bytes, then {@code data}. */
    static byte[] file(String header, byte[] data) {
        return file(header.getBytes(StandardCharsets.UTF_8), data);
    }

    static byte[] file(byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    /** The header of a file as text (without padding removed). */
    static String headerText(byte[] file) {
        long n = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return new String(file, 8, (int) n, StandardCharsets.UTF_8);
    }

    /** Opens bytes as a safetensors file (through a temporary file that is deleted at once; the mapping stays). */
    static SafetensorsFile open(byte[] bytes) {
        try {
            Path tmp = Files.createTempFile("xlstm4j-test", ".safetensors");
            try {
                Files.write(tmp, bytes);
                return SafetensorsFile.open(tmp);
            } finally {
                Files.delete(tmp);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
