package org.xlstm4j.tokenizer;

/**
 * One entry of {@code added_tokens} in tokenizer.json: a string that becomes a single id wherever it occurs in the
 * text, found before pre-tokenization.
 *
 * @param id         its id
 * @param content    the text it matches
 * @param special    a control token ({@code <|endoftext|>}); decoding can skip these
 * @param singleWord matched only where it is not part of a longer word (no word character right before or after)
 * @param lstrip     the match also takes the whitespace right before it
 * @param rstrip     the match also takes the whitespace right after it
 * @param normalized matched in the normalized text rather than in the raw text
 */
record AddedToken(int id, String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                  boolean normalized) {}
