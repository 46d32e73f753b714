package org.xlstm4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The paper model's configuration: the official {@code xLSTMLMModelConfig} (spec §4.3), read from and written to the
 * same JSON layout the official code serialises (nested {@code mlstm_block.mlstm}, {@code slstm_block.slstm},
 * {@code slstm_block.feedforward}), so a config.json round-trips between PyTorch and xlstm4j.
 */
public final class XLstmConfig {
    // --- stack / LM (spec §4.2, §4.3)
    public int vocabSize = 256;
    public int embeddingDim = 128;
    public int numBlocks = 2;
    public int contextLength = 256;
    public int[] slstmAt = {};
    public boolean addPostBlocksNorm = true;
    public boolean bias = false;
    public double dropout = 0.0;
    public boolean tieWeights = false;
    public boolean weightDecayOnEmbedding = false;
    public boolean addEmbeddingDropout = false;

    // --- mLSTM layer (spec §4.1); hasMLstm = false means config has "mlstm_block": null
    public boolean hasMLstm = true;
    public double mlstmProjFactor = 2.0;
    public int mlstmRoundMultiple = 64;
    public boolean mlstmRoundUp = true;
    public int mlstmConvKernel = 4;
    public int mlstmQkvBlocksize = 4;
    public int mlstmNumHeads = 4;

    // --- sLSTM layer (spec §2.4) and its gated FFN (spec §2.6); hasSLstm = false means "slstm_block": null
    public boolean hasSLstm = false;
    public int slstmNumHeads = 4;
    public int slstmConvKernel = 4;
    public String slstmBackend = "vanilla";
    public String slstmBiasInit = "powerlaw_blockdependent";
    public String slstmRecurrentWeightInit = "zeros";
    public double ffnProjFactor = 1.3;
    public String ffnActFn = "gelu";
    public int ffnRoundMultiple = 64;
    public boolean ffnRoundUp = true;

    /** True when block i is an sLSTM block (spec §4.2: i ∈ slstm_at, or every block when there is no mLSTM config). */
    public boolean isSLstm(int i) {
        if (!hasMLstm) return true;
        for (int s : slstmAt) if (s == i) return true;
        return false;
    }

    /** mLSTM inner dimension I = ceil(proj_factor·E / multiple)·multiple (spec §4.1). */
    public int mlstmInnerDim() {
        return roundUp(mlstmProjFactor * embeddingDim, mlstmRoundMultiple, mlstmRoundUp);
    }

    /** Gated FFN hidden dimension P (spec §2.6). */
    public int ffnHiddenDim() {
        return roundUp(ffnProjFactor * embeddingDim, ffnRoundMultiple, ffnRoundUp);
    }

    static int roundUp(double value, int multiple, boolean up) {
        double q = value / multiple;
        return (int) ((up ? Math.ceil(q) : Math.floor(q)) * multiple);
    }

    /** Checks every constraint the official code asserts; throws a UserError naming the field. */
    public XLstmConfig validate() {
        require(vocabSize > 0, "vocab_size must be positive, got " + vocabSize);
        require(embeddingDim > 0, "embedding_dim must be positive, got " + embeddingDim);
        require(numBlocks > 0, "num_blocks must be positive, got " + numBlocks);
        for (int s : slstmAt) require(s >= 0 && s < numBlocks, "slstm_at entry " + s + " is not a block index in [0, " + numBlocks + ")");
        boolean anyM = false, anyS = false;
        for (int i = 0; i < numBlocks; i++) { if (isSLstm(i)) anyS = true; else anyM = true; }
        require(!anyS || hasSLstm, "slstm_at names sLSTM blocks but slstm_block is null");
        if (anyM) {
            int inner = mlstmInnerDim();
            require(mlstmNumHeads > 0 && inner % mlstmNumHeads == 0,
                    "mLSTM inner dim " + inner + " is not divisible by mlstm num_heads " + mlstmNumHeads);
            require(mlstmQkvBlocksize > 0 && inner % mlstmQkvBlocksize == 0,
                    "mLSTM inner dim " + inner + " is not divisible by qkv_proj_blocksize " + mlstmQkvBlocksize);
            require(mlstmConvKernel >= 0, "mlstm conv1d_kernel_size must be >= 0");
        }
        if (anyS) {
            require(slstmNumHeads > 0 && embeddingDim % slstmNumHeads == 0,
                    "embedding_dim " + embeddingDim + " is not divisible by slstm num_heads " + slstmNumHeads);
            require(slstmConvKernel >= 0, "slstm conv1d_kernel_size must be >= 0");
            require(ffnActFn.equals("gelu") || ffnActFn.equals("silu") || ffnActFn.equals("swish"),
                    "feedforward act_fn '" + ffnActFn + "' is not supported (gelu, silu)");
        }
        return this;
    }

    private static void require(boolean ok, String msg) {
        if (!ok) throw new UserError("invalid xLSTM config: " + msg);
    }

    // ------------------------------------------------------------------ JSON

    private static final ObjectMapper JSON = new ObjectMapper();

    public static XLstmConfig load(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError(file + ": no such file (a checkpoint folder needs config.json)");
        } catch (IOException e) {
            throw new UserError(file + ": not valid JSON (" + e.getMessage().split("\n", 2)[0] + ")");
        }
        try {
            return fromJson(root).validate();
        } catch (UserError e) {
            throw new UserError(file + ": " + e.getMessage());
        }
    }

    public static XLstmConfig fromJson(JsonNode r) {
        if (r == null || !r.isObject()) throw new UserError("config is not a JSON object");
        if (r.has("model_type") || r.has("architectures"))
            throw new UserError("this is a Hugging Face xLSTM-Large (7B-style) config, not the paper's xLSTMLMModelConfig");
        XLstmConfig c = new XLstmConfig();
        c.vocabSize = r.path("vocab_size").asInt(c.vocabSize);
        c.embeddingDim = r.path("embedding_dim").asInt(c.embeddingDim);
        c.numBlocks = r.path("num_blocks").asInt(c.numBlocks);
        c.contextLength = r.path("context_length").asInt(c.contextLength);
        c.addPostBlocksNorm = r.path("add_post_blocks_norm").asBoolean(c.addPostBlocksNorm);
        c.bias = r.path("bias").asBoolean(c.bias);
        c.dropout = r.path("dropout").asDouble(c.dropout);
        c.tieWeights = r.path("tie_weights").asBoolean(c.tieWeights);
        c.weightDecayOnEmbedding = r.path("weight_decay_on_embedding").asBoolean(c.weightDecayOnEmbedding);
        c.addEmbeddingDropout = r.path("add_embedding_dropout").asBoolean(c.addEmbeddingDropout);
        JsonNode at = r.path("slstm_at");
        if (at.isTextual() && at.asText().equals("all")) {
            c.slstmAt = new int[c.numBlocks];
            for (int i = 0; i < c.numBlocks; i++) c.slstmAt[i] = i;
        } else if (at.isArray()) {
            c.slstmAt = new int[at.size()];
            for (int i = 0; i < at.size(); i++) c.slstmAt[i] = at.get(i).asInt();
        }
        JsonNode mb = r.path("mlstm_block");
        c.hasMLstm = !mb.isNull() && !mb.isMissingNode();
        if (c.hasMLstm) {
            JsonNode m = mb.path("mlstm");
            c.mlstmProjFactor = m.path("proj_factor").asDouble(c.mlstmProjFactor);
            c.mlstmRoundUp = m.path("round_proj_up_dim_up").asBoolean(c.mlstmRoundUp);
            c.mlstmRoundMultiple = m.path("round_proj_up_to_multiple_of").asInt(c.mlstmRoundMultiple);
            c.mlstmConvKernel = m.path("conv1d_kernel_size").asInt(c.mlstmConvKernel);
            c.mlstmQkvBlocksize = m.path("qkv_proj_blocksize").asInt(c.mlstmQkvBlocksize);
            c.mlstmNumHeads = m.path("num_heads").asInt(c.mlstmNumHeads);
        }
        JsonNode sb = r.path("slstm_block");
        c.hasSLstm = !sb.isNull() && !sb.isMissingNode();
        if (c.hasSLstm) {
            JsonNode s = sb.path("slstm");
            c.slstmNumHeads = s.path("num_heads").asInt(c.slstmNumHeads);
            c.slstmConvKernel = s.path("conv1d_kernel_size").asInt(c.slstmConvKernel);
            c.slstmBackend = s.path("backend").asText(c.slstmBackend);
            c.slstmBiasInit = s.path("bias_init").asText(c.slstmBiasInit);
            c.slstmRecurrentWeightInit = s.path("recurrent_weight_init").asText(c.slstmRecurrentWeightInit);
            String fn = s.path("function").asText("slstm");
            if (!fn.equals("slstm")) throw new UserError("sLSTM function '" + fn + "' is not supported (only \"slstm\")");
            JsonNode f = sb.path("feedforward");
            if (!f.isMissingNode() && !f.isNull()) {
                c.ffnProjFactor = f.path("proj_factor").asDouble(c.ffnProjFactor);
                c.ffnActFn = f.path("act_fn").asText(c.ffnActFn);
                c.ffnRoundUp = f.path("round_proj_up_dim_up").asBoolean(c.ffnRoundUp);
                c.ffnRoundMultiple = f.path("round_proj_up_to_multiple_of").asInt(c.ffnRoundMultiple);
                String ft = f.path("ff_type").asText("ffn_gated");
                if (!ft.equals("ffn_gated")) throw new UserError("feedforward ff_type '" + ft + "' is not supported (only ffn_gated)");
            }
        }
        return c;
    }

    /** The official nested JSON layout (as the fixtures' config.json). */
    public ObjectNode toJson() {
        ObjectNode r = JSON.createObjectNode();
        if (hasMLstm) {
            ObjectNode mb = r.putObject("mlstm_block");
            ObjectNode m = mb.putObject("mlstm");
            m.put("proj_factor", mlstmProjFactor);
            m.put("round_proj_up_dim_up", mlstmRoundUp);
            m.put("round_proj_up_to_multiple_of", mlstmRoundMultiple);
            m.put("_proj_up_dim", mlstmInnerDim());
            m.put("conv1d_kernel_size", mlstmConvKernel);
            m.put("qkv_proj_blocksize", mlstmQkvBlocksize);
            m.put("num_heads", mlstmNumHeads);
            m.put("embedding_dim", embeddingDim);
            m.put("bias", bias);
            m.put("dropout", dropout);
            m.put("context_length", contextLength);
            m.put("_num_blocks", numBlocks);
            m.put("_inner_embedding_dim", mlstmInnerDim());
            mb.put("_num_blocks", numBlocks);
            mb.putNull("_block_idx");
        } else {
            r.putNull("mlstm_block");
        }
        if (hasSLstm) {
            ObjectNode sb = r.putObject("slstm_block");
            ObjectNode s = sb.putObject("slstm");
            s.put("hidden_size", embeddingDim);
            s.put("num_heads", slstmNumHeads);
            s.put("num_states", 4);
            s.put("backend", "vanilla"); // we always write the vanilla layout (spec §2.2)
            s.put("function", "slstm");
            s.put("bias_init", slstmBiasInit);
            s.put("recurrent_weight_init", slstmRecurrentWeightInit);
            s.putNull("_block_idx");
            s.put("_num_blocks", numBlocks);
            s.put("num_gates", 4);
            s.put("gradient_recurrent_cut", false);
            s.putNull("gradient_recurrent_clipval");
            s.putNull("forward_clipval");
            s.put("batch_size", 8);
            s.put("input_shape", "BSGNH");
            s.put("internal_input_shape", "SBNGH");
            s.put("output_shape", "BNSH");
            s.putObject("constants");
            s.put("dtype", "float32");
            s.put("dtype_b", "float32");
            s.put("dtype_r", "float32");
            s.put("dtype_w", "float32");
            s.put("dtype_g", "float32");
            s.put("dtype_s", "float32");
            s.put("dtype_a", "float32");
            s.put("enable_automatic_mixed_precision", false);
            s.put("initial_val", 0.0);
            s.put("embedding_dim", embeddingDim);
            s.put("conv1d_kernel_size", slstmConvKernel);
            s.put("group_norm_weight", true);
            s.put("dropout", dropout);
            ObjectNode f = sb.putObject("feedforward");
            f.put("proj_factor", ffnProjFactor);
            f.put("round_proj_up_dim_up", ffnRoundUp);
            f.put("round_proj_up_to_multiple_of", ffnRoundMultiple);
            f.put("_proj_up_dim", 0);
            f.put("act_fn", ffnActFn);
            f.put("embedding_dim", -1);
            f.put("dropout", dropout);
            f.put("bias", false);
            f.put("ff_type", "ffn_gated");
            f.put("_num_blocks", 1);
            sb.put("_num_blocks", numBlocks);
            sb.putNull("_block_idx");
        } else {
            r.putNull("slstm_block");
        }
        r.put("context_length", contextLength);
        r.put("num_blocks", numBlocks);
        r.put("embedding_dim", embeddingDim);
        r.put("add_post_blocks_norm", addPostBlocksNorm);
        r.put("bias", bias);
        r.put("dropout", dropout);
        ArrayNode at = r.putArray("slstm_at");
        for (int s : slstmAt) at.add(s);
        List<String> map = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) map.add(isSLstm(i) ? "1" : "0");
        r.put("_block_map", String.join(",", map));
        r.put("vocab_size", vocabSize);
        r.put("tie_weights", tieWeights);
        r.put("weight_decay_on_embedding", weightDecayOnEmbedding);
        r.put("add_embedding_dropout", addEmbeddingDropout);
        return r;
    }

    public String toJsonString() {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override public String toString() {
        return "xLSTM[E=" + embeddingDim + ", blocks=" + numBlocks + ", slstm_at=" + Arrays.toString(slstmAt)
                + ", vocab=" + vocabSize + "]";
    }
}
