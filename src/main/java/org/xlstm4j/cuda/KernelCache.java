package org.xlstm4j.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The on-disk cache of compiled kernels: {@code <dir>/<sha256>.cubin}, the hash over the source, the compiler
 * options, the driver's and NVRTC's versions and the device architecture, so that any change compiles anew. Files
 * are written atomically (a temporary file in the same directory, then a rename), so concurrent processes never
 * read a partial file. The directory is {@code $XLSTM4J_CUDA_CACHE}, else {@code $XDG_CACHE_HOME/xlstm4j/cuda}, else
 * {@code ~/.cache/xlstm4j/cuda}.
 */
public final class KernelCache {
    private final Path dir;

    public KernelCache(Path dir) {
        this.dir = dir;
    }

    /** The cache in the default directory for this process's environment. */
    public static KernelCache defaultCache() {
        return new KernelCache(defaultDir(System.getenv(), System.getProperty("user.home")));
    }

    static Path defaultDir(Map<String, String> env, String home) {
        String own = env.get("XLSTM4J_CUDA_CACHE");
        if (own != null && !own.isBlank()) return Path.of(own);
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) return Path.of(xdg, "xlstm4j", "cuda");
        return Path.of(home, ".cache", "xlstm4j", "cuda");
    }

    public Path dir() {
        return dir;
    }

    /** The cache key (64 hex digits) of a compilation. */
    public static String key(String source, List<String> options, String driverVersion, String compilerVersion, String arch) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            // length-prefixed fields, so that no two different inputs hash the same concatenation
            for (String s : List.of(source, String.join("\u0000", options), driverVersion, compilerVersion, arch)) {
                byte[] b = s.getBytes(StandardCharsets.UTF_8);
                md.update((b.length + ":").getBytes(StandardCharsets.US_ASCII));
                md.update(b);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from this Java runtime", e);
        }
    }

    /** The file of a key. */
    public Path file(String key) {
        if (!key.matches("[0-9a-f]{64}")) throw new IllegalArgumentException("KernelCache: bad key " + key);
        return dir.resolve(key + ".cubin");
    }

    /** The cached image of {@code key}, if present. */
    public Optional<byte[]> read(String key) {
        try {
            return Optional.of(Files.readAllBytes(file(key)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("KernelCache: cannot read " + file(key) + ": " + e.getMessage(), e);
        }
    }

    /** Stores {@code image} under {@code key}: temporary file + atomic rename. */
    public void write(String key, byte[] image) {
        Path target = file(key);
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, key.substring(0, 16) + ".", ".tmp");
            Files.write(tmp, image);
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            UncheckedIOException failure = new UncheckedIOException("KernelCache: cannot write " + target + ": " + e.getMessage(), e);
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException cleanup) {
                    failure.addSuppressed(cleanup);
                }
            }
            throw failure;
        }
    }
}
