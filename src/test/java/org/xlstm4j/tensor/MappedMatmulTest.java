package org.xlstm4j.tensor;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xlstm4j.io.BFloat16;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link MappedWeight} widening (pair-split order) and {@link MappedMatmul} products (SIMD, threads, panel path)
 * against their scalar twins, for F32, BF16 and F16 weights on random shapes with ragged tails (K not a multiple of the vector length, N not
 * a multiple of four).
 *
 * <p>Widening is exact, so SIMD and scalar must agree bit for bit (including f16 subnormals, infinities, NaN, −0).
 * Products: both sides sum K float32 products in different orders; we allow 1e-5·√K·Σ|xₖwₖ| (as CpuKernelsTest), which
 * exceeds the worst-case rounding difference yet is far below one term, so a dropped or doubled term fails.
 */
class MappedMatmulTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static Arena arena;
    private static CpuKernels kernels;

    @BeforeAll static void setUp() {
        arena = Arena.ofShared();
        kernels = new CpuKernels(2);
    }

    @AfterAll static void tearDown() {
        arena.close();
        kernels.close();
    }

    /** A random weight [rows, cols] of the given storage (values ~ N(0, 1), rounded to the storage type). */
    static MappedWeight random(MappedWeight.Storage storage, int rows, int cols, Random rnd) {
        long n = (long) rows * cols;
        MemorySegment s = arena.allocate(n * storage.bytes + 1, 1).asSlice(1);  // deliberately unaligned
        for (long i = 0; i < n; i++) {
            float v = (float) rnd.nextGaussian();
            switch (storage) {
                case F32 -> s.setAtIndex(F32, i, v);
                case BF16 -> s.setAtIndex(I16, i, BFloat16.fromFloat(v));
                case F16 -> s.setAtIndex(I16, i, Float.floatToFloat16(v));
            }
        }
        return new MappedWeight(s, storage, rows, cols);
    }

    @Test void widenIsExactIncludingSpecialValues() {
        Random rnd = new Random(3);
        for (MappedWeight.Storage st : MappedWeight.Storage.values()) {
            for (int cols : new int[]{1, 7, 16, 17, 33, 64, 100}) {
                MappedWeight w = random(st, 3, cols, rnd);
                if (st != MappedWeight.Storage.F32) {
                    short[] special = st == MappedWeight.Storage.F16
                            ? new short[]{0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, (short) 0xfc00, 0x7e00, (short) 0x8000, (short) 0x8001, 0x3c00}
                            : new short[]{0x0001, 0x007f, 0x0080, 0x7f7f, 0x7f80, (short) 0xff80, 0x7fc0, (short) 0x8000, (short) 0x8001, 0x3f80};
                    for (int i = 0; i < Math.min(special.length, 3 * cols); i++) w.data().setAtIndex(I16, i, special[i]);
                }
                float[] simd = new float[3 * cols + 2], scalar = new float[3 * cols + 2], natural = new float[3 * cols + 2];
                w.decodeSplit(0, 3, simd, 1);
                w.decodeSplitScalar(0, 3, scalar, 1);
                w.decode(0, 3, natural, 1);
                for (int i = 0; i < simd.length; i++)
                    assertEquals(Float.floatToRawIntBits(scalar[i]), Float.floatToRawIntBits(simd[i]), st + " cols " + cols + " element " + i);
                if (st == MappedWeight.Storage.F16 && cols >= 10) {          // the scalar widening is the JDK's conversion
                    assertEquals(0x1p-24f, natural[1]);
                    assertEquals(Float.POSITIVE_INFINITY, natural[5]);
                    assertTrue(Float.isNaN(natural[7]));
                    assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(natural[8]));
                }
                // natural order is the pair-split order undone
                float[] split = new float[cols];
                for (int r = 0; r < 3; r++) {
                    if (w.pairSplit()) MappedWeight.splitPairs(natural, 1 + r * cols, split, 0, cols);
                    else System.arraycopy(natural, 1 + r * cols, split, 0, cols);
                    for (int c = 0; c < cols; c++)
                        assertEquals(Float.floatToRawIntBits(split[c]), Float.floatToRawIntBits(simd[1 + r * cols + c]), st + " row " + r + " col " + c);
                }
            }
        }
    }

    @Test void streamingRowsMatchScalarTwin() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 60; trial++) {
            MappedWeight.Storage st = MappedWeight.Storage.values()[trial % 3];
            int N = 1 + rnd.nextInt(40), K = 1 + rnd.nextInt(300), M = 1 + rnd.nextInt(MappedMatmul.STREAM_ROWS);
            MappedWeight w = random(st, N, K, rnd);
            float[] x = randomVector(M * K + 3, rnd), xs = x.clone();
            if (w.pairSplit()) for (int m = 0; m < M; m++) MappedWeight.splitPairs(x, 3 + m * K, xs, 3 + m * K, K);
            float[] got = new float[M * N + 5], want = new float[M * N + 5];
            int n0 = rnd.nextInt(N), n1 = n0 + rnd.nextInt(N - n0 + 1);
            MappedMatmul.rows(w, xs, 3, M, got, 0, n0, n1);
            MappedMatmul.rowsScalar(w, x, 3, M, want, 0, n0, n1);
            check(got, want, w, x, 3, M, 0, st + " N=" + N + " K=" + K + " M=" + M + " rows " + n0 + ".." + n1);
        }
    }

    /**
     * Rows of ≥ {@link MappedMatmul#PAIR_COLS} bf16 columns go two at a time: against the scalar twin, and against the
     * same rows taken one by one, which must give the same bits (the same sums in the same order; exact in the C1-only
     * JVM, see {@link org.xlstm4j.ExactMath}).
     */
    @org.xlstm4j.AlsoExactMath
    @Test void twoRowPathMatchesSingleRows() {
        Random rnd = new Random(13);
        for (int K : new int[]{MappedMatmul.PAIR_COLS, MappedMatmul.PAIR_COLS + 17, MappedMatmul.PAIR_COLS + 48, MappedMatmul.PAIR_COLS + 69})
            for (int N : new int[]{1, 2, 5, 8}) {
                MappedWeight w = random(MappedWeight.Storage.BF16, N, K, rnd);
                float[] x = randomVector(K + 3, rnd), xs = x.clone();
                MappedWeight.splitPairs(x, 3, xs, 3, K);
                for (int n0 = 0; n0 < Math.min(N, 2); n0++) {
                    float[] got = new float[N], want = new float[N], single = new float[N];
                    MappedMatmul.rows(w, xs, 3, 1, got, 0, n0, N);
                    for (int n = n0; n < N; n++) MappedMatmul.rows(w, xs, 3, 1, single, 0, n, n + 1);
                    MappedMatmul.rowsScalar(w, x, 3, 1, want, 0, n0, N);
                    check(got, want, w, x, 3, 1, 0, "pairs K=" + K + " N=" + N + " from " + n0);
                    if (org.xlstm4j.ExactMath.IN_THIS_JVM) assertArrayEquals(single, got, "pairs vs single rows K=" + K + " N=" + N);
                    else check(got, single, w, x, 3, 1, 0, "pairs vs single rows K=" + K + " N=" + N);
                }
            }
    }

    /**
     * Column panels ({@link ColumnPanels}, the decoding path of long bf16 rows): which weights each policy copies; the copy
     * holds the same elements, every panel but the last is a whole number of vector blocks of at most 2,048 columns, the SIMD
     * path matches its scalar twin and the rows' own scalar twin, and {@link MappedMatmul#matmul} uses the copy once
     * {@link MappedMatmul#keepPanels} kept it, with the same result on one and two threads (bit for bit in the C1-only
     * JVM, see {@link org.xlstm4j.ExactMath}).
     */
    @org.xlstm4j.AlsoExactMath
    @Test void columnPanelsMatchScalarTwins() throws Exception {
        Random rnd = new Random(17);
        try (MappedMatmul mm = new MappedMatmul(kernels, 1)) {
            MappedWeight at4096 = random(MappedWeight.Storage.BF16, 3, 4096, rnd), at2049 = random(MappedWeight.Storage.BF16, 3, 2049, rnd);
            assertEquals(0, mm.keepPanels(at4096, ColumnPanels.Policy.LONG), "long: 4096 columns stay mapped only");
            assertEquals(0, mm.keepPanels(random(MappedWeight.Storage.F32, 3, 5000, rnd), ColumnPanels.Policy.ALL), "float32");
            assertEquals(0, mm.keepPanels(random(MappedWeight.Storage.BF16, 3, 2048, rnd), ColumnPanels.Policy.ALL), "2048 columns");
            assertEquals(0, mm.keepPanels(random(MappedWeight.Storage.BF16, 3, 5000, rnd), ColumnPanels.Policy.NONE), "none");
            assertEquals(at2049.byteSize(), mm.keepPanels(at2049, ColumnPanels.Policy.ALL), "all: 2049 columns copied");
            assertEquals(at4096.byteSize(), mm.keepPanels(at4096, ColumnPanels.Policy.ALL), "all: 4096 columns copied");
        }
        assertEquals(ColumnPanels.Policy.LONG, ColumnPanels.Policy.fromSystemProperty(), "the default policy (no -Dxlstm4j.panels in tests)");
        try (Arena a = Arena.ofConfined(); MappedMatmul mm = new MappedMatmul(kernels, 1)) {  // a MappedMemorySegment: no copy
            java.nio.file.Path f = java.nio.file.Files.createTempFile("xlstm4j-panels", ".bin");
            try {
                java.nio.file.Files.write(f, new byte[3 * 5000 * 2]);
                try (var ch = java.nio.channels.FileChannel.open(f)) {
                    MemorySegment m = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 3 * 5000 * 2, a);
                    assertEquals(0, mm.keepPanels(new MappedWeight(m, MappedWeight.Storage.BF16, 3, 5000), ColumnPanels.Policy.ALL),
                            "kept mapped: copies of another segment kind would slow the loads");
                }
            } finally {
                java.nio.file.Files.delete(f);
            }
        }
        MappedMatmul closed = new MappedMatmul(kernels, 1, ColumnPanels.Policy.ALL);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.keepPanels(random(MappedWeight.Storage.BF16, 3, 5000, rnd)));
        // {K, panels, width}: equal widths rounded up to 64 columns, the last panel narrower
        int[][] layouts = {{5504, 3, 1856}, {10944, 6, 1856}, {4097, 3, 1408}, {2049, 2, 1088}, {8192 + 31, 5, 1664}};
        for (int[] layout : layouts) {
            int K = layout[0];
            for (int N : new int[]{1, 3, 8}) {
                MappedWeight w = random(MappedWeight.Storage.BF16, N, K, rnd);
                try (Arena a = Arena.ofConfined(); MappedMatmul one = new MappedMatmul(kernels, 1); MappedMatmul two = new MappedMatmul(kernels, 2)) {
                    ColumnPanels p = ColumnPanels.copyOf(w, a);
                    assertEquals(layout[1], p.count(), "panels for K=" + K);
                    assertEquals(layout[2], p.width, "panel width for K=" + K);
                    for (int c = 0; c < p.count(); c++) {
                        assertEquals(0, p.start(c) % 64);
                        assertTrue(p.width(c) <= ColumnPanels.WIDTH && p.width(c) > 0);
                    }
                    for (int r = 0; r < N; r++)
                        for (int c = 0; c < K; c++)
                            assertEquals(Float.floatToRawIntBits(w.get(r, c)), Float.floatToRawIntBits(p.get(r, c)), "copy (" + r + "," + c + ")");
                    assertEquals(w.byteSize(), one.keepPanels(w, ColumnPanels.Policy.ALL), "copied");
                    assertEquals(0, one.keepPanels(w, ColumnPanels.Policy.ALL), "kept once");
                    assertEquals(w.byteSize(), two.keepPanels(w, ColumnPanels.Policy.ALL), "copied");
                    for (int M = 1; M <= MappedMatmul.STREAM_ROWS; M += 3) {
                        float[] x = randomVector(M * K + 3, rnd), xs = x.clone();
                        for (int m = 0; m < M; m++) MappedWeight.splitPairs(x, 3 + m * K, xs, 3 + m * K, K);
                        float[] got = new float[M * N], twin = new float[M * N], rowsTwin = new float[M * N];
                        MappedMatmul.panelRows(p, xs, 3, M, got, 0, 0, N);
                        MappedMatmul.panelRowsScalar(p, x, 3, M, twin, 0, 0, N);
                        MappedMatmul.rowsScalar(w, x, 3, M, rowsTwin, 0, 0, N);
                        String what = "panels K=" + K + " N=" + N + " M=" + M;
                        check(got, twin, w, x, 3, M, 0, what + " vs panel twin");
                        check(got, rowsTwin, w, x, 3, M, 0, what + " vs rows twin");
                        float[] y1 = new float[M * N], y2 = new float[M * N];
                        one.matmul(x, 3, w, y1, 0, M);
                        two.matmul(x, 3, w, y2, 0, M);
                        if (org.xlstm4j.ExactMath.IN_THIS_JVM) {
                            assertArrayEquals(got, y1, what + ": matmul (1 thread) vs panelRows");
                            assertArrayEquals(y1, y2, what + ": 1 vs 2 threads");
                        } else {
                            check(y1, got, w, x, 3, M, 0, what + ": matmul (1 thread) vs panelRows");
                            check(y2, y1, w, x, 3, M, 0, what + ": 1 vs 2 threads");
                        }
                        // the products come from the copy: with the stored matrix zeroed, matmul still gives them
                        byte[] stored = w.data().toArray(ValueLayout.JAVA_BYTE);
                        w.data().fill((byte) 0);
                        float[] fromCopy = new float[M * N];
                        one.matmul(x, 3, w, fromCopy, 0, M);
                        MemorySegment.copy(MemorySegment.ofArray(stored), 0, w.data(), 0, stored.length);
                        assertTrue(Arrays.stream(toDoubles(fromCopy)).anyMatch(v -> v != 0), what + ": products read the copy");
                        check(fromCopy, y1, w, x, 3, M, 0, what + ": products read the copy");
                    }
                }
            }
        }
    }

    @Test void matmulAllPathsAndThreadCounts() {
        Random rnd = new Random(5);
        int[][] shapes = {{1, 1, 1}, {1, 4, 16}, {1, 5, 17}, {2, 63, 129}, {3, 130, 47}, {4, 9, 300}, {5, 9, 31},
                {6, 70, 65}, {19, 97, 128}, {33, 352, 128}, {7, 3000, 400}, {1, 3000, 400}};
        for (int threads : new int[]{1, 2}) {
            try (MappedMatmul mm = new MappedMatmul(kernels, threads)) {
                for (int[] s : shapes) {
                    for (MappedWeight.Storage st : MappedWeight.Storage.values()) {
                        int M = s[0], N = s[1], K = s[2];
                        MappedWeight w = random(st, N, K, rnd);
                        float[] x = randomVector(M * K + 2, rnd);
                        float[] got = new float[M * N + 1], want = new float[M * N + 1];
                        Arrays.fill(got, 12345f);
                        mm.matmul(x, 2, w, got, 1, M);
                        MappedMatmul.rowsScalar(w, x, 2, M, want, 1, 0, N);
                        assertEquals(12345f, got[0], "wrote before y");
                        check(got, want, w, x, 2, M, 1, st + " " + Arrays.toString(s) + " threads " + threads);
                    }
                }
            }
        }
    }

    @Test void splitPairsReordersWholeBlocksOnly() {
        int L = MappedWeight.L, n = 4 * L + 3;
        float[] x = new float[n], s = new float[n];
        for (int i = 0; i < n; i++) x[i] = i;
        MappedWeight.splitPairs(x, 0, s, 0, n);
        for (int b = 0; b < 2; b++)
            for (int i = 0; i < L; i++) {
                assertEquals(b * 2 * L + 2 * i, s[b * 2 * L + i]);
                assertEquals(b * 2 * L + 2 * i + 1, s[b * 2 * L + L + i]);
            }
        for (int i = 4 * L; i < n; i++) assertEquals(i, s[i]);
    }

    @Test void rowRangeAndHeapWeights() {
        Random rnd = new Random(9);
        float[] wf = randomVector(20 * 33, rnd);
        MappedWeight all = MappedWeight.ofFloats(wf, 20, 33), part = all.rowRange(5, 12);
        assertEquals(7, part.rows());
        for (int r = 0; r < 7; r++)
            for (int c = 0; c < 33; c++) assertEquals(wf[(r + 5) * 33 + c], part.get(r, c));
    }

    private static void check(float[] got, float[] want, MappedWeight w, float[] x, int xOff, int M, int yOff, String what) {
        int N = w.rows(), K = w.cols();
        for (int m = 0; m < M; m++)
            for (int n = 0; n < N; n++) {
                int i = yOff + m * N + n;
                if (want[i] == 0f && got[i] == 0f) continue;
                double mag = 0;
                for (int k = 0; k < K; k++) mag += Math.abs(x[xOff + m * K + k] * w.get(n, k));
                double tol = 1e-5 * Math.sqrt(K) * mag + 1e-30;
                assertTrue(Math.abs(got[i] - want[i]) <= tol,
                        what + ": y[" + m + "," + n + "] = " + got[i] + ", scalar twin " + want[i] + " (tol " + tol + ")");
            }
    }

    private static double[] toDoubles(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    private static float[] randomVector(int n, Random rnd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }
}
