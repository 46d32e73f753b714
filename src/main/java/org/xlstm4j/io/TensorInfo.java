package org.xlstm4j.io;

import java.util.Arrays;

/**
 * One tensor entry of a safetensors header: name, dtype, shape and its byte range {@code [begin, end)} relative to the
 * start of the data section. Instances made by the reader are validated: dimensions are non-negative, the element
 * count and byte size do not overflow, and {@code end - begin == numel * dtype.byteSize}.
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public TensorInfo {
        shape = shape.clone();
    }

    /** The shape (a copy). */
    @Override public long[] shape() { return shape.clone(); }

    /** Number of dimensions. */
    public int rank() { return shape.length; }

    /** Size of dimension {@code i}. */
    public long dim(int i) { return shape[i]; }

    /** Number of elements (1 for a scalar of shape []). */
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** Size of the tensor's data in bytes. */
    public long byteSize() { return end - begin; }

    /** The shape as ints; throws {@link ArithmeticException} if a dimension does not fit. */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i]);
        return s;
    }

    /** True when dtype and shape are the same (name and offsets may differ). */
    public boolean sameTypeAndShape(TensorInfo o) {
        return dtype == o.dtype && Arrays.equals(shape, o.shape);
    }

    @Override public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override public int hashCode() {
        return ((name.hashCode() * 31 + dtype.hashCode()) * 31 + Arrays.hashCode(shape)) * 31 + Long.hashCode(begin);
    }

    @Override public String toString() { return name + " " + dtype + " " + Arrays.toString(shape); }
}
