package org.xlstm4j.train;

import org.xlstm4j.model.Checkpoint;
import org.xlstm4j.model.Param;
import org.xlstm4j.model.XLstmLM;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Lets the {@link Trainer} train the paper's xLSTM language model (with the tokenizer.json it reads, if not byte-level). */
public record XLstmTrainable(XLstmLM model, Path tokenizerJson) implements TrainableModel {
    public XLstmTrainable(XLstmLM model) { this(model, null); }

    @Override public List<Param> parameters() { return model.parameters(); }

    @Override public float forwardBackward(int[] inputs, int[] targets, int B, int T) {
        return model.forwardBackward(inputs, targets, B, T);
    }

    @Override public float loss(int[] inputs, int[] targets, int B, int T) { return model.loss(inputs, targets, B, T); }

    /** Writes the official checkpoint, plus the tokenizer.json the model was trained with (if any). */
    @Override public void saveCheckpoint(Path dir) throws IOException {
        Checkpoint.save(model, dir);
        if (tokenizerJson != null) org.xlstm4j.io.AtomicFiles.write(dir.resolve("tokenizer.json"), java.nio.file.Files.readAllBytes(tokenizerJson));
    }
}
