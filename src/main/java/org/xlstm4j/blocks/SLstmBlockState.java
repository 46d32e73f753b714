package org.xlstm4j.blocks;

import org.xlstm4j.cells.SLstmState;

import java.util.Arrays;

/** State of an sLSTM block (spec §4.4): the cell state (h, c, n, m) and the causal-conv buffer [B, K, E]. */
public final class SLstmBlockState implements BlockState {
    public final SLstmState cell;
    public final float[] conv;

    public SLstmBlockState(SLstmState cell, float[] conv) {
        this.cell = cell;
        this.conv = conv;
    }

    @Override public int batch() { return cell.B; }

    @Override public void reset() {
        cell.reset();
        Arrays.fill(conv, 0f);
    }

    @Override public void copyFrom(BlockState other) {
        SLstmBlockState o = (SLstmBlockState) other;
        cell.copyFrom(o.cell);
        System.arraycopy(o.conv, 0, conv, 0, conv.length);
    }

    @Override public java.util.Map<String, float[]> tensors() {
        java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
        m.put("slstm.h", cell.h);
        m.put("slstm.c", cell.c);
        m.put("slstm.n", cell.n);
        m.put("slstm.m", cell.m);
        m.put("conv", conv);
        return m;
    }
}
