package org.xlstm4j.tokenizer;

import org.xlstm4j.UserError;
import org.xlstm4j.train.Tokens;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A text file tokenized by a {@link BpeTokenizer}, for training on BPE ids. The whole file is encoded as one text
 * (added tokens written in it are recognised; invalid UTF-8 is read as U+FFFD). Its {@link #source()} is
 * {@code file:<absolute text path>|tokenizer:<absolute tokenizer.json path>}, which {@link #open(String)} reopens.
 */
public final class BpeTokens implements Tokens {
    private static final String FILE = "file:", TOKENIZER = "|tokenizer:";

    private final int[] ids;
    private final int vocabSize;
    private final String source;
    private final double bytesPerToken;

    private BpeTokens(int[] ids, int vocabSize, String source, double bytesPerToken) {
        this.ids = ids;
        this.vocabSize = vocabSize;
        this.source = source;
        this.bytesPerToken = bytesPerToken;
    }

    /** Tokenizes a text file; a missing, unreadable or empty file is a {@link UserError}. */
    public static BpeTokens fromFile(Path textFile, BpeTokenizer tokenizer) {
        Path abs = textFile.toAbsolutePath().normalize();
        byte[] bytes = readText(textFile, abs);
        int[] ids = tokenizer.encode(new String(bytes, StandardCharsets.UTF_8));
        return new BpeTokens(ids, tokenizer.vocabSize(), FILE + abs + TOKENIZER + tokenizer.path(),
                (double) bytes.length / ids.length);
    }

    /** Tokenizes a text file with the tokenizer read from {@code tokenizerJson}. */
    public static BpeTokens fromFile(Path textFile, Path tokenizerJson) {
        return fromFile(textFile, BpeTokenizer.load(tokenizerJson));
    }

    /** Reopens a corpus by its {@link #source()}. */
    public static BpeTokens open(String source) {
        int cut = source.lastIndexOf(TOKENIZER);
        if (!source.startsWith(FILE) || cut < 0)
            throw new UserError("cannot reopen BPE training data '" + source + "': expected file:<text>|tokenizer:<json>");
        return fromFile(Path.of(source.substring(FILE.length(), cut)), Path.of(source.substring(cut + TOKENIZER.length())));
    }

    private static byte[] readText(Path file, Path abs) {
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
        return bytes;
    }

    @Override public int vocabSize() { return vocabSize; }
    @Override public int[] ids() { return ids; }
    @Override public String source() { return source; }
    /** The file's size in bytes divided by its number of tokens. */
    @Override public double bytesPerToken() { return bytesPerToken; }
}
