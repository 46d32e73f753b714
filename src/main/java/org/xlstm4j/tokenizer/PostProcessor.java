package org.xlstm4j.tokenizer;

/**
 * What the post-processor adds around the ids of one encoded text: the {@code single} template of
 * {@code TemplateProcessing} (for example a BOS id before the text), or nothing (the {@code ByteLevel} post-processor,
 * which only adjusts character offsets, or none at all).
 *
 * @param prefix ids put before the text's ids
 * @param suffix ids put after them
 */
record PostProcessor(int[] prefix, int[] suffix) {
    /** Adds nothing. */
    static final PostProcessor NONE = new PostProcessor(new int[0], new int[0]);
}
