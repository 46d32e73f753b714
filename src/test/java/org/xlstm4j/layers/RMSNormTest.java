package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class RMSNormTest {
    @Test
    void nameAndInit() {
        RMSNorm n = new RMSNorm("backbone.blocks.0.norm_mlstm", 6, 1e-6f);
        assertEquals("backbone.blocks.0.norm_mlstm.weight", n.weight.name);
        for (float v : n.weight.data) assertEquals(1f, v);
        assertFalse(n.weight.weightDecay);
    }

    @Test
    void forwardMatchesDefinition() {
        int rows = 4, dim = 9;
        float eps = 1e-6f;
        Random rng = new Random(1);
        RMSNorm n = new RMSNorm("n", dim, eps);
        randomize(n.weight, rng, 1);
        float[] x = randn(rng, rows * dim, 3), y = new float[rows * dim];
        n.forward(x, y, rows);
        double[] ref = new double[rows * dim];
        for (int r = 0; r < rows; r++) {
            double ms = 0;
            for (int i = 0; i < dim; i++) ms += (double) x[r * dim + i] * x[r * dim + i];
            ms /= dim;
            for (int i = 0; i < dim; i++) ref[r * dim + i] = x[r * dim + i] / Math.sqrt(ms + eps) * n.weight.data[i];
        }
        assertClose(ref, y, ref.length, 1e-6, "rmsnorm forward");
    }

    @Test
    void gradients() {
        int rows = 4, dim = 10;
        Random rng = new Random(2);
        RMSNorm n = new RMSNorm("n", dim, 1e-6f);
        for (int i = 0; i < dim; i++) n.weight.data[i] = (float) (1 + 0.5 * rng.nextGaussian());
        float[] x = randn(rng, rows * dim, 1), y = new float[x.length], R = rand(rng, x.length);
        DoubleSupplier loss = () -> { n.forward(x, y, rows); return dot(y, R, y.length); };
        loss.getAsDouble();
        n.weight.zeroGrad();
        float[] dx = new float[x.length];
        n.backward(R, dx, rows, false);
        assertGrad("rmsnorm dx", x, dx, loss, 1e-2f, 1e-3);
        assertGrad("rmsnorm dw", n.weight.data, n.weight.grad, loss, 1e-2f, 1e-3);
        DoubleSupplier exact = () -> DoubleReference.dot(DoubleReference.rmsNorm(x, n.weight.data, rows, dim, 1e-6f), R);
        n.forward(x, y, rows);
        assertClose(DoubleReference.rmsNorm(x, n.weight.data, rows, dim, 1e-6f), y, y.length, 1e-5, "rmsnorm vs double");
        assertGradDouble("rmsnorm dx", x, dx, exact);
        assertGradDouble("rmsnorm dw", n.weight.data, n.weight.grad, exact);
        assertAccumulation((d, acc) -> n.backward(R, d, rows, acc), dx.length, n.params());
    }
}
