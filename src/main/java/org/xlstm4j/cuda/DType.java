package org.xlstm4j.cuda;

/** Element type of the activations (q, k, v, h) on the device; gates, states and accumulation are always fp32. */
public enum DType {
    FP32(4, "f32"), BF16(2, "bf16");

    /** Bytes per element. */
    public final int bytes;
    /** The suffix of the kernel names. */
    final String suffix;

    DType(int bytes, String suffix) {
        this.bytes = bytes;
        this.suffix = suffix;
    }

    /** "fp32" or "bf16" (case-insensitive), else IllegalArgumentException. */
    public static DType parse(String s) {
        return switch (s.toLowerCase()) {
            case "fp32", "f32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown dtype '" + s + "' (fp32 or bf16)");
        };
    }
}
