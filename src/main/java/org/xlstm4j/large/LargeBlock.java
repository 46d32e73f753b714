package org.xlstm4j.large;

import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.tensor.MappedWeight;

/**
 * The weights of one xLSTM-Large block (spec §6.1, §6.4): the mLSTM layer behind {@code norm_mlstm} and the SwiGLU
 * feed-forward behind {@code norm_ffn}. Matrices stay in the checkpoint ({@link MappedWeight}); in "fused" weight mode
 * q, k, v, o, the two gates and gate/up are row ranges of the fused tensors, so the forward is the same for both modes.
 * Norm scales and gate biases are small and live on the heap.
 */
final class LargeBlock {
    final RMSNorm normMlstm;
    /** q, k [qk_dim, E]; v, o [v_dim, E]; igate, fgate [NH, E]. */
    final MappedWeight q, k, v, ogate, igate, fgate;
    final float[] igateBias, fgateBias;
    final MultiHeadLayerNorm multiheadNorm;
    /** [E, v_dim]. */
    final MappedWeight outProj;
    final RMSNorm normFfn;
    /** proj_up_gate, proj_up [F, E]; proj_down [E, F]. */
    final MappedWeight projUpGate, projUp, projDown;

    LargeBlock(RMSNorm normMlstm, MappedWeight q, MappedWeight k, MappedWeight v, MappedWeight ogate,
               MappedWeight igate, float[] igateBias, MappedWeight fgate, float[] fgateBias,
               MultiHeadLayerNorm multiheadNorm, MappedWeight outProj, RMSNorm normFfn,
               MappedWeight projUpGate, MappedWeight projUp, MappedWeight projDown) {
        this.normMlstm = normMlstm;
        this.q = q;
        this.k = k;
        this.v = v;
        this.ogate = ogate;
        this.igate = igate;
        this.igateBias = igateBias;
        this.fgate = fgate;
        this.fgateBias = fgateBias;
        this.multiheadNorm = multiheadNorm;
        this.outProj = outProj;
        this.normFfn = normFfn;
        this.projUpGate = projUpGate;
        this.projUp = projUp;
        this.projDown = projDown;
    }

    /** Bytes of the block's matrices: what one decoding step reads from the checkpoint for this block. */
    long matrixBytes() {
        long n = 0;
        for (MappedWeight w : new MappedWeight[]{q, k, v, ogate, igate, fgate, outProj, projUpGate, projUp, projDown}) n += w.byteSize();
        return n;
    }
}
