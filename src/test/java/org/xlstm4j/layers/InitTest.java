package org.xlstm4j.layers;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.xlstm4j.model.Param;

class InitTest {
    private static double std(float[] a) {
        double s = 0, ss = 0;
        for (float v : a) { s += v; ss += (double) v * v; }
        double m = s / a.length;
        return Math.sqrt(ss / a.length - m * m);
    }

    @Test
    void deterministicPerSeed() {
        Param a = new Param("a.weight", 50, 20), b = new Param("b.weight", 50, 20);
        Init.smallInit(a, 20, new SplittableRandom(42));
        Init.smallInit(b, 20, new SplittableRandom(42));
        assertArrayEquals(a.data, b.data);
        Init.smallInit(b, 20, new SplittableRandom(43));
        assertFalse(java.util.Arrays.equals(a.data, b.data));
    }

    @Test
    void normalStds() {
        int dim = 64;
        Param p = new Param("p", 200, 100); // 20000 samples: sample std within ~1% (3σ ≈ 1.5%)
        Init.smallInit(p, dim, new SplittableRandom(1));
        assertEquals(Math.sqrt(2.0 / (5 * dim)), std(p.data), 0.03 * Math.sqrt(2.0 / (5 * dim)));
        Init.wangInit(p, dim, 7, new SplittableRandom(2));
        double wang = 2.0 / (7 * Math.sqrt(dim));
        assertEquals(wang, std(p.data), 0.03 * wang);
    }

    @Test
    void pytorchDefaultBounds() {
        Linear l = new Linear("l", 25, 400, true);
        Init.pytorchDefault(l, new SplittableRandom(3));
        double bound = 1 / Math.sqrt(25), max = 0;
        for (float v : l.weight.data) { assertTrue(Math.abs(v) <= bound); max = Math.max(max, Math.abs(v)); }
        for (float v : l.bias.data) assertTrue(Math.abs(v) <= bound);
        assertTrue(max > 0.99 * bound);
        assertEquals(bound / Math.sqrt(3), std(l.weight.data), 0.03 * bound / Math.sqrt(3)); // U(±b) has std b/√3
        CausalConv1d c = new CausalConv1d("c", 300, 4, true);
        Init.pytorchDefault(c, new SplittableRandom(4));
        for (float v : c.weight.data) assertTrue(Math.abs(v) <= 0.5); // fan_in = K = 4
    }

    @Test
    void linspaceAndConstant() {
        Param p = new Param("fgate.bias", 4);
        Init.linspace(p, 3, 6);
        for (int i = 0; i < 4; i++) assertEquals(3 + i * (6 - 3) / 3.0, p.data[i], 1e-6);
        Param q = new Param("q", 7);
        Init.linspace(q, -1.3, 2.9);
        assertEquals(-1.3f, q.data[0]);
        assertEquals(2.9f, q.data[6]); // both end points exact
        for (int i = 0; i < 7; i++) assertEquals(-1.3 + i * 4.2 / 6, q.data[i], 1e-6);
        Param one = new Param("one", 1);
        Init.linspace(one, 3, 6);
        assertEquals(3f, one.data[0]);
        Init.constant(q, -10f);
        for (float v : q.data) assertEquals(-10f, v);
    }
}
