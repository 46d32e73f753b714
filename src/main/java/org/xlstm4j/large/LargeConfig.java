package org.xlstm4j.large;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Configuration of the xLSTM-7B architecture ("xLSTM Large", spec §6.2): the Hugging Face {@code xLSTMConfig}
 * ({@code config.json} with {@code "model_type": "xlstm"}; both its names {@code hidden_size}/{@code num_hidden_layers}
 * and the official {@code embedding_dim}/{@code num_blocks} are read) or the official {@code xLSTMLargeConfig}
 * ({@code config.yaml} of an official checkpoint, or the same keys as JSON). Missing optional fields take the Hugging
 * Face defaults. Fields that only choose a GPU kernel or a dtype for the reference's own arithmetic are accepted and
 * ignored (this port computes in float32 with float32 states); values that change the model and are not supported
 * raise a one-line {@link UserError} naming the field.
 */
public final class LargeConfig {
    /** Which reference the config comes from: it decides how a prompt is split into chunkwise and recurrent parts. */
    public enum Flavor { HUGGING_FACE, OFFICIAL }

    public Flavor flavor = Flavor.HUGGING_FACE;
    public int vocabSize = 50304;
    public int embeddingDim = 4096;
    public int numHeads = 8;
    public int numBlocks = 32;
    public double qkDimFactor = 0.5;
    public double vDimFactor = 1.0;
    public double ffnProjFactor = 2.667;
    public int ffnRoundUpToMultipleOf = 64;
    /** Soft caps c·tanh(x/c) of the gate pre-activations and the logits; null = no cap. */
    public Double gateSoftCap = 15.0, outputLogitSoftCap = 30.0;
    public double normEps = 1e-6;
    /** The mLSTM kernel's eps (spec §3.5). */
    public double eps = 1e-6;
    public int chunkSize = 64;
    public boolean addOutNorm = true;
    public boolean tieWordEmbeddings = false;
    public String weightMode = "single";
    /** Hugging Face only: prompts longer than this are read in slices of this many tokens (spec §6.5). */
    public int maxInferenceChunksize = 16384;

    /** Query/key width {@code int(E·qk_dim_factor)} (spec §6.1). */
    public int qkDim() { return (int) (embeddingDim * qkDimFactor); }

    /** Value width {@code int(E·v_dim_factor)}. */
    public int vDim() { return (int) (embeddingDim * vDimFactor); }

    public int qkHeadDim() { return qkDim() / numHeads; }

    public int vHeadDim() { return vDim() / numHeads; }

    /**
     * FFN hidden width: the reference's {@code round_up_to_next_multiple_of(E·ffn_proj_factor, m)} =
     * {@code int(((x + m − 1) // m)·m)} evaluated on the float x (for a non-integer x this is floor((x + m − 1)/m)·m,
     * which is what the checkpoints were built with).
     */
    public int ffnDim() {
        double x = embeddingDim * ffnProjFactor;
        int m = ffnRoundUpToMultipleOf;
        return (int) (Math.floor((x + m - 1) / m) * m);
    }

    /** Reads {@code config.json} (Hugging Face or official keys) or, when absent, an official {@code config.yaml}. */
    public static LargeConfig load(Path dir) {
        Path json = dir.resolve("config.json"), yaml = dir.resolve("config.yaml");
        try {
            if (Files.exists(json)) {
                JsonNode root;
                try {
                    root = new ObjectMapper().readTree(Files.readString(json));
                } catch (IOException e) {
                    throw new UserError(json + ": not valid JSON (" + e.getMessage().split("\n", 2)[0] + ")");
                }
                if (root == null || !root.isObject()) throw new UserError(json + ": not a JSON object");
                return fromJson((ObjectNode) root, json.toString());
            }
            if (Files.exists(yaml)) return fromJson(flatYaml(Files.readAllLines(yaml), yaml.toString()), yaml.toString());
            throw new UserError(dir + ": not a checkpoint folder (no config.json or config.yaml)");
        } catch (NoSuchFileException e) {
            throw new UserError(dir + ": not a checkpoint folder (no config.json)");
        } catch (IOException e) {
            throw new UserError(dir + ": cannot read the config: " + e.getMessage());
        }
    }

    /** Parses a config object; {@code where} names the file in error messages. */
    public static LargeConfig fromJson(ObjectNode root, String where) {
        Fields f = new Fields(root, where);
        LargeConfig c = new LargeConfig();
        String type = f.text("model_type", null);
        if (type != null && !type.equals("xlstm"))
            throw new UserError(where + ": model_type '" + type + "' is not the xLSTM-7B architecture (expected \"xlstm\")");
        c.flavor = type != null ? Flavor.HUGGING_FACE : Flavor.OFFICIAL;
        c.embeddingDim = f.sameInt("embedding_dim", "hidden_size", c.embeddingDim);
        c.numBlocks = f.sameInt("num_blocks", "num_hidden_layers", c.numBlocks);
        c.numHeads = f.integer("num_heads", c.numHeads);
        c.vocabSize = f.integer("vocab_size", c.vocabSize);
        c.qkDimFactor = f.number("qk_dim_factor", c.qkDimFactor);
        c.vDimFactor = f.number("v_dim_factor", c.vDimFactor);
        c.ffnProjFactor = f.number("ffn_proj_factor", c.ffnProjFactor);
        c.ffnRoundUpToMultipleOf = f.integer("ffn_round_up_to_multiple_of", c.ffnRoundUpToMultipleOf);
        c.gateSoftCap = f.optionalNumber("gate_soft_cap", c.gateSoftCap);
        c.outputLogitSoftCap = f.optionalNumber("output_logit_soft_cap", c.outputLogitSoftCap);
        c.normEps = f.number("norm_eps", c.normEps);
        c.eps = f.number("eps", c.eps);
        c.chunkSize = f.integer("chunk_size", c.chunkSize);
        c.addOutNorm = f.bool("add_out_norm", c.addOutNorm);
        c.tieWordEmbeddings = f.bool("tie_word_embeddings", c.tieWordEmbeddings);
        c.weightMode = f.oneOf("weight_mode", c.weightMode, List.of("single", "fused"));
        c.maxInferenceChunksize = f.integer("max_inference_chunksize", c.maxInferenceChunksize);
        if (f.bool("use_bias", false))
            throw new UserError(where + ": use_bias true is not supported (the released models have no biases except the gates')");
        f.bool("norm_reduction_force_float32", true);           // we always reduce in float32 or wider
        f.oneOf("mode", "inference", List.of("inference", "train", "train_with_padding"));
        for (String dtype : List.of("autocast_kernel_dtype", "inference_state_dtype"))
            f.oneOf(dtype, "float32", List.of("float32", "bfloat16", "float16"));
        for (String kernel : List.of("chunkwise_kernel", "sequence_kernel", "step_kernel")) {
            String k = f.text(kernel, "");
            if (k.contains("siging"))
                throw new UserError(where + ": " + kernel + " '" + k + "' is the sigmoid-input-gate variant (mLSTMsig), which is a different model; not supported");
        }
        return c.validate(where);
    }

    /** Checks the shapes the architecture needs; throws a UserError naming the field. */
    public LargeConfig validate(String where) {
        positive(where, "vocab_size", vocabSize);
        positive(where, "embedding_dim", embeddingDim);
        positive(where, "num_heads", numHeads);
        positive(where, "num_blocks", numBlocks);
        positive(where, "chunk_size", chunkSize);
        positive(where, "ffn_round_up_to_multiple_of", ffnRoundUpToMultipleOf);
        positive(where, "max_inference_chunksize", maxInferenceChunksize);
        if (qkDim() < numHeads || qkDim() % numHeads != 0)
            throw new UserError(where + ": qk_dim_factor " + qkDimFactor + " gives qk_dim " + qkDim() + ", not a positive multiple of num_heads " + numHeads);
        if (vDim() < numHeads || vDim() % numHeads != 0)
            throw new UserError(where + ": v_dim_factor " + vDimFactor + " gives v_dim " + vDim() + ", not a positive multiple of num_heads " + numHeads);
        if (ffnDim() < 1) throw new UserError(where + ": ffn_proj_factor " + ffnProjFactor + " gives an empty feed-forward layer");
        if (!(normEps > 0)) throw new UserError(where + ": norm_eps must be positive, got " + normEps);
        if (!(eps >= 0)) throw new UserError(where + ": eps must be >= 0, got " + eps);
        if (gateSoftCap != null && !(gateSoftCap > 0)) throw new UserError(where + ": gate_soft_cap must be positive or null, got " + gateSoftCap);
        if (outputLogitSoftCap != null && !(outputLogitSoftCap > 0))
            throw new UserError(where + ": output_logit_soft_cap must be positive or null, got " + outputLogitSoftCap);
        return this;
    }

    /** Number of parameters (embedding, blocks, out norm, and the head unless tied). */
    public long parameterCount() {
        long E = embeddingDim, qk = qkDim(), v = vDim(), F = ffnDim(), NH = numHeads;
        long block = E                                   // norm_mlstm
                + 2 * qk * E + 2 * v * E                 // q, k, v, ogate_preact
                + 2 * (NH * E + NH)                      // igate, fgate (+ bias)
                + v                                      // multihead_norm
                + E * v                                  // out_proj
                + E                                      // norm_ffn
                + 3 * F * E;                             // proj_up_gate, proj_up, proj_down
        long n = (long) vocabSize * E + numBlocks * block + (addOutNorm ? E : 0);
        return tieWordEmbeddings ? n : n + (long) vocabSize * E;
    }

    /** The Hugging Face {@code config.json} of this configuration (what {@code save_pretrained} writes, abridged). */
    public String toHuggingFaceJson(String dtype) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("architectures", List.of("xLSTMForCausalLM"));
        m.put("model_type", "xlstm");
        m.put("vocab_size", vocabSize);
        m.put("hidden_size", embeddingDim);
        m.put("embedding_dim", embeddingDim);
        m.put("num_hidden_layers", numBlocks);
        m.put("num_blocks", numBlocks);
        m.put("num_heads", numHeads);
        m.put("qk_dim_factor", qkDimFactor);
        m.put("v_dim_factor", vDimFactor);
        m.put("ffn_proj_factor", ffnProjFactor);
        m.put("ffn_round_up_to_multiple_of", ffnRoundUpToMultipleOf);
        m.put("gate_soft_cap", gateSoftCap);
        m.put("output_logit_soft_cap", outputLogitSoftCap);
        m.put("norm_eps", normEps);
        m.put("norm_reduction_force_float32", true);
        m.put("eps", eps);
        m.put("chunk_size", chunkSize);
        m.put("chunkwise_kernel", "chunkwise--native_autograd");
        m.put("sequence_kernel", "native_sequence__native");
        m.put("step_kernel", "native");
        m.put("mode", "inference");
        m.put("return_last_states", true);
        m.put("autocast_kernel_dtype", "bfloat16");
        m.put("inference_state_dtype", "float32");
        m.put("add_out_norm", addOutNorm);
        m.put("tie_word_embeddings", tieWordEmbeddings);
        m.put("use_bias", false);
        m.put("weight_mode", weightMode);
        m.put("max_inference_chunksize", maxInferenceChunksize);
        m.put("use_cache", true);
        m.put("bos_token_id", 0);
        m.put("pad_token_id", 1);
        m.put("eos_token_id", 2);
        m.put("dtype", dtype);
        try {
            return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override public String toString() {
        return "xLSTM-Large[V=" + vocabSize + ", E=" + embeddingDim + ", NH=" + numHeads + ", blocks=" + numBlocks
                + ", qk=" + qkDim() + ", v=" + vDim() + ", ffn=" + ffnDim() + ", chunk=" + chunkSize + "]";
    }

    private static void positive(String where, String field, int v) {
        if (v < 1) throw new UserError(where + ": " + field + " must be a positive integer, got " + v);
    }

    /**
     * The official checkpoints' {@code config.yaml} is a flat map of scalars ({@code key: value} per line, written by
     * OmegaConf); nested or multi-line YAML is rejected.
     */
    static ObjectNode flatYaml(List<String> lines, String where) {
        ObjectMapper om = new ObjectMapper();
        ObjectNode n = om.createObjectNode();
        for (String raw : lines) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.equals("---")) continue;
            int colon = line.indexOf(':');
            if (colon <= 0 || raw.startsWith(" ") || raw.startsWith("\t"))
                throw new UserError(where + ": unsupported YAML line '" + raw + "' (expected flat 'key: value' lines)");
            String key = line.substring(0, colon).strip(), value = line.substring(colon + 1).strip();
            if (value.isEmpty() || value.equals("null") || value.equals("~")) n.putNull(key);
            else if (value.equals("true") || value.equals("false")) n.put(key, Boolean.parseBoolean(value));
            else if (value.matches("[-+]?\\d+")) n.put(key, Long.parseLong(value));
            else if (value.matches("[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")) n.put(key, Double.parseDouble(value));
            else n.put(key, value.replaceAll("^['\"]|['\"]$", ""));
        }
        return n;
    }

    /** Typed field access with one-line errors naming the field. */
    private record Fields(ObjectNode root, String where) {
        JsonNode get(String name) {
            JsonNode n = root.get(name);
            return n == null || n.isNull() ? null : n;
        }

        int integer(String name, int dflt) {
            JsonNode n = get(name);
            if (n == null) return dflt;
            if (!n.canConvertToInt() || !(n.isIntegralNumber() || (n.isNumber() && n.asDouble() == Math.rint(n.asDouble()))))
                throw new UserError(where + ": " + name + " must be an integer, got " + n);
            return n.asInt();
        }

        /** A field with two names (Hugging Face and official); both present must agree. */
        int sameInt(String official, String hf, int dflt) {
            Integer a = get(official) == null ? null : integer(official, 0);
            Integer b = get(hf) == null ? null : integer(hf, 0);
            if (a != null && b != null && !a.equals(b))
                throw new UserError(where + ": " + official + " " + a + " and " + hf + " " + b + " disagree");
            return a != null ? a : b != null ? b : dflt;
        }

        double number(String name, double dflt) {
            JsonNode n = get(name);
            if (n == null) return dflt;
            if (!n.isNumber()) throw new UserError(where + ": " + name + " must be a number, got " + n);
            return n.asDouble();
        }

        /** A number that may be null (= off); absent = the default. */
        Double optionalNumber(String name, Double dflt) {
            if (!root.has(name)) return dflt;
            JsonNode n = root.get(name);
            if (n.isNull()) return null;
            if (!n.isNumber()) throw new UserError(where + ": " + name + " must be a number or null, got " + n);
            return n.asDouble();
        }

        boolean bool(String name, boolean dflt) {
            JsonNode n = get(name);
            if (n == null) return dflt;
            if (!n.isBoolean()) throw new UserError(where + ": " + name + " must be true or false, got " + n);
            return n.asBoolean();
        }

        String text(String name, String dflt) {
            JsonNode n = get(name);
            if (n == null) return dflt;
            if (!n.isTextual()) throw new UserError(where + ": " + name + " must be a string, got " + n);
            return n.asText();
        }

        String oneOf(String name, String dflt, List<String> allowed) {
            String v = text(name, dflt);
            if (!allowed.contains(v))
                throw new UserError(where + ": " + name + " '" + v + "' is not supported (expected one of " + String.join(", ", allowed) + ")");
            return v;
        }
    }
}
