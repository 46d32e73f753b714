package org.xlstm4j.large;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.io.TensorSource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** An editable in-memory copy of a fixture checkpoint (config + float32 tensors), written back as a new folder. */
final class FixtureCopy {
    record Tensor(float[] data, int[] shape) {}

    final ObjectNode config;
    final Map<String, Tensor> tensors = new LinkedHashMap<>();

    FixtureCopy(Path dir) {
        try {
            config = (ObjectNode) new ObjectMapper().readTree(Files.readString(dir.resolve("config.json")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (TensorSource src = TensorSource.openCheckpoint(dir)) {
            for (String n : src.names()) tensors.put(n, new Tensor(src.floats(n), src.info(n).intShape()));
        }
    }

    /** Row-concatenates tensors (same column count) under a new name, removing the parts. */
    void fuse(String name, String... parts) {
        int rows = 0, cols = -1, total = 0;
        for (String p : parts) {
            Tensor t = tensors.get(p);
            rows += t.shape()[0];
            cols = t.shape().length > 1 ? t.shape()[1] : -1;
            total += t.data().length;
        }
        float[] all = new float[total];
        int off = 0;
        for (String p : parts) {
            Tensor t = tensors.remove(p);
            System.arraycopy(t.data(), 0, all, off, t.data().length);
            off += t.data().length;
        }
        tensors.put(name, new Tensor(all, cols < 0 ? new int[]{rows} : new int[]{rows, cols}));
    }

    void rename(String from, String to) {
        tensors.put(to, tensors.remove(from));
    }

    /** Fuses every block's projections as the official "fused" weight mode stores them (and says so in the config). */
    FixtureCopy fuseAll(int blocks) {
        for (int i = 0; i < blocks; i++) {
            String p = "backbone.blocks." + i + ".", m = p + "mlstm_layer.";
            fuse(m + "qkv_opreact.weight", m + "q.weight", m + "k.weight", m + "v.weight", m + "ogate_preact.weight");
            fuse(m + "ifgate_preact.weight", m + "igate_preact.weight", m + "fgate_preact.weight");
            fuse(m + "ifgate_preact.bias", m + "igate_preact.bias", m + "fgate_preact.bias");
            fuse(p + "ffn.proj_up_gate_z.weight", p + "ffn.proj_up_gate.weight", p + "ffn.proj_up.weight");
        }
        config.put("weight_mode", "fused");
        return this;
    }

    /** Writes config.json and model.safetensors with every tensor stored as {@code dtype}. */
    Path write(Path dir, DType dtype) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("config.json"), config.toPrettyString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        tensors.forEach((n, t) -> w.putFloats(n, dtype, t.data(), t.shape()));
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }
}
