package org.xlstm4j.tokenizer;

import java.util.Arrays;

/** A growable array of ints (token ids as they are produced), without boxing. */
final class IntList {
    private int[] values;
    private int size;

    IntList(int capacity) {
        values = new int[Math.max(capacity, 8)];
    }

    void add(int value) {
        if (size == values.length) values = Arrays.copyOf(values, values.length + (values.length >> 1));
        values[size++] = value;
    }

    void addAll(int[] more) {
        if (size + more.length > values.length)
            values = Arrays.copyOf(values, Math.max(size + more.length, values.length + (values.length >> 1)));
        System.arraycopy(more, 0, values, size, more.length);
        size += more.length;
    }

    int size() {
        return size;
    }

    int[] toArray() {
        return Arrays.copyOf(values, size);
    }
}
