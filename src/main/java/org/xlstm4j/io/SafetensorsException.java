package org.xlstm4j.io;

/**
 * A safetensors file or checkpoint is malformed, missing or unwritable, or a requested tensor is absent or of the
 * wrong type. The message is one line that names the file and the problem.
 */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) { super(message); }
    public SafetensorsException(String message, Throwable cause) { super(message, cause); }

    /** A tensor name (or other untrusted text) made safe for a one-line message: quoted, escaped, shortened. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("'");
        int limit = Math.min(s.length(), 120);
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        if (s.length() > limit) b.append("...(").append(s.length()).append(" chars)");
        return b.append('\'').toString();
    }
}
