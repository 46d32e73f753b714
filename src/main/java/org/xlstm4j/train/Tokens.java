package org.xlstm4j.train;

/**
 * A tokenized corpus: ids in {@code [0, vocabSize())}, in text order. {@link ByteTokens} gives UTF-8 bytes (vocab
 * 256); a BPE tokenizer implements this interface to supply its own ids.
 */
public interface Tokens {
    /** Number of distinct ids; every id is below it. */
    int vocabSize();

    /** The whole corpus as ids (not copied; callers must not modify it). */
    int[] ids();

    /**
     * Where the corpus came from, recorded in checkpoints: {@code file:<absolute path>}, {@code bundled:<name>}, or a
     * free description when the corpus cannot be reopened by name.
     */
    String source();

    /** Average UTF-8 bytes per token (1 for byte-level), used for bits per byte; NaN when unknown. */
    default double bytesPerToken() { return Double.NaN; }
}
