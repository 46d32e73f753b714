package org.xlstm4j.tokenizer;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * GPT-2's split pattern, checked against a hand-written scanner that follows the pattern's alternatives one by one
 * (first alternative that matches wins, each greedy), so the regex translation and its Unicode classes are pinned.
 */
class PreTokenizerTest {
    private static final PreTokenizer GPT2 =
            new PreTokenizer(List.of(new PreTokenizer.Isolate(PreTokenizer.compile(PreTokenizer.GPT2_PATTERN))));

    private static List<String> split(PreTokenizer pre, String text) {
        List<String> words = new ArrayList<>();
        pre.split(text, words::add);
        return words;
    }

    @Test void whitespaceBeforeAWordLeavesItsLastSpaceToTheWord() {
        assertEquals(List.of("a", "  ", " b"), split(GPT2, "a   b"));
        assertEquals(List.of("a", "\t", "b"), split(GPT2, "a\tb"), "one non-space whitespace: \\s+ takes it alone");
        assertEquals(List.of("a", "\n", " b"), split(GPT2, "a\n b"));
        assertEquals(List.of("a", "   "), split(GPT2, "a   "), "trailing whitespace stays together");
        assertEquals(List.of("don", "'t", " it", "'s"), split(GPT2, "don't it's"));
        assertEquals(List.of(" 12", ",", "000", " ?!", "é"), split(GPT2, " 12,000 ?!é"));
    }

    @Test void prefixSpaceIsAddedOncePerPiece() {
        PreTokenizer pre = new PreTokenizer(List.of(new PreTokenizer.PrefixSpace(),
                new PreTokenizer.Isolate(PreTokenizer.compile(PreTokenizer.GPT2_PATTERN))));
        assertEquals(List.of(" hello", " world"), split(pre, "hello world"));
        assertEquals(List.of(" hello"), split(pre, " hello"));
    }

    @Provide Arbitrary<String> tricky() {
        return Arbitraries.of("a", "Z", "é", "中", "1", "٣", "½", "'", "'s", "'ll", "'ve", "'re", "'d", "'m", "'t", "!",
                        ".", "_", "🙂", " ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "\u2028", "\u0085", "\u000B",
                        "\u001C", "e\u0301")
                .list().ofMaxSize(30).map(parts -> String.join("", parts));
    }

    @Property(tries = 2000) void regexAgreesWithAHandWrittenScanner(@ForAll("tricky") String text) {
        assertEquals(scan(text), split(GPT2, text));
    }

    // ---- the reference scanner: the pattern's alternatives, written out by hand ----

    private static final String[] CONTRACTIONS = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};

    private static List<String> scan(String s) {
        List<String> words = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            int end = matchAt(s, i);
            words.add(s.substring(i, end));
            i = end;
        }
        return words;
    }

    private static int matchAt(String s, int i) {
        for (String c : CONTRACTIONS) if (s.startsWith(c, i)) return i + c.length();
        for (Kind kind : new Kind[]{Kind.LETTER, Kind.NUMBER, Kind.OTHER}) {  // ' ?X+' for the three classes
            int start = s.startsWith(" ", i) && i + 1 < s.length() && kind.test(s.codePointAt(i + 1)) ? i + 1 : i;
            int end = run(s, start, kind);
            if (end > start) return end;
        }
        int end = run(s, i, Kind.SPACE);                                   // \s+(?!\S), then \s+
        if (end == s.length()) return end;
        return end - i >= 2 ? end - 1 : end;
    }

    private static int run(String s, int i, Kind kind) {
        while (i < s.length() && kind.test(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
        return i;
    }

    private enum Kind {
        LETTER, NUMBER, SPACE, OTHER;

        boolean test(int cp) {
            boolean letter = Character.isLetter(cp);
            int t = Character.getType(cp);
            boolean number = t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
            boolean space = cp >= 9 && cp <= 13 || cp == ' ' || cp == 0x85 || cp == 0xA0 || cp == 0x1680
                    || cp >= 0x2000 && cp <= 0x200A || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F
                    || cp == 0x3000; // Unicode White_Space
            return switch (this) {
                case LETTER -> letter;
                case NUMBER -> number;
                case SPACE -> space;
                case OTHER -> !letter && !number && !space;
            };
        }
    }

    @Test void splitPatternsOfNewerFilesCompileAndCoverTheText() {
        // The Llama-3 style pattern uses (?i:...), \p{..} classes and counted repeats.
        Pattern p = PreTokenizer.compile("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
                + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
        PreTokenizer pre = new PreTokenizer(List.of(new PreTokenizer.Isolate(p)));
        String text = "I'M 1234 x\r\n\n  y";
        List<String> words = split(pre, text);
        assertEquals(text, String.join("", words));
        assertEquals(List.of("123", "4"), words.subList(3, 5), "digits in groups of three: " + words);
    }
}
