package org.xlstm4j.blocks;

/** The recurrent memory of one block for a batch of sequences: everything a later token needs from the past. */
public interface BlockState {
    /** Batch size this state was made for. */
    int batch();

    /** Sets the state back to "no history" (zeros, stabilizer 0). */
    void reset();

    /** Copies another state of the same shape into this one. */
    void copyFrom(BlockState other);

    /** Copies {@code from} into {@code to} tensor by tensor (same names and sizes, else IllegalArgumentException). */
    static void copyTensors(BlockState from, BlockState to) {
        java.util.Map<String, float[]> o = from.tensors(), mine = to.tensors();
        for (java.util.Map.Entry<String, float[]> e : mine.entrySet()) {
            float[] src = o.get(e.getKey());
            if (src == null || src.length != e.getValue().length)
                throw new IllegalArgumentException("copyFrom: state shapes differ at '" + e.getKey() + "'");
            System.arraycopy(src, 0, e.getValue(), 0, src.length);
        }
    }

    /** The state's arrays by name (live references, in a fixed order), for saving and loading. */
    java.util.Map<String, float[]> tensors();
}
