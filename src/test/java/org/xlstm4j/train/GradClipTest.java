package org.xlstm4j.train;

import org.junit.jupiter.api.Test;
import org.xlstm4j.model.Param;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class GradClipTest {
    private static List<Param> params(float... a) {
        Param p = new Param("a", 2), q = new Param("b", a.length - 2);
        System.arraycopy(a, 0, p.grad, 0, 2);
        System.arraycopy(a, 2, q.grad, 0, a.length - 2);
        return List.of(p, q);
    }

    @Test void clipsToMaxNormAndReturnsThePreClipNorm() {
        List<Param> ps = params(3, 4, 12, 0);   // norm 13
        assertEquals(13, GradClip.clip(ps, 6.5), 1e-9);
        assertEquals(6.5, GradClip.globalNorm(ps), 1e-5);
        assertEquals(1.5, ps.get(0).grad[0], 1e-6);   // direction kept
        assertEquals(6, ps.get(1).grad[0], 1e-5);
    }

    @Test void leavesSmallGradientsAlone() {
        List<Param> ps = params(0.3f, 0.4f, 0, 0);
        assertEquals(0.5, GradClip.clip(ps, 1), 1e-7);
        assertEquals(0.3f, ps.get(0).grad[0]);
        assertEquals(0.5, GradClip.clip(ps, 0), 1e-7);   // 0 disables
    }

    @Test void nonFiniteNormIsReportedNotClipped() {
        List<Param> ps = params(1, Float.NaN, 2, 2);
        assertTrue(Double.isNaN(GradClip.clip(ps, 1)));
        assertEquals(1f, ps.get(0).grad[0]);
        List<Param> inf = params(1, Float.POSITIVE_INFINITY, 2, 2);
        assertEquals(Double.POSITIVE_INFINITY, GradClip.clip(inf, 1));
        assertEquals(2f, inf.get(1).grad[0]);
    }
}
