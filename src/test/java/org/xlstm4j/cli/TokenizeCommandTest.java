package org.xlstm4j.cli;

import org.xlstm4j.cli.CliRun.Result;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.tokenizer.BpeTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

import static org.xlstm4j.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.*;

/** {@code xlstm tokenize}: ids as a JSON array, decoded text, file statistics, and one-line errors. */
class TokenizeCommandTest {
    @TempDir Path dir;


    private static Path tokenizerFile() throws Exception {
        return Path.of(TokenizeCommandTest.class.getResource("/fixtures/bpe_small/tokenizer.json").toURI());
    }

    @Test void textPrintsTheIdsAsAJsonArray() throws Exception {
        String text = "Hello world, café 🙂";
        Result r = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--text", text);
        assertEquals(0, r.code(), r.err());
        int[] printed = new ObjectMapper().readValue(r.out(), int[].class);
        assertArrayEquals(BpeTokenizer.load(tokenizerFile()).encode(text), printed);
        assertEquals(1, r.out().lines().count(), "one line");
    }

    @Test void decodePrintsTheText() throws Exception {
        BpeTokenizer tok = BpeTokenizer.load(tokenizerFile());
        String text = "naïve 中文 text<|endoftext|>";
        int[] ids = tok.encode(text);
        String commaList = Arrays.stream(ids).mapToObj(Integer::toString).collect(Collectors.joining(","));

        Result r = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--decode", commaList);
        assertEquals(0, r.code(), r.err());
        assertEquals("naïve 中文 text" + System.lineSeparator(), r.out());

        Result kept = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--decode", Arrays.toString(ids), "--keep-special");
        assertEquals(0, kept.code(), kept.err());
        assertEquals(text + System.lineSeparator(), kept.out(), "a JSON array is accepted too");
    }

    @Test void filePrintsTheCountAndBytesPerToken() throws Exception {
        String text = "And God said, Let there be light: and there was light.\n".repeat(20);
        Path file = Files.writeString(dir.resolve("t.txt"), text);
        Result r = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--file", file.toString());
        assertEquals(0, r.code(), r.err());
        int count = BpeTokenizer.load(tokenizerFile()).encode(text).length;
        assertTrue(r.out().contains("tokens: " + count + System.lineSeparator()), r.out());
        assertTrue(r.out().contains(String.format(Locale.ROOT, "bytes/token: %.4f", (double) text.length() / count)), r.out());
    }

    @Test void mistakesAreOneLineErrors() throws Exception {
        Result missing = run("tokenize", "--tokenizer", dir.resolve("nope.json").toString(), "--text", "x");
        assertEquals(2, missing.code());
        assertTrue(missing.err().startsWith("xlstm: error: ") && missing.err().contains("no such file"), missing.err());
        assertEquals(1, missing.err().lines().count(), missing.err());

        Result badId = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--decode", "1,x");
        assertEquals(2, badId.code());
        assertTrue(badId.err().contains("'x' is not a token id"), badId.err());

        Result outOfRange = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--decode", "1,999999");
        assertEquals(2, outOfRange.code());
        assertTrue(outOfRange.err().contains("999999"), outOfRange.err());

        Result both = run("tokenize", "--tokenizer", tokenizerFile().toString(), "--text", "a", "--decode", "1");
        assertNotEquals(0, both.code(), "--text and --decode exclude each other");
        assertNotEquals(0, run("tokenize", "--tokenizer", tokenizerFile().toString()).code(), "one input is required");
    }

    @Test void malformedTokenizerIsAnError() throws IOException {
        Path bad = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": ");
        Result r = run("tokenize", "--tokenizer", bad.toString(), "--text", "x");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("malformed JSON"), r.err());
    }
}
