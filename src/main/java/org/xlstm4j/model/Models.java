package org.xlstm4j.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.xlstm4j.UserError;
import org.xlstm4j.tensor.Kernels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Opens any supported checkpoint folder, choosing the architecture from its config.json. */
public final class Models {
    private Models() {}

    /** The architecture a checkpoint folder holds. */
    public enum Kind { PAPER, LARGE }

    public static Kind kind(Path dir) {
        Path cfg = dir.resolve("config.json");
        if (!Files.exists(cfg) && Files.exists(dir.resolve("config.yaml"))) return Kind.LARGE;   // official xlstm_large export
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readString(cfg));
        } catch (java.nio.file.NoSuchFileException e) {
            throw new UserError(dir + ": not a checkpoint folder (no config.json)");
        } catch (IOException e) {
            throw new UserError(cfg + ": not valid JSON (" + e.getMessage().split("\n", 2)[0] + ")");
        }
        if (root == null || !root.isObject()) throw new UserError(cfg + ": not a JSON object");
        if (root.has("model_type")) {
            String type = root.path("model_type").asText();
            if (type.equals("xlstm")) return Kind.LARGE;
            throw new UserError(cfg + ": model_type '" + type + "' is not an xLSTM architecture this project supports (expected \"xlstm\")");
        }
        if (root.has("mlstm_block") || root.has("slstm_block")) return Kind.PAPER;
        if (root.has("num_heads") && root.has("num_blocks")) return Kind.LARGE;   // official xLSTMLargeConfig as JSON
        if (root.has("num_blocks")) return Kind.PAPER;
        throw new UserError(cfg + ": neither an official xLSTMLMModelConfig nor a Hugging Face xLSTM config");
    }

    /** Loads a checkpoint folder of either architecture. */
    public static LanguageModel load(Path dir, Kernels kernels) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder");
        return switch (kind(dir)) {
            case PAPER -> Checkpoint.load(dir, kernels);
            case LARGE -> org.xlstm4j.large.XLstmLarge.load(dir, kernels);
        };
    }
}
