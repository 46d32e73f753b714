package org.xlstm4j.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link HugePages}: memory from {@link HugePages#allocate} is zeroed, of the size asked, usable and freed with its arena;
 * advising a file mapping, viewing it as a plain native segment and dropping a file from the page cache leave its
 * contents as they are. On Linux with native
 * access (the test JVM has it) the calls must succeed (madvise only where the kernel has transparent huge pages);
 * whether the kernel then backs the memory with 2 MiB pages depends on its settings, which a test cannot rely on.
 */
class HugePagesTest {
    private static final boolean LINUX = System.getProperty("os.name", "").toLowerCase().contains("linux");

    @Test void allocateGivesZeroedAlignedMemoryOfTheSizeAsked() {
        if (!LINUX) assertFalse(HugePages.available(), "only Linux has madvise(MADV_HUGEPAGE)");
        for (long bytes : new long[]{100, (2L << 20) - 1, 2L << 20, (5L << 20) + 12345}) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = HugePages.allocate(bytes, a);
                assertEquals(bytes, s.byteSize());
                assertEquals(0, s.address() % 64, "at least 64-byte aligned");
                if (HugePages.available() && bytes >= 2L << 20) assertEquals(0, s.address() % (2L << 20), "2 MiB aligned");
                for (long i = 0; i < bytes; i += 4093) assertEquals(0, s.get(ValueLayout.JAVA_BYTE, i), "zeroed at " + i);
                s.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
                s.fill((byte) 3);
                assertEquals(3, s.get(ValueLayout.JAVA_BYTE, bytes - 1));
            }
        }
    }

    @Test void adviseAndUncacheKeepTheFileContents(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("w.bin");
        byte[] data = new byte[(6 << 20) + 777];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31 + 7);
        Files.write(f, data);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            ch.force(true);
        }
        assertEquals(HugePages.available(), HugePages.uncache(f), "posix_fadvise accepted where the calls are available");
        assertFalse(HugePages.uncache(dir.resolve("missing.bin")), "a missing file");
        try (Arena a = Arena.ofConfined(); FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, data.length, a);
            if (HugePages.available() && Files.exists(Path.of("/sys/kernel/mm/transparent_hugepage")))
                assertTrue(HugePages.advise(m), "madvise(MADV_HUGEPAGE) accepted by a kernel with transparent huge pages");
            assertFalse(HugePages.advise(MemorySegment.ofArray(new byte[8 << 20])), "a heap segment is not advised");
            MemorySegment plain = HugePages.asPlainNative(m, a);
            assertEquals(m.address(), plain.address());
            assertEquals(m.byteSize(), plain.byteSize());
            assertEquals(HugePages.class.getModule().isNativeAccessEnabled(), !plain.isMapped(), "with native access: a plain native segment over the mapping");
            assertTrue(plain.isNative());
            assertTrue(plain.isReadOnly(), "a read-only mapping stays read-only");
            for (int i = 0; i < data.length; i += 4099) assertEquals(data[i], plain.get(ValueLayout.JAVA_BYTE, i), "byte " + i);
            for (int i = 0; i < data.length; i++)
                if (m.get(ValueLayout.JAVA_BYTE, i) != data[i]) throw new AssertionError("byte " + i + " changed");
        }
        assertTrue(Files.size(f) == data.length);
    }
}
