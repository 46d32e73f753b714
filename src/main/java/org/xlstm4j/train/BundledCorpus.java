package org.xlstm4j.train;

import org.xlstm4j.UserError;

import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

/** The default training corpus shipped in the jar: the King James Bible (public domain), one verse per line. */
public final class BundledCorpus {
    /** The {@link Tokens#source()} of the bundled King James Bible. */
    public static final String KJV = "bundled:kjv";
    static final String KJV_RESOURCE = "/corpora/kjv.txt.gz";

    private BundledCorpus() {}

    /** The King James Bible as byte-level tokens (about 4.1 million bytes). */
    public static ByteTokens kjv() {
        try (InputStream raw = BundledCorpus.class.getResourceAsStream(KJV_RESOURCE)) {
            if (raw == null) throw new UserError("the bundled corpus " + KJV_RESOURCE + " is missing from this build");
            try (InputStream in = new GZIPInputStream(raw, 1 << 16)) {
                return ByteTokens.of(in.readAllBytes(), KJV);
            }
        } catch (IOException e) {
            throw new UserError("cannot read the bundled corpus " + KJV_RESOURCE + ": " + e.getMessage(), e);
        }
    }
}
