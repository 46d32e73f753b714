package org.xlstm4j.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.tokenizer.BpeFixtures.concat;

/**
 * Added tokens and post-processors, on variants of the reference fixture. Expectations are built from the fixture
 * tokenizer itself: an added token must behave as "encode the text on each side, with the token's id in between".
 */
class AddedTokensTest {
    private static final BpeTokenizer PLAIN = BpeFixtures.tokenizer();
    private static final int NEXT = PLAIN.vocabSize();

    @TempDir Path dir;

    private BpeTokenizer withToken(String content, boolean special, boolean singleWord, boolean lstrip, boolean rstrip,
                                   boolean normalized) {
        return BpeFixtures.load(dir, "t.json",
                json -> BpeFixtures.addToken(json, NEXT, content, special, singleWord, lstrip, rstrip, normalized));
    }

    private static int[] ids(int... ids) {
        return ids;
    }

    @Test void anAddedTokenIsOneIdBetweenTheEncodingsOfItsSides() {
        BpeTokenizer tok = withToken("<sep>", true, false, false, false, false);
        assertEquals(NEXT + 1, tok.vocabSize());
        assertArrayEquals(concat(PLAIN.encode("ab "), ids(NEXT), PLAIN.encode(" cd")), tok.encode("ab <sep> cd"));
        assertEquals("ab  cd", tok.decode(tok.encode("ab <sep> cd")));
        assertEquals("ab <sep> cd", tok.decode(tok.encode("ab <sep> cd"), false));
    }

    @Test void lstripTakesTheWhitespaceBeforeButNotPastThePreviousToken() {
        BpeTokenizer tok = withToken("<L>", true, false, true, false, false);
        assertArrayEquals(concat(PLAIN.encode("ab"), ids(NEXT), PLAIN.encode("cd")), tok.encode("ab \t <L>cd"));
        assertArrayEquals(concat(ids(NEXT, NEXT), PLAIN.encode("x ")), tok.encode("<L>  <L>x "));
    }

    @Test void rstripTakesTheWhitespaceAfter() {
        BpeTokenizer tok = withToken("<R>", true, false, false, true, false);
        assertArrayEquals(concat(PLAIN.encode("ab "), ids(NEXT), PLAIN.encode("cd")), tok.encode("ab <R> \n cd"));
    }

    @Test void singleWordMatchesOnlyOutsideWords() {
        BpeTokenizer tok = withToken("<W>", true, true, false, false, false);
        assertArrayEquals(concat(PLAIN.encode("a "), ids(NEXT), PLAIN.encode("!")), tok.encode("a <W>!"));
        for (String inside : new String[]{"a<W> b", "a <W>b", "_<W>", "中<W>", "<W>é", "3<W>"})
            assertArrayEquals(PLAIN.encode(inside), tok.encode(inside), inside);
    }

    @Test void theLongestTokenStartingAtTheFirstMatchWins() {
        BpeTokenizer tok = BpeFixtures.load(dir, "two.json", json -> {
            BpeFixtures.addToken(json, NEXT, "ab", false, false, false, false, false);
            BpeFixtures.addToken(json, NEXT + 1, "abc", false, false, false, false, false);
            BpeFixtures.addToken(json, NEXT + 2, "bcd", false, false, false, false, false);
        });
        assertArrayEquals(concat(PLAIN.encode("x"), ids(NEXT + 1), PLAIN.encode("dx")), tok.encode("xabcdx"));
        assertArrayEquals(concat(PLAIN.encode("x"), ids(NEXT), PLAIN.encode("x")), tok.encode("xabx"));
        assertArrayEquals(concat(PLAIN.encode("x"), ids(NEXT + 2)), tok.encode("xbcd"));
    }

    @Test void nonSpecialAddedTokensStayWhenSpecialOnesAreSkipped() {
        BpeTokenizer tok = withToken("  ", false, false, false, false, true); // GPT-NeoX has runs of spaces as added tokens
        int[] ids = tok.encode("a  b");
        assertArrayEquals(concat(PLAIN.encode("a"), ids(NEXT), PLAIN.encode("b")), ids);
        assertEquals("a  b", tok.decode(ids), "a token outside the byte alphabet decodes to its own UTF-8");
        assertFalse(tok.isSpecial(NEXT));
    }

    @Test void normalizedTokensAreFoundInTheNfcText() {
        Consumer<ObjectNode> nfc = json -> json.putObject("normalizer").put("type", "NFC");
        BpeTokenizer plainNfc = BpeFixtures.load(dir, "nfc.json", nfc);
        BpeTokenizer normalized = BpeFixtures.load(dir, "n.json", nfc.andThen(
                json -> BpeFixtures.addToken(json, NEXT, "é", false, false, false, false, true)));
        BpeTokenizer raw = BpeFixtures.load(dir, "r.json", nfc.andThen(
                json -> BpeFixtures.addToken(json, NEXT, "é", false, false, false, false, false)));
        String decomposed = "cafe\u0301";
        assertArrayEquals(concat(PLAIN.encode("caf"), ids(NEXT)), normalized.encode(decomposed));
        assertArrayEquals(plainNfc.encode(decomposed), raw.encode(decomposed), "the raw text has no é");
        assertArrayEquals(concat(PLAIN.encode("caf"), ids(NEXT)), raw.encode("café"));
    }

    @Test void templatePostProcessorPutsIdsAroundTheText() {
        Consumer<ObjectNode> template = json -> {
            ObjectNode post = json.putObject("post_processor").put("type", "TemplateProcessing");
            ArrayNode single = post.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", BpeFixtures.EOT_TEXT).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            single.addObject().putObject("SpecialToken").put("id", BpeFixtures.EOT_TEXT).put("type_id", 0);
            post.putArray("pair");
            post.putObject("special_tokens").putObject(BpeFixtures.EOT_TEXT).put("id", BpeFixtures.EOT_TEXT)
                    .<ObjectNode>set("ids", BpeFixtures.JSON.createArrayNode().add(BpeFixtures.EOT));
        };
        BpeTokenizer tok = BpeFixtures.load(dir, "tpl.json", template);
        BpeTokenizer inSequence = BpeFixtures.load(dir, "seq.json", template.andThen(json -> {
            ObjectNode seq = BpeFixtures.JSON.createObjectNode().put("type", "Sequence");
            seq.putArray("processors").add(BpeFixtures.JSON.createObjectNode().put("type", "ByteLevel"))
                    .add(json.path("post_processor"));
            json.set("post_processor", seq);
        }));
        for (BpeFixtures.Case c : BpeFixtures.cases()) {
            int[] wrapped = concat(ids(BpeFixtures.EOT), c.ids(), ids(BpeFixtures.EOT));
            assertArrayEquals(wrapped, tok.encode(c.text()), c.text());
            assertArrayEquals(wrapped, inSequence.encode(c.text()), c.text());
            assertArrayEquals(c.ids(), tok.encode(c.text(), false), c.text());
            assertEquals(c.decoded(), tok.decode(wrapped));
        }
    }

    @Test void ignoreMergesTakesAWholeWordFromTheVocabulary() {
        Consumer<ObjectNode> addXyz = json -> ((ObjectNode) json.path("model").path("vocab")).put("xyz", NEXT);
        BpeTokenizer merging = BpeFixtures.load(dir, "m.json", addXyz);
        BpeTokenizer ignoring = BpeFixtures.load(dir, "i.json",
                addXyz.andThen(json -> ((ObjectNode) json.path("model")).put("ignore_merges", true)));
        assertArrayEquals(PLAIN.encode("xyz"), merging.encode("xyz"), "no merge makes xyz");
        assertFalse(Arrays.equals(ids(NEXT), merging.encode("xyz")));
        assertArrayEquals(ids(NEXT), ignoring.encode("xyz"));
        assertArrayEquals(concat(ids(NEXT), PLAIN.encode(" xy")), ignoring.encode("xyz xy"));
    }
}
