package org.xlstm4j.tokenizer;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

/** What tokenizer.json files are refused, each with one clear line naming the file and the unsupported part. */
class TokenizerJsonTest {
    @TempDir Path dir;

    private static String refused(Path file, String... mustMention) {
        UserError e = assertThrows(UserError.class, () -> BpeTokenizer.load(file));
        String msg = e.getMessage();
        assertFalse(msg.contains("\n"), "one line: " + msg);
        assertTrue(msg.contains(file.getFileName().toString()), "names the file: " + msg);
        for (String s : mustMention) assertTrue(msg.contains(s), "mentions '" + s + "': " + msg);
        return msg;
    }

    private String refusedVariant(Consumer<ObjectNode> edit, String... mustMention) {
        return refused(BpeFixtures.variant(dir, "tokenizer.json", edit), mustMention);
    }

    @Test void missingFileOrFolder() {
        refused(dir.resolve("absent.json"), "no such file");
        refused(dir, "folder");
    }

    @Test void malformedJson() throws IOException {
        refused(Files.writeString(dir.resolve("bad.json"), "{\"model\": {\"type\": \"BPE\", "), "malformed JSON");
        refused(Files.writeString(dir.resolve("array.json"), "[1, 2]"), "not a tokenizer.json");
        refused(Files.writeString(dir.resolve("empty.json"), "{}"), "no \"model\"");
    }

    @Test void unsupportedModelType() {
        refusedVariant(json -> ((ObjectNode) json.path("model")).put("type", "WordPiece"), "model type 'WordPiece'");
        refusedVariant(json -> ((ObjectNode) json.path("model")).put("type", "Unigram"), "'Unigram'");
    }

    @Test void unsupportedNormalizerIsNamed() {
        refusedVariant(json -> json.putObject("normalizer").put("type", "NFKC"), "normalizer 'NFKC'");
        refusedVariant(json -> json.putObject("normalizer").put("type", "Sequence").putArray("normalizers")
                .addObject().put("type", "Lowercase"), "'Lowercase'");
    }

    @Test void unsupportedPreTokenizerIsNamed() {
        refusedVariant(json -> json.putObject("pre_tokenizer").put("type", "Metaspace"), "pre_tokenizer 'Metaspace'");
        refusedVariant(json -> json.putNull("pre_tokenizer"), "pre_tokenizer 'null'");
        refusedVariant(json -> {
            ArrayNode steps = json.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "Digits").put("individual_digits", true);
            steps.addObject().put("type", "ByteLevel");
        }, "'Digits'");
        refusedVariant(json -> {
            ArrayNode steps = json.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Removed").putObject("pattern").put("String", " ");
            steps.addObject().put("type", "ByteLevel");
        }, "behavior 'Removed'");
        refusedVariant(json -> {
            ArrayNode steps = json.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers");
            steps.addObject().put("type", "Split").put("behavior", "Isolated").putObject("pattern").put("Regex", "(?<");
            steps.addObject().put("type", "ByteLevel");
        }, "regex");
    }

    @Test void unsupportedDecoderAndPostProcessorAreNamed() {
        refusedVariant(json -> json.putObject("decoder").put("type", "WordPiece"), "decoder 'WordPiece'");
        refusedVariant(json -> json.putObject("post_processor").put("type", "BertProcessing"), "'BertProcessing'");
        refusedVariant(json -> {
            ObjectNode post = json.putObject("post_processor").put("type", "TemplateProcessing");
            post.putArray("single").addObject().putObject("SpecialToken").put("id", "<s>");
            post.withArray("single").addObject().putObject("Sequence").put("id", "A");
            post.putObject("special_tokens");
        }, "'<s>'");
    }

    @Test void inconsistentModelIsRefused() {
        refusedVariant(json -> ((ArrayNode) json.path("model").path("merges")).addArray().add("Ġ").add("nowhere"),
                "'nowhere' is not in the vocabulary");
        refusedVariant(json -> ((ArrayNode) json.path("model").path("merges")).add("too many parts"), "merges[");
        refusedVariant(json -> {
            ((ObjectNode) json.path("model")).putArray("merges");
            ((ObjectNode) json.path("model").path("vocab")).remove("Ġ");
        }, "byte 0x20");
        refusedVariant(json -> ((ObjectNode) json.path("model")).put("dropout", 0.1), "dropout");
        refusedVariant(json -> ((ObjectNode) json.path("model")).put("continuing_subword_prefix", "##"), "##");
        refusedVariant(json -> ((ObjectNode) json.path("model").path("vocab")).put("bad", -3), "'bad'");
        refusedVariant(json -> ((ArrayNode) json.path("added_tokens")).addObject().put("id", 5).put("content", ""),
                "added_tokens");
    }

    @Test void fileWithoutModelTypeButWithMergesIsBpe() {
        Path file = BpeFixtures.variant(dir, "untyped.json", json -> ((ObjectNode) json.path("model")).remove("type"));
        BpeFixtures.Case c = BpeFixtures.cases().getFirst();
        assertArrayEquals(c.ids(), BpeTokenizer.load(file).encode(c.text()));
    }
}
