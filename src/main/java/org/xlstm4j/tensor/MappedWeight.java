package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A weight matrix W [rows, cols] (PyTorch layout (out, in), row-major, little-endian) that stays where it is stored —
 * usually a memory-mapped safetensors tensor — in its stored element type: float32, bfloat16 or float16. Nothing is
 * copied onto the heap; {@link MappedMatmul} multiplies straight from the segment, and {@link #decode} widens rows to
 * float32 when a caller needs them (an embedding lookup, a panel for a matrix-matrix product).
 *
 * <p>The SIMD widening ({@link #bf16}, {@link #f16}, {@link #f32}: one vector of {@link #L} elements) is exact and
 * bit-identical to the scalar {@link #get}.
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
    /** Shorts with as many lanes as {@link #F}: one load of 16-bit elements widens to one float vector. */
    static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
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

    /** Byte offset of element (r, c). */
    long offset(int r, int c) { return ((long) r * cols + c) * storage.bytes; }

    /** W[r, c] as float32 (exact widening; scalar reference of the vector loads). */
    public float get(int r, int c) {
        long o = offset(r, c);
        return switch (storage) {
            case F32 -> data.get(F32, o);
            case BF16 -> Float.intBitsToFloat((data.get(I16, o) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(data.get(I16, o));
        };
    }

    /** Widens rows [r0, r1) to float32 into {@code dst[off ..]} (row-major, cols per row), whole vectors then a scalar tail. */
    public void decode(int r0, int r1, float[] dst, int off) {
        int kv = F.loopBound(cols);
        for (int r = r0; r < r1; r++) {
            int d = off + (r - r0) * cols;
            long o = offset(r, 0);
            int c = 0;
            for (; c < kv; c += L) load(o + (long) c * storage.bytes).intoArray(dst, d + c);
            for (; c < cols; c++) dst[d + c] = get(r, c);
        }
    }

    /** Scalar twin of {@link #decode}. */
    public void decodeScalar(int r0, int r1, float[] dst, int off) {
        for (int r = r0; r < r1; r++)
            for (int c = 0; c < cols; c++) dst[off + (r - r0) * cols + c] = get(r, c);
    }

    /** L elements starting at byte offset {@code o}, widened to float32. */
    FloatVector load(long o) {
        return switch (storage) {
            case F32 -> f32(data, o);
            case BF16 -> bf16(data, o);
            case F16 -> f16(data, o);
        };
    }

    static FloatVector f32(MemorySegment s, long o) {
        return FloatVector.fromMemorySegment(F, s, o, LE);
    }

    /** bfloat16 is the upper half of a float32: zero-extend to 32 bits and shift left by 16. */
    static FloatVector bf16(MemorySegment s, long o) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(H, s, o, LE).convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        return h.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /**
     * float16 → float32: the 15 magnitude bits moved into float position (shift by 13) are the value × 2⁻¹¹², exact for
     * normal and subnormal halves, so one multiply by 2¹¹² rebiases the exponent; infinities and NaNs (exponent all ones)
     * get the float exponent all ones instead; then the sign.
     */
    static FloatVector f16(MemorySegment s, long o) {
        IntVector h = (IntVector) ShortVector.fromMemorySegment(H, s, o, LE).convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0);
        IntVector mag = h.and(0x7fff);
        IntVector shifted = mag.lanewise(VectorOperators.LSHL, 13);
        IntVector finite = shifted.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        IntVector bits = finite.blend(shifted.or(0x7f800000), mag.compare(VectorOperators.GE, 0x7c00));
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }
}
