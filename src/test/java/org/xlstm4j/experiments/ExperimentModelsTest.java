package org.xlstm4j.experiments;

import org.junit.jupiter.api.Test;
import org.xlstm4j.UserError;
import org.xlstm4j.baselines.SequenceModel;
import org.xlstm4j.model.XLstmConfig;
import org.xlstm4j.tensor.ScalarKernels;

import static org.junit.jupiter.api.Assertions.*;

/** The five models: the paper's block layouts, sLSTM without conv, labels, and a seed that fixes the weights. */
class ExperimentModelsTest {
    @Test
    void xlstmLayoutsFollowThePaper() {
        XLstmConfig a = ExperimentModels.xlstmConfig("xlstm01", 3, 64, 1, false);
        XLstmConfig b = ExperimentModels.xlstmConfig("xlstm10", 3, 64, 1, false);
        XLstmConfig c = ExperimentModels.xlstmConfig("xlstm11", 3, 64, 1, true);
        for (XLstmConfig x : new XLstmConfig[]{a, b, c}) {
            assertEquals(2, x.numBlocks);
            assertEquals(0, x.slstmConvKernel, "sLSTM without the causal conv");
        }
        assertFalse(a.tieWeights || b.tieWeights);
        assertTrue(c.tieWeights);
        assertTrue(a.isSLstm(0) && a.isSLstm(1));
        assertTrue(!b.isSLstm(0) && !b.isSLstm(1));
        assertTrue(!c.isSLstm(0) && c.isSLstm(1));
    }

    @Test
    void allFiveModelsBuildWithLabelsAndSeeds() {
        ScalarKernels k = new ScalarKernels();
        for (String name : ExperimentModels.NAMES) {
            SequenceModel m1 = ExperimentModels.create(name, 5, 16, 2, false, k, 3), m2 = ExperimentModels.create(name, 5, 16, 2, false, k, 3);
            SequenceModel tied = ExperimentModels.create(name, 5, 16, 2, true, k, 3);
            assertEquals(m1.parameters().size() - 1, tied.parameters().size(), name + ": a tied head is not a parameter of its own");
            assertEquals(ExperimentModels.label(name), m1.name());
            assertEquals(5, m1.vocabSize());
            assertTrue(m1.parameterCount() > 1000);
            for (int i = 0; i < m1.parameters().size(); i++)
                assertArrayEquals(m1.parameters().get(i).data, m2.parameters().get(i).data, name + " deterministic init");
        }
        assertThrows(UserError.class, () -> ExperimentModels.create("gpt", 5, 16, 1, false, k, 1));
    }
}
