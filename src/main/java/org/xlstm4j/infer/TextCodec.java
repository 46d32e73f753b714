package org.xlstm4j.infer;

import org.xlstm4j.tokenizer.BpeTokenizer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.IntConsumer;

/** Text ↔ token ids for generation: raw UTF-8 bytes (vocabulary 256) or a Hugging Face byte-level BPE tokenizer. */
public interface TextCodec {
    int[] encode(String text);

    String decode(int[] ids, int count);

    /** Byte-level: each UTF-8 byte is a token. */
    static TextCodec bytes() {
        return new TextCodec() {
            @Override public int[] encode(String text) {
                byte[] b = text.getBytes(StandardCharsets.UTF_8);
                int[] ids = new int[b.length];
                for (int i = 0; i < b.length; i++) ids[i] = b[i] & 0xff;
                return ids;
            }

            @Override public String decode(int[] ids, int count) {
                byte[] b = new byte[count];
                for (int i = 0; i < count; i++) b[i] = (byte) ids[i];
                return new String(b, StandardCharsets.UTF_8);
            }
        };
    }

    /** A tokenizer.json tokenizer (special tokens are left out of decoded text). */
    static TextCodec of(BpeTokenizer tokenizer) {
        return new TextCodec() {
            @Override public int[] encode(String text) { return tokenizer.encode(text); }

            @Override public String decode(int[] ids, int count) { return tokenizer.decode(Arrays.copyOf(ids, count)); }
        };
    }

    /**
     * A token sink that prints text as soon as it is complete: a token that ends inside a multi-byte character is held
     * back until the character is whole.
     */
    default IntConsumer printer(PrintStream out) {
        return new IntConsumer() {
            int[] ids = new int[64];
            int count, printed;

            @Override public void accept(int id) {
                if (count == ids.length) ids = Arrays.copyOf(ids, 2 * count);
                ids[count++] = id;
                String text = decode(ids, count);
                int end = text.length();
                while (end > printed && text.charAt(end - 1) == '\uFFFD') end--;   // incomplete tail: wait
                if (end > printed) {
                    out.print(text.substring(printed, end));
                    out.flush();
                    printed = end;
                }
            }
        };
    }
}
