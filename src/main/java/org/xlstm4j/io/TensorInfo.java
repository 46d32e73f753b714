package org.xlstm4j.io;

import java.util.Arrays;

/** One tensor entry of a safetensors header: dtype, shape and byte range relative to the data section. */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(shape[i]);
        return s;
    }

    @Override public String toString() { return name + " " + dtype + " " + Arrays.toString(shape); }
}
