package org.xlstm4j.layers;

import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.RowOps;

import java.util.Arrays;

/**
 * The row-parallel driver shared by {@link LayerNorm} and {@link MultiHeadLayerNorm}: runs {@link RowOps#groupNorm}
 * and its backward over row ranges on the backend's threads, with per-worker weight/bias gradient partials that are
 * summed into the parameters' gradients afterwards. Saves the input reference and the per-(row, group) statistics.
 */
final class NormRows {
    private final int groups, gdim;
    private final float eps, off;
    private final Param weight, bias;
    float[] x, mean = new float[0], rstd = new float[0];
    private float[] y, dy, dx;
    private boolean accumulate;
    private int rows, tasks;
    private float[][] dwPart = new float[0][], dbPart = new float[0][];
    private final Kernels.Task forwardTask = this::forwardRows;
    private final Kernels.Task backwardTask = this::backwardRows;

    NormRows(int groups, int gdim, float eps, boolean offsetScale, Param weight, Param bias) {
        this.groups = groups;
        this.gdim = gdim;
        this.eps = eps;
        this.off = offsetScale ? 1f : 0f;
        this.weight = weight;
        this.bias = bias;
    }

    void forward(Kernels k, float[] x, float[] y, int rows) {
        this.x = x;
        if (mean.length < rows * groups) { mean = new float[rows * groups]; rstd = new float[rows * groups]; }
        this.y = y;
        run(k, rows, forwardTask);
        this.y = null;
    }

    void backward(Kernels k, float[] dy, float[] dx, int rows, boolean accumulateDx) {
        int workers = k == null ? 1 : 2 * k.threads(), dim = groups * gdim;
        dwPart = parts(dwPart, workers, dim);
        if (bias != null) dbPart = parts(dbPart, workers, dim);
        this.dy = dy;
        this.dx = dx;
        this.accumulate = accumulateDx;
        run(k, rows, backwardTask);
        this.dy = this.dx = null;
        for (int w = 0; w < workers; w++) {
            RowOps.add(dwPart[w], weight.grad, 0, dim);
            if (bias != null) RowOps.add(dbPart[w], bias.grad, 0, dim);
        }
    }

    private void run(Kernels k, int rows, Kernels.Task task) {
        this.rows = rows;
        tasks = k != null && k.parallelTasks() ? Math.max(1, Math.min(2 * k.threads(), rows / 16)) : 1;
        if (k == null) task.run(0, 0);
        else k.parallelFor(tasks, task);
    }

    private int lo(int t) { return (int) ((long) rows * t / tasks); }

    private int hi(int t) { return (int) ((long) rows * (t + 1) / tasks); }

    private void forwardRows(int t, int w) {
        RowOps.groupNorm(x, y, lo(t), hi(t), groups, gdim, weight.data, off, bias == null ? null : bias.data, eps, mean, rstd);
    }

    private void backwardRows(int t, int w) {
        RowOps.groupNormBackward(x, dy, dx, lo(t), hi(t), groups, gdim, weight.data, off, mean, rstd, dwPart[t],
                bias == null ? null : dbPart[t], accumulate);   // per task, not per thread: a fixed summation order
    }

    private static float[][] parts(float[][] p, int workers, int n) {
        if (p.length < workers) p = Arrays.copyOf(p, workers);
        for (int i = 0; i < workers; i++) {
            if (p[i] == null || p[i].length < n) p[i] = new float[n];
            else Arrays.fill(p[i], 0, n, 0f);
        }
        return p;
    }
}
