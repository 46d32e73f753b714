package org.xlstm4j.io;

/** Element types of the safetensors format that xlstm4j reads and writes. */
public enum DType {
    F64(8), F32(4), F16(2), BF16(2), I64(8), I32(4), U8(1), BOOL(1);

    public final int byteSize;

    DType(int byteSize) { this.byteSize = byteSize; }

    /** Parses a safetensors dtype string, or returns null when unknown. */
    public static DType parse(String s) {
        for (DType d : values()) if (d.name().equals(s)) return d;
        return null;
    }
}
