package org.xlstm4j.train;

import org.xlstm4j.model.Checkpoint;
import org.xlstm4j.model.Param;
import org.xlstm4j.model.XLstmLM;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Lets the {@link Trainer} train the paper's xLSTM language model. */
public record XLstmTrainable(XLstmLM model) implements TrainableModel {
    @Override public List<Param> parameters() { return model.parameters(); }

    @Override public float forwardBackward(int[] inputs, int[] targets, int B, int T) {
        return model.forwardBackward(inputs, targets, B, T);
    }

    @Override public float loss(int[] inputs, int[] targets, int B, int T) { return model.loss(inputs, targets, B, T); }

    @Override public void saveCheckpoint(Path dir) throws IOException { Checkpoint.save(model, dir); }
}
