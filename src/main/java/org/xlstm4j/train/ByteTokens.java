package org.xlstm4j.train;

import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Byte-level tokens: each byte of the UTF-8 text is one id in [0, 256). */
public final class ByteTokens implements Tokens {
    /** The vocabulary size of byte-level tokens. */
    public static final int VOCAB = 256;
    private final int[] ids;
    private final String source;

    private ByteTokens(int[] ids, String source) {
        this.ids = ids;
        this.source = source;
    }

    /** Tokens of the given bytes; {@code source} names them in messages and checkpoints. */
    public static ByteTokens of(byte[] bytes, String source) {
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xff;
        return new ByteTokens(ids, source);
    }

    /** Reads a text file; a missing, unreadable or empty file is a {@link UserError}. */
    public static ByteTokens fromFile(Path file) {
        Path abs = file.toAbsolutePath().normalize();
        if (Files.isDirectory(abs)) throw new UserError(file + ": is a folder, expected a text file");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(abs);
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new UserError(file + ": permission denied");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
        if (bytes.length == 0) throw new UserError(file + ": file is empty");
        return of(bytes, "file:" + abs);
    }

    /**
     * Reopens a byte-level corpus by its {@link #source()}: {@code file:<path>}, or {@code bundled:kjv} (see
     * {@link BundledCorpus}).
     */
    public static ByteTokens open(String source) {
        if (source.startsWith("file:")) return fromFile(Path.of(source.substring(5)));
        if (source.equals(BundledCorpus.KJV)) return BundledCorpus.kjv();
        throw new UserError("cannot reopen training data '" + source + "': pass the data explicitly");
    }

    @Override public int vocabSize() { return VOCAB; }
    @Override public int[] ids() { return ids; }
    @Override public String source() { return source; }
    @Override public double bytesPerToken() { return 1; }
}
