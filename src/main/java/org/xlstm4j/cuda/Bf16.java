package org.xlstm4j.cuda;

/** bfloat16 ↔ float32 on the host: the upper 16 bits of a float, rounded to nearest even; NaN stays NaN. */
public final class Bf16 {
    private Bf16() {}

    /** float32 → bfloat16 bits, round to nearest even. */
    public static short fromFloat(float f) {
        int u = Float.floatToRawIntBits(f);
        if ((u & 0x7f800000) == 0x7f800000 && (u & 0x7fffff) != 0) return (short) ((u >>> 16) | 0x40);
        u += 0x7fff + ((u >>> 16) & 1);
        return (short) (u >>> 16);
    }

    /** bfloat16 bits → float32 (exact). */
    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** {@code f} rounded to the nearest bfloat16 value, as a float. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }

    /** Rounds every element of {@code a} in place; returns {@code a}. */
    public static float[] roundAll(float[] a) {
        for (int i = 0; i < a.length; i++) a[i] = round(a[i]);
        return a;
    }
}
