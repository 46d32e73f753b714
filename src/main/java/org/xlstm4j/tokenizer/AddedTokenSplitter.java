package org.xlstm4j.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.regex.Pattern;

/**
 * Cuts text at the occurrences of added tokens, as the Hugging Face tokenizer does before pre-tokenization. The text
 * is scanned left to right; at the first position where some token occurs, the longest token occurring there is taken
 * and scanning resumes after it. Flags: {@code single_word} drops a match that touches a word character (Unicode
 * {@code \w}) on either side, and scanning resumes after the dropped match; {@code lstrip} / {@code rstrip} let the
 * match swallow the whitespace before / after it (lstrip never reaches back into the previous match).
 *
 * <p>One difference from the reference, in a case no known tokenizer has: after an rstrip match, the reference may
 * start the next match inside the whitespace it swallowed; here scanning resumes after that whitespace.
 */
final class AddedTokenSplitter {
    private static final Pattern WORD_CHAR = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    /** Candidates by first character, longest first. */
    private final Map<Character, AddedToken[]> byFirstChar = new HashMap<>();
    /** First characters of all tokens: a quick test before the map lookup, so plain text costs one bit test a char. */
    private final BitSet firstChars = new BitSet(1 << 16);

    /** A splitter for these tokens (each with non-empty content). */
    AddedTokenSplitter(List<AddedToken> tokens) {
        Map<Character, List<AddedToken>> groups = new HashMap<>();
        for (AddedToken t : tokens) groups.computeIfAbsent(t.content().charAt(0), c -> new ArrayList<>()).add(t);
        groups.forEach((first, group) -> {
            group.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
            byFirstChar.put(first, group.toArray(AddedToken[]::new));
            firstChars.set(first);
        });
    }

    /**
     * Hands the parts of {@code text} over in order: the non-empty stretches between added tokens to
     * {@code textPiece}, and the ids of the added tokens found to {@code tokenId}.
     */
    void split(String text, Consumer<String> textPiece, IntConsumer tokenId) {
        int emitted = 0; // end of what has been handed over
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            AddedToken match = firstChars.get(c) ? longestAt(text, i, byFirstChar.get(c)) : null;
            if (match == null) {
                i++;
                continue;
            }
            int start = i, end = i + match.content().length();
            if (match.singleWord() && touchesWord(text, start, end)) {
                i = end;
                continue;
            }
            if (match.lstrip()) {
                while (start > emitted && isWhiteSpace(text.codePointBefore(start)))
                    start -= Character.charCount(text.codePointBefore(start));
            }
            if (match.rstrip()) {
                while (end < text.length() && isWhiteSpace(text.codePointAt(end)))
                    end += Character.charCount(text.codePointAt(end));
            }
            if (start > emitted) textPiece.accept(text.substring(emitted, start));
            tokenId.accept(match.id());
            emitted = i = end;
        }
        if (emitted < text.length()) textPiece.accept(emitted == 0 ? text : text.substring(emitted));
    }

    private static AddedToken longestAt(String text, int at, AddedToken[] candidates) {
        for (AddedToken t : candidates) if (text.startsWith(t.content(), at)) return t;
        return null;
    }

    private static boolean touchesWord(String text, int start, int end) {
        return start > 0 && isWordChar(text.codePointBefore(start))
                || end < text.length() && isWordChar(text.codePointAt(end));
    }

    private static boolean isWordChar(int cp) {
        return WORD_CHAR.matcher(Character.toString(cp)).matches();
    }

    /** The Unicode White_Space property (Java's {@link Character#isWhitespace} differs on no-break spaces). */
    static boolean isWhiteSpace(int cp) {
        return cp >= 0x09 && cp <= 0x0D || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                || cp >= 0x2000 && cp <= 0x200A || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                || cp == 0x3000;
    }
}
