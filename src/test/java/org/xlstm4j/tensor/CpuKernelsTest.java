package org.xlstm4j.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link CpuKernels} against {@link ScalarKernels} for all three layouts, on random shapes (ragged tails, primes, 1),
 * offsets, accumulate on and off, both tile widths, the matrix-vector path and the multi-threaded path.
 *
 * <p>Tolerance: every output is a sum of K products (K the inner length); both sides accumulate in float in different
 * orders, so each is within K·2⁻²⁴·Σ|aₖbₖ| of the exact value (worst case). We allow 1e-5·√K·(Σ|aₖbₖ| + |c₀|), which
 * exceeds twice that worst case for every K used here (K ≤ 1000: 3.2e-4 vs 1.2e-4) yet is below one average term
 * |aₖbₖ| ≈ Σ/K while K &lt; 2000 (20× below at K = 300), so a dropped, doubled or misplaced term fails.
 */
class CpuKernelsTest {
    private static final float SENTINEL = 12345.5f;
    private static final ScalarKernels REF = new ScalarKernels();
    private static CpuKernels wide1, narrow1, wide2;

    @BeforeAll static void setUp() {
        wide1 = new CpuKernels(1, 4);
        narrow1 = new CpuKernels(1, 2);
        wide2 = new CpuKernels(2, MicroKernel.NV);
    }

    @AfterAll static void tearDown() {
        wide1.close();
        narrow1.close();
        wide2.close();
    }

    enum Layout { XWT, DYW, DYTX }

    @Test void randomShapesAllLayouts() {
        Random rnd = new Random(42);
        int[] special = {1, 2, 3, 5, 6, 7, 13, 16, 17, 31, 64, 65, 97, 127, 251, 257, 293};
        for (int trial = 0; trial < 60; trial++) {
            int M = trial % 3 == 0 ? special[rnd.nextInt(special.length)] : 1 + rnd.nextInt(300);
            int N = trial % 3 == 1 ? special[rnd.nextInt(special.length)] : 1 + rnd.nextInt(300);
            int K = trial % 3 == 2 ? special[rnd.nextInt(special.length)] : 1 + rnd.nextInt(300);
            CpuKernels k = trial % 2 == 0 ? wide1 : narrow1;
            for (Layout layout : Layout.values()) check(k, layout, M, N, K, rnd.nextBoolean(), rnd);
        }
    }

    @Test void tinyAndEdgeShapes() {
        Random rnd = new Random(7);
        int[][] shapes = {{1, 1, 1}, {1, 1, 5}, {2, 3, 1}, {3, 1, 1}, {7, 1, 300}, {1, 300, 1}, {6, 64, 256}, {6, 64, 257},
                {12, 128, 512}, {300, 2, 2}, {4, 5, 6}, {5, 700, 3}};
        for (int[] s : shapes) {
            for (Layout layout : Layout.values()) {
                for (boolean acc : new boolean[]{false, true}) {
                    check(wide1, layout, s[0], s[1], s[2], acc, rnd);
                    check(narrow1, layout, s[0], s[1], s[2], acc, rnd);
                }
            }
        }
    }

    @Test void zeroSizes() {
        Random rnd = new Random(3);
        for (Layout layout : Layout.values()) {
            for (boolean acc : new boolean[]{false, true}) {
                check(wide1, layout, 0, 5, 7, acc, rnd);
                check(wide1, layout, 5, 0, 7, acc, rnd);
                check(wide1, layout, 5, 7, 0, acc, rnd); // K = 0: y = 0 (or unchanged when accumulating)
                check(wide1, layout, 9, 7, 0, acc, rnd);
            }
        }
    }

    /** Shapes above the parallel threshold, split over columns and (few columns) over rows, plus the GEMV path. */
    @Test void multiThreaded() {
        Random rnd = new Random(11);
        assertTrue((long) 200 * 300 * 250 >= CpuKernels.PARALLEL_FLOPS);
        int[][] shapes = {{200, 300, 250}, {299, 37, 263}, {1, 1000, 700}, {2, 999, 701}, {600, 70, 40}};
        for (int[] s : shapes) {
            for (Layout layout : Layout.values()) {
                check(wide2, layout, s[0], s[1], s[2], false, rnd);
                check(wide2, layout, s[0], s[1], s[2], true, rnd);
            }
        }
    }

    /** K larger than one KC block, so later blocks accumulate into the first one's result. */
    @Test void severalKBlocks() {
        Random rnd = new Random(5);
        for (Layout layout : Layout.values()) check(wide1, layout, 13, 70, Gemm.KC * 2 + 3, false, rnd);
        // N beyond one NC block of packed columns
        check(wide1, Layout.XWT, 7, Gemm.NC + 100, 20, true, rnd);
    }

    /** Many back-to-back parallel calls (workers spinning, then parked) give bit-identical results: no lost parts. */
    @Test void repeatedParallelCallsAreDeterministic() throws InterruptedException {
        Random rnd = new Random(9);
        int M = 64, N = 130, K = 160;
        assertTrue((long) M * N * K >= CpuKernels.PARALLEL_FLOPS);
        float[] x = random(M * K, rnd), w = random(N * K, rnd), first = new float[M * N], y = new float[M * N];
        float[] small = new float[4];
        wide2.matmulXWt(x, 0, w, 0, first, 0, M, N, K, false);
        for (int i = 0; i < 300; i++) {
            if (i % 50 == 0) Thread.sleep(2); // let the workers park now and then
            if (i % 3 == 0) wide2.matmulXWt(small, 0, small, 0, small, 0, 1, 1, 1, false); // single-threaded in between
            java.util.Arrays.fill(y, Float.NaN);
            wide2.matmulXWt(x, 0, w, 0, y, 0, M, N, K, false);
            if (!java.util.Arrays.equals(first, y)) fail("parallel result changed at call " + i);
        }
    }

    /** An exception in a worker's part reaches the caller, and the pool keeps working afterwards. */
    @Test void workerExceptionReachesCaller() {
        try (WorkerPool pool = new WorkerPool(3, "test-pool")) {
            int[] ran = new int[3];
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.run((part, worker) -> {
                if (part == 2) throw new IllegalStateException("part 2 failed");
            }, 3));
            assertEquals("part 2 failed", e.getMessage());
            pool.run((part, worker) -> ran[part]++, 3);
            pool.run((part, worker) -> ran[part]++, 2);
            assertEquals(List.of(2, 2, 1), List.of(ran[0], ran[1], ran[2]));
        }
    }

    /** Arrays too short for the shape and offsets are rejected before anything is written. */
    @Test void rejectsShortArrays() {
        float[] x = new float[6], w = new float[6], y = new float[4];
        assertThrows(IllegalArgumentException.class, () -> wide1.matmulXWt(x, 1, w, 0, y, 0, 2, 2, 3, false));
        assertThrows(IllegalArgumentException.class, () -> wide1.matmulXWt(x, 0, w, 0, y, 1, 2, 2, 3, false));
        assertThrows(IllegalArgumentException.class, () -> wide1.matmulDyW(y, 0, w, 1, x, 0, 2, 2, 3, false));
        assertThrows(IllegalArgumentException.class, () -> wide1.matmulDyTX(y, 0, x, -1, w, 0, 2, 2, 3, false));
        wide1.matmulXWt(x, 0, w, 0, y, 0, 2, 2, 3, false); // exactly long enough
    }

    @Test void rejectsNegativeSizes() {
        float[] a = new float[4];
        assertThrows(IllegalArgumentException.class, () -> wide1.matmulXWt(a, 0, a, 0, a, 0, -1, 1, 1, false));
        assertThrows(IllegalArgumentException.class, () -> new CpuKernels(0));
    }

    @Test void nameAndThreads() {
        assertEquals(2, wide2.threads());
        assertTrue(wide2.name().startsWith("cpu-simd"), wide2.name());
    }

    private static void check(Kernels k, Layout layout, int M, int N, int K, boolean acc, Random rnd) {
        // a: x or dy; b: W or x; c: output. Each sits at a random offset inside a larger array of sentinels.
        int aLen = layout == Layout.XWT ? M * K : M * N;
        int bLen = layout == Layout.DYTX ? M * K : N * K;
        int cLen = switch (layout) { case XWT -> M * N; case DYW -> M * K; case DYTX -> N * K; };
        int aOff = rnd.nextInt(5), bOff = rnd.nextInt(5), cOff = rnd.nextInt(5);
        float[] a = random(aOff + aLen + 3, rnd), b = random(bOff + bLen + 3, rnd);
        float[] c = new float[cOff + cLen + 3];
        java.util.Arrays.fill(c, SENTINEL);
        for (int i = 0; i < cLen; i++) c[cOff + i] = (float) rnd.nextGaussian();
        float[] c0 = c.clone(), expect = c.clone();
        run(REF, layout, a, aOff, b, bOff, expect, cOff, M, N, K, acc);
        run(k, layout, a, aOff, b, bOff, c, cOff, M, N, K, acc);
        float[] bound = errorBound(layout, a, aOff, b, bOff, c0, cOff, M, N, K, acc);
        for (int i = 0; i < c.length; i++) {
            boolean inside = i >= cOff && i < cOff + cLen;
            if (!inside) {
                if (c[i] != SENTINEL) fail(layout + " wrote outside its output at " + i);
                continue;
            }
            float tol = bound[i - cOff];
            if (!(Math.abs(c[i] - expect[i]) <= tol)) {
                fail(String.format("%s M=%d N=%d K=%d acc=%b %s: element %d = %g, expected %g (tol %g)",
                        layout, M, N, K, acc, k.name(), i - cOff, c[i], expect[i], tol));
            }
        }
    }

    /** 1e-5·√K·(Σₖ|aₖbₖ| + |c₀|) for every output element. */
    private static float[] errorBound(Layout layout, float[] a, int aOff, float[] b, int bOff, float[] c0, int cOff,
                                      int M, int N, int K, boolean acc) {
        float[] absA = abs(a), absB = abs(b), mag = new float[c0.length];
        run(REF, layout, absA, aOff, absB, bOff, mag, cOff, M, N, K, false);
        int inner = layout == Layout.XWT ? K : layout == Layout.DYW ? N : M;
        float[] out = new float[mag.length - cOff];
        for (int i = 0; i < out.length; i++) {
            float prev = acc ? Math.abs(c0[cOff + i]) : 0f;
            out[i] = (float) (1e-5 * Math.sqrt(Math.max(inner, 1)) * (mag[cOff + i] + prev) + Float.MIN_NORMAL);
        }
        return out;
    }

    private static void run(Kernels k, Layout layout, float[] a, int aOff, float[] b, int bOff, float[] c, int cOff,
                            int M, int N, int K, boolean acc) {
        switch (layout) {
            case XWT -> k.matmulXWt(a, aOff, b, bOff, c, cOff, M, N, K, acc);
            case DYW -> k.matmulDyW(a, aOff, b, bOff, c, cOff, M, N, K, acc);
            case DYTX -> k.matmulDyTX(a, aOff, b, bOff, c, cOff, M, N, K, acc);
        }
    }

    private static float[] random(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    private static float[] abs(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Math.abs(v[i]);
        return r;
    }
}
