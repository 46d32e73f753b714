package org.xlstm4j.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Atomic replacement of files and folders: content, no leftovers, the old version kept when writing fails. */
class AtomicFilesTest {
    @TempDir Path dir;

    private List<String> listing(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test void writesAndReplacesFiles() throws IOException {
        Path f = dir.resolve("state.json");
        AtomicFiles.writeString(f, "{\"step\": 1} ü");
        assertEquals("{\"step\": 1} ü", Files.readString(f));
        AtomicFiles.write(f, new byte[]{1, 2, 3});
        assertArrayEquals(new byte[]{1, 2, 3}, Files.readAllBytes(f));
        AtomicFiles.write(f, out -> out.write(ByteBuffer.wrap(new byte[]{9})));
        assertArrayEquals(new byte[]{9}, Files.readAllBytes(f));
        assertEquals(List.of("state.json"), listing(dir));
    }

    @Test void aFailedWriteKeepsTheOldFileAndCleansUp() throws IOException {
        Path f = dir.resolve("keep.txt");
        AtomicFiles.writeString(f, "old");
        IOException boom = new IOException("disk full");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(f, out -> {
            out.write(ByteBuffer.wrap("partial".getBytes()));
            throw boom;
        }));
        assertSame(boom, e);
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("keep.txt"), listing(dir));
    }

    @Test void writingIntoAMissingFolderFails() {
        assertThrows(IOException.class, () -> AtomicFiles.writeString(dir.resolve("nope/x.txt"), "x"));
    }

    @Test void movesAFolderIntoPlaceAndReplacesAnOldOne() throws IOException {
        Path target = dir.resolve("checkpoint-100");
        Path tmp = AtomicFiles.createTempDirectory(target);
        assertEquals(dir, tmp.getParent());
        assertTrue(tmp.getFileName().toString().startsWith(".checkpoint-100.tmp-"));
        Files.writeString(tmp.resolve("a.txt"), "first");
        Files.createDirectory(tmp.resolve("sub"));
        Files.writeString(tmp.resolve("sub/b.txt"), "nested");
        AtomicFiles.moveDirectory(tmp, target);
        assertEquals("first", Files.readString(target.resolve("a.txt")));
        assertEquals("nested", Files.readString(target.resolve("sub/b.txt")));
        assertEquals(List.of("checkpoint-100"), listing(dir));

        Path tmp2 = AtomicFiles.createTempDirectory(target);
        Files.writeString(tmp2.resolve("c.txt"), "second");
        AtomicFiles.moveDirectory(tmp2, target);
        assertEquals(List.of("c.txt"), listing(target), "old content replaced, not merged");
        assertEquals(List.of("checkpoint-100"), listing(dir), "no temporary or backup folder left");
    }

    @Test void deleteRecursively() throws IOException {
        Path d = Files.createDirectories(dir.resolve("x/y"));
        Files.writeString(d.resolve("f"), "1");
        AtomicFiles.deleteRecursively(dir.resolve("x"));
        assertFalse(Files.exists(dir.resolve("x")));
        AtomicFiles.deleteRecursively(dir.resolve("x")); // absent: no error
    }
}
