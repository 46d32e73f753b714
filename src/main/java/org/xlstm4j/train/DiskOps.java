package org.xlstm4j.train;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Durable file operations used by the trainer: fsync of files and folders, write-then-rename of small files, and
 * recursive delete. A private stand-in until {@code org.xlstm4j.io.AtomicFiles} is available.
 */
final class DiskOps {
    private DiskOps() {}

    /** Flushes a file's contents and metadata to the storage device. */
    static void fsync(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Flushes a folder's entries (so a rename inside it survives a power cut); a no-op where the OS cannot. */
    static void fsyncDir(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Windows cannot open folders as channels; NTFS journals the rename itself.
        }
    }

    /** fsyncs every regular file below {@code dir}, then each folder (deepest first). */
    static void fsyncTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) fsync(p);
                else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) fsyncDir(p);
            }
        }
    }

    /** Writes {@code text} to {@code target} through a temporary sibling, fsync and an atomic rename. */
    static void writeAtomically(Path target, String text) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp-" + randomSuffix());
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            fsync(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
        Path parent = target.toAbsolutePath().getParent();
        if (parent != null) fsyncDir(parent);
    }

    /** Deletes a file or a folder tree; missing is fine. */
    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) Files.deleteIfExists(q);
        }
    }

    /** 16 random hex digits, for temporary names that never collide with another writer's. */
    static String randomSuffix() {
        return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
    }
}
