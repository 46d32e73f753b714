package org.xlstm4j.tensor;

import jdk.incubator.vector.FloatVector;

import static org.xlstm4j.tensor.MicroKernel.L;
import static org.xlstm4j.tensor.MicroKernel.MR;
import static org.xlstm4j.tensor.MicroKernel.S;

/**
 * One general strided matrix product C[I,J] (+)= A[I,P]·B[P,J], cache-blocked around {@link MicroKernel}: for each
 * block of {@link #KC} steps of P, a B block of up to {@link #NC} columns is packed into NR-wide panels (it stays in
 * L2), then each 6-row A micro-panel (it stays in L1; read in place when its rows are contiguous, else packed) is
 * swept across all B panels.
 *
 * <p>Operands are strided views: A(i,p) = {@code a[aOff + i*aRs + p*aCs]}, B(p,j) = {@code b[bOff + p*bRs + j*bCs]},
 * C(i,j) = {@code c[cOff + i*ldc + j]}, so the three layouts of a linear layer (x·Wᵀ, dy·W, dyᵀ·x) are the same
 * product with different strides. An instance is a mutable job description: set the fields, then run parts of it on
 * a {@link WorkerPool}; each part owns a {@link Workspace}.
 */
final class Gemm implements WorkerPool.Job {
    /** Steps of P per block: the A micro-panel (MR·KC floats, 6 KiB) stays in L1. */
    static final int KC = 256;
    /** Columns per packed B block: KC·NC floats = 512 KiB stay in L2. */
    static final int NC = 512;

    /** Vectors per tile row (4 or 2, see {@link MicroKernel}) and so columns per tile and B panel. */
    final int nv, NR;
    float[] a, b, c;
    int aOff, aRs, aCs, bOff, bRs, bCs, cOff, ldc, I, J, P;
    boolean accumulate;
    /** How the work is split over parts: by column panels ({@code true}) or by row panels. */
    boolean splitColumns;
    int parts;
    Workspace[] workspaces;

    Gemm(int nv) {
        this.nv = nv;
        this.NR = nv * L;
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    static final class Workspace {
        float[] ap = new float[0], bp = new float[0], tile = new float[0];

        float[] tile(int n) {
            if (tile.length < n) tile = new float[n];
            return tile;
        }

        float[] bp(int n) {
            if (bp.length < n) bp = new float[n];
            return bp;
        }

        float[] ap(int n) {
            if (ap.length < n) ap = new float[n];
            return ap;
        }
    }

    /** Chooses how to split the product over at most {@code maxParts} parts (sets {@link #parts}, {@link #splitColumns}). */
    void plan(int maxParts) {
        int jPanels = (J + NR - 1) / NR, iPanels = (I + MR - 1) / MR;
        int pj = Math.min(maxParts, jPanels), pi = Math.min(maxParts, iPanels);
        long workJ = (long) ((jPanels + pj - 1) / pj) * iPanels; // the busiest part's tiles
        long workI = (long) ((iPanels + pi - 1) / pi) * jPanels;
        splitColumns = workJ <= workI;
        parts = splitColumns ? pj : pi;
    }

    @Override public void run(int part) {
        if (splitColumns) {
            int jPanels = (J + NR - 1) / NR;
            int q0 = (int) ((long) jPanels * part / parts), q1 = (int) ((long) jPanels * (part + 1) / parts);
            compute(workspaces[part], 0, I, q0 * NR, Math.min(J, q1 * NR));
        } else {
            int iPanels = (I + MR - 1) / MR;
            int r0 = (int) ((long) iPanels * part / parts), r1 = (int) ((long) iPanels * (part + 1) / parts);
            compute(workspaces[part], r0 * MR, Math.min(I, r1 * MR), 0, J);
        }
    }

    /** C[i0:i1, j0:j1] (+)= A[i0:i1, :]·B[:, j0:j1]. */
    void compute(Workspace ws, int i0, int i1, int j0, int j1) {
        if (P == 0) {
            if (!accumulate) for (int i = i0; i < i1; i++) java.util.Arrays.fill(c, cOff + i * ldc + j0, cOff + i * ldc + j1, 0f);
            return;
        }
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc), panels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < P; pc += KC) {
                int kc = Math.min(KC, P - pc);
                boolean add = accumulate || pc > 0;
                float[] bp = ws.bp(panels * kc * NR);
                packB(bp, pc, kc, jc, nc);
                for (int ic = i0; ic < i1; ic += MR) {
                    int mr = Math.min(MR, i1 - ic);
                    // rows of A that are contiguous along p are read in place (they stay in L1 across the sweep);
                    // otherwise, and for a ragged last row block, A is packed (zero-padded) into a micro-panel
                    float[] ap = a;
                    int ai = aOff + ic * aRs + pc, rs = aRs, ps = 1;
                    if (aCs != 1 || mr < MR) {
                        ap = ws.ap(kc * MR);
                        packA(ap, ic, mr, pc, kc);
                        ai = 0; rs = 1; ps = MR;
                    }
                    for (int q = 0; q < panels; q++) {
                        int jr = jc + q * NR, nr = Math.min(NR, jc + nc - jr);
                        int ci = cOff + ic * ldc + jr;
                        if (mr == MR && nr == NR) {
                            MicroKernel.tile(nv, ap, ai, rs, ps, bp, q * kc * NR, kc, c, ci, ldc, add);
                        } else {
                            float[] tile = ws.tile(MR * NR);
                            MicroKernel.tile(nv, ap, ai, rs, ps, bp, q * kc * NR, kc, tile, 0, NR, false);
                            mergeTile(tile, mr, nr, ci, add);
                        }
                    }
                }
            }
        }
    }

    /** Packs B[pc:pc+kc, jc:jc+nc] into NR-wide panels {@code bp[q*kc*NR + p*NR + j]}, zero-padding the last one. */
    private void packB(float[] bp, int pc, int kc, int jc, int nc) {
        for (int q = 0, jr = jc; jr < jc + nc; q++, jr += NR) {
            int nr = Math.min(NR, jc + nc - jr), dst = q * kc * NR;
            int src = bOff + pc * bRs + jr * bCs;
            if (bCs == 1 && nr == NR) {
                for (int p = 0; p < kc; p++, src += bRs, dst += NR) {
                    for (int v = 0; v < nv; v++) FloatVector.fromArray(S, b, src + v * L).intoArray(bp, dst + v * L);
                }
            } else if (bCs == 1) {
                for (int p = 0; p < kc; p++, src += bRs, dst += NR) {
                    System.arraycopy(b, src, bp, dst, nr);
                    java.util.Arrays.fill(bp, dst + nr, dst + NR, 0f);
                }
            } else {
                for (int j = 0; j < nr; j++) {
                    for (int p = 0, s = src + j * bCs, d = dst + j; p < kc; p++, s += bRs, d += NR) bp[d] = b[s];
                }
                if (nr < NR) for (int p = 0; p < kc; p++) java.util.Arrays.fill(bp, dst + p * NR + nr, dst + (p + 1) * NR, 0f);
            }
        }
    }

    /** Packs A[ic:ic+mr, pc:pc+kc] into {@code ap[p*MR + r]}, zero-padding rows mr..MR-1. */
    private void packA(float[] ap, int ic, int mr, int pc, int kc) {
        int s0 = aOff + ic * aRs + pc * aCs;
        for (int p = 0, d = 0; p < kc; p++, d += MR) {
            int s = s0 + p * aCs, r = 0;
            for (; r < mr; r++) ap[d + r] = a[s + r * aRs];
            for (; r < MR; r++) ap[d + r] = 0f;
        }
    }

    /** Writes (or adds) the valid mr×nr corner of a full tile computed into scratch. */
    private void mergeTile(float[] tile, int mr, int nr, int ci, boolean add) {
        for (int r = 0; r < mr; r++) {
            int d = ci + r * ldc, s = r * NR;
            if (add) for (int j = 0; j < nr; j++) c[d + j] += tile[s + j];
            else System.arraycopy(tile, s, c, d, nr);
        }
    }
}
