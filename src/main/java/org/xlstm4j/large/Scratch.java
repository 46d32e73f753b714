package org.xlstm4j.large;

import org.xlstm4j.tensor.Buffers;

/**
 * Grow-only gradient buffers shared by all blocks of a {@link LargeTrainable}: a block's backward uses them only while
 * it runs, so the model needs one block's worth of gradient scratch, not one per block. Each user takes fixed slot
 * numbers (see the constants of the classes that use it); slots of layers that run one after the other may coincide.
 */
final class Scratch {
    private final float[][] slots = new float[16][];

    /** Slot {@code i} with room for at least {@code n} floats (contents undefined). */
    float[] get(int i, int n) {
        return slots[i] = Buffers.ensure(slots[i], n);
    }
}
