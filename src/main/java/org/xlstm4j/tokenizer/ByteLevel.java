package org.xlstm4j.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * GPT-2's byte-level alphabet: every byte 0..255 is shown as one printable character, so that a BPE vocabulary of
 * strings can spell any UTF-8 text. Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) stand for
 * themselves; the other 68 bytes (controls, space, {@code 0x7F..0xA0}, soft hyphen) take the characters U+0100,
 * U+0101, ... in byte order, so a space is {@code Ġ} (U+0120) and a newline {@code Ċ} (U+010A).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** Indexed by character; -1 for a character that stands for no byte. */
    private static final int[] CHAR_TO_BYTE;

    static {
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = (char) (printable ? b : 256 + shifted++);
        }
        CHAR_TO_BYTE = new int[256 + shifted];
        Arrays.fill(CHAR_TO_BYTE, -1);
        for (int b = 0; b < 256; b++) CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
    }

    private ByteLevel() {}

    /** The character that stands for byte {@code b} (0..255). */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte that character {@code c} stands for, or -1 when it is not in the alphabet. */
    static int byteOf(char c) {
        return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /**
     * The byte-level spelling of {@code text}: its UTF-8 bytes, each as its character. A lone surrogate (which has no
     * UTF-8 form) is spelled as U+FFFD.
     */
    static String spell(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (cp >= Character.MIN_SURROGATE && cp <= Character.MAX_SURROGATE) cp = 0xFFFD;
            if (cp < 0x80) {
                out.append(BYTE_TO_CHAR[cp]);
            } else if (cp < 0x800) {
                out.append(BYTE_TO_CHAR[0xC0 | cp >> 6]).append(BYTE_TO_CHAR[0x80 | cp & 0x3F]);
            } else if (cp < 0x10000) {
                out.append(BYTE_TO_CHAR[0xE0 | cp >> 12]).append(BYTE_TO_CHAR[0x80 | cp >> 6 & 0x3F])
                        .append(BYTE_TO_CHAR[0x80 | cp & 0x3F]);
            } else {
                out.append(BYTE_TO_CHAR[0xF0 | cp >> 18]).append(BYTE_TO_CHAR[0x80 | cp >> 12 & 0x3F])
                        .append(BYTE_TO_CHAR[0x80 | cp >> 6 & 0x3F]).append(BYTE_TO_CHAR[0x80 | cp & 0x3F]);
            }
        }
        return out.toString();
    }

    /**
     * Appends the bytes a token stands for. A token made only of alphabet characters gives one byte per character;
     * any other token (an added token such as a run of plain spaces) gives its own UTF-8 bytes, as the Hugging Face
     * ByteLevel decoder does.
     */
    static void appendBytes(String token, ByteArrayOutputStream out) {
        for (int i = 0; i < token.length(); i++) {
            if (byteOf(token.charAt(i)) < 0) {
                out.writeBytes(token.getBytes(StandardCharsets.UTF_8));
                return;
            }
        }
        for (int i = 0; i < token.length(); i++) out.write(byteOf(token.charAt(i)));
    }

    /** Decodes UTF-8, replacing each malformed sequence with U+FFFD (so every id sequence decodes to some text). */
    static String decodeUtf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("cannot happen with REPLACE", e);
        }
    }
}
