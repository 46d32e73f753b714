package org.xlstm4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.xlstm4j.UserError;
import org.xlstm4j.train.BundledCorpus;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** Exact parity with the reference {@code tokenizers} library on the {@code bpe_small} cases, and the lookup API. */
class BpeTokenizerFixtureTest {
    private static final BpeTokenizer TOK = BpeFixtures.tokenizer();

    @TestFactory Stream<DynamicTest> encodesEveryCaseLikeTheReference() {
        return BpeFixtures.cases().stream().map(c -> DynamicTest.dynamicTest("encode " + Arrays.toString(c.text().toCharArray()),
                () -> assertArrayEquals(c.ids(), TOK.encode(c.text()), "ids of \"" + c.text() + "\"")));
    }

    @TestFactory Stream<DynamicTest> decodesEveryCaseLikeTheReference() {
        return BpeFixtures.cases().stream().map(c -> DynamicTest.dynamicTest("decode " + Arrays.toString(c.ids()),
                () -> assertEquals(c.decoded(), TOK.decode(c.ids()), "text of " + Arrays.toString(c.ids()))));
    }

    @Test void theCasesCoverTheHardParts() {
        List<BpeFixtures.Case> cases = BpeFixtures.cases();
        assertTrue(cases.size() >= 12, "all reference cases are loaded");
        assertTrue(cases.stream().anyMatch(c -> c.text().contains(BpeFixtures.EOT_TEXT)), "a special token case");
        assertTrue(cases.stream().anyMatch(c -> c.text().contains("  ")), "a whitespace-run case");
        assertTrue(cases.stream().anyMatch(c -> c.text().codePoints().anyMatch(cp -> cp > 0xFFFF)), "an emoji case");
    }

    @Test void keepsSpecialTokensWhenAsked() {
        for (BpeFixtures.Case c : BpeFixtures.cases())
            assertEquals(c.text(), TOK.decode(c.ids(), false), "every case round-trips when special tokens are kept");
        String text = "x" + BpeFixtures.EOT_TEXT;
        assertEquals("x", TOK.decode(TOK.encode(text)));
        assertEquals(text, TOK.decode(TOK.encode(text), false));
        assertTrue(TOK.isSpecial(BpeFixtures.EOT));
    }

    @Test void vocabSizeIsTheLargestIdPlusOne() {
        int max = BpeFixtures.EOT;
        for (Iterator<Map.Entry<String, JsonNode>> it =
             BpeFixtures.tokenizerJson().path("model").path("vocab").fields(); it.hasNext(); )
            max = Math.max(max, it.next().getValue().asInt());
        assertEquals(max + 1, TOK.vocabSize());
    }

    @Test void looksTokensUpBothWays() {
        BpeFixtures.tokenizerJson().path("model").path("vocab").fields().forEachRemaining(e -> {
            assertEquals(e.getValue().asInt(), TOK.tokenId(e.getKey()).orElseThrow(), e.getKey());
            assertEquals(e.getKey(), TOK.token(e.getValue().asInt()));
        });
        assertEquals(BpeFixtures.EOT, TOK.tokenId(BpeFixtures.EOT_TEXT).orElseThrow());
        assertEquals(BpeFixtures.EOT_TEXT, TOK.token(BpeFixtures.EOT));
        assertTrue(TOK.tokenId("no such token").isEmpty());
        UserError e = assertThrows(UserError.class, () -> TOK.token(TOK.vocabSize()));
        assertTrue(e.getMessage().contains("token id " + TOK.vocabSize()), e.getMessage());
        assertThrows(UserError.class, () -> TOK.token(-1));
        assertThrows(UserError.class, () -> TOK.decode(new int[]{1, TOK.vocabSize()}));
    }

    @Test void spacesAndNewlinesAreSpelledInTheByteAlphabet() {
        // GPT-2's table: a space is U+0120 'Ġ', a newline U+010A 'Ċ'; both are single tokens of the fixture vocabulary.
        assertEquals(" ", TOK.decode(new int[]{TOK.tokenId("Ġ").orElseThrow()}));
        assertEquals("\n", TOK.decode(new int[]{TOK.tokenId("Ċ").orElseThrow()}));
        assertArrayEquals(new int[]{TOK.tokenId("Ċ").orElseThrow()}, TOK.encode("\n"));
    }

    @Test void halfACharacterDecodesToTheReplacementCharacter() {
        int[] emoji = TOK.encode("🙂"); // four UTF-8 bytes; dropping the last token leaves an incomplete sequence
        assertEquals("🙂", TOK.decode(emoji));
        String cut = TOK.decode(Arrays.copyOf(emoji, emoji.length - 1));
        assertEquals("\uFFFD", cut, "an incomplete UTF-8 sequence is one U+FFFD");
    }

    @Test void aLoneSurrogateIsEncodedAsTheReplacementCharacter() {
        // UTF-8 cannot spell an unpaired surrogate; it is tokenized as U+FFFD, the reference cannot take it at all.
        assertArrayEquals(TOK.encode("a\uFFFDb"), TOK.encode("a\uD800b"));
        assertEquals("a\uFFFDb", TOK.decode(TOK.encode("a\uD800b")));
    }

    @Test void veryLongWordsAndWhitespaceRunsStayFast() {
        for (String text : new String[]{"a".repeat(300_000), " ".repeat(300_000) + "x", "!?".repeat(150_000)}) {
            long start = System.nanoTime();
            int[] ids = TOK.encode(text);
            assertEquals(text, TOK.decode(ids));
            assertTrue(System.nanoTime() - start < 5_000_000_000L, "a 300k-character word must not take quadratic time");
        }
    }

    /** The whole King James Bible (4.1 MB): exact round trip, and fast enough to tokenize a training corpus. */
    @Test void encodesAFourMegabyteTextInAFewSeconds() {
        byte[] bytes = toBytes(BundledCorpus.kjv().ids());
        String kjv = new String(bytes, StandardCharsets.UTF_8);
        long start = System.nanoTime();
        int[] ids = TOK.encode(kjv);
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(kjv, TOK.decode(ids));
        assertTrue(seconds < 10, "encoding 4 MB took " + seconds + " s");
        System.out.printf("KJV: %,d bytes -> %,d tokens in %.2f s%n", bytes.length, ids.length, seconds);
    }

    private static byte[] toBytes(int[] byteIds) {
        byte[] b = new byte[byteIds.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) byteIds[i];
        return b;
    }
}
