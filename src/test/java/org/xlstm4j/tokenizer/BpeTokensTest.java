package org.xlstm4j.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;
import org.xlstm4j.train.Tokens;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** A text file as BPE training tokens: the tokenizer's ids, a reopenable source, and bytes per token. */
class BpeTokensTest {
    @TempDir Path dir;

    @Test void tokenizesAFileWithTheTokenizer() throws IOException {
        String text = "In the beginning God created the heaven and the earth.\nAnd the earth was without form 🙂\n";
        Path file = Files.writeString(dir.resolve("corpus.txt"), text, StandardCharsets.UTF_8);
        BpeTokenizer tok = BpeFixtures.tokenizer();
        Tokens tokens = BpeTokens.fromFile(file, BpeFixtures.tokenizerPath());

        assertArrayEquals(tok.encode(text), tokens.ids());
        assertEquals(tok.vocabSize(), tokens.vocabSize());
        assertEquals("file:" + file.toAbsolutePath() + "|tokenizer:" + BpeFixtures.tokenizerPath().toAbsolutePath(),
                tokens.source());
        assertEquals((double) text.getBytes(StandardCharsets.UTF_8).length / tokens.ids().length, tokens.bytesPerToken(), 1e-12);
        assertTrue(tokens.bytesPerToken() > 1, "merges make tokens longer than a byte");

        BpeTokens reopened = BpeTokens.open(tokens.source());
        assertArrayEquals(tokens.ids(), reopened.ids());
        assertEquals(tokens.source(), reopened.source());
    }

    @Test void badFilesAreUserErrors() throws IOException {
        BpeTokenizer tok = BpeFixtures.tokenizer();
        assertTrue(assertThrows(UserError.class, () -> BpeTokens.fromFile(dir.resolve("none.txt"), tok))
                .getMessage().contains("no such file"));
        Path empty = Files.writeString(dir.resolve("empty.txt"), "");
        assertTrue(assertThrows(UserError.class, () -> BpeTokens.fromFile(empty, tok)).getMessage().contains("empty"));
        assertThrows(UserError.class, () -> BpeTokens.fromFile(dir, tok));
        assertThrows(UserError.class, () -> BpeTokens.open("bundled:kjv"));
    }
}
