package org.xlstm4j.model;

import org.xlstm4j.blocks.BlockState;

/**
 * The whole recurrent memory of a language model for a batch of B sequences: one state per block. Its size is fixed
 * (independent of how many tokens were read), so it can be saved, forked and resumed.
 */
public final class LMState {
    public final int batch;
    public final BlockState[] blocks;

    LMState(int batch, BlockState[] blocks) {
        this.batch = batch;
        this.blocks = blocks;
    }

    public void reset() {
        for (BlockState s : blocks) s.reset();
    }

    public void copyFrom(LMState other) {
        if (other.batch != batch || other.blocks.length != blocks.length)
            throw new IllegalArgumentException("state shapes differ: batch " + other.batch + " vs " + batch);
        for (int i = 0; i < blocks.length; i++) blocks[i].copyFrom(other.blocks[i]);
    }
}
