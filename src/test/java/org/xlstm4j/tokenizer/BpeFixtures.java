package org.xlstm4j.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Test helpers: the {@code bpe_small} reference fixture (a GPT-2-style tokenizer.json and the reference's own
 * text → ids → text cases), and variants of its JSON written to a folder.
 */
final class BpeFixtures {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The id of {@code <|endoftext|>} in the fixture, read from the fixture file itself. */
    static final int EOT = tokenizerJson().path("added_tokens").get(0).path("id").asInt();
    static final String EOT_TEXT = tokenizerJson().path("added_tokens").get(0).path("content").asText();

    private BpeFixtures() {}

    /** One reference case: the reference encoded {@code text} to {@code ids} and decoded those to {@code decoded}. */
    record Case(String text, int[] ids, String decoded) {}

    static Path tokenizerPath() {
        try {
            return Path.of(BpeFixtures.class.getResource("/fixtures/bpe_small/tokenizer.json").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test fixture bpe_small/tokenizer.json missing", e);
        }
    }

    static BpeTokenizer tokenizer() {
        return BpeTokenizer.load(tokenizerPath());
    }

    static ObjectNode tokenizerJson() {
        try {
            return (ObjectNode) JSON.readTree(tokenizerPath().toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Case> cases() {
        try {
            JsonNode all = JSON.readTree(tokenizerPath().resolveSibling("cases.json").toFile());
            List<Case> cases = new ArrayList<>();
            for (JsonNode c : all) {
                int[] ids = new int[c.path("ids").size()];
                for (int i = 0; i < ids.length; i++) ids[i] = c.path("ids").get(i).asInt();
                cases.add(new Case(c.path("text").asText(), ids, c.path("decoded").asText()));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the fixture's JSON, changed by {@code edit}, to {@code dir/name} and returns its path. */
    static Path variant(Path dir, String name, Consumer<ObjectNode> edit) {
        ObjectNode json = tokenizerJson();
        edit.accept(json);
        return write(dir, name, json);
    }

    /** Loads the fixture changed by {@code edit}. */
    static BpeTokenizer load(Path dir, String name, Consumer<ObjectNode> edit) {
        return BpeTokenizer.load(variant(dir, name, edit));
    }

    static Path write(Path dir, String name, JsonNode json) {
        try {
            Path file = dir.resolve(name);
            JSON.writeValue(file.toFile(), json);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Appends an added token to the JSON's {@code added_tokens}. */
    static void addToken(ObjectNode json, int id, String content, boolean special, boolean singleWord, boolean lstrip,
                         boolean rstrip, boolean normalized) {
        ((ArrayNode) json.path("added_tokens")).addObject().put("id", id).put("content", content)
                .put("single_word", singleWord).put("lstrip", lstrip).put("rstrip", rstrip)
                .put("normalized", normalized).put("special", special);
    }

    static int[] concat(int[]... parts) {
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] all = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, all, at, p.length);
            at += p.length;
        }
        return all;
    }
}
