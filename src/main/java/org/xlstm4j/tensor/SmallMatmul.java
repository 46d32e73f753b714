package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-threaded products of small matrices that sit in L1/L2 (the blocks of the chunkwise mLSTM: a chunk of 64
 * tokens against a head of 64–512 features), without packing: {@code C[m×n] (+)= A[m×k]·B[k×n]} with row-major
 * strided operands, A(i,p) = {@code a[aOff + i·lda + p]}, B(p,j) = {@code b[bOff + p·ldb + j]},
 * C(i,j) = {@code c[cOff + i·ldc + j]}. The register tile is 4 rows × 4 vectors (16 accumulators) swept along k;
 * ragged rows and columns take 1-row and masked 1-vector tiles. A triangular {@code mode} skips the structural zeros
 * of causal (lower-triangular) matrices:
 * <ul>
 *   <li>{@link #FULL}: the whole product;</li>
 *   <li>{@link #A_LOWER}: A is lower triangular (A(i,p) = 0 for p &gt; i): row block [i, i+4) reads p &lt; i + 4 only;</li>
 *   <li>{@link #A_UPPER}: A is upper triangular (A(i,p) = 0 for p &lt; i): row block [i, i+4) reads p ≥ i only;</li>
 *   <li>{@link #C_LOWER}: only the lower triangle of C is wanted: row block [i, i+4) computes columns j &lt; i + 4;
 *   other entries of C are left as they were.</li>
 * </ul>
 * In the A modes the skipped entries of A must really be zero within a row block (a few lie inside it). Each method has
 * a plain scalar twin ({@code ...Scalar}) of the same signature and semantics, which the tests compare against; both
 * accumulate every C entry by fused multiply-adds in p order, so they agree bit for bit.
 */
public final class SmallMatmul {
    private SmallMatmul() {}

    public static final int FULL = 0, A_LOWER = 1, A_UPPER = 2, C_LOWER = 3;

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    /** C[m×n] (+)= A[m×k]·B[k×n], SIMD (see the class comment for layouts and modes). */
    public static void gemm(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, int mode) {
        for (int i = 0; i < m; i += 4) {
            int mr = Math.min(4, m - i);
            int p0 = mode == A_UPPER ? Math.min(i, k) : 0;
            int p1 = mode == A_LOWER ? Math.min(k, i + 4) : k;
            int nEff = mode == C_LOWER ? Math.min(n, i + 4) : n;
            int ai = aOff + i * lda, ci = cOff + i * ldc;
            int j = 0;
            if (mr == 4) {
                for (; j + 4 * L <= nEff; j += 4 * L) k4x4(p0, p1, a, ai, lda, b, bOff + j, ldb, c, ci + j, ldc, accumulate);
                for (; j < nEff; j += L) k4x1(p0, p1, a, ai, lda, b, bOff + j, ldb, c, ci + j, ldc, accumulate, Math.min(L, nEff - j));
            } else {
                for (int r = 0; r < mr; r++) {
                    int ar = ai + r * lda, cr = ci + r * ldc;
                    int jj = 0;
                    for (; jj + 4 * L <= nEff; jj += 4 * L) k1x4(p0, p1, a, ar, b, bOff + jj, ldb, c, cr + jj, accumulate);
                    for (; jj < nEff; jj += L) k1x1(p0, p1, a, ar, b, bOff + jj, ldb, c, cr + jj, accumulate, Math.min(L, nEff - jj));
                }
            }
        }
    }

    /** Scalar twin of {@link #gemm}: plain loops, float accumulation in p order. */
    public static void gemmScalar(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc, boolean accumulate, int mode) {
        for (int i = 0; i < m; i++) {
            int blk = i - i % 4;
            int p0 = mode == A_UPPER ? Math.min(blk, k) : 0;
            int p1 = mode == A_LOWER ? Math.min(k, blk + 4) : k;
            int nEff = mode == C_LOWER ? Math.min(n, blk + 4) : n;
            for (int j = 0; j < nEff; j++) {
                float s = 0f;
                for (int p = p0; p < p1; p++) s = Math.fma(a[aOff + i * lda + p], b[bOff + p * ldb + j], s);
                int ci = cOff + i * ldc + j;
                c[ci] = accumulate ? c[ci] + s : s;
            }
        }
    }

    /** dst(j, i) = src(i, j) for i &lt; rows, j &lt; cols: src(i,j) = src[sOff + i·lds + j], dst(j,i) = dst[dOff + j·ldd + i]. */
    public static void transpose(int rows, int cols, float[] src, int sOff, int lds, float[] dst, int dOff, int ldd) {
        // 8×8 blocks keep both sides within a few cache lines
        for (int i0 = 0; i0 < rows; i0 += 8) {
            int i1 = Math.min(rows, i0 + 8);
            for (int j0 = 0; j0 < cols; j0 += 8) {
                int j1 = Math.min(cols, j0 + 8);
                for (int i = i0; i < i1; i++) {
                    int s = sOff + i * lds;
                    for (int j = j0; j < j1; j++) dst[dOff + j * ldd + i] = src[s + j];
                }
            }
        }
    }

    // ------------------------------------------------------------------ register tiles
    // Vectors never cross a method boundary (a call that is not inlined would box them): the stores are written out.

    private static void k4x4(int p0, int p1, float[] a, int ai, int lda, float[] b, int bj, int ldb,
                             float[] c, int ci, int ldc, boolean acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a0 = ai, a1 = ai + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = p0; p < p1; p++) {
            int bi = bj + p * ldb;
            FloatVector b0 = FloatVector.fromArray(S, b, bi), b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bi + 2 * L), b3 = FloatVector.fromArray(S, b, bi + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[a0 + p]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[a1 + p]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[a2 + p]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[a3 + p]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
        }
        int r0 = ci, r1 = ci + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (acc) {
            c00 = c00.add(FloatVector.fromArray(S, c, r0)); c01 = c01.add(FloatVector.fromArray(S, c, r0 + L));
            c02 = c02.add(FloatVector.fromArray(S, c, r0 + 2 * L)); c03 = c03.add(FloatVector.fromArray(S, c, r0 + 3 * L));
            c10 = c10.add(FloatVector.fromArray(S, c, r1)); c11 = c11.add(FloatVector.fromArray(S, c, r1 + L));
            c12 = c12.add(FloatVector.fromArray(S, c, r1 + 2 * L)); c13 = c13.add(FloatVector.fromArray(S, c, r1 + 3 * L));
            c20 = c20.add(FloatVector.fromArray(S, c, r2)); c21 = c21.add(FloatVector.fromArray(S, c, r2 + L));
            c22 = c22.add(FloatVector.fromArray(S, c, r2 + 2 * L)); c23 = c23.add(FloatVector.fromArray(S, c, r2 + 3 * L));
            c30 = c30.add(FloatVector.fromArray(S, c, r3)); c31 = c31.add(FloatVector.fromArray(S, c, r3 + L));
            c32 = c32.add(FloatVector.fromArray(S, c, r3 + 2 * L)); c33 = c33.add(FloatVector.fromArray(S, c, r3 + 3 * L));
        }
        c00.intoArray(c, r0); c01.intoArray(c, r0 + L); c02.intoArray(c, r0 + 2 * L); c03.intoArray(c, r0 + 3 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L); c13.intoArray(c, r1 + 3 * L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c22.intoArray(c, r2 + 2 * L); c23.intoArray(c, r2 + 3 * L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L); c32.intoArray(c, r3 + 2 * L); c33.intoArray(c, r3 + 3 * L);
    }

    private static void k4x1(int p0, int p1, float[] a, int ai, int lda, float[] b, int bj, int ldb,
                             float[] c, int ci, int ldc, boolean acc, int valid) {
        VectorMask<Float> mk = S.indexInRange(0, valid);
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        int a0 = ai, a1 = ai + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int p = p0; p < p1; p++) {
            FloatVector bv = FloatVector.fromArray(S, b, bj + p * ldb, mk);
            c0 = bv.fma(FloatVector.broadcast(S, a[a0 + p]), c0);
            c1 = bv.fma(FloatVector.broadcast(S, a[a1 + p]), c1);
            c2 = bv.fma(FloatVector.broadcast(S, a[a2 + p]), c2);
            c3 = bv.fma(FloatVector.broadcast(S, a[a3 + p]), c3);
        }
        int r0 = ci, r1 = ci + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        if (acc) {
            c0 = c0.add(FloatVector.fromArray(S, c, r0, mk));
            c1 = c1.add(FloatVector.fromArray(S, c, r1, mk));
            c2 = c2.add(FloatVector.fromArray(S, c, r2, mk));
            c3 = c3.add(FloatVector.fromArray(S, c, r3, mk));
        }
        c0.intoArray(c, r0, mk);
        c1.intoArray(c, r1, mk);
        c2.intoArray(c, r2, mk);
        c3.intoArray(c, r3, mk);
    }

    private static void k1x4(int p0, int p1, float[] a, int ar, float[] b, int bj, int ldb, float[] c, int cr, boolean acc) {
        FloatVector c0 = FloatVector.zero(S), c1 = c0, c2 = c0, c3 = c0;
        for (int p = p0; p < p1; p++) {
            int bi = bj + p * ldb;
            FloatVector x = FloatVector.broadcast(S, a[ar + p]);
            c0 = FloatVector.fromArray(S, b, bi).fma(x, c0);
            c1 = FloatVector.fromArray(S, b, bi + L).fma(x, c1);
            c2 = FloatVector.fromArray(S, b, bi + 2 * L).fma(x, c2);
            c3 = FloatVector.fromArray(S, b, bi + 3 * L).fma(x, c3);
        }
        if (acc) {
            c0 = c0.add(FloatVector.fromArray(S, c, cr));
            c1 = c1.add(FloatVector.fromArray(S, c, cr + L));
            c2 = c2.add(FloatVector.fromArray(S, c, cr + 2 * L));
            c3 = c3.add(FloatVector.fromArray(S, c, cr + 3 * L));
        }
        c0.intoArray(c, cr);
        c1.intoArray(c, cr + L);
        c2.intoArray(c, cr + 2 * L);
        c3.intoArray(c, cr + 3 * L);
    }

    private static void k1x1(int p0, int p1, float[] a, int ar, float[] b, int bj, int ldb, float[] c, int cr, boolean acc,
                             int valid) {
        VectorMask<Float> mk = S.indexInRange(0, valid);
        FloatVector c0 = FloatVector.zero(S);
        for (int p = p0; p < p1; p++)
            c0 = FloatVector.fromArray(S, b, bj + p * ldb, mk).fma(FloatVector.broadcast(S, a[ar + p]), c0);
        if (acc) c0 = c0.add(FloatVector.fromArray(S, c, cr, mk));
        c0.intoArray(c, cr, mk);
    }
}
