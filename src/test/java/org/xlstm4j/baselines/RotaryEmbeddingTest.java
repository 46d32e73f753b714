package org.xlstm4j.baselines;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** RoPE: the rotate-half definition, identity at position 0, norm preservation, and inverse = transpose. */
class RotaryEmbeddingTest {
    @Test
    void matchesDefinitionAndInverts() {
        int B = 2, T = 7, NH = 3, D = 6;
        Random rng = new Random(1);
        float[] x = new float[B * T * NH * D];
        for (int i = 0; i < x.length; i++) x[i] = (float) rng.nextGaussian();
        RotaryEmbedding rope = new RotaryEmbedding(D, 10000);
        float[] y = new float[x.length], back = new float[x.length];
        rope.apply(x, y, B, T, NH, false);
        double[] ref = Reference.toDouble(x, x.length);
        Reference.rope(ref, B, T, NH, D);
        for (int i = 0; i < x.length; i++) assertEquals(ref[i], y[i], 1e-5);
        for (int b = 0; b < B; b++)                                     // position 0 is not rotated
            for (int j = 0; j < NH * D; j++) assertEquals(x[b * T * NH * D + j], y[b * T * NH * D + j], 0f);
        for (int r = 0; r < B * T * NH; r++) {                          // norms are preserved
            double n1 = 0, n2 = 0;
            for (int d = 0; d < D; d++) { n1 += x[r * D + d] * x[r * D + d]; n2 += y[r * D + d] * y[r * D + d]; }
            assertEquals(n1, n2, 1e-4 * n1);
        }
        rope.apply(y, back, B, T, NH, true);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], back[i], 1e-5);
    }

    @Test
    void oddHeadDimIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> new RotaryEmbedding(5, 10000));
    }
}
