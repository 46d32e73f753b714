package org.xlstm4j.tensor;

import static org.xlstm4j.tensor.MicroKernel.L;
import static org.xlstm4j.tensor.MicroKernel.MR;

/**
 * One general strided matrix product C[I,J] (+)= A[I,P]·B[P,J], cache-blocked around {@link MicroKernel}: for each
 * block of {@link #KC} steps of P, a B block of up to {@link #NC} columns is packed into NR-wide panels (it stays in
 * L2), then each 6-row A micro-panel (it stays in L1; read in place when its rows are contiguous, else packed by
 * {@link Packing}) is swept across all B panels.
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
    /** Rows per packed A block (when A must be packed): a multiple of MR; MC·KC floats = 120 KiB. */
    static final int MC = 20 * MR;

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

    @Override public void run(int part, int worker) {
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
        // rows of A contiguous along p (x·Wᵀ, dy·W) are read in place: a 6-row micro-panel stays in L1 while it sweeps
        // the B block. Otherwise (dyᵀ·x) A is packed an MC-row block at a time, reading along its contiguous rows.
        boolean packA = aCs != 1;
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc), panels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < P; pc += KC) {
                int kc = Math.min(KC, P - pc);
                boolean add = accumulate || pc > 0;
                float[] bp = ws.bp(panels * kc * NR);
                Packing.packB(b, bOff + pc * bRs + jc * bCs, bRs, bCs, kc, nc, NR, bp);
                for (int ic = i0; ic < i1; ic += MC) {
                    int mc = Math.min(MC, i1 - ic);
                    float[] ap = ws.ap(MC * kc);
                    if (packA) Packing.packA(a, aOff + ic * aRs + pc * aCs, aRs, aCs, mc, kc, ap);
                    for (int ir = ic; ir < ic + mc; ir += MR) {
                        int mr = Math.min(MR, ic + mc - ir);
                        float[] at = a;
                        int ai = aOff + ir * aRs + pc, rs = aRs, ps = 1;
                        if (packA) {
                            at = ap; ai = (ir - ic) * kc; rs = 1; ps = MR;
                        } else if (mr < MR) { // ragged last rows: zero-padded into a micro-panel
                            Packing.packA(a, aOff + ir * aRs + pc * aCs, aRs, aCs, mr, kc, ap);
                            at = ap; ai = 0; rs = 1; ps = MR;
                        }
                        for (int q = 0; q < panels; q++) {
                            int jr = jc + q * NR, nr = Math.min(NR, jc + nc - jr);
                            int ci = cOff + ir * ldc + jr;
                            if (mr == MR && nr == NR) {
                                MicroKernel.tile(nv, at, ai, rs, ps, bp, q * kc * NR, kc, c, ci, ldc, add);
                            } else {
                                float[] tile = ws.tile(MR * NR);
                                MicroKernel.tile(nv, at, ai, rs, ps, bp, q * kc * NR, kc, tile, 0, NR, false);
                                mergeTile(tile, mr, nr, ci, add);
                            }
                        }
                    }
                }
            }
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
