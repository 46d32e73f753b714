package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;
import static org.xlstm4j.layers.GradCheck.*;

import java.util.Random;
import java.util.function.DoubleSupplier;
import org.junit.jupiter.api.Test;
import org.xlstm4j.tensor.Activations;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.tensor.ScalarKernels;

class GatedFFNTest {
    private final Kernels k = new ScalarKernels();

    /** spec §2.6 / §4.7 examples of the official round-up. */
    @Test
    void hiddenDimRounding() {
        assertEquals(64, GatedFFN.hiddenDim(48, 1.3, 64));
        assertEquals(64, GatedFFN.hiddenDim(32, 1.3, 64));
        assertEquals(1024, GatedFFN.hiddenDim(768, 1.3, 64));
        assertEquals(1024, GatedFFN.hiddenDim(768, 4.0 / 3.0, 64)); // the paper's 4/3 gives the same
        assertEquals(128, GatedFFN.hiddenDim(64, 1.3, 64));         // §4.7: E=64 → P=128
        assertEquals(128, GatedFFN.hiddenDim(64, 2.0, 64));         // exact multiple stays
    }

    @Test
    void namesAndShapes() {
        GatedFFN f = new GatedFFN("blocks.1.ffn", 64, 128, GatedFFN.Act.GELU);
        assertEquals("blocks.1.ffn.proj_up.weight", f.projUp().weight.name);
        assertArrayEquals(new int[] {256, 64}, f.projUp().weight.shape);
        assertEquals("blocks.1.ffn.proj_down.weight", f.projDown().weight.name);
        assertArrayEquals(new int[] {64, 128}, f.projDown().weight.shape);
        assertNull(f.projUp().bias);
        assertNull(f.projDown().bias);
        assertTrue(f.projUp().weight.weightDecay && f.projDown().weight.weightDecay);
    }

    @Test
    void forwardMatchesDefinition() {
        for (GatedFFN.Act act : GatedFFN.Act.values()) {
            int rows = 3, E = 6, P = 5;
            Random rng = new Random(1);
            GatedFFN f = new GatedFFN("ffn", E, P, act);
            for (var p : f.params()) randomize(p, rng, 0.7);
            float[] x = randn(rng, rows * E, 1), y = new float[rows * E];
            f.forward(k, x, y, rows);
            float[] wu = f.projUp().weight.data, wd = f.projDown().weight.data;
            double[] ref = new double[rows * E];
            for (int r = 0; r < rows; r++) {
                double[] h = new double[P];
                for (int i = 0; i < P; i++) {
                    double gate = 0, up = 0;
                    for (int e = 0; e < E; e++) {
                        gate += (double) x[r * E + e] * wu[i * E + e];       // gate = first P features
                        up += (double) x[r * E + e] * wu[(P + i) * E + e];
                    }
                    double a = act == GatedFFN.Act.GELU
                            ? 0.5 * gate * (1 + Activations.erf(gate / Math.sqrt(2)))
                            : gate / (1 + Math.exp(-gate));
                    h[i] = a * up;
                }
                for (int e = 0; e < E; e++) {
                    double s = 0;
                    for (int i = 0; i < P; i++) s += h[i] * wd[e * P + i];
                    ref[r * E + e] = s;
                }
            }
            assertClose(ref, y, ref.length, 1e-5, "ffn forward " + act);
        }
    }

    @Test
    void gradients() {
        for (GatedFFN.Act act : GatedFFN.Act.values()) {
            int rows = 4, E = 6, P = 8;
            Random rng = new Random(2);
            GatedFFN f = new GatedFFN("ffn", E, P, act);
            for (var p : f.params()) randomize(p, rng, 0.7);
            float[] x = randn(rng, rows * E, 1), y = new float[rows * E], R = rand(rng, rows * E);
            DoubleSupplier loss = () -> { f.forward(k, x, y, rows); return dot(y, R, y.length); };
            loss.getAsDouble();
            for (var p : f.params()) p.zeroGrad();
            float[] dx = new float[x.length];
            f.backward(k, R, dx, rows, false);
            assertGrad("ffn dx " + act, x, dx, loss, 1e-2f, 2e-3);
            assertGrad("ffn dW_up " + act, f.projUp().weight.data, f.projUp().weight.grad, loss, 1e-2f, 2e-3);
            assertGrad("ffn dW_down " + act, f.projDown().weight.data, f.projDown().weight.grad, loss, 1e-2f, 2e-3);
            DoubleSupplier exact = () -> DoubleReference.dot(DoubleReference.gatedFfn(x, f.projUp().weight.data,
                    f.projDown().weight.data, rows, E, P, act), R);
            f.forward(k, x, y, rows);
            assertClose(DoubleReference.gatedFfn(x, f.projUp().weight.data, f.projDown().weight.data, rows, E, P, act),
                    y, y.length, 1e-5, "ffn vs double " + act);
            assertGradDouble("ffn dx " + act, x, dx, exact);
            assertGradDouble("ffn dW_up " + act, f.projUp().weight.data, f.projUp().weight.grad, exact);
            assertGradDouble("ffn dW_down " + act, f.projDown().weight.data, f.projDown().weight.grad, exact);
            assertAccumulation((d, acc) -> f.backward(k, R, d, rows, acc), dx.length, f.params());
        }
    }
}
