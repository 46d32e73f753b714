package org.xlstm4j.blocks;

import org.xlstm4j.cells.MLstmState;

import java.util.Arrays;

/** State of an mLSTM block (spec §4.4): the cell memory (C, n, m) and the causal-conv buffer [B, K, I]. */
public final class MLstmBlockState implements BlockState {
    public final MLstmState cell;
    public final float[] conv;

    public MLstmBlockState(MLstmState cell, float[] conv) {
        this.cell = cell;
        this.conv = conv;
    }

    @Override public int batch() { return cell.B; }

    @Override public void reset() {
        cell.reset();
        Arrays.fill(conv, 0f);
    }

    @Override public void copyFrom(BlockState other) {
        MLstmBlockState o = (MLstmBlockState) other;
        cell.copyFrom(o.cell);
        System.arraycopy(o.conv, 0, conv, 0, conv.length);
    }

    @Override public java.util.Map<String, float[]> tensors() {
        java.util.Map<String, float[]> m = new java.util.LinkedHashMap<>();
        m.put("mlstm.C", cell.c);
        m.put("mlstm.n", cell.n);
        m.put("mlstm.m", cell.m);
        m.put("conv", conv);
        return m;
    }
}
