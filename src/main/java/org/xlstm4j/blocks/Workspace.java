package org.xlstm4j.blocks;

import java.util.Arrays;

/**
 * Numbered scratch arrays that several layers share because they only need them during one call (the gradient
 * buffers of a backward pass, the intermediate results of a forward that are not saved): a model hands one workspace
 * to all its layers, so scratch memory is that of the largest layer instead of the sum over layers. Arrays grow on
 * demand and are reused, so a steady stream of calls allocates nothing. Not thread-safe: one model, one thread.
 */
public final class Workspace {
    private float[][] slots = new float[16][];

    /** Slot {@code slot}, at least n floats long; its contents are whatever the last user left there. */
    public float[] get(int slot, int n) {
        if (slot >= slots.length) slots = Arrays.copyOf(slots, Math.max(slot + 1, 2 * slots.length));
        float[] a = slots[slot];
        if (a == null || a.length < n) slots[slot] = a = new float[n];
        return a;
    }

    /** Floats held by all slots (for reporting). */
    public long size() {
        long n = 0;
        for (float[] a : slots) if (a != null) n += a.length;
        return n;
    }
}
