package org.xlstm4j.blocks;

/** The recurrent memory of one block for a batch of sequences: everything a later token needs from the past. */
public interface BlockState {
    /** Batch size this state was made for. */
    int batch();

    /** Sets the state back to "no history" (zeros, stabilizer 0). */
    void reset();

    /** Copies another state of the same shape into this one. */
    void copyFrom(BlockState other);

    /** The state's arrays by name (live references, in a fixed order), for saving and loading. */
    java.util.Map<String, float[]> tensors();
}
