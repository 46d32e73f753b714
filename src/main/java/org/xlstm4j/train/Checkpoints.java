package org.xlstm4j.train;

import org.xlstm4j.UserError;
import org.xlstm4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * The crash-safe checkpoint folder {@code <run>/checkpoint}.
 *
 * <p>Writing ({@link #write}), with {@link AtomicFiles}: the contents go into a fresh
 * {@code <run>/.checkpoint.tmp-<random>}; every file and folder in it is fsynced; the current {@code checkpoint} (if
 * any) is renamed to {@code .checkpoint.old-<random>}; the new folder is renamed to {@code checkpoint}; the run folder
 * is fsynced; the old folder is deleted. Renames within one folder are atomic, so at every moment a complete
 * checkpoint exists on disk: until the second rename the old one (as {@code checkpoint} or {@code .checkpoint.old-*}),
 * after it the new one.
 *
 * <p>Recovery ({@link #latest}): if {@code checkpoint} is missing but a {@code .checkpoint.old-*} exists, the crash
 * hit between the two renames and the old folder is renamed back (the new one is discarded). Leftover
 * {@code .checkpoint.tmp-*} folders (possibly partial) and, once {@code checkpoint} exists, {@code .checkpoint.old-*}
 * folders are deleted.
 */
public final class Checkpoints {
    /** Name of the checkpoint folder inside a run folder. */
    public static final String DIR = "checkpoint";
    /** Optimizer state file inside a checkpoint folder. */
    public static final String OPTIMIZER = "optimizer.safetensors";
    private static final String TMP = "." + DIR + ".tmp-", OLD = "." + DIR + ".old-";   // AtomicFiles' sibling names

    private Checkpoints() {}

    /** Fills a new, empty checkpoint folder. */
    @FunctionalInterface
    public interface Contents {
        void writeInto(Path dir) throws IOException;
    }

    /** Atomically replaces {@code <runDir>/checkpoint} with a folder filled by {@code contents}; returns its path. */
    public static Path write(Path runDir, Contents contents) throws IOException {
        Path target = runDir.resolve(DIR);
        Path tmp = AtomicFiles.createTempDirectory(target);
        try {
            contents.writeInto(tmp);
            AtomicFiles.moveDirectory(tmp, target);
        } catch (IOException | RuntimeException e) {
            AtomicFiles.deleteRecursively(tmp);
            throw e;
        }
        return target;
    }

    /**
     * Completes an interrupted checkpoint write if needed (see the class comment) and returns
     * {@code <runDir>/checkpoint}; a {@link UserError} when the run folder has no checkpoint.
     */
    public static Path latest(Path runDir) {
        if (!Files.isDirectory(runDir)) throw new UserError(runDir + ": no such run folder");
        try {
            recover(runDir);
        } catch (IOException e) {
            throw new UserError(runDir + ": cannot recover the checkpoint: " + e.getMessage(), e);
        }
        Path target = runDir.resolve(DIR);
        if (!Files.isDirectory(target)) throw new UserError(runDir + ": has no checkpoint folder to resume from");
        return target;
    }

    /** Whether {@code runDir} holds a checkpoint (or the remains of one that recovery would restore). */
    public static boolean exists(Path runDir) throws IOException {
        if (Files.isDirectory(runDir.resolve(DIR))) return true;
        for (Path p : list(runDir)) if (p.getFileName().toString().startsWith(OLD)) return true;
        return false;
    }

    static void recover(Path runDir) throws IOException {
        Path target = runDir.resolve(DIR);
        List<Path> entries = list(runDir);
        if (!Files.exists(target)) {
            for (Path p : entries) {
                if (p.getFileName().toString().startsWith(OLD)) {
                    Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
                    AtomicFiles.fsyncDirectory(runDir);
                    break;
                }
            }
        }
        for (Path p : entries) {
            String name = p.getFileName().toString();
            if (name.startsWith(TMP) || name.startsWith(OLD)) AtomicFiles.deleteRecursively(p);
        }
    }

    private static List<Path> list(Path runDir) throws IOException {
        if (!Files.isDirectory(runDir)) return List.of();
        try (Stream<Path> s = Files.list(runDir)) {
            return s.sorted().toList();
        }
    }
}
