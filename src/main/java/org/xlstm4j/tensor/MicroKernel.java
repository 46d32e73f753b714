package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled inner kernel of the blocked matrix product: a tile of {@link #MR} rows by {@link #NR} columns of
 * C accumulated in registers over a packed A micro-panel ({@code a[p*MR + r]}) and a packed B micro-panel
 * ({@code b[p*NR + j]}). Every FMA of a matrix product in {@link CpuKernels} runs here.
 *
 * <p>Two shapes: 6×4 vectors on 512-bit SIMD (24 accumulators of the 32 zmm registers) and 6×2 vectors on narrower
 * SIMD (12 of the 16 ymm registers), so the accumulators never spill.
 */
final class MicroKernel {
    private MicroKernel() {}

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Rows of a tile. */
    static final int MR = 6;
    /** Vectors per tile row on this machine: 4 when the 32-register AVX-512 file holds 24 accumulators, else 2. */
    static final int NV = L >= 16 ? 4 : 2;

    /**
     * C[MR, nv·L] (+)= A·B over {@code kc} steps, {@code nv} (4 or 2) vectors wide: A(r, p) at {@code a[ai + r*rs + p*ps]}
     * (a packed micro-panel has rs = 1, ps = MR; rows read in place have rs = row stride, ps = 1), B packed as
     * {@code b[bi + p*nv*L + j]}, C at {@code c[ci + r*ldc + j]}; {@code add} adds into C instead of overwriting it.
     */
    static void tile(int nv, float[] a, int ai, int rs, int ps, float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
        if (nv == 4) tile6x4(a, ai, rs, ps, b, bi, kc, c, ci, ldc, add);
        else tile6x2(a, ai, rs, ps, b, bi, kc, c, ci, ldc, add);
    }

    private static void tile6x4(float[] a, int ai, int rs, int ps, float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
        int r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
        FloatVector c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
        FloatVector c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        for (int p = 0; p < kc; p++) {
            int bo = bi + p * (4 * L), ao = ai + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector b2 = FloatVector.fromArray(S, b, bo + 2 * L);
            FloatVector b3 = FloatVector.fromArray(S, b, bo + 3 * L);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01); c02 = b2.fma(x, c02); c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(S, a[ao + rs]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11); c12 = b2.fma(x, c12); c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(S, a[ao + r2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21); c22 = b2.fma(x, c22); c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(S, a[ao + r3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31); c32 = b2.fma(x, c32); c33 = b3.fma(x, c33);
            x = FloatVector.broadcast(S, a[ao + r4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41); c42 = b2.fma(x, c42); c43 = b3.fma(x, c43);
            x = FloatVector.broadcast(S, a[ao + r5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51); c52 = b2.fma(x, c52); c53 = b3.fma(x, c53);
        }
        c00.add(add ? FloatVector.fromArray(S, c, ci) : z).intoArray(c, ci);
        c01.add(add ? FloatVector.fromArray(S, c, ci + L) : z).intoArray(c, ci + L);
        c02.add(add ? FloatVector.fromArray(S, c, ci + 2 * L) : z).intoArray(c, ci + 2 * L);
        c03.add(add ? FloatVector.fromArray(S, c, ci + 3 * L) : z).intoArray(c, ci + 3 * L);
        c10.add(add ? FloatVector.fromArray(S, c, ci + ldc) : z).intoArray(c, ci + ldc);
        c11.add(add ? FloatVector.fromArray(S, c, ci + ldc + L) : z).intoArray(c, ci + ldc + L);
        c12.add(add ? FloatVector.fromArray(S, c, ci + ldc + 2 * L) : z).intoArray(c, ci + ldc + 2 * L);
        c13.add(add ? FloatVector.fromArray(S, c, ci + ldc + 3 * L) : z).intoArray(c, ci + ldc + 3 * L);
        c20.add(add ? FloatVector.fromArray(S, c, ci + 2 * ldc) : z).intoArray(c, ci + 2 * ldc);
        c21.add(add ? FloatVector.fromArray(S, c, ci + 2 * ldc + L) : z).intoArray(c, ci + 2 * ldc + L);
        c22.add(add ? FloatVector.fromArray(S, c, ci + 2 * ldc + 2 * L) : z).intoArray(c, ci + 2 * ldc + 2 * L);
        c23.add(add ? FloatVector.fromArray(S, c, ci + 2 * ldc + 3 * L) : z).intoArray(c, ci + 2 * ldc + 3 * L);
        c30.add(add ? FloatVector.fromArray(S, c, ci + 3 * ldc) : z).intoArray(c, ci + 3 * ldc);
        c31.add(add ? FloatVector.fromArray(S, c, ci + 3 * ldc + L) : z).intoArray(c, ci + 3 * ldc + L);
        c32.add(add ? FloatVector.fromArray(S, c, ci + 3 * ldc + 2 * L) : z).intoArray(c, ci + 3 * ldc + 2 * L);
        c33.add(add ? FloatVector.fromArray(S, c, ci + 3 * ldc + 3 * L) : z).intoArray(c, ci + 3 * ldc + 3 * L);
        c40.add(add ? FloatVector.fromArray(S, c, ci + 4 * ldc) : z).intoArray(c, ci + 4 * ldc);
        c41.add(add ? FloatVector.fromArray(S, c, ci + 4 * ldc + L) : z).intoArray(c, ci + 4 * ldc + L);
        c42.add(add ? FloatVector.fromArray(S, c, ci + 4 * ldc + 2 * L) : z).intoArray(c, ci + 4 * ldc + 2 * L);
        c43.add(add ? FloatVector.fromArray(S, c, ci + 4 * ldc + 3 * L) : z).intoArray(c, ci + 4 * ldc + 3 * L);
        c50.add(add ? FloatVector.fromArray(S, c, ci + 5 * ldc) : z).intoArray(c, ci + 5 * ldc);
        c51.add(add ? FloatVector.fromArray(S, c, ci + 5 * ldc + L) : z).intoArray(c, ci + 5 * ldc + L);
        c52.add(add ? FloatVector.fromArray(S, c, ci + 5 * ldc + 2 * L) : z).intoArray(c, ci + 5 * ldc + 2 * L);
        c53.add(add ? FloatVector.fromArray(S, c, ci + 5 * ldc + 3 * L) : z).intoArray(c, ci + 5 * ldc + 3 * L);
    }

    private static void tile6x2(float[] a, int ai, int rs, int ps, float[] b, int bi, int kc, float[] c, int ci, int ldc, boolean add) {
        int r2 = 2 * rs, r3 = 3 * rs, r4 = 4 * rs, r5 = 5 * rs;
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z;
        FloatVector c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int p = 0; p < kc; p++) {
            int bo = bi + p * (2 * L), ao = ai + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, b, bo);
            FloatVector b1 = FloatVector.fromArray(S, b, bo + L);
            FloatVector x = FloatVector.broadcast(S, a[ao]);
            c00 = b0.fma(x, c00); c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(S, a[ao + rs]);
            c10 = b0.fma(x, c10); c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(S, a[ao + r2]);
            c20 = b0.fma(x, c20); c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(S, a[ao + r3]);
            c30 = b0.fma(x, c30); c31 = b1.fma(x, c31);
            x = FloatVector.broadcast(S, a[ao + r4]);
            c40 = b0.fma(x, c40); c41 = b1.fma(x, c41);
            x = FloatVector.broadcast(S, a[ao + r5]);
            c50 = b0.fma(x, c50); c51 = b1.fma(x, c51);
        }
        c00.add(add ? FloatVector.fromArray(S, c, ci) : z).intoArray(c, ci);
        c01.add(add ? FloatVector.fromArray(S, c, ci + L) : z).intoArray(c, ci + L);
        c10.add(add ? FloatVector.fromArray(S, c, ci + ldc) : z).intoArray(c, ci + ldc);
        c11.add(add ? FloatVector.fromArray(S, c, ci + ldc + L) : z).intoArray(c, ci + ldc + L);
        c20.add(add ? FloatVector.fromArray(S, c, ci + 2 * ldc) : z).intoArray(c, ci + 2 * ldc);
        c21.add(add ? FloatVector.fromArray(S, c, ci + 2 * ldc + L) : z).intoArray(c, ci + 2 * ldc + L);
        c30.add(add ? FloatVector.fromArray(S, c, ci + 3 * ldc) : z).intoArray(c, ci + 3 * ldc);
        c31.add(add ? FloatVector.fromArray(S, c, ci + 3 * ldc + L) : z).intoArray(c, ci + 3 * ldc + L);
        c40.add(add ? FloatVector.fromArray(S, c, ci + 4 * ldc) : z).intoArray(c, ci + 4 * ldc);
        c41.add(add ? FloatVector.fromArray(S, c, ci + 4 * ldc + L) : z).intoArray(c, ci + 4 * ldc + L);
        c50.add(add ? FloatVector.fromArray(S, c, ci + 5 * ldc) : z).intoArray(c, ci + 5 * ldc);
        c51.add(add ? FloatVector.fromArray(S, c, ci + 5 * ldc + L) : z).intoArray(c, ci + 5 * ldc + L);
    }
}
