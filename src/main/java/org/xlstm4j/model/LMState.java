package org.xlstm4j.model;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;

import java.nio.file.Path;
import java.util.Map;

/**
 * The whole recurrent memory of a language model for a batch of B sequences: one state per block. Its size is fixed
 * (independent of how many tokens were read), so it can be saved, forked and resumed.
 */
public final class LMState {
    public final int batch;
    public final BlockState[] blocks;

    public LMState(int batch, BlockState[] blocks) {
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

    /** Number of float values held (constant for a model and batch size). */
    public long size() {
        long n = 0;
        for (BlockState b : blocks) for (float[] a : b.tensors().values()) n += a.length;
        return n;
    }

    /** Writes the state to a safetensors file (tensors {@code blocks.<i>.<name>}, F32), atomically. */
    public void save(Path file) {
        SafetensorsWriter w = new SafetensorsWriter()
                .metadata("format", "xlstm4j-state")
                .metadata("batch", Integer.toString(batch))
                .metadata("blocks", Integer.toString(blocks.length));
        for (int i = 0; i < blocks.length; i++)
            for (Map.Entry<String, float[]> e : blocks[i].tensors().entrySet())
                w.putFloats("blocks." + i + "." + e.getKey(), e.getValue(), e.getValue().length);
        w.write(file);
    }

    /** Reads a state written by {@link #save} into this one; the file must come from the same model and batch size. */
    public void load(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String b = f.metadata().get("batch");
            if (!"xlstm4j-state".equals(f.metadata().get("format")) || b == null)
                throw new UserError(file + ": not an xlstm4j state file (written by --save-state)");
            if (Integer.parseInt(b) != batch)
                throw new UserError(file + ": state is for batch " + b + ", this run has batch " + batch);
            for (int i = 0; i < blocks.length; i++)
                for (Map.Entry<String, float[]> e : blocks[i].tensors().entrySet()) {
                    String name = "blocks." + i + "." + e.getKey();
                    if (!f.contains(name)) throw new UserError(file + ": no tensor '" + name + "': the state was saved from another model");
                    if (f.info(name).numel() != e.getValue().length)
                        throw new UserError(file + ": tensor '" + name + "' has " + f.info(name).numel() + " values, this model needs " + e.getValue().length);
                    f.floats(name, e.getValue(), 0);
                }
            if (f.names().size() != size(blocks))
                throw new UserError(file + ": the state has " + f.names().size() + " tensors, this model needs " + size(blocks) + ": saved from another model");
        }
    }

    private static int size(BlockState[] blocks) {
        int n = 0;
        for (BlockState b : blocks) n += b.tensors().size();
        return n;
    }
}
