package org.xlstm4j.tokenizer;

import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cuts text into words before BPE, by a list of steps applied in order (each step cuts every piece the previous one
 * made). A BPE merge never crosses a word boundary.
 */
final class PreTokenizer {
    /**
     * GPT-2's split pattern (ByteLevel with {@code use_regex}): English contractions, letters with an optional leading
     * space, digits likewise, other symbols likewise, then whitespace. {@code \s+(?!\S)} takes a whitespace run except
     * its last character when a word follows, so that character (a space) can lead the next word: "a   b" becomes
     * "a", "  ", " b". Unicode classes, as in the reference: {@code \s} is White_Space, {@code \p{L}} letters,
     * {@code \p{N}} numbers.
     */
    static final String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** One step of pre-tokenization. */
    sealed interface Step permits Isolate, PrefixSpace {}

    /**
     * Every match of the pattern becomes a piece, and so does every non-empty stretch between matches (the
     * {@code Split} pre-tokenizer with behavior {@code Isolated}, and ByteLevel's {@code use_regex}).
     */
    record Isolate(Pattern pattern) implements Step {}

    /** Puts a space in front of a piece that does not start with one (ByteLevel's {@code add_prefix_space}). */
    record PrefixSpace() implements Step {}

    private final Step[] steps;

    PreTokenizer(List<Step> steps) {
        this.steps = steps.toArray(Step[]::new);
    }

    /** Compiles a split pattern with Unicode character classes, which is what the reference's regex engine uses. */
    static Pattern compile(String regex) {
        return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
    }

    /** Hands the words of {@code text} (non-empty) to {@code words}, in order. */
    void split(String text, Consumer<String> words) {
        apply(0, text, words);
    }

    private void apply(int step, String piece, Consumer<String> words) {
        if (step == steps.length) {
            words.accept(piece);
            return;
        }
        switch (steps[step]) {
            case PrefixSpace p -> apply(step + 1, piece.startsWith(" ") ? piece : " " + piece, words);
            case Isolate(Pattern pattern) -> {
                Matcher m = pattern.matcher(piece);
                int last = 0;
                while (m.find()) {
                    if (m.start() > last) apply(step + 1, piece.substring(last, m.start()), words);
                    if (m.end() > m.start()) apply(step + 1, piece.substring(m.start(), m.end()), words);
                    last = m.end();
                }
                if (last < piece.length()) apply(step + 1, last == 0 ? piece : piece.substring(last), words);
            }
        }
    }
}
