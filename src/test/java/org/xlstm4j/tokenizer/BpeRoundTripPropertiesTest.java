package org.xlstm4j.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.CharRange;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Properties over random text: decoding inverts encoding (exactly, or up to NFC when the tokenizer normalizes), added
 * tokens are cut out before pre-tokenization, and equivalent ways of writing the same tokenizer.json give equal ids.
 */
class BpeRoundTripPropertiesTest {
    private static final Path DIR = tempDir();
    private static final BpeTokenizer PLAIN = BpeFixtures.tokenizer();
    private static final BpeTokenizer NFC = BpeFixtures.load(DIR, "nfc.json",
            json -> json.putObject("normalizer").put("type", "NFC"));
    private static final BpeTokenizer NFC_IN_SEQUENCE = BpeFixtures.load(DIR, "nfc-seq.json",
            json -> json.putObject("normalizer").put("type", "Sequence").putArray("normalizers").addObject().put("type", "NFC"));
    /** The GPT-2 split written as a Split step before a ByteLevel without regex, as newer files do. */
    private static final BpeTokenizer SPLIT_THEN_BYTE_LEVEL = BpeFixtures.load(DIR, "split.json", json -> {
        ObjectNode pre = json.putObject("pre_tokenizer").put("type", "Sequence");
        ArrayNode steps = pre.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split").put("behavior", "Isolated").put("invert", false);
        split.putObject("pattern").put("Regex", PreTokenizer.GPT2_PATTERN);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                .put("use_regex", false);
    });
    /** Merges written as "a b" strings instead of [a, b] pairs. */
    private static final BpeTokenizer STRING_MERGES = BpeFixtures.load(DIR, "merges.json", json -> {
        ArrayNode merges = (ArrayNode) json.path("model").path("merges");
        for (int i = 0; i < merges.size(); i++)
            if (merges.get(i).isArray()) merges.set(i, merges.get(i).get(0).asText() + " " + merges.get(i).get(1).asText());
    });


    static {                                   // the tokenizers above are in memory: their files are no longer needed
        try (var files = Files.list(DIR)) {
            for (Path f : files.toList()) Files.delete(f);
            Files.delete(DIR);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("bpe-props");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- generators ----

    /** Random Unicode text: ASCII, Latin letters, combining marks, CJK, emoji, odd whitespace and any code point. */
    @Provide Arbitrary<String> unicode() {
        Arbitrary<Integer> codePoint = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(0x20, 0x7E)),
                Tuple.of(3, Arbitraries.integers().between(0xA0, 0x24F)),
                Tuple.of(3, Arbitraries.integers().between(0x300, 0x36F)),       // combining marks
                Tuple.of(2, Arbitraries.integers().between(0x4E00, 0x9FFF)),     // CJK
                Tuple.of(2, Arbitraries.integers().between(0x1F300, 0x1FAFF)),   // emoji
                Tuple.of(2, Arbitraries.of(0x09, 0x0A, 0x0D, 0x0B, 0x0C, 0x85, 0xA0, 0x2028, 0x3000, 0x200D, 0xFE0F)),
                Tuple.of(2, Arbitraries.integers().between(0, 0x10FFFF)
                        .filter(cp -> cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE)));
        return codePoint.list().ofMaxSize(40).map(cps -> {
            StringBuilder sb = new StringBuilder();
            cps.forEach(sb::appendCodePoint);
            return sb.toString();
        });
    }

    @Provide Arbitrary<String> whitespaceRuns() {
        return Arbitraries.of(" ", "  ", "   ", "\t", "\n", "\r\n", "\u00A0", "\u3000", "a", "b1", "'s", ".")
                .list().ofMaxSize(25).map(parts -> String.join("", parts));
    }

    /** Text fragments joined by the special token, with look-alike fragments of it too. */
    @Provide Arbitrary<List<String>> piecesAroundSpecialTokens() {
        Arbitrary<String> piece = Arbitraries.oneOf(unicode(), Arbitraries.of("", " ", "<|", "<|endof", "endoftext|>", "<|<|"));
        return piece.list().ofMinSize(1).ofMaxSize(6);
    }

    // ---- properties ----

    @Property void unicodeRoundTripsExactly(@ForAll("unicode") String text) {
        Assume.that(!text.contains(BpeFixtures.EOT_TEXT));
        assertEquals(text, PLAIN.decode(PLAIN.encode(text)));
    }

    @Property void asciiRoundTripsExactly(@ForAll @CharRange(from = 0, to = 127) String text) {
        Assume.that(!text.contains(BpeFixtures.EOT_TEXT));
        assertEquals(text, PLAIN.decode(PLAIN.encode(text)));
    }

    @Property void whitespaceRunsRoundTripExactly(@ForAll("whitespaceRuns") String text) {
        assertEquals(text, PLAIN.decode(PLAIN.encode(text)));
    }

    @Property void specialTokensAreCutOutBeforePreTokenization(@ForAll("piecesAroundSpecialTokens") List<String> pieces) {
        String text = String.join(BpeFixtures.EOT_TEXT, pieces);
        int[] ids = PLAIN.encode(text);
        assertEquals(text, PLAIN.decode(ids, false), "kept");
        assertEquals(text.replace(BpeFixtures.EOT_TEXT, ""), PLAIN.decode(ids), "skipped");
        String[] parts = text.split(Pattern.quote(BpeFixtures.EOT_TEXT), -1);
        int[] expected = PLAIN.encode(parts[0]);
        for (int i = 1; i < parts.length; i++)
            expected = BpeFixtures.concat(expected, new int[]{BpeFixtures.EOT}, PLAIN.encode(parts[i]));
        assertArrayEquals(expected, ids);
    }

    @Property void nfcTokenizerEncodesTheNfcForm(@ForAll("unicode") String text) {
        Assume.that(!text.contains(BpeFixtures.EOT_TEXT));
        String nfc = Normalizer.normalize(text, Normalizer.Form.NFC);
        int[] ids = NFC.encode(text);
        assertEquals(nfc, NFC.decode(ids));
        assertArrayEquals(PLAIN.encode(nfc), ids);
        assertArrayEquals(ids, NFC_IN_SEQUENCE.encode(text));
    }

    @Property void splitThenByteLevelEqualsByteLevelWithItsRegex(@ForAll("unicode") String text) {
        assertArrayEquals(PLAIN.encode(text), SPLIT_THEN_BYTE_LEVEL.encode(text));
    }

    @Property(tries = 300) void mergesAsStringsEqualMergesAsPairs(@ForAll("unicode") String text) {
        assertArrayEquals(PLAIN.encode(text), STRING_MERGES.encode(text));
    }
}
