package org.xlstm4j.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.xlstm4j.UserError;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * Hyper-parameters of a training run, stored as JSON with snake_case keys ({@code batch_size}, ...).
 *
 * @param steps              number of optimizer updates
 * @param batchSize          sequences per micro-batch (B)
 * @param contextLength      tokens per sequence (T)
 * @param gradAccum          micro-batches per update (effective batch = batchSize·gradAccum)
 * @param lr                 peak learning rate
 * @param minLrRatio         final learning rate as a fraction of the peak (cosine floor)
 * @param warmupSteps        updates of linear warm-up from 0
 * @param weightDecay        decoupled AdamW weight decay (only on parameters marked for it)
 * @param beta1              AdamW β1
 * @param beta2              AdamW β2
 * @param eps                AdamW ε
 * @param clipNorm           global gradient-norm clip (0 disables)
 * @param evalInterval       updates between validation evaluations (and loss charts)
 * @param evalBatches        validation batches per evaluation
 * @param checkpointInterval updates between checkpoints (one is always written at the end)
 * @param seed               seed of the data order (and of model initialisation, by the caller's choice)
 * @param logInterval        updates between lines in metrics.jsonl and progress output
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record TrainConfig(int steps, int batchSize, int contextLength, int gradAccum, double lr, double minLrRatio,
                          int warmupSteps, double weightDecay, double beta1, double beta2, double eps, double clipNorm,
                          int evalInterval, int evalBatches, int checkpointInterval, long seed, int logInterval) {

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** Validates every field; a bad value is a {@link UserError} naming the JSON key. */
    public TrainConfig {
        positive("steps", steps);
        positive("batch_size", batchSize);
        positive("context_length", contextLength);
        positive("grad_accum", gradAccum);
        positive("eval_interval", evalInterval);
        positive("eval_batches", evalBatches);
        positive("checkpoint_interval", checkpointInterval);
        positive("log_interval", logInterval);
        if (warmupSteps < 0) throw new UserError("warmup_steps must be >= 0, got " + warmupSteps);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new UserError("lr must be a positive number, got " + lr);
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) throw new UserError("min_lr_ratio must be in [0, 1], got " + minLrRatio);
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) throw new UserError("weight_decay must be >= 0, got " + weightDecay);
        if (!(beta1 >= 0 && beta1 < 1)) throw new UserError("beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new UserError("beta2 must be in [0, 1), got " + beta2);
        if (!(eps >= 0) || Double.isInfinite(eps)) throw new UserError("eps must be >= 0, got " + eps);
        if (!(clipNorm >= 0)) throw new UserError("clip_norm must be >= 0 (0 disables clipping), got " + clipNorm);
        if ((long) batchSize * contextLength > Integer.MAX_VALUE)
            throw new UserError("batch_size × context_length is too large: " + (long) batchSize * contextLength);
    }

    private static void positive(String key, int value) {
        if (value < 1) throw new UserError(key + " must be >= 1, got " + value);
    }

    /** Defaults for a small byte-level model on a CPU. */
    public static TrainConfig defaults() {
        return new TrainConfig(2000, 16, 128, 1, 1e-3, 0.1, 100, 0.1, 0.9, 0.95, 1e-8, 1.0,
                250, 20, 500, 1337, 10);
    }

    /** The same configuration with another number of steps (e.g. to extend a resumed run). */
    public TrainConfig withSteps(int newSteps) {
        return new TrainConfig(newSteps, batchSize, contextLength, gradAccum, lr, minLrRatio, warmupSteps, weightDecay,
                beta1, beta2, eps, clipNorm, evalInterval, evalBatches, checkpointInterval, seed, logInterval);
    }

    /** Tokens consumed per update: batchSize·contextLength·gradAccum. */
    public long tokensPerStep() { return (long) batchSize * contextLength * gradAccum; }

    /** Pretty-printed JSON. */
    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses JSON; keys left out keep their {@link #defaults()}, unknown keys are a {@link UserError}. */
    public static TrainConfig fromJson(String json) {
        try {
            JsonNode given = JSON.readTree(json);
            if (given == null || !given.isObject()) throw new UserError("training config is not a JSON object");
            ObjectNode merged = JSON.valueToTree(defaults());
            for (Iterator<String> it = given.fieldNames(); it.hasNext(); ) {
                String key = it.next();
                if (!merged.has(key)) throw new UserError("training config has unknown key '" + key + "'; known: " + merged.properties().stream().map(java.util.Map.Entry::getKey).toList());
                merged.set(key, given.get(key));
            }
            return JSON.treeToValue(merged, TrainConfig.class);
        } catch (JsonProcessingException e) {
            Throwable c = e.getCause();
            if (c instanceof UserError u) throw u;
            throw new UserError("training config is not valid: " + e.getOriginalMessage());
        }
    }

    /** Reads a JSON file (see {@link #fromJson}). */
    public static TrainConfig read(Path file) {
        try {
            return fromJson(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new UserError(file + ": no such file");
        } catch (IOException e) {
            throw new UserError(file + ": cannot read: " + e.getMessage(), e);
        } catch (UserError e) {
            throw new UserError(file + ": " + e.getMessage(), e);
        }
    }
}
