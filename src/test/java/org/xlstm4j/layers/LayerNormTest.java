package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class LayerNormTest {
    /** Direct double-precision LayerNorm of one row segment. */
    static double[] reference(float[] x, int off, int n, float[] w, int wOff, boolean offsetScale, float[] b, float eps) {
        double mu = 0, var = 0;
        for (int i = 0; i < n; i++) mu += x[off + i];
        mu /= n;
        for (int i = 0; i < n; i++) var += (x[off + i] - mu) * (x[off + i] - mu);
        var /= n;
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            double scale = (offsetScale ? 1.0 : 0.0) + w[wOff + i];
            y[i] = (x[off + i] - mu) / Math.sqrt(var + eps) * scale + (b == null ? 0 : b[wOff + i]);
        }
        return y;
    }

    @Test
    void namesInitAndDecay() {
        LayerNorm neurips = new LayerNorm("blocks.0.xlstm_norm", 8, 1e-5f, true, false);
        assertEquals("blocks.0.xlstm_norm.weight", neurips.weight.name);
        assertArrayEquals(new float[8], neurips.weight.data); // scale = 1 + 0
        assertFalse(neurips.weight.weightDecay);
        assertNull(neurips.bias);
        LayerNorm large = new LayerNorm("post_blocks_norm", 8, 1e-6f, false, true);
        for (float v : large.weight.data) assertEquals(1f, v);
        assertEquals("post_blocks_norm.bias", large.bias.name);
        assertFalse(large.bias.weightDecay);
    }

    @Test
    void forwardMatchesDefinition() {
        for (boolean offset : new boolean[] {true, false}) {
            int rows = 5, dim = 12;
            Random rng = new Random(1);
            LayerNorm ln = new LayerNorm("ln", dim, offset ? 1e-5f : 1e-6f, offset, true);
            randomize(ln.weight, rng, 0.5);
            randomize(ln.bias, rng, 0.5);
            float[] x = randn(rng, rows * dim, 2), y = new float[rows * dim];
            for (int i = 0; i < dim; i++) x[i] += 10f; // a row with a large mean
            ln.forward(x, y, rows);
            double[] ref = new double[rows * dim];
            for (int r = 0; r < rows; r++) {
                double[] yr = reference(x, r * dim, dim, ln.weight.data, 0, offset, ln.bias.data, offset ? 1e-5f : 1e-6f);
                System.arraycopy(yr, 0, ref, r * dim, dim);
            }
            assertClose(ref, y, ref.length, 1e-5, "layernorm forward");
        }
    }

    @Test
    void gradients() {
        for (boolean offset : new boolean[] {true, false}) {
            for (boolean hasBias : new boolean[] {false, true}) {
                int rows = 4, dim = 10;
                Random rng = new Random(2);
                LayerNorm ln = new LayerNorm("ln", dim, 1e-5f, offset, hasBias);
                for (var p : ln.params()) randomize(p, rng, 0.5);
                if (!offset) for (int i = 0; i < dim; i++) ln.weight.data[i] += 1f;
                float[] x = randn(rng, rows * dim, 1), y = new float[rows * dim], R = rand(rng, rows * dim);
                DoubleSupplier loss = () -> { ln.forward(x, y, rows); return dot(y, R, y.length); };
                loss.getAsDouble();
                for (var p : ln.params()) p.zeroGrad();
                float[] dx = new float[x.length];
                ln.backward(R, dx, rows, false);
                String tag = " offset=" + offset + " bias=" + hasBias;
                assertGrad("layernorm dx" + tag, x, dx, loss, 1e-2f, 1e-3);
                assertGrad("layernorm dw" + tag, ln.weight.data, ln.weight.grad, loss, 1e-2f, 1e-3);
                if (hasBias) assertGrad("layernorm db" + tag, ln.bias.data, ln.bias.grad, loss, 1e-2f, 1e-3);
                DoubleSupplier exact = () -> DoubleReference.dot(DoubleReference.groupNorm(x, ln.weight.data,
                        hasBias ? ln.bias.data : null, rows, 1, dim, 1e-5f, offset), R);
                ln.forward(x, y, rows);
                assertClose(DoubleReference.groupNorm(x, ln.weight.data, hasBias ? ln.bias.data : null, rows, 1, dim, 1e-5f, offset),
                        y, y.length, 1e-5, "layernorm vs double");
                assertGradDouble("layernorm dx" + tag, x, dx, exact);
                assertGradDouble("layernorm dw" + tag, ln.weight.data, ln.weight.grad, exact);
                if (hasBias) assertGradDouble("layernorm db" + tag, ln.bias.data, ln.bias.grad, exact);
                assertAccumulation((d, acc) -> ln.backward(R, d, rows, acc), dx.length, ln.params());
            }
        }
    }
}
