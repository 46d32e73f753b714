package org.xlstm4j.tensor;

/** Grow-only scratch buffers: layers call {@link #ensure} before a forward pass, so steady-state steps allocate nothing. */
public final class Buffers {
    private Buffers() {}

    /** Returns {@code a} if it holds at least n floats, else a new array of n floats. */
    public static float[] ensure(float[] a, int n) {
        return a != null && a.length >= n ? a : new float[n];
    }

    public static int[] ensure(int[] a, int n) {
        return a != null && a.length >= n ? a : new int[n];
    }

    /**
     * Copies a [rows, T, H, D]-style row-major activation [B, T, NH, D] into the head-major layout [B, NH, T, D]
     * used by the cells (and back with {@link #headsToRows}).
     */
    public static void rowsToHeads(float[] src, float[] dst, int B, int T, int NH, int D) {
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                for (int h = 0; h < NH; h++)
                    System.arraycopy(src, ((b * T + t) * NH + h) * D, dst, ((b * NH + h) * T + t) * D, D);
    }

    /** Inverse of {@link #rowsToHeads}: [B, NH, T, D] → [B, T, NH, D]. */
    public static void headsToRows(float[] src, float[] dst, int B, int T, int NH, int D) {
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                    System.arraycopy(src, ((b * NH + h) * T + t) * D, dst, ((b * T + t) * NH + h) * D, D);
    }
}
