package org.xlstm4j.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads a Hugging Face {@code tokenizer.json} ({@code tokenizers} serialization format) into a {@link BpeTokenizer},
 * accepting the byte-level BPE subset (GPT-2, GPT-NeoX, and newer files that split with their own regex first) and
 * rejecting everything else with a {@link UserError} that names the file and the unsupported part:
 * <ul>
 *   <li>{@code model}: type {@code BPE} with {@code vocab} and {@code merges} ("a b" strings or [a, b] pairs); no
 *       dropout, no subword prefix or suffix; {@code ignore_merges} honoured.</li>
 *   <li>{@code normalizer}: null, {@code NFC}, or a {@code Sequence} of those.</li>
 *   <li>{@code pre_tokenizer}: {@code ByteLevel}, or a {@code Sequence} of {@code Split} steps (behavior
 *       {@code Isolated}, not inverted) ending with one {@code ByteLevel}.</li>
 *   <li>{@code post_processor}: null, {@code ByteLevel} (adds nothing), {@code TemplateProcessing} (its single-text
 *       template), or a {@code Sequence} of those.</li>
 *   <li>{@code decoder}: {@code ByteLevel} (or a {@code Sequence} of it).</li>
 * </ul>
 * {@code truncation} and {@code padding} are ignored: they concern batches, not the text-to-ids mapping.
 */
final class TokenizerJson {
    private final Path file;

    private TokenizerJson(Path file) {
        this.file = file;
    }

    /** Reads and checks the file. */
    static BpeTokenizer read(Path file) {
        return new TokenizerJson(file).parse(readTree(file));
    }

    private static JsonNode readTree(Path file) {
        if (Files.isDirectory(file)) throw new UserError(file + ": is a folder, expected a tokenizer.json file");
        try {
            return new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new UserError(file + ": permission denied");
        } catch (JsonProcessingException e) {
            throw new UserError(file + ": malformed JSON: " + e.getOriginalMessage().split("\n", 2)[0]);
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private UserError error(String message) {
        return new UserError(file + ": " + message);
    }

    private BpeTokenizer parse(JsonNode root) {
        if (root == null || !root.isObject()) throw error("not a tokenizer.json (expected a JSON object)");
        JsonNode model = root.path("model");
        if (!model.isObject()) throw error("not a tokenizer.json (no \"model\" object)");
        String type = model.path("type").asText(model.has("merges") ? "BPE" : "");
        if (!type.equals("BPE"))
            throw error("unsupported model type '" + type + "' (xlstm4j reads byte-level BPE tokenizers only)");
        checkModelOptions(model);

        Map<String, Integer> vocab = readVocab(model.path("vocab"));
        String[][] merges = readMerges(model.path("merges"), vocab);
        int[] idOfByte = idsOfBytes(vocab, model.path("unk_token"));
        BpeModel bpe = new BpeModel(vocab, merges, idOfByte, model.path("ignore_merges").asBoolean(false));
        List<AddedToken> added = readAddedTokens(root.path("added_tokens"));
        boolean nfc = readNormalizer(root.path("normalizer"));
        PreTokenizer pre = readPreTokenizer(root.path("pre_tokenizer"));
        checkDecoder(root.path("decoder"));
        PostProcessor post = readPostProcessor(root.path("post_processor"));
        return new BpeTokenizer(file, vocab, bpe, added, nfc, pre, post);
    }

    private void checkModelOptions(JsonNode model) {
        JsonNode dropout = model.path("dropout");
        if (!dropout.isMissingNode() && !dropout.isNull() && dropout.asDouble() != 0)
            throw error("BPE dropout " + dropout.asText() + " is not supported (it makes encoding random)");
        for (String field : new String[]{"continuing_subword_prefix", "end_of_word_suffix"}) {
            JsonNode v = model.path(field);
            if (!v.isMissingNode() && !v.isNull() && !v.asText().isEmpty())
                throw error("BPE " + field + " '" + v.asText() + "' is not supported (byte-level BPE uses none)");
        }
    }

    private Map<String, Integer> readVocab(JsonNode vocab) {
        if (!vocab.isObject() || vocab.isEmpty()) throw error("model.vocab must be a non-empty object of token: id");
        Map<String, Integer> ids = new HashMap<>(vocab.size() * 2);
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || !e.getValue().isIntegralNumber() || e.getValue().asInt() < 0)
                throw error("model.vocab: token '" + e.getKey() + "' has id " + e.getValue() + ", expected an id >= 0");
            ids.put(e.getKey(), e.getValue().asInt());
        }
        return ids;
    }

    private String[][] readMerges(JsonNode merges, Map<String, Integer> vocab) {
        if (!merges.isArray()) throw error("model.merges must be an array");
        String[][] pairs = new String[merges.size()][];
        for (int rank = 0; rank < merges.size(); rank++) {
            JsonNode m = merges.get(rank);
            String[] pair = m.isTextual() ? m.asText().split(" ", -1)
                    : m.isArray() && m.size() == 2 && m.get(0).isTextual() && m.get(1).isTextual()
                    ? new String[]{m.get(0).asText(), m.get(1).asText()} : null;
            if (pair == null || pair.length != 2 || pair[0].isEmpty() || pair[1].isEmpty())
                throw error("model.merges[" + rank + "] is " + m + ", expected \"a b\" or [\"a\", \"b\"]");
            for (String token : new String[]{pair[0], pair[1], pair[0] + pair[1]})
                if (!vocab.containsKey(token))
                    throw error("model.merges[" + rank + "] " + m + ": '" + token + "' is not in the vocabulary");
            pairs[rank] = pair;
        }
        return pairs;
    }

    /** The id of each byte's one-character token; a byte-level vocabulary has all 256 (else the unknown token). */
    private int[] idsOfBytes(Map<String, Integer> vocab, JsonNode unkToken) {
        Integer unk = unkToken.isTextual() ? vocab.get(unkToken.asText()) : null;
        int[] ids = new int[256];
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.valueOf(ByteLevel.charOf(b)));
            if (id == null && unk == null)
                throw error(String.format("the vocabulary has no token '%c' for byte 0x%02X: not a byte-level BPE",
                        ByteLevel.charOf(b), b));
            ids[b] = id != null ? id : unk;
        }
        return ids;
    }

    private List<AddedToken> readAddedTokens(JsonNode tokens) {
        List<AddedToken> added = new ArrayList<>();
        if (tokens.isMissingNode() || tokens.isNull()) return added;
        if (!tokens.isArray()) throw error("added_tokens must be an array");
        for (JsonNode t : tokens) {
            String content = t.path("content").asText("");
            if (content.isEmpty() || !t.path("id").isIntegralNumber() || t.path("id").asInt() < 0)
                throw error("added_tokens: " + t + " needs a non-empty \"content\" and an \"id\" >= 0");
            boolean special = t.path("special").asBoolean(false);
            added.add(new AddedToken(t.path("id").asInt(), content, special, t.path("single_word").asBoolean(false),
                    t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                    t.path("normalized").asBoolean(!special)));
        }
        return added;
    }

    /** True for NFC, false for none. */
    private boolean readNormalizer(JsonNode normalizer) {
        if (normalizer.isMissingNode() || normalizer.isNull()) return false;
        String type = normalizer.path("type").asText("");
        if (type.equals("NFC")) return true;
        if (type.equals("Sequence")) {
            boolean nfc = false;
            for (JsonNode n : normalizer.path("normalizers")) nfc |= readNormalizer(n);
            return nfc;
        }
        throw error("unsupported normalizer '" + type + "' (supported: none, NFC, a Sequence of NFC)");
    }

    private PreTokenizer readPreTokenizer(JsonNode pre) {
        String type = pre.path("type").asText("");
        List<PreTokenizer.Step> steps = new ArrayList<>();
        if (type.equals("ByteLevel")) {
            addByteLevelSteps(pre, steps);
        } else if (type.equals("Sequence")) {
            JsonNode items = pre.path("pretokenizers");
            for (int i = 0; i < items.size(); i++) {
                JsonNode item = items.get(i);
                String itemType = item.path("type").asText("");
                boolean last = i == items.size() - 1;
                if (itemType.equals("Split") && !last) steps.add(readSplit(item));
                else if (itemType.equals("ByteLevel") && last) addByteLevelSteps(item, steps);
                else throw error("unsupported pre_tokenizer Sequence: found '" + itemType + "' at position " + i
                            + " (supported: Split steps followed by one ByteLevel)");
            }
            if (items.isEmpty()) throw error("unsupported pre_tokenizer: empty Sequence (a ByteLevel step is needed)");
        } else {
            throw error("unsupported pre_tokenizer '" + (pre.isNull() || pre.isMissingNode() ? "null" : type)
                    + "' (supported: ByteLevel, or a Sequence of Split steps followed by ByteLevel)");
        }
        return new PreTokenizer(steps);
    }

    private static void addByteLevelSteps(JsonNode byteLevel, List<PreTokenizer.Step> steps) {
        if (byteLevel.path("add_prefix_space").asBoolean(false)) steps.add(new PreTokenizer.PrefixSpace());
        if (byteLevel.path("use_regex").asBoolean(true))
            steps.add(new PreTokenizer.Isolate(PreTokenizer.compile(PreTokenizer.GPT2_PATTERN)));
    }

    private PreTokenizer.Isolate readSplit(JsonNode split) {
        String behavior = split.path("behavior").asText("");
        if (!behavior.equals("Isolated"))
            throw error("unsupported pre_tokenizer Split behavior '" + behavior + "' (supported: Isolated)");
        if (split.path("invert").asBoolean(false)) throw error("unsupported pre_tokenizer Split with invert: true");
        JsonNode pattern = split.path("pattern");
        if (pattern.path("String").isTextual())
            return new PreTokenizer.Isolate(Pattern.compile(Pattern.quote(pattern.path("String").asText())));
        if (!pattern.path("Regex").isTextual()) throw error("pre_tokenizer Split: pattern " + pattern + " is neither String nor Regex");
        try {
            return new PreTokenizer.Isolate(PreTokenizer.compile(pattern.path("Regex").asText()));
        } catch (PatternSyntaxException e) {
            throw error("pre_tokenizer Split: Java cannot compile the regex " + pattern.path("Regex") + ": "
                    + e.getDescription());
        }
    }

    private void checkDecoder(JsonNode decoder) {
        String type = decoder.path("type").asText("");
        if (type.equals("ByteLevel")) return;
        if (type.equals("Sequence") && !decoder.path("decoders").isEmpty()) {
            for (JsonNode d : decoder.path("decoders")) checkDecoder(d);
            return;
        }
        throw error("unsupported decoder '" + (decoder.isNull() || decoder.isMissingNode() ? "null" : type)
                + "' (supported: ByteLevel)");
    }

    private PostProcessor readPostProcessor(JsonNode post) {
        if (post.isMissingNode() || post.isNull()) return PostProcessor.NONE;
        String type = post.path("type").asText("");
        switch (type) {
            case "ByteLevel" -> {
                return PostProcessor.NONE;
            }
            case "TemplateProcessing" -> {
                return readTemplate(post);
            }
            case "Sequence" -> {
                PostProcessor result = PostProcessor.NONE;
                for (JsonNode p : post.path("processors")) {
                    PostProcessor step = readPostProcessor(p);
                    if (step == PostProcessor.NONE) continue;
                    if (result != PostProcessor.NONE) throw error("unsupported post_processor: two TemplateProcessing steps");
                    result = step;
                }
                return result;
            }
            default -> throw error("unsupported post_processor '" + type
                    + "' (supported: ByteLevel, TemplateProcessing, a Sequence of those)");
        }
    }

    /** The {@code single} template: special tokens around sequence A. */
    private PostProcessor readTemplate(JsonNode post) {
        JsonNode specials = post.path("special_tokens");
        List<Integer> prefix = new ArrayList<>(), suffix = new ArrayList<>();
        boolean seenSequence = false;
        for (JsonNode piece : post.path("single")) {
            if (piece.has("Sequence")) {
                if (seenSequence || !piece.path("Sequence").path("id").asText("A").equals("A"))
                    throw error("post_processor TemplateProcessing: the single template must hold sequence A once");
                seenSequence = true;
            } else if (piece.has("SpecialToken")) {
                String name = piece.path("SpecialToken").path("id").asText();
                JsonNode ids = specials.path(name).path("ids");
                if (!ids.isArray() || ids.isEmpty())
                    throw error("post_processor TemplateProcessing: special token '" + name + "' has no ids");
                for (JsonNode id : ids) (seenSequence ? suffix : prefix).add(id.asInt());
            } else {
                throw error("post_processor TemplateProcessing: unexpected template piece " + piece);
            }
        }
        if (!seenSequence) throw error("post_processor TemplateProcessing: the single template has no sequence A");
        return new PostProcessor(prefix.stream().mapToInt(Integer::intValue).toArray(),
                suffix.stream().mapToInt(Integer::intValue).toArray());
    }
}
