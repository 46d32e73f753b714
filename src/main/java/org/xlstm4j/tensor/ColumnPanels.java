package org.xlstm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A copy of a bf16 weight W [rows, cols] laid out in column panels: panel p holds the columns
 * [p·width, min(cols, (p+1)·width)) of every row, row after row. {@link MappedMatmul} streams such a copy panel by panel,
 * so a decoding step reads one long sequential run per thread while the slice of x it multiplies (at most
 * {@value #WIDTH} floats, 8 KiB) stays in L1 beside it. With rows read whole, a longer x shares L1 with the weight
 * stream, and the product streams slower the longer x is: on the development machine (docs/PERFORMANCE.md, fifth
 * session) 4,096 columns at 87% of a streaming sum's rate and 5,504 at about 65%, 2,048-column panels at the sum's rate.
 * The stored file cannot change, so this is a copy in process memory ({@link HugePages#allocate}), made once.
 *
 * <p>The elements keep their stored bf16 bits (no widening), and the x slices keep their pair-split order: every panel
 * starts at a multiple of {@link #ALIGN} (64) columns, so a panel's whole vector blocks are the row's, and only the last panel has a
 * ragged tail, the row's own.
 */
public final class ColumnPanels {
    /** Columns per panel at most (8 KiB of float32 x). */
    public static final int WIDTH = 2048;
    /** Panel widths are multiples of this many columns: whole blocks of the dot product's widest step (four vectors). */
    static final int ALIGN = Math.max(64, 4 * MappedWeight.L);

    /** Which weights {@link MappedMatmul#keepPanels} copies ({@code -Dxlstm4j.panels=none|long|all}, default long). */
    public enum Policy {
        /** None: every weight is read from its mapping only. */
        NONE(Integer.MAX_VALUE),
        /** bf16 rows of more than 4,096 columns (the FFN down projections of xLSTM-Large: 20% of a 1B's weights, 21% of a 7B's). */
        LONG(4096),
        /** bf16 rows of more than {@value #WIDTH} columns: about all of a 7B's weights, a second copy of them in memory. */
        ALL(WIDTH);

        /** Rows of more than this many columns are copied. */
        public final int above;

        Policy(int above) { this.above = above; }

        /** The policy named by {@code -Dxlstm4j.panels} (none, long, all; false = none), long when unset. */
        public static Policy fromSystemProperty() {
            String v = System.getProperty("xlstm4j.panels", "long").trim().toLowerCase();
            return switch (v) {
                case "none", "false", "off" -> NONE;
                case "long", "true", "on" -> LONG;
                case "all" -> ALL;
                default -> throw new IllegalArgumentException("-Dxlstm4j.panels must be none, long or all, got '" + v + "'");
            };
        }

        /** Whether {@code w} gets a copy under this policy: bf16, more than {@link #above} columns. */
        public boolean copies(MappedWeight w) {
            return w.storage() == MappedWeight.Storage.BF16 && w.cols() > above && w.rows() > 0;
        }
    }

    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final MemorySegment data;
    final int rows, cols, width, count;

    private ColumnPanels(MemorySegment data, int rows, int cols, int width, int count) {
        this.data = data;
        this.rows = rows;
        this.cols = cols;
        this.width = width;
        this.count = count;
    }

    /**
     * Copies the bf16 weight {@code w} (of more than {@value #WIDTH} columns) into memory of {@code arena}: as few panels
     * as keep each at most {@value #WIDTH} columns, of equal width rounded up to {@link #ALIGN} columns (64 with 256- or
     * 512-bit vectors; the last panel narrower).
     */
    public static ColumnPanels copyOf(MappedWeight w, Arena arena) {
        if (w.storage() != MappedWeight.Storage.BF16 || w.cols() <= WIDTH)
            throw new IllegalArgumentException("column panels need bf16 rows of more than " + WIDTH + " columns, got "
                    + w.storage() + " " + w.rows() + "x" + w.cols());
        int rows = w.rows(), cols = w.cols();
        int count = (cols + WIDTH - 1) / WIDTH;
        int width = ((cols + count - 1) / count + ALIGN - 1) / ALIGN * ALIGN;
        count = (cols + width - 1) / width;
        MemorySegment data = HugePages.allocate(w.byteSize(), arena);   // 2 MiB pages where the kernel gives them
        ColumnPanels p = new ColumnPanels(data, rows, cols, width, count);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < count; c++)
                MemorySegment.copy(w.data(), w.offset(r, p.start(c)), data, p.offset(c, r), 2L * p.width(c));
        return p;
    }

    /** First column of panel {@code p}. */
    int start(int p) { return p * width; }

    /** Columns in panel {@code p}. */
    int width(int p) { return Math.min(cols, start(p) + width) - start(p); }

    /** Byte offset of row {@code r}'s slice in panel {@code p}. */
    long offset(int p, int r) { return 2L * ((long) start(p) * rows + (long) r * width(p)); }

    /** W[r, c] as float32 (exact widening), read from the copy. */
    float get(int r, int c) {
        int p = c / width;
        return Float.intBitsToFloat((data.get(I16, offset(p, r) + 2L * (c - start(p))) & 0xffff) << 16);
    }

    /** Bytes held (the size of the stored matrix). */
    public long byteSize() { return data.byteSize(); }

    /** Number of panels. */
    public int count() { return count; }
}
