package org.xlstm4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Crash-safe file replacement: a reader sees either the old file or the complete new one, never a torn write.
 * Content goes to a temporary sibling ({@code .NAME.tmp-RANDOM}, in the same folder so that the final rename stays on
 * one file system), which is flushed to disk (fsync), renamed over the target, and the folder is fsynced so the rename
 * itself survives a power cut. Used for safetensors files and for the trainer's checkpoints.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Writes the content of a file to a channel. */
    @FunctionalInterface
    public interface Content {
        void writeTo(WritableByteChannel out) throws IOException;
    }

    /** Atomically replaces (or creates) {@code target} with what {@code content} writes. The folder must exist. */
    public static void write(Path target, Content content) throws IOException {
        Path tmp = siblingName(target, ".tmp-");
        FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        boolean renamed = false;
        try {
            try (ch) {
                content.writeTo(ch);
                ch.force(true);
            }
            rename(tmp, target);
            renamed = true;
        } finally {
            if (!renamed) Files.deleteIfExists(tmp);
        }
        fsyncDirectory(parentOf(target));
    }

    /** Atomically replaces (or creates) {@code target} with {@code bytes}. */
    public static void write(Path target, byte[] bytes) throws IOException {
        write(target, out -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) out.write(b);
        });
    }

    /** Atomically replaces (or creates) {@code target} with {@code text} encoded as UTF-8. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Creates an empty temporary folder next to {@code target} ({@code .NAME.tmp-RANDOM}) in which to assemble a
     * folder (for example a checkpoint) before {@link #moveDirectory} puts it in place.
     */
    public static Path createTempDirectory(Path target) throws IOException {
        Path tmp = siblingName(target, ".tmp-");
        Files.createDirectory(tmp);
        return tmp;
    }

    /**
     * Moves a fully written folder into place: fsyncs every file and folder in it, renames it to {@code target}, and
     * fsyncs the parent. When {@code target} does not exist this is a single atomic rename. When it exists, the old
     * folder is first renamed aside ({@code .NAME.old-RANDOM}) and deleted after the new one is in place; a crash
     * between the two renames leaves the old folder under that name, never a half-written target.
     */
    public static void moveDirectory(Path tempDir, Path target) throws IOException {
        if (!Files.isDirectory(tempDir)) throw new IOException(tempDir + ": not a folder");
        try (Stream<Path> walk = Files.walk(tempDir)) {
            List<Path> all = walk.sorted(Comparator.reverseOrder()).toList(); // children before their folder
            for (Path p : all) {
                if (Files.isDirectory(p)) fsyncDirectory(p);
                else if (Files.isRegularFile(p)) fsyncFile(p);
            }
        }
        if (!Files.exists(target)) {
            rename(tempDir, target);
        } else {
            Path old = siblingName(target, ".old-");
            rename(target, old);
            try {
                rename(tempDir, target);
            } catch (IOException e) {
                try {
                    rename(old, target); // put the previous version back
                } catch (IOException restore) {
                    e.addSuppressed(restore);
                }
                throw e;
            }
            fsyncDirectory(parentOf(target));
            deleteRecursively(old);
        }
        fsyncDirectory(parentOf(target));
    }

    /** Flushes a folder's entries (creations, renames) to disk; a no-op where the OS cannot open folders (Windows). */
    public static void fsyncDirectory(Path dir) throws IOException {
        if (System.getProperty("os.name", "").startsWith("Windows")) return;
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Deletes a file or a folder with everything in it (no error when absent). */
    public static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) return;
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }

    private static void fsyncFile(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static void rename(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically (different file systems?)", e);
        }
    }

    private static Path parentOf(Path p) {
        Path parent = p.toAbsolutePath().getParent();
        return parent == null ? p.toAbsolutePath().getRoot() : parent;
    }

    private static Path siblingName(Path target, String tag) {
        Path name = target.toAbsolutePath().getFileName();
        if (name == null) throw new IllegalArgumentException("no file name in " + target);
        String random = Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        return parentOf(target).resolve("." + name + tag + random);
    }
}
