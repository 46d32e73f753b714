package org.xlstm4j.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The outcome of one run: its settings, size, cost and test accuracy (pooled and per length bucket), serialisable as one
 * JSON line so a grid can be written incrementally and resumed.
 */
public record ExperimentResult(String task, String model, int steps, int batch, double lr, int width, int heads, boolean tied, long seed,
                               long parameters, double trainSeconds, double finalLoss, String[] buckets,
                               double[] bucketAccuracy, long[] bucketTotal, double accuracy, double scaledAccuracy) {

    private static final ObjectMapper JSON = new ObjectMapper();

    public static ExperimentResult of(ExperimentConfig c, long parameters, double seconds, double finalLoss, Evaluation.Result r) {
        double[] acc = new double[r.buckets().length];
        for (int i = 0; i < acc.length; i++) acc[i] = r.accuracy(i);
        return new ExperimentResult(c.task, c.model, c.steps, c.batch, c.lr, c.width, c.heads, c.tieWeights, c.seed,
                parameters, seconds, finalLoss, r.buckets(), acc, r.total().clone(), r.accuracy(), r.scaled());
    }

    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("task", task).put("model", model).put("steps", steps).put("batch", batch).put("lr", lr)
                .put("width", width).put("heads", heads).put("tied", tied).put("seed", seed).put("parameters", parameters)
                .put("train_seconds", Math.round(trainSeconds * 10) / 10.0).put("final_loss", finalLoss)
                .put("accuracy", accuracy).put("scaled_accuracy", scaledAccuracy);
        ArrayNode b = o.putArray("buckets");
        for (int i = 0; i < buckets.length; i++)
            b.addObject().put("lengths", buckets[i]).put("accuracy", bucketAccuracy[i]).put("answers", bucketTotal[i]);
        return o.toString();
    }

    public static ExperimentResult fromJson(String line) {
        try {
            JsonNode o = JSON.readTree(line);
            JsonNode b = o.path("buckets");
            String[] labels = new String[b.size()];
            double[] acc = new double[b.size()];
            long[] tot = new long[b.size()];
            for (int i = 0; i < b.size(); i++) {
                labels[i] = b.get(i).path("lengths").asText();
                acc[i] = b.get(i).path("accuracy").asDouble();
                tot[i] = b.get(i).path("answers").asLong();
            }
            return new ExperimentResult(o.path("task").asText(), o.path("model").asText(), o.path("steps").asInt(),
                    o.path("batch").asInt(), o.path("lr").asDouble(), o.path("width").asInt(), o.path("heads").asInt(), o.path("tied").asBoolean(),
                    o.path("seed").asLong(), o.path("parameters").asLong(), o.path("train_seconds").asDouble(),
                    o.path("final_loss").asDouble(), labels, acc, tot, o.path("accuracy").asDouble(),
                    o.path("scaled_accuracy").asDouble());
        } catch (java.io.IOException e) {
            throw new org.xlstm4j.UserError("not a result line: " + e.getMessage().split("\n", 2)[0]);
        }
    }
}
