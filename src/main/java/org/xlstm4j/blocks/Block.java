package org.xlstm4j.blocks;

import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Kernels;

import java.util.List;

/** A residual xLSTM block: maps [B, T, E] to [B, T, E], optionally carrying a recurrent state across calls. */
public interface Block {
    List<Param> parameters();

    /**
     * Forward over T tokens. {@code state}: null = zero initial state (training); otherwise the initial state, which
     * is overwritten with the final state. {@code x} must stay unchanged until {@link #backward}.
     */
    void forward(Kernels k, float[] x, float[] y, int B, int T, BlockState state);

    /** Backward of the most recent forward: accumulates parameter gradients, writes dx. */
    void backward(Kernels k, float[] dy, float[] dx);

    /** A zero state for a batch of B sequences. */
    BlockState newState(int B);
}
