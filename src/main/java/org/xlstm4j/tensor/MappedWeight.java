package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight matrix W [rows, cols] (PyTorch layout (out, in), row-major, little-endian) that stays where it is stored —
 * usually a memory-mapped safetensors tensor — in its stored element type: float32, bfloat16 or float16. Nothing is
 * copied onto the heap; {@link MappedMatmul} multiplies straight from the segment.
 *
 * <p><b>Pair-split order.</b> A 16-bit row is read as 32-bit lanes, each holding two neighbouring elements: masking and
 * shifting give the even elements in one float vector and the odd ones in another, with no lane shuffles (which the
 * JIT does not always compile to vector code). Kernels therefore pair such a row with x in <em>pair-split</em> order:
 * within each block of 2·{@link #L} elements, first the L even-indexed values, then the L odd-indexed ones; a ragged
 * tail shorter than a block stays in place ({@link #splitPairs}). float32 rows are read in natural order. The widening
 * is exact: {@link #decodeSplit} is bit-identical to its scalar twin.
 */
public record MappedWeight(MemorySegment data, Storage storage, int rows, int cols) {
    /** Element types a weight can be stored in, with their sizes in bytes. */
    public enum Storage {
        F32(4), BF16(2), F16(2);

        public final int bytes;

        Storage(int bytes) { this.bytes = bytes; }
    }

    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    /** Floats per vector. */
    static final int L = F.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    public MappedWeight {
        if (rows < 0 || cols < 0) throw new IllegalArgumentException("negative weight shape " + rows + "x" + cols);
        long want = (long) rows * cols * storage.bytes;
        if (data.byteSize() != want)
            throw new IllegalArgumentException("weight " + rows + "x" + cols + " " + storage + " needs " + want + " bytes, got " + data.byteSize());
    }

    /** A float32 matrix held on the heap (for tests, and for weights converted from other types). */
    public static MappedWeight ofFloats(float[] w, int rows, int cols) {
        return new MappedWeight(MemorySegment.ofArray(w).asSlice(0, (long) rows * cols * 4), Storage.F32, rows, cols);
    }

    /** Rows [r0, r1) as a matrix of their own (same bytes, no copy): the parts of a fused projection. */
    public MappedWeight rowRange(int r0, int r1) {
        if (r0 < 0 || r1 > rows || r0 > r1) throw new IndexOutOfBoundsException("rows " + r0 + ".." + r1 + " of " + rows);
        long rowBytes = (long) cols * storage.bytes;
        return new MappedWeight(data.asSlice(r0 * rowBytes, (r1 - r0) * rowBytes), storage, r1 - r0, cols);
    }

    /** Size of the stored matrix in bytes (what one pass over it reads). */
    public long byteSize() { return data.byteSize(); }

    /** Whether kernels read this matrix in pair-split order (16-bit storage). */
    public boolean pairSplit() { return storage.bytes == 2; }

    /** Byte offset of element (r, c). */
    long offset(int r, int c) { return ((long) r * cols + c) * storage.bytes; }

    /** W[r, c] as float32 (exact widening). */
    public float get(int r, int c) {
        long o = offset(r, c);
        return switch (storage) {
            case F32 -> data.get(F32, o);
            case BF16 -> Float.intBitsToFloat((data.get(I16, o) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16, o));
        };
    }

    /** Widens rows [r0, r1) to float32 in natural order into {@code dst[off ..]} (cols per row; scalar, for lookups). */
    public void decode(int r0, int r1, float[] dst, int off) {
        for (int r = r0; r < r1; r++)
            for (int c = 0; c < cols; c++) dst[off + (r - r0) * cols + c] = get(r, c);
    }

    /**
     * Copies {@code n} values of x into {@code dst} in pair-split order: within each whole block of 2L values the evens,
     * then the odds; the tail after the last whole block unchanged.
     */
    public static void splitPairs(float[] x, int xOff, float[] dst, int dOff, int n) {
        int blocks = n / (2 * L) * (2 * L);
        for (int b = 0; b < blocks; b += 2 * L)
            for (int i = 0; i < L; i++) {
                dst[dOff + b + i] = x[xOff + b + 2 * i];
                dst[dOff + b + L + i] = x[xOff + b + 2 * i + 1];
            }
        System.arraycopy(x, xOff + blocks, dst, dOff + blocks, n - blocks);
    }

    /** Widens rows [r0, r1) to float32 into {@code dst[off ..]}, each row in the order kernels read it (pair-split for 16-bit). */
    public void decodeSplit(int r0, int r1, float[] dst, int off) {
        int blocks = cols / (2 * L) * (2 * L);
        for (int r = r0; r < r1; r++) {
            int d = off + (r - r0) * cols;
            long o = offset(r, 0);
            int c = 0;
            switch (storage) {
                case F32 -> {
                    for (; c + L <= cols; c += L) f32(data, o + 4L * c).intoArray(dst, d + c);
                }
                case BF16 -> {
                    for (; c < blocks; c += 2 * L) {
                        IntVector v = pairs(data, o + 2L * c);
                        bf16Even(v).intoArray(dst, d + c);
                        bf16Odd(v).intoArray(dst, d + c + L);
                    }
                }
                case F16 -> {
                    for (; c < blocks; c += 2 * L) {
                        IntVector v = pairs(data, o + 2L * c);
                        f16Even(v).intoArray(dst, d + c);
                        f16Odd(v).intoArray(dst, d + c + L);
                    }
                }
            }
            for (; c < cols; c++) dst[d + c] = get(r, c);
        }
    }

    /** Scalar twin of {@link #decodeSplit}: natural-order widening, then the same reordering. */
    public void decodeSplitScalar(int r0, int r1, float[] dst, int off) {
        float[] row = new float[cols];
        for (int r = r0; r < r1; r++) {
            decode(r, r + 1, row, 0);
            if (pairSplit()) splitPairs(row, 0, dst, off + (r - r0) * cols, cols);
            else System.arraycopy(row, 0, dst, off + (r - r0) * cols, cols);
        }
    }

    // ---- one vector of elements: float32 as is; 16-bit as pairs → (evens, odds)

    static FloatVector f32(MemorySegment s, long o) {
        return FloatVector.fromMemorySegment(F, s, o, LE);
    }

    /** 2L 16-bit elements at byte offset o as L 32-bit lanes; lane i = element 2i (low half) | element 2i+1 (high half). */
    static IntVector pairs(MemorySegment s, long o) {
        return IntVector.fromMemorySegment(I, s, o, LE);
    }

    /** bfloat16 is the upper half of a float32: the even element shifted up. */
    static FloatVector bf16Even(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** The odd element is already in the upper half: clear the lower one. */
    static FloatVector bf16Odd(IntVector v) {
        return v.and(0xffff0000).reinterpretAsFloats();
    }

    static FloatVector f16Even(IntVector v) {
        return f16(v.and(0xffff));
    }

    static FloatVector f16Odd(IntVector v) {
        return f16(v.lanewise(VectorOperators.LSHR, 16));
    }

    /**
     * float16 bits h (in the low 16 bits of each lane) → float32: the 15 magnitude bits moved into float position (shift
     * by 13) are the value × 2⁻¹¹², exact for normal and subnormal halves, so one multiply by 2¹¹² rebiases the exponent;
     * infinities and NaNs (exponent all ones) get the float exponent all ones instead; then the sign.
     */
    private static FloatVector f16(IntVector h) {
        IntVector mag = h.and(0x7fff);
        IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector bits = finite.blend(shifted.or(0x7f800000), mag.compare(VectorOperators.GE, 0x7c00));
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
}
