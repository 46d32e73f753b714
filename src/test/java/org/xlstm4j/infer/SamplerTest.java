package org.xlstm4j.infer;

import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.*;

class SamplerTest {
    private static final int DRAWS = 40_000;

    private static float[] randomLogits(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (2 * r.nextGaussian());
        return x;
    }

    private static int naiveArgmax(float[] x) {
        int best = 0;
        for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /** Reference filtering in double: softmax(x/τ), top-k, then the smallest most-likely prefix with mass ≥ p. */
    private static double[] expected(float[] x, double temp, int k, double p) {
        int n = x.length;
        double max = Arrays.stream(IntStream.range(0, n).mapToDouble(i -> x[i]).toArray()).max().orElseThrow();
        double[] q = new double[n];
        for (int i = 0; i < n; i++) q[i] = Math.exp((x[i] - max) / temp);
        Integer[] order = IntStream.range(0, n).boxed().sorted(Comparator.comparingDouble((Integer i) -> -q[i])).toArray(Integer[]::new);
        int keep = k == 0 ? n : Math.min(k, n);
        double mass = 0;
        for (int j = 0; j < keep; j++) mass += q[order[j]];
        double cum = 0;
        int m = 0;
        while (m < keep && (m == 0 || cum < p * mass)) cum += q[order[m++]];
        double[] out = new double[n];
        for (int j = 0; j < m; j++) out[order[j]] = q[order[j]] / cum;
        return out;
    }

    /** Draws many samples, checks that only tokens of non-zero expected probability occur and a chi-square bound. */
    private static void assertDistribution(Sampler s, float[] logits, double[] want) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < DRAWS; i++) counts[s.sample(logits)]++;
        double chi2 = 0;
        int df = -1;
        for (int i = 0; i < want.length; i++) {
            if (want[i] == 0) {
                assertEquals(0, counts[i], "token " + i + " is outside the kept set but was drawn");
                continue;
            }
            double e = want[i] * DRAWS;
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
            df++;
        }
        if (df == 0) return;
        // Wilson–Hilferty approximation of the chi-square quantile at z = 4.5 (about 1 in 300,000 false alarms)
        double z = 4.5, a = 2.0 / (9 * df), bound = df * Math.pow(1 - a + z * Math.sqrt(a), 3);
        assertTrue(chi2 < bound, "chi-square " + chi2 + " with " + df + " degrees of freedom exceeds " + bound
                + "; counts " + Arrays.toString(counts));
    }

    @Test void greedyIsArgmax() {
        SplittableRandom r = new SplittableRandom(1);
        Sampler g = Sampler.greedy(50), t0 = new Sampler(50, 0, 0, 1, 9);
        assertTrue(g.isGreedy() && t0.isGreedy());
        for (int i = 0; i < 200; i++) {
            float[] x = randomLogits(r, 50);
            assertEquals(naiveArgmax(x), g.sample(x));
            assertEquals(naiveArgmax(x), t0.sample(x));
        }
        assertEquals(2, g.sample(new float[50], 0) + 2, "ties: lowest id");
    }

    @Test void topKOneIsGreedy() {
        SplittableRandom r = new SplittableRandom(2);
        Sampler k1 = new Sampler(64, 1.5, 1, 1, 5), k1p = new Sampler(64, 0.7, 1, 0.3, 6);
        assertFalse(k1.isGreedy());
        for (int i = 0; i < 300; i++) {
            float[] x = randomLogits(r, 64);
            if (i % 3 == 0) x[r.nextInt(64)] = x[naiveArgmax(x)];   // ties at the top
            assertEquals(naiveArgmax(x), k1.sample(x));
            assertEquals(naiveArgmax(x), k1p.sample(x));
        }
    }

    @Test void temperatureSamplingMatchesSoftmax() {
        float[] x = {1.0f, 0.5f, -0.3f, 2.0f, 0.0f, -1.0f};
        assertDistribution(new Sampler(6, 0.8, 0, 1, 11), x, expected(x, 0.8, 0, 1));
    }

    @Test void topPKeepsTheSmallestSetReachingP() {
        float[] x = {0.1f, 2.3f, -1.0f, 1.7f, 0.9f, -0.2f, 1.2f, -3.0f, 0.4f, 2.0f};
        for (double p : new double[] {0.45, 0.62, 0.9}) {
            double[] want = expected(x, 1.0, 0, p);
            long kept = Arrays.stream(want).filter(v -> v > 0).count();
            assertTrue(kept > 1 && kept < x.length, "the test's p should keep a proper subset, kept " + kept);
            assertDistribution(new Sampler(10, 1.0, 0, p, 12), x, want);
        }
        assertDistribution(new Sampler(10, 1.0, 0, 1e-9, 13), x, expected(x, 1.0, 0, 1e-9));   // only the top token
    }

    @Test void topKAndTopPTogether() {
        float[] x = {0.1f, 2.3f, -1.0f, 1.7f, 0.9f, -0.2f, 1.2f, -3.0f, 0.4f, 2.0f};
        assertDistribution(new Sampler(10, 1.3, 4, 1, 14), x, expected(x, 1.3, 4, 1));
        assertDistribution(new Sampler(10, 1.3, 5, 0.7, 15), x, expected(x, 1.3, 5, 0.7));
    }

    @Test void deterministicPerSeedAndRowOffsets() {
        SplittableRandom r = new SplittableRandom(3);
        float[] block = randomLogits(r, 3 * 100);   // [T=3, V=100]
        Sampler a = new Sampler(100, 1, 20, 0.9, 77), b = new Sampler(100, 1, 20, 0.9, 77);
        int[] first = new int[50];
        for (int i = 0; i < 50; i++) {
            first[i] = a.sample(block, 200);
            assertEquals(first[i], b.sample(block, 200));
        }
        a.reseed(77);
        for (int i = 0; i < 50; i++) assertEquals(first[i], a.sample(block, 200));
        Sampler c = new Sampler(100, 1, 20, 0.9, 78);
        assertFalse(Arrays.equals(first, IntStream.range(0, 50).map(i -> c.sample(block, 200)).toArray()));
        assertThrows(IllegalArgumentException.class, () -> a.sample(block, 250));
    }

    @Test void noAllocationPerCall() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        float[] x = randomLogits(new SplittableRandom(4), 1000);
        Sampler s = new Sampler(1000, 0.9, 40, 0.95, 1), t = new Sampler(1000, 0.9, 0, 1, 1);
        for (int i = 0; i < 5000; i++) s.sample(x);
        long before = mx.getCurrentThreadAllocatedBytes();
        int sum = 0;
        for (int i = 0; i < 5000; i++) sum += s.sample(x) + t.sample(x);
        long allocated = mx.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated < 64 * 1024, allocated + " bytes allocated for 10,000 draws (" + sum + ")");
    }

    @Test void badInput() {
        assertThrows(UserError.class, () -> new Sampler(10, -1, 0, 1, 0));
        assertThrows(UserError.class, () -> new Sampler(10, 1, -2, 1, 0));
        assertThrows(UserError.class, () -> new Sampler(10, 1, 0, 0, 0));
        assertThrows(UserError.class, () -> new Sampler(10, 1, 0, 1.5, 0));
        float[] nan = new float[10];
        nan[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> new Sampler(10, 1, 0, 1, 0).sample(nan));
        assertThrows(IllegalArgumentException.class, () -> Sampler.greedy(10).sample(nan));
    }
}
