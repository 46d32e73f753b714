package org.xlstm4j.cuda;

import org.xlstm4j.model.LMState;

/**
 * The bookkeeping of a backend's decoding graph: the first step for a (state, batch) runs eagerly and is remembered
 * ({@link #warm}), the next one is captured ({@link #set}), later ones replay it ({@link #replay}). A graph holds buffer
 * addresses, so it is valid only for the state it was captured with and while the backend's buffer generation (bumped
 * whenever a buffer is reallocated) is unchanged.
 */
final class DecodeGraph {
    private CudaGraph graph;
    private LMState graphState, warmState;
    private int graphB, warmB;
    private long graphGen, warmGen = -1, replays;

    /** Whether the captured graph replays a step of {@code s} with batch B at buffer generation {@code gen}. */
    boolean canReplay(LMState s, int B, long gen) {
        return graph != null && graphState == s && graphB == B && graphGen == gen;
    }

    /** Whether the last eager step was for the same state, batch and generation (so the next one may be captured). */
    boolean warmedUp(LMState s, int B, long gen) {
        return warmState == s && warmB == B && warmGen == gen;
    }

    /** Remembers an eager step. */
    void warm(LMState s, int B, long gen) {
        warmState = s;
        warmB = B;
        warmGen = gen;
    }

    /** Forgets the eager step (the next step runs eagerly again). */
    void cool() {
        warmState = null;
    }

    /** Keeps a newly captured graph (the previous one must have been dropped). */
    void set(CudaGraph g, LMState s, int B, long gen) {
        graph = g;
        graphState = s;
        graphB = B;
        graphGen = gen;
    }

    /** Whether the captured graph was made for an LMState that contains {@code block}. */
    boolean holds(org.xlstm4j.blocks.BlockState block) {
        if (graphState == null) return false;
        for (var b : graphState.blocks) if (b == block) return true;
        return false;
    }

    /** Launches the graph on {@code stream}. */
    void replay(CudaStream stream) {
        graph.launch(stream);
        replays++;
    }

    /** How many steps were replays. */
    long replays() { return replays; }

    /** Releases the graph (after the stream is done with it). */
    void drop(CudaStream stream) {
        if (graph != null) {
            stream.synchronize();
            graph.close();
        }
        graph = null;
        graphState = null;
    }
}
