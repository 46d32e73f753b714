package org.xlstm4j.model;

import java.util.Arrays;

/**
 * A trainable tensor: float32 values and their gradient, both row-major, with the official PyTorch parameter name
 * (the state_dict key) so checkpoints round-trip with the reference implementation.
 */
public final class Param {
    public final String name;
    public final int[] shape;
    public final float[] data;
    public final float[] grad;
    /** Whether AdamW applies weight decay (official rule: name contains "weight" and not "norm"; embeddings opt-in). */
    public boolean weightDecay;

    public Param(String name, int... shape) {
        this.name = name;
        this.shape = shape.clone();
        int n = 1;
        for (int d : shape) n = Math.multiplyExact(n, d);
        this.data = new float[n];
        this.grad = new float[n];
    }

    public int size() { return data.length; }

    public void zeroGrad() { Arrays.fill(grad, 0f); }

    @Override public String toString() { return name + Arrays.toString(shape); }
}
