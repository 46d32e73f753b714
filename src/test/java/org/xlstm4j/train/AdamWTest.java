package org.xlstm4j.train;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.UserError;
import org.xlstm4j.model.Param;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class AdamWTest {

    /** Three scalars, two with weight decay, one without; gradients of f(p) = Σ c·(p - t)², varying lr. */
    @Test void matchesHandComputationOfTheFormulas() {
        double b1 = 0.8, b2 = 0.95, eps = 1e-3, wd = 0.3;
        double[] c = {1.5, -0.7, 3.0}, target = {0.25, 2.0, -1.0};
        double[] p = {1.0, -0.5, 0.125}, m = new double[3], v = new double[3];
        boolean[] decays = {true, false, true};
        Param[] ps = new Param[3];
        for (int i = 0; i < 3; i++) {
            ps[i] = new Param("p" + i, 1);
            ps[i].data[0] = (float) p[i];
            ps[i].weightDecay = decays[i];
        }
        AdamW opt = new AdamW(List.of(ps), b1, b2, eps, wd);
        for (int t = 1; t <= 6; t++) {
            double lr = 0.05 * t;
            for (int i = 0; i < 3; i++) {
                double g = 2 * c[i] * (ps[i].data[0] - target[i]);   // gradient at the float parameter
                ps[i].grad[0] = (float) g;
                g = ps[i].grad[0];
                // reference AdamW (Loshchilov & Hutter, decoupled decay first as in torch.optim.AdamW), in double
                if (decays[i]) p[i] -= lr * wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.pow(b1, t)), vHat = v[i] / (1 - Math.pow(b2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
            opt.step(lr);
            assertEquals(t, opt.stepCount());
            for (int i = 0; i < 3; i++) {
                assertEquals(p[i], ps[i].data[0], 2e-6 * Math.max(1, Math.abs(p[i])), "param " + i + " step " + t);
                assertEquals(m[i], opt.firstMoment(i)[0], 2e-6 * Math.max(1, Math.abs(m[i])));
                assertEquals(v[i], opt.secondMoment(i)[0], 2e-6 * Math.max(1, Math.abs(v[i])));
                p[i] = ps[i].data[0];   // continue from the float value so rounding does not compound
            }
        }
    }

    @Test void noDecayWithoutTheFlagOrWithZeroCoefficient() {
        Param a = new Param("a", 2), b = new Param("b", 2);
        a.data[0] = b.data[0] = 3f;
        a.weightDecay = false;
        b.weightDecay = true;
        new AdamW(List.of(a, b), 0.9, 0.999, 1e-8, 0.5).step(0.1);   // zero gradients: only decay moves a parameter
        assertEquals(3f, a.data[0]);
        assertEquals(3 * (1 - 0.1 * 0.5), b.data[0], 1e-6);
        Param c = new Param("c", 1);
        c.data[0] = 3f;
        c.weightDecay = true;
        new AdamW(List.of(c), 0.9, 0.999, 1e-8, 0).step(0.1);
        assertEquals(3f, c.data[0]);
    }

    @Test void stateRoundTripsExactly(@TempDir Path dir) throws Exception {
        Param a = new Param("layer.weight", 2, 3), b = new Param("layer.bias", 3);
        AdamW opt = new AdamW(List.of(a, b), 0.9, 0.99, 1e-8, 0.1);
        for (int s = 0; s < 3; s++) {
            for (int i = 0; i < 6; i++) a.grad[i] = (float) Math.sin(i + s);
            for (int i = 0; i < 3; i++) b.grad[i] = (float) Math.cos(i * s);
            opt.step(0.01);
        }
        opt.save(dir.resolve("opt.safetensors"));
        AdamW back = new AdamW(List.of(a, b), 0.9, 0.99, 1e-8, 0.1);
        back.load(dir.resolve("opt.safetensors"));
        assertEquals(3, back.stepCount());
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(opt.firstMoment(i), back.firstMoment(i));
            assertArrayEquals(opt.secondMoment(i), back.secondMoment(i));
        }
        Param other = new Param("other.weight", 6);
        UserError e = assertThrows(UserError.class, () -> new AdamW(List.of(other), 0.9, 0.99, 1e-8, 0).load(dir.resolve("opt.safetensors")));
        assertTrue(e.getMessage().contains("other.weight"), e.getMessage());
    }
}
