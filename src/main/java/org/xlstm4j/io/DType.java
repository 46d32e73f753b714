package org.xlstm4j.io;

/**
 * Element types of the safetensors format that xlstm4j reads and writes (all little-endian).
 * The names are exactly the dtype strings of the format.
 */
public enum DType {
    F64(8, 12), F32(4, 11), F16(2, 7), BF16(2, 8), I64(8, 13), I32(4, 9), U8(1, 1), BOOL(1, 0);

    /** Bytes per element. */
    public final int byteSize;
    /**
     * Position in the official {@code Dtype} enum, which is ordered by increasing alignment; the official writer lays
     * tensors out by decreasing position (then by name), and so does {@link SafetensorsWriter}.
     */
    final int officialRank;

    DType(int byteSize, int officialRank) {
        this.byteSize = byteSize;
        this.officialRank = officialRank;
    }

    /** True for F64, F32, F16 and BF16: the dtypes {@link TensorSource#floats} converts to float32. */
    public boolean isFloatingPoint() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** Parses a safetensors dtype string ("F32", "BF16", ...), or returns null when unknown. */
    public static DType parse(String s) {
        for (DType d : values()) if (d.name().equals(s)) return d;
        return null;
    }
}
