package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;

/**
 * Token embedding table. Param {@code name + ".weight"} (V, E); weight decay is off (the model decides, spec §4.2).
 */
public final class Embedding {
    public final Param weight;
    private final int vocab, dim;
    private int[] ids;   // ids of the last forward (owned by the caller)

    public Embedding(String name, int vocab, int dim) {
        this.vocab = vocab;
        this.dim = dim;
        this.weight = new Param(name + ".weight", vocab, dim);
        this.weight.weightDecay = false;
    }

    public int vocab() { return vocab; }

    public int dim() { return dim; }

    public List<Param> params() { return List.of(weight); }

    /** y[rows, E] = weight[ids[r]]. An id outside [0, V) is a {@link UserError}. Keeps a reference to ids. */
    public void forward(int[] ids, float[] y, int rows) {
        for (int r = 0; r < rows; r++) {
            int id = ids[r];
            if (id < 0 || id >= vocab)
                throw new UserError("token id " + id + " is out of range for vocab size " + vocab);
        }
        this.ids = ids;
        for (int r = 0; r < rows; r++) System.arraycopy(weight.data, ids[r] * dim, y, r * dim, dim);
    }

    /** weight.grad[ids[r]] += dy[r] for the ids of the last forward. */
    public void backward(float[] dy, int rows) {
        float[] g = weight.grad;
        for (int r = 0; r < rows; r++) {
            int wo = ids[r] * dim, o = r * dim;
            for (int i = 0; i < dim; i++) g[wo + i] += dy[o + i];
        }
    }
}
