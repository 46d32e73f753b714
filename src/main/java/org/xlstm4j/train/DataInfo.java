package org.xlstm4j.train;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Identity of the training data as recorded in {@code trainer.json}: where it came from, its size and split, and a
 * 64-bit FNV-1a fingerprint of the ids so a resumed run can check it is fed the same data.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record DataInfo(String source, int vocabSize, int tokens, int trainTokens, int valTokens, String fingerprint,
                       double bytesPerToken) {

    /** FNV-1a over the ids (4 little-endian bytes each), as 16 hex digits. */
    static String fingerprint(int[] ids) {
        long h = 0xcbf29ce484222325L;
        for (int id : ids) {
            for (int k = 0; k < 32; k += 8) {
                h ^= (id >>> k) & 0xff;
                h *= 0x100000001b3L;
            }
        }
        return String.format("%016x", h);
    }
}
