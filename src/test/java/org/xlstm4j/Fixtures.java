package org.xlstm4j;

import java.net.URISyntaxException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared test helpers for the official fixtures copied under src/test/resources/fixtures. */
public final class Fixtures {
    private Fixtures() {}

    /** A folder (or file) under src/test/resources/fixtures. */
    public static Path fixture(String name) {
        try {
            var url = Fixtures.class.getResource("/fixtures/" + name);
            if (url == null) throw new IllegalStateException("test fixture missing: " + name);
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The fixtures README's relative error, max |got − want| / max |want|, over want's values (got may be longer);
     * every compared value of got must be finite.
     */
    public static double relErr(float[] got, float[] want) {
        assertTrue(got.length >= want.length, "got " + got.length + " values, want " + want.length);
        double maxErr = 0, maxRef = 0;
        for (int i = 0; i < want.length; i++) {
            assertTrue(Float.isFinite(got[i]), "non-finite value at " + i);
            maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
            maxRef = Math.max(maxRef, Math.abs(want[i]));
        }
        return maxErr / Math.max(maxRef, 1e-30);
    }

    /** Token ids stored as I64 → int. */
    public static int[] ints(long[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = Math.toIntExact(a[i]);
        return r;
    }
}
