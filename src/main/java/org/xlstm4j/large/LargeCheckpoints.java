package org.xlstm4j.large;

import org.xlstm4j.UserError;
import org.xlstm4j.io.AtomicFiles;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.TensorInfo;
import org.xlstm4j.io.TensorSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * xLSTM-Large checkpoint folders: opening their weights (Hugging Face single file or sharded index, or the official
 * {@code model_0.safetensors}, {@code model_1.safetensors}, ... shards) and creating randomly initialised ones of any
 * size, written tensor by tensor (a 7B model needs no more heap than one chunk).
 */
public final class LargeCheckpoints {
    private LargeCheckpoints() {}

    /** The weights of a checkpoint folder, memory-mapped. */
    public static TensorSource open(Path dir) {
        if (Files.exists(dir.resolve(TensorSource.SINGLE_FILE_NAME)) || Files.exists(dir.resolve(TensorSource.INDEX_FILE_NAME)))
            return TensorSource.openCheckpoint(dir);
        List<SafetensorsFile> shards = new ArrayList<>();
        for (int n = 0; Files.exists(dir.resolve("model_" + n + ".safetensors")); n++)
            shards.add(SafetensorsFile.open(dir.resolve("model_" + n + ".safetensors")));
        if (shards.isEmpty())
            throw new UserError(dir + ": no weights (model.safetensors, model.safetensors.index.json or model_0.safetensors)");
        return new NumberedShards(dir, shards);
    }

    /**
     * A configuration of about {@code size} parameters with the 7B's proportions (head dims 256/512 where the width
     * allows, vocabulary 50304): "125M", "350M", "1B", "7B" (the released architecture).
     */
    public static LargeConfig preset(String size) {
        LargeConfig c = new LargeConfig();
        switch (size.toUpperCase()) {
            case "125M" -> { c.embeddingDim = 768; c.numHeads = 4; c.numBlocks = 7; }
            case "350M" -> { c.embeddingDim = 1024; c.numHeads = 4; c.numBlocks = 20; }
            case "1B" -> { c.embeddingDim = 2048; c.numHeads = 4; c.numBlocks = 16; }
            case "7B" -> { c.embeddingDim = 4096; c.numHeads = 8; c.numBlocks = 32; }
            default -> throw new UserError("unknown model size '" + size + "' (expected 125M, 350M, 1B or 7B)");
        }
        return c.validate("--params " + size);
    }

    /**
     * Writes {@code config.json} (Hugging Face layout) and {@code model.safetensors} (Hugging Face names, "single"
     * weight mode, every tensor stored as {@code dtype}) of a randomly initialised model into {@code dir} (created if
     * needed). Initialisation as the Hugging Face {@code _init_weights} (spec §6.3): embedding and projections
     * N(0, 2/(5E)), {@code out_proj} and {@code proj_down} N(0, (2/(blocks·√dim))²), gate weights 0 with input-gate bias
     * −10 and forget-gate biases linspace(3, 6, NH), norm scales 1. Each tensor (and each 1M-value chunk of it) has its
     * own generator derived from {@code seed}, so the file does not depend on the write order.
     */
    public static void createRandom(Path dir, LargeConfig c, DType dtype, long seed) {
        c.validate("createRandom");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UserError(dir + ": cannot create the folder: " + e.getMessage());
        }
        int E = c.embeddingDim, NH = c.numHeads, qk = c.qkDim(), v = c.vDim(), F = c.ffnDim(), V = c.vocabSize;
        double small = Math.sqrt(2.0 / (5.0 * E));
        double wangOut = 2.0 / c.numBlocks / Math.sqrt(E), wangDown = 2.0 / c.numBlocks / Math.sqrt(F);
        StreamingSafetensorsWriter w = new StreamingSafetensorsWriter().metadata("format", "pt");
        w.add("backbone.embeddings.weight", dtype, new long[]{V, E}, normal(seed, "backbone.embeddings.weight", small));
        for (int i = 0; i < c.numBlocks; i++) {
            String p = "backbone.blocks." + i + ".", m = p + "mlstm_layer.";
            w.add(p + "norm_mlstm.weight", dtype, new long[]{E}, constant(1f));
            w.add(m + "q.weight", dtype, new long[]{qk, E}, normal(seed, m + "q.weight", small));
            w.add(m + "k.weight", dtype, new long[]{qk, E}, normal(seed, m + "k.weight", small));
            w.add(m + "v.weight", dtype, new long[]{v, E}, normal(seed, m + "v.weight", small));
            w.add(m + "ogate_preact.weight", dtype, new long[]{v, E}, normal(seed, m + "ogate_preact.weight", small));
            w.add(m + "igate_preact.weight", dtype, new long[]{NH, E}, constant(0f));
            w.add(m + "igate_preact.bias", dtype, new long[]{NH}, constant(-10f));
            w.add(m + "fgate_preact.weight", dtype, new long[]{NH, E}, constant(0f));
            w.add(m + "fgate_preact.bias", dtype, new long[]{NH},
                    (start, out, n) -> { for (int j = 0; j < n; j++) out[j] = NH == 1 ? 3f : (float) (3.0 + 3.0 * (start + j) / (NH - 1)); });
            w.add(m + "multihead_norm.weight", dtype, new long[]{v}, constant(1f));
            w.add(m + "out_proj.weight", dtype, new long[]{E, v}, normal(seed, m + "out_proj.weight", wangOut));
            w.add(p + "norm_ffn.weight", dtype, new long[]{E}, constant(1f));
            w.add(p + "ffn.proj_up_gate.weight", dtype, new long[]{F, E}, normal(seed, p + "ffn.proj_up_gate.weight", small));
            w.add(p + "ffn.proj_up.weight", dtype, new long[]{F, E}, normal(seed, p + "ffn.proj_up.weight", small));
            w.add(p + "ffn.proj_down.weight", dtype, new long[]{E, F}, normal(seed, p + "ffn.proj_down.weight", wangDown));
        }
        if (c.addOutNorm) w.add("backbone.out_norm.weight", dtype, new long[]{E}, constant(1f));
        if (!c.tieWordEmbeddings) w.add("lm_head.weight", dtype, new long[]{V, E}, normal(seed, "lm_head.weight", small));
        w.write(dir.resolve(TensorSource.SINGLE_FILE_NAME));
        String torchDtype = switch (dtype) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
        try {
            AtomicFiles.writeString(dir.resolve("config.json"), c.toHuggingFaceJson(torchDtype) + "\n");
        } catch (IOException e) {
            throw new UserError(dir.resolve("config.json") + ": cannot write: " + e.getMessage());
        }
    }

    private static StreamingSafetensorsWriter.Values constant(float value) {
        return (start, out, n) -> java.util.Arrays.fill(out, 0, n, value);
    }

    /** N(0, std²) values; the generator of each chunk is seeded from (seed, tensor name, chunk index). */
    private static StreamingSafetensorsWriter.Values normal(long seed, String name, double std) {
        long base = new SplittableRandom(seed ^ ((long) name.hashCode() << 32 | name.length())).nextLong();
        return (start, out, n) -> {
            SplittableRandom r = new SplittableRandom(base + start / StreamingSafetensorsWriter.CHUNK * 0x9E3779B97F4A7C15L);
            for (int j = 0; j < n; j++) out[j] = (float) (std * r.nextGaussian());
        };
    }

    /** The official layout's unindexed shards model_0.safetensors, model_1.safetensors, ... as one source. */
    private static final class NumberedShards implements TensorSource {
        private final Path dir;
        private final List<SafetensorsFile> shards;
        private final Map<String, SafetensorsFile> byName = new LinkedHashMap<>();

        NumberedShards(Path dir, List<SafetensorsFile> shards) {
            this.dir = dir;
            this.shards = shards;
            for (SafetensorsFile f : shards)
                for (String n : f.names())
                    if (byName.putIfAbsent(n, f) != null) {
                        close();
                        throw new UserError(dir + ": tensor '" + n + "' appears in two shards");
                    }
        }

        private SafetensorsFile shard(String name) {
            SafetensorsFile f = byName.get(name);
            if (f == null) throw new UserError(dir + ": no tensor named '" + name + "'");
            return f;
        }

        @Override public Path path() { return dir.resolve("model_0.safetensors"); }
        @Override public List<String> names() { return List.copyOf(byName.keySet()); }
        @Override public boolean contains(String name) { return byName.containsKey(name); }
        @Override public TensorInfo info(String name) { return shard(name).info(name); }
        @Override public MemorySegment segment(String name) { return shard(name).segment(name); }
        @Override public Map<String, String> metadata() { return shards.getFirst().metadata(); }
        @Override public void close() { for (SafetensorsFile f : shards) f.close(); }
    }
}
