package org.xlstm4j.io;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.function.IntToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Narrowing float32 to BF16 and F16 must round to nearest, ties to even (IEEE 754, as PyTorch does). The reference here
 * is independent of the code under test: it brackets x between the two neighbouring representable values, compares the
 * distances in double precision (exact for float inputs) and breaks ties on the even bit pattern.
 */
class FloatConversionTest {

    /**
     * Reference rounding for a 16-bit format whose positive finite values are the bit patterns 0..maxFinite in
     * increasing order, followed by infinity; overflow rounds as if the next value were {@code overflowValue}.
     */
    private static int nearestEven(float x, int maxFinite, double overflowValue, IntToDoubleFunction decode) {
        double ax = Math.abs((double) x);
        int sign = Float.floatToRawIntBits(x) < 0 ? 0x8000 : 0;
        int lo = 0, hi = maxFinite; // binary search: lo = largest pattern whose value is <= |x|
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (decode.applyAsDouble(mid) <= ax) lo = mid; else hi = mid - 1;
        }
        if (decode.applyAsDouble(lo) == ax) return sign | lo;
        int up = lo + 1;
        double upValue = up > maxFinite ? overflowValue : decode.applyAsDouble(up);
        double dLo = ax - decode.applyAsDouble(lo), dUp = upValue - ax;
        int pick = dLo < dUp ? lo : dUp < dLo ? up : ((lo & 1) == 0 ? lo : up);
        return sign | pick;
    }

    private static int bf16Reference(float x) {
        return nearestEven(x, 0x7f7f, 0x1p128, b -> Float.intBitsToFloat(b << 16));
    }

    private static int f16Reference(float x) {
        return nearestEven(x, 0x7bff, 65536.0, b -> Float.float16ToFloat((short) b));
    }

    /** Values that stress rounding: each representable value, its midpoints with the next one, and one float ulp off. */
    private static float[] probes(float v, float next) {
        float mid = (float) (((double) v + next) / 2); // exact: the midpoint of two 16-bit values fits a float
        return new float[]{v, mid, Math.nextDown(mid), Math.nextUp(mid), -mid, -Math.nextUp(mid)};
    }

    @Test void bf16NarrowingRoundsToNearestEvenOnEveryBoundary() {
        for (int b = 0; b < 0x7f80; b++) {
            float v = Float.intBitsToFloat(b << 16);
            float next = b == 0x7f7f ? Float.MAX_VALUE : Float.intBitsToFloat((b + 1) << 16);
            for (float x : probes(v, next))
                assertEquals(bf16Reference(x), BFloat16.fromFloat(x) & 0xffff, () -> "x=" + x + " bits=" + Integer.toHexString(Float.floatToRawIntBits(x)));
        }
    }

    @Property(tries = 3000) void bf16NarrowingMatchesReference(@ForAll float x) {
        if (Float.isNaN(x)) assertEquals(0x7fc0, BFloat16.fromFloat(x) & 0xffff);
        else assertEquals(bf16Reference(x), BFloat16.fromFloat(x) & 0xffff);
    }

    @Test void bf16SpecialValues() {
        assertEquals(0x7f80, BFloat16.fromFloat(Float.POSITIVE_INFINITY) & 0xffff);
        assertEquals(0xff80, BFloat16.fromFloat(Float.NEGATIVE_INFINITY) & 0xffff);
        assertEquals(0x7f80, BFloat16.fromFloat(Float.MAX_VALUE) & 0xffff, "beyond max + half ulp overflows");
        assertEquals(0x8000, BFloat16.fromFloat(-0f) & 0xffff);
        // a NaN whose payload lies only in the low 16 bits must not turn into infinity
        assertEquals(0x7fc0, BFloat16.fromFloat(Float.intBitsToFloat(0x7f800001)) & 0xffff);
        assertEquals(0x7fc0, BFloat16.fromFloat(Float.intBitsToFloat(0xffc00000)) & 0xffff);
    }

    @Test void bf16WideningIsTheUpperHalfOfAFloat() {
        for (int b = 0; b < 0x10000; b++) {
            float expected = Float.intBitsToFloat(b << 16);
            float got = BFloat16.toFloat((short) b);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got));
        }
    }

    /** Every one of the 65536 BF16 patterns, stored raw and read through the file reader. */
    @Test void readerDecodesEveryBf16Pattern() {
        short[] all = new short[0x10000];
        for (int i = 0; i < all.length; i++) all[i] = (short) i;
        MemorySegment raw = MemorySegment.ofArray(new byte[2 * all.length]);
        for (int i = 0; i < all.length; i++) raw.setAtIndex(LittleEndian.I16, i, all[i]);
        byte[] bytes = new SafetensorsWriter().putRaw("all", DType.BF16, new long[]{all.length}, raw).toByteArray();
        try (var f = IoFixtures.open(bytes)) {
            float[] got = f.floats("all");
            for (int i = 0; i < all.length; i++)
                assertEquals(i << 16, Float.floatToRawIntBits(got[i]), "pattern " + Integer.toHexString(i));
        }
    }

    /** F16 written by the writer: every half boundary and random floats, checked against the reference. */
    @Test void f16WriterRoundsToNearestEven() {
        int n = 0;
        float[] xs = new float[0x7c00 * 6];
        for (int h = 0; h < 0x7c00; h++) {
            float v = Float.float16ToFloat((short) h);
            float next = h == 0x7bff ? 65536f : Float.float16ToFloat((short) (h + 1));
            for (float x : probes(v, next)) xs[n++] = x;
        }
        byte[] bytes = new SafetensorsWriter().putFloats("h", DType.F16, xs, xs.length).toByteArray();
        try (var f = IoFixtures.open(bytes)) {
            MemorySegment s = f.segment("h");
            for (int i = 0; i < xs.length; i++) {
                int expected = f16Reference(xs[i]);
                assertEquals(expected, s.getAtIndex(LittleEndian.I16, i) & 0xffff, "x=" + xs[i]);
            }
            float[] back = f.floats("h");
            for (int i = 0; i < xs.length; i++)
                assertEquals(Float.float16ToFloat((short) f16Reference(xs[i])), back[i], 0f);
        }
    }

    @Test void bf16WriterUsesTheSameRounding() {
        java.util.Random r = new java.util.Random(7);
        float[] xs = new float[10_000];
        for (int i = 0; i < xs.length; i++) xs[i] = Float.intBitsToFloat(r.nextInt());
        for (int i = 0; i < xs.length; i++) if (Float.isNaN(xs[i])) xs[i] = 1.5f;
        byte[] bytes = new SafetensorsWriter().putFloats("b", DType.BF16, xs, 100, 100).toByteArray();
        try (var f = IoFixtures.open(bytes)) {
            float[] back = f.floats("b");
            for (int i = 0; i < xs.length; i++)
                assertEquals(bf16Reference(xs[i]) << 16, Float.floatToRawIntBits(back[i]), "x=" + xs[i]);
        }
    }
}
