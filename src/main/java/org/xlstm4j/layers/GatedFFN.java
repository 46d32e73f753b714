package org.xlstm4j.layers;

import java.util.List;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.RowOps;
import org.xlstm4j.tensor.Kernels;

/**
 * Gated feed-forward network of the NeurIPS sLSTM block (spec §2.6): {@code proj_up} Linear(E → 2P, no bias) split
 * into [gate | up] (gate = first P features), {@code y = proj_down(act(gate) ⊙ up)} with act exact GELU (default)
 * or SiLU. Params: {@code name + ".proj_up.weight"} (2P, E), {@code name + ".proj_down.weight"} (E, P).
 */
public final class GatedFFN {
    /** The gate activation. */
    public enum Act { GELU, SILU }

    private final Linear projUp, projDown;
    private final int dim, hidden;
    private final Act act;
    private float[] up;     // [rows, 2P] proj_up output (gate | up), saved for backward
    private float[] h;      // [rows, P] act(gate) ⊙ up, the input of proj_down
    private float[] dh;     // [rows, P]
    private float[] dup;    // [rows, 2P]

    public GatedFFN(String name, int dim, int hidden, Act act) {
        this.dim = dim;
        this.hidden = hidden;
        this.act = act;
        this.projUp = new Linear(name + ".proj_up", dim, 2 * hidden, false);
        this.projDown = new Linear(name + ".proj_down", hidden, dim, false);
    }

    /** spec §2.6: P = ceil(projFactor·dim / multipleOf)·multipleOf (the official round-up, same float order). */
    public static int hiddenDim(int dim, double projFactor, int multipleOf) {
        return (int) Math.ceil(projFactor * dim / multipleOf) * multipleOf;
    }

    public int dim() { return dim; }

    public int hidden() { return hidden; }

    public Act act() { return act; }

    public Linear projUp() { return projUp; }

    public Linear projDown() { return projDown; }

    public List<Param> params() { return List.of(projUp.weight, projDown.weight); }

    /** y[rows, E] = FFN(x[rows, E]). Keeps a reference to x for {@link #backward}. */
    public void forward(Kernels k, float[] x, float[] y, int rows) {
        final int P = hidden;
        ensureBuffers(rows);
        projUp.forward(k, x, up, rows);
        run(k, rows, actTask);                                                  // spec §2.6: h = act(gate) ⊙ up
        projDown.forward(k, h, y, rows);
    }

    /** Params' grads +=; dx written (or added into when accumulateDx; skipped when dx is null). */
    public void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx) {
        final int P = hidden;
        projDown.backward(k, dy, dh, rows, false);
        run(k, rows, actBackwardTask);
        projUp.backward(k, dup, dx, rows, accumulateDx);
    }

    private int taskRows, taskCount;
    private final Kernels.Task actTask = this::actRows;
    private final Kernels.Task actBackwardTask = this::actBackwardRows;

    private void actRows(int t, int w) {
        RowOps.gatedAct(up, h, lo(t), hi(t), hidden, act == Act.GELU);
    }

    private void actBackwardRows(int t, int w) {
        RowOps.gatedActBackward(up, dh, dup, lo(t), hi(t), hidden, act == Act.GELU);
    }

    /** Runs a row-range task over [0, rows), split over the backend's threads. */
    private void run(Kernels k, int rows, Kernels.Task task) {
        taskRows = rows;
        taskCount = k.parallelTasks() ? Math.max(1, Math.min(2 * k.threads(), rows / 16)) : 1;
        k.parallelFor(taskCount, task);
    }

    private int lo(int t) { return (int) ((long) taskRows * t / taskCount); }

    private int hi(int t) { return (int) ((long) taskRows * (t + 1) / taskCount); }

    private void ensureBuffers(int rows) {
        if (h == null || h.length < rows * hidden) {
            up = new float[rows * 2 * hidden];
            dup = new float[rows * 2 * hidden];
            h = new float[rows * hidden];
            dh = new float[rows * hidden];
        }
    }
}
