package org.xlstm4j.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The compiled-kernel cache: key, file naming, atomic write, directory choice. */
class KernelCacheTest {
    private static final List<String> OPTS = List.of("--gpu-architecture=sm_90", "-default-device", "--std=c++17");

    @Test void keyIsSha256HexAndCoversEveryInput() {
        String k = KernelCache.key("src", OPTS, "13000", "13.0", "sm_90");
        assertTrue(k.matches("[0-9a-f]{64}"), k);
        assertEquals(k, KernelCache.key("src", OPTS, "13000", "13.0", "sm_90"));
        assertNotEquals(k, KernelCache.key("src ", OPTS, "13000", "13.0", "sm_90"));
        assertNotEquals(k, KernelCache.key("src", List.of("--gpu-architecture=sm_80"), "13000", "13.0", "sm_90"));
        assertNotEquals(k, KernelCache.key("src", OPTS, "12080", "13.0", "sm_90"));
        assertNotEquals(k, KernelCache.key("src", OPTS, "13000", "12.9", "sm_90"));
        assertNotEquals(k, KernelCache.key("src", OPTS, "13000", "13.0", "sm_100"));
        // field boundaries matter: moving text between fields changes the key
        assertNotEquals(KernelCache.key("ab", OPTS, "1", "2", "3"), KernelCache.key("a", OPTS, "b1", "2", "3"));
    }

    @Test void fileNameIsKeyDotCubin(@TempDir Path dir) {
        KernelCache c = new KernelCache(dir);
        String k = KernelCache.key("x", OPTS, "1", "2", "sm_90");
        assertEquals(dir.resolve(k + ".cubin"), c.file(k));
        assertThrows(IllegalArgumentException.class, () -> c.file("../escape"));
    }

    @Test void writeThenReadRoundTripsAtomically(@TempDir Path dir) throws Exception {
        KernelCache c = new KernelCache(dir.resolve("nested/cache"));
        String k = KernelCache.key("y", OPTS, "1", "2", "sm_90");
        assertTrue(c.read(k).isEmpty());
        byte[] img = {1, 2, 3, 4, 5};
        c.write(k, img);
        assertArrayEquals(img, c.read(k).orElseThrow());
        byte[] img2 = {9, 8};
        c.write(k, img2);                                   // replacing is fine too
        assertArrayEquals(img2, c.read(k).orElseThrow());
        try (Stream<Path> s = Files.list(c.dir())) {
            assertEquals(List.of(k + ".cubin"), s.map(p -> p.getFileName().toString()).toList(), "no temporary files left");
        }
    }

    @Test void defaultDirectoryFollowsTheEnvironment() {
        assertEquals(Path.of("/x/own"), KernelCache.defaultDir(Map.of("XLSTM4J_CUDA_CACHE", "/x/own", "XDG_CACHE_HOME", "/x/xdg"), "/home/u"));
        assertEquals(Path.of("/x/xdg/xlstm4j/cuda"), KernelCache.defaultDir(Map.of("XDG_CACHE_HOME", "/x/xdg"), "/home/u"));
        assertEquals(Path.of("/home/u/.cache/xlstm4j/cuda"), KernelCache.defaultDir(Map.of(), "/home/u"));
    }
}
