package org.xlstm4j.io;

/**
 * bfloat16 (1 sign, 8 exponent, 7 mantissa bits): the upper half of a float32. Conversions match PyTorch's
 * {@code c10::BFloat16}: widening is exact, narrowing rounds to nearest, ties to even, and maps every NaN to 0x7FC0.
 */
public final class BFloat16 {
    private BFloat16() {}

    /** The float32 value of bfloat16 bits (exact). */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** The nearest bfloat16 to {@code x} (ties to even; overflow gives ±infinity; NaN gives 0x7FC0). */
    public static short fromFloat(float x) {
        int bits = Float.floatToRawIntBits(x);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) 0x7fc0;
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }
}
