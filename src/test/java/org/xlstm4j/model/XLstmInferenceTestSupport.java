package org.xlstm4j.model;

import org.xlstm4j.tensor.Kernels;

import java.util.ArrayList;
import java.util.List;

import static org.xlstm4j.model.PaperModelTest.mixed;
import static org.xlstm4j.model.PaperModelTest.perturb;

/** Random paper-architecture models for the backend tests (CPU here, CUDA in org.xlstm4j.cuda). */
public final class XLstmInferenceTestSupport {
    private XLstmInferenceTestSupport() {}

    /** Random-weight configs covering the architecture's switches. */
    public static List<XLstmConfig> variants() {
        List<XLstmConfig> cs = new ArrayList<>();
        XLstmConfig mix = mixed(32, 3, 1);
        mix.mlstmNumHeads = 2;
        cs.add(mix);
        cs.add(mixed(32, 2));                                  // mLSTM only
        XLstmConfig s = mixed(32, 2, 0, 1);                  // sLSTM only, no conv, SiLU FFN, tied head, no post norm
        s.slstmConvKernel = 0;
        s.ffnActFn = "silu";
        s.tieWeights = true;
        s.addPostBlocksNorm = false;
        cs.add(s.validate());
        XLstmConfig b = mixed(48, 2, 1);                      // bias on, other head counts
        b.bias = true;
        b.slstmNumHeads = 2;
        cs.add(b.validate());
        return cs;
    }

    public static XLstmLM randomModel(XLstmConfig c, Kernels k, long seed) {
        XLstmLM m = new XLstmLM(c, k);
        XLstmInit.apply(m, seed);
        perturb(m, seed + 1);
        return m;
    }
}
