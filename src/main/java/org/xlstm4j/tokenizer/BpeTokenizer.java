package org.xlstm4j.tokenizer;

import org.xlstm4j.UserError;

import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A byte-level BPE tokenizer read from a Hugging Face {@code tokenizer.json} (the GPT-2 / GPT-NeoX family used by
 * xLSTM-7B), giving the same ids as the Hugging Face {@code tokenizers} library. Encoding runs the same pipeline:
 * <ol>
 *   <li>added tokens whose {@code normalized} flag is false are found in the raw text ({@link AddedTokenSplitter});</li>
 *   <li>the text between them is normalized (NFC, when the file asks for it), and added tokens with
 *       {@code normalized: true} are found in it;</li>
 *   <li>the remaining text is cut into words ({@link PreTokenizer}: GPT-2's regex, or the file's own Split regex);</li>
 *   <li>each word is spelled in the byte-level alphabet ({@link ByteLevel}) and merged by BPE ({@link BpeModel});</li>
 *   <li>the post-processor may add ids around the result (a {@code TemplateProcessing} BOS, for example).</li>
 * </ol>
 * Decoding maps each token back to its bytes and decodes UTF-8, replacing invalid sequences with U+FFFD.
 * Instances are immutable apart from an internal cache and may be shared between threads.
 */
public final class BpeTokenizer {
    private final Path path;
    private final BpeModel model;
    private final AddedTokenSplitter rawAddedTokens;
    private final AddedTokenSplitter normalizedAddedTokens;
    private final boolean nfc;
    private final PreTokenizer preTokenizer;
    private final PostProcessor postProcessor;
    /** Vocabulary and added tokens together (an added token wins over a vocabulary entry with the same text). */
    private final Map<String, Integer> idByToken;
    /** The token of each id; null where no token has that id. */
    private final String[] tokenById;
    private final boolean[] specialById;

    BpeTokenizer(Path path, Map<String, Integer> vocab, BpeModel model, List<AddedToken> added, boolean nfc,
                 PreTokenizer preTokenizer, PostProcessor postProcessor) {
        this.path = path;
        this.model = model;
        this.nfc = nfc;
        this.preTokenizer = preTokenizer;
        this.postProcessor = postProcessor;
        this.idByToken = new HashMap<>(vocab);
        int size = 0;
        for (int id : vocab.values()) size = Math.max(size, id + 1);
        for (AddedToken t : added) size = Math.max(size, t.id() + 1);
        this.tokenById = new String[size];
        this.specialById = new boolean[size];
        vocab.forEach((token, id) -> tokenById[id] = token);
        List<AddedToken> raw = new ArrayList<>(), normalized = new ArrayList<>();
        for (AddedToken t : added) {
            tokenById[t.id()] = t.content();
            specialById[t.id()] = t.special();
            idByToken.put(t.content(), t.id());
            (t.normalized() ? normalized : raw).add(t);
        }
        this.rawAddedTokens = new AddedTokenSplitter(raw);
        this.normalizedAddedTokens = new AddedTokenSplitter(normalized);
        for (int[] ids : new int[][]{postProcessor.prefix(), postProcessor.suffix()})
            for (int id : ids)
                if (id < 0 || id >= size || tokenById[id] == null)
                    throw new UserError(path + ": post_processor adds id " + id + ", which has no token");
    }

    /**
     * Reads a {@code tokenizer.json}. A missing or malformed file, or a tokenizer that is not byte-level BPE (another
     * model type, normalizer, pre-tokenizer, post-processor or decoder), is a {@link UserError} naming what is wrong.
     */
    public static BpeTokenizer load(Path tokenizerJson) {
        return TokenizerJson.read(tokenizerJson.toAbsolutePath().normalize());
    }

    /** The absolute path of the file this tokenizer was read from. */
    public Path path() {
        return path;
    }

    /** The number of ids: the largest id of the vocabulary and the added tokens, plus one. */
    public int vocabSize() {
        return tokenById.length;
    }

    /** The ids of {@code text}, with the post-processor's special tokens (if any) around them, as the reference does. */
    public int[] encode(String text) {
        return encode(text, true);
    }

    /**
     * The ids of {@code text}; {@code addSpecialTokens} says whether the post-processor's template (e.g. a BOS id) is
     * applied. Added tokens written in the text (such as {@code <|endoftext|>}) are always recognised. An unpaired
     * surrogate, which has no UTF-8 form, is encoded as U+FFFD.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList ids = new IntList(text.length() / 3 + 16);
        if (addSpecialTokens) ids.addAll(postProcessor.prefix());
        rawAddedTokens.split(text, piece -> encodeRawPiece(piece, ids), ids::add);
        if (addSpecialTokens) ids.addAll(postProcessor.suffix());
        return ids.toArray();
    }

    private void encodeRawPiece(String piece, IntList ids) {
        String normalized = nfc && !Normalizer.isNormalized(piece, Normalizer.Form.NFC)
                ? Normalizer.normalize(piece, Normalizer.Form.NFC) : piece;
        normalizedAddedTokens.split(normalized, text -> encodeNormalizedPiece(text, ids), ids::add);
    }

    private void encodeNormalizedPiece(String text, IntList ids) {
        preTokenizer.split(text, word -> model.encodeWord(ByteLevel.spell(word), ids));
    }

    /** The text of {@code ids}, leaving special tokens out (the Hugging Face {@code tokenizers} default). */
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    /**
     * The text of {@code ids}: the bytes of their tokens, decoded as UTF-8 (an invalid sequence, e.g. half of a
     * character, becomes U+FFFD). Special added tokens are left out when {@code skipSpecialTokens}; non-special added
     * tokens are always kept. An id that no token has is a {@link UserError}.
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) {
            String token = token(id);
            if (skipSpecialTokens && specialById[id]) continue;
            ByteLevel.appendBytes(token, bytes);
        }
        return ByteLevel.decodeUtf8(bytes.toByteArray());
    }

    /** The id of a token (as written in the vocabulary, byte-level alphabet, or an added token's content). */
    public OptionalInt tokenId(String token) {
        Integer id = idByToken.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** The token with this id, in the vocabulary's byte-level alphabet (e.g. "Ġthe"); a {@link UserError} if none. */
    public String token(int id) {
        if (id < 0 || id >= tokenById.length || tokenById[id] == null)
            throw new UserError("token id " + id + " is not in the vocabulary of " + path
                    + " (ids 0.." + (tokenById.length - 1) + ")");
        return tokenById[id];
    }

    /** Whether {@code id} is a special added token (such as {@code <|endoftext|>}). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < specialById.length && specialById[id];
    }
}
