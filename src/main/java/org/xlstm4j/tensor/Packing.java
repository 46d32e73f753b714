package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import static org.xlstm4j.tensor.MicroKernel.MR;

/**
 * Copies blocks of the operands of {@link Gemm} into the contiguous panel layouts that {@link MicroKernel} streams:
 * B into {@code nr}-wide column panels {@code bp[q*kc*nr + p*nr + j]}, A into 6-row micro-panels
 * {@code ap[q*kc*MR + p*MR + r]}, zero-padding ragged edges so the kernel always runs full tiles.
 */
final class Packing {
    private Packing() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> S4 = FloatVector.SPECIES_128;
    // a 4×4 transpose in two rounds of two-vector shuffles: interleave pairs of rows, then pairs of pairs
    private static final VectorShuffle<Float> ZIP_LO = VectorShuffle.fromValues(S4, 0, 4, 1, 5);
    private static final VectorShuffle<Float> ZIP_HI = VectorShuffle.fromValues(S4, 2, 6, 3, 7);
    private static final VectorShuffle<Float> PAIR_LO = VectorShuffle.fromValues(S4, 0, 1, 4, 5);
    private static final VectorShuffle<Float> PAIR_HI = VectorShuffle.fromValues(S4, 2, 3, 6, 7);

    /**
     * Packs the kc×nc block B(p, j) = {@code b[src + p*rs + j*cs]} into panels of {@code nr} columns. Rows contiguous
     * along j (cs = 1) are copied a vector at a time; columns contiguous along p (rs = 1, the weight of x·Wᵀ) are
     * transposed 4×4 in registers; anything else, and ragged panels, element by element.
     */
    static void packB(float[] b, int src, int rs, int cs, int kc, int nc, int nr, float[] bp) {
        int fullPanels = nc / nr;
        if (cs == 1) { // row by row (sequential reads), each row's full panels a vector at a time
            for (int p = 0; p < kc; p++) {
                int s = src + p * rs;
                for (int q = 0; q < fullPanels; q++) {
                    int d = q * kc * nr + p * nr;
                    for (int v = 0; v < nr; v += S.length()) FloatVector.fromArray(S, b, s + q * nr + v).intoArray(bp, d + v);
                }
            }
        }
        for (int j0 = cs == 1 ? fullPanels * nr : 0, dst = j0 * kc; j0 < nc; j0 += nr, dst += kc * nr) {
            int w = Math.min(nr, nc - j0), s = src + j0 * cs;
            if (rs == 1 && w == nr && nr % 4 == 0) {
                transposeInto(b, s, cs, kc, nr, bp, dst);
            } else {
                for (int p = 0; p < kc; p++) {
                    int d = dst + p * nr, j = 0;
                    for (; j < w; j++) bp[d + j] = b[s + p * rs + j * cs];
                    for (; j < nr; j++) bp[d + j] = 0f;
                }
            }
        }
    }

    /** bp[dst + p*nr + j] = b[s + j*cs + p] for j < nr, p < kc: 4 rows × 4 columns per step through registers. */
    private static void transposeInto(float[] b, int s, int cs, int kc, int nr, float[] bp, int dst) {
        int kc4 = kc & ~3;
        for (int j = 0; j < nr; j += 4) {
            int s0 = s + j * cs, s1 = s0 + cs, s2 = s1 + cs, s3 = s2 + cs;
            for (int p = 0; p < kc4; p += 4) {
                FloatVector r0 = FloatVector.fromArray(S4, b, s0 + p), r1 = FloatVector.fromArray(S4, b, s1 + p);
                FloatVector r2 = FloatVector.fromArray(S4, b, s2 + p), r3 = FloatVector.fromArray(S4, b, s3 + p);
                FloatVector t0 = r0.rearrange(ZIP_LO, r1), t1 = r0.rearrange(ZIP_HI, r1); // r0[0] r1[0] r0[1] r1[1] | [2], [3]
                FloatVector t2 = r2.rearrange(ZIP_LO, r3), t3 = r2.rearrange(ZIP_HI, r3);
                int d = dst + p * nr + j;
                t0.rearrange(PAIR_LO, t2).intoArray(bp, d);               // column p:   r0..r3 at p
                t0.rearrange(PAIR_HI, t2).intoArray(bp, d + nr);          // column p+1
                t1.rearrange(PAIR_LO, t3).intoArray(bp, d + 2 * nr);      // column p+2
                t1.rearrange(PAIR_HI, t3).intoArray(bp, d + 3 * nr);      // column p+3
            }
            for (int p = kc4; p < kc; p++) {
                int d = dst + p * nr + j;
                bp[d] = b[s0 + p]; bp[d + 1] = b[s1 + p]; bp[d + 2] = b[s2 + p]; bp[d + 3] = b[s3 + p];
            }
        }
    }

    /**
     * Packs the mc×kc block A(i, p) = {@code a[src + i*rs + p*cs]} into ⌈mc/MR⌉ micro-panels of MR rows, reading along p
     * in the outer loop so that rows contiguous along i (rs = 1, dyᵀ of dyᵀ·x) are read sequentially; rows past mc
     * are zero.
     */
    static void packA(float[] a, int src, int rs, int cs, int mc, int kc, float[] ap) {
        int full = rs == 1 ? mc - mc % MR : 0; // rows copied six at a time
        for (int p = 0; p < kc; p++) {
            int s = src + p * cs, i0 = 0, d = p * MR;
            for (; i0 < full; i0 += MR, d += kc * MR) {
                ap[d] = a[s + i0]; ap[d + 1] = a[s + i0 + 1]; ap[d + 2] = a[s + i0 + 2];
                ap[d + 3] = a[s + i0 + 3]; ap[d + 4] = a[s + i0 + 4]; ap[d + 5] = a[s + i0 + 5];
            }
            for (; i0 < mc; i0 += MR, d += kc * MR) {
                int rows = Math.min(MR, mc - i0), r = 0;
                for (; r < rows; r++) ap[d + r] = a[s + (i0 + r) * rs];
                for (; r < MR; r++) ap[d + r] = 0f;
            }
        }
    }
}
