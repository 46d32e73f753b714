package org.xlstm4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link SmallMatmul} against its scalar twin on random shapes with ragged rows (m not a multiple of 4), ragged
 * columns (n not a multiple of the vector length), strided operands, offsets, accumulation and every triangular mode.
 * Both sides accumulate each entry by fused multiply-adds in p order, so they must agree bit for bit; entries the
 * product must not touch (outside C's rows/columns, or above the diagonal in C_LOWER) must keep their sentinel.
 */
class SmallMatmulTest {
    private static final float SENTINEL = -555.5f;

    @Test
    void gemmEqualsScalarTwinOnRaggedStridedShapes() {
        Random rnd = new Random(7);
        int[] sizes = {1, 2, 3, 4, 5, 7, 15, 16, 17, 31, 33, 64, 65, 70, 96, 129};
        for (int trial = 0; trial < 400; trial++) {
            int m = sizes[rnd.nextInt(sizes.length)], n = sizes[rnd.nextInt(sizes.length)], k = sizes[rnd.nextInt(sizes.length)];
            int mode = rnd.nextInt(4);
            if (mode == SmallMatmul.A_LOWER || mode == SmallMatmul.A_UPPER) k = m;     // triangular A is square
            int lda = k + rnd.nextInt(3), ldb = n + rnd.nextInt(3), ldc = n + rnd.nextInt(3);
            int aOff = rnd.nextInt(5), bOff = rnd.nextInt(5), cOff = rnd.nextInt(5);
            float[] a = random(rnd, aOff + m * lda + 3), b = random(rnd, bOff + k * ldb + 3);
            if (mode == SmallMatmul.A_LOWER || mode == SmallMatmul.A_UPPER)       // the skipped entries must be zero
                for (int i = 0; i < m; i++)
                    for (int p = 0; p < k; p++)
                        if (mode == SmallMatmul.A_LOWER ? p > i : p < i) a[aOff + i * lda + p] = 0f;
            boolean acc = rnd.nextBoolean();
            float[] c = new float[cOff + m * ldc + 3];
            for (int i = 0; i < c.length; i++) c[i] = SENTINEL;
            if (acc) for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[cOff + i * ldc + j] = (float) rnd.nextGaussian();
            float[] ref = c.clone();
            SmallMatmul.gemm(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, acc, mode);
            SmallMatmul.gemmScalar(m, n, k, a, aOff, lda, b, bOff, ldb, ref, cOff, ldc, acc, mode);
            for (int i = 0; i < c.length; i++)
                assertEquals(ref[i], c[i], 0f, "m=" + m + " n=" + n + " k=" + k + " mode=" + mode + " acc=" + acc + " at " + i);
            // entries outside the product (padding, and above the computed band for C_LOWER) are untouched
            for (int i = 0; i < c.length; i++) {
                int r = (i - cOff) / ldc, col = (i - cOff) % ldc;
                boolean inside = i >= cOff && r < m && col < n && (mode != SmallMatmul.C_LOWER || col < r - r % 4 + 4);
                if (!inside && !acc) assertEquals(SENTINEL, c[i], 0f, "wrote outside C at " + i);
            }
        }
    }

    @Test
    void gemmScalarIsTheDefinition() {
        Random rnd = new Random(8);
        int m = 5, n = 7, k = 6;
        float[] a = random(rnd, m * k), b = random(rnd, k * n), c = new float[m * n];
        SmallMatmul.gemmScalar(m, n, k, a, 0, k, b, 0, n, c, 0, n, false, SmallMatmul.FULL);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (double) a[i * k + p] * b[p * n + j];
                assertEquals(s, c[i * n + j], 1e-5);
            }
    }

    @Test
    void transposeMovesEveryEntry() {
        Random rnd = new Random(9);
        for (int[] sh : new int[][]{{1, 1}, {3, 17}, {17, 3}, {64, 192}, {9, 9}}) {
            int rows = sh[0], cols = sh[1], lds = cols + 2, ldd = rows + 1;
            float[] src = random(rnd, rows * lds), dst = new float[cols * ldd];
            SmallMatmul.transpose(rows, cols, src, 0, lds, dst, 0, ldd);
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) assertEquals(src[i * lds + j], dst[j * ldd + i], 0f);
        }
    }

    static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }
}
