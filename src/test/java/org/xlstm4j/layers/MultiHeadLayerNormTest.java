package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;

class MultiHeadLayerNormTest {
    @Test
    void namesAndInit() {
        MultiHeadLayerNorm neurips = new MultiHeadLayerNorm("blocks.0.xlstm.mlstm_cell.outnorm", 4, 32, 1e-5f, true);
        assertEquals("blocks.0.xlstm.mlstm_cell.outnorm.weight", neurips.weight.name);
        assertArrayEquals(new int[] {128}, neurips.weight.shape);
        assertArrayEquals(new float[128], neurips.weight.data);
        assertFalse(neurips.weight.weightDecay);
        MultiHeadLayerNorm large = new MultiHeadLayerNorm("mlstm_layer.multihead_norm", 2, 4, 1e-6f, false);
        for (float v : large.weight.data) assertEquals(1f, v);
    }

    /** Forward and backward equal an independent LayerNorm applied to each head's DH features. */
    @Test
    void equalsLayerNormPerHead() {
        for (boolean offset : new boolean[] {true, false}) {
            int rows = 5, nh = 3, dh = 8, dim = nh * dh;
            float eps = offset ? 1e-5f : 1e-6f;
            Random rng = new Random(3);
            MultiHeadLayerNorm mh = new MultiHeadLayerNorm("mh", nh, dh, eps, offset);
            randomize(mh.weight, rng, 0.5);
            float[] x = randn(rng, rows * dim, 1.5), y = new float[rows * dim], dy = rand(rng, rows * dim);
            float[] dx = new float[rows * dim];
            mh.forward(x, y, rows);
            mh.backward(dy, dx, rows, false);
            for (int h = 0; h < nh; h++) {
                LayerNorm ln = new LayerNorm("ln", dh, eps, offset, false);
                System.arraycopy(mh.weight.data, h * dh, ln.weight.data, 0, dh);
                float[] xh = new float[rows * dh], dyh = new float[rows * dh], yh = new float[rows * dh], dxh = new float[rows * dh];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(x, r * dim + h * dh, xh, r * dh, dh);
                    System.arraycopy(dy, r * dim + h * dh, dyh, r * dh, dh);
                }
                ln.forward(xh, yh, rows);
                ln.backward(dyh, dxh, rows, false);
                float[] yMh = new float[rows * dh], dxMh = new float[rows * dh], dwMh = new float[dh];
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(y, r * dim + h * dh, yMh, r * dh, dh);
                    System.arraycopy(dx, r * dim + h * dh, dxMh, r * dh, dh);
                }
                System.arraycopy(mh.weight.grad, h * dh, dwMh, 0, dh);
                assertClose(yh, yMh, yh.length, 1e-6, "head " + h + " y");
                assertClose(dxh, dxMh, dxh.length, 1e-6, "head " + h + " dx");
                assertClose(ln.weight.grad, dwMh, dh, 1e-6, "head " + h + " dw");
            }
        }
    }

    @Test
    void gradients() {
        for (boolean offset : new boolean[] {true, false}) {
            int rows = 3, nh = 2, dh = 6;
            Random rng = new Random(4);
            MultiHeadLayerNorm mh = new MultiHeadLayerNorm("mh", nh, dh, 1e-5f, offset);
            randomize(mh.weight, rng, 0.5);
            if (!offset) for (int i = 0; i < nh * dh; i++) mh.weight.data[i] += 1f;
            float[] x = randn(rng, rows * nh * dh, 1), y = new float[x.length], R = rand(rng, x.length);
            DoubleSupplier loss = () -> { mh.forward(x, y, rows); return dot(y, R, y.length); };
            loss.getAsDouble();
            mh.weight.zeroGrad();
            float[] dx = new float[x.length];
            mh.backward(R, dx, rows, false);
            assertGrad("mhln dx offset=" + offset, x, dx, loss, 1e-2f, 1e-3);
            assertGrad("mhln dw offset=" + offset, mh.weight.data, mh.weight.grad, loss, 1e-2f, 1e-3);
            DoubleSupplier exact = () -> DoubleReference.dot(DoubleReference.groupNorm(x, mh.weight.data, null, rows, nh, dh, 1e-5f, offset), R);
            mh.forward(x, y, rows);
            assertClose(DoubleReference.groupNorm(x, mh.weight.data, null, rows, nh, dh, 1e-5f, offset), y, y.length, 1e-5, "mhln vs double");
            assertGradDouble("mhln dx offset=" + offset, x, dx, exact);
            assertGradDouble("mhln dw offset=" + offset, mh.weight.data, mh.weight.grad, exact);
            assertAccumulation((d, acc) -> mh.backward(R, d, rows, acc), dx.length, mh.params());
        }
    }
}
