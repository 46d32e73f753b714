package org.xlstm4j.train;

import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.model.Param;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;

/** Test double: a bigram language model, logits(x) = W[x] + b, trained with softmax cross-entropy. */
final class BigramModel implements TrainableModel {
    final int vocab;
    final Param w, b;
    /** forwardBackward call (1-based) that returns NaN, or 0 for never. */
    int nanAtCall;
    int calls;
    private final double[] row;

    BigramModel(int vocab, long seed) {
        this.vocab = vocab;
        w = new Param("bigram.weight", vocab, vocab);
        w.weightDecay = true;
        b = new Param("bigram.bias", vocab);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < w.data.length; i++) w.data[i] = (float) (0.02 * r.nextGaussian());
        row = new double[vocab];
    }

    static BigramModel load(Path dir) throws IOException {
        int v = Integer.parseInt(Files.readString(dir.resolve("config.json")).replaceAll("\\D", ""));
        BigramModel m = new BigramModel(v, 0);
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
            System.arraycopy(f.floats(m.w.name), 0, m.w.data, 0, m.w.data.length);
            System.arraycopy(f.floats(m.b.name), 0, m.b.data, 0, m.b.data.length);
        }
        return m;
    }

    @Override public List<Param> parameters() { return List.of(w, b); }

    @Override public float forwardBackward(int[] inputs, int[] targets, int B, int T) {
        if (++calls == nanAtCall) return Float.NaN;
        return run(inputs, targets, B * T, true);
    }

    @Override public float loss(int[] inputs, int[] targets, int B, int T) { return run(inputs, targets, B * T, false); }

    private float run(int[] x, int[] y, int n, boolean grad) {
        double loss = 0;
        for (int i = 0; i < n; i++) {
            int base = x[i] * vocab;
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < vocab; j++) max = Math.max(max, row[j] = w.data[base + j] + b.data[j]);
            for (int j = 0; j < vocab; j++) sum += row[j] = Math.exp(row[j] - max);
            loss -= Math.log(row[y[i]] / sum);
            if (grad) {
                for (int j = 0; j < vocab; j++) {
                    float g = (float) ((row[j] / sum - (j == y[i] ? 1 : 0)) / n);
                    w.grad[base + j] += g;
                    b.grad[j] += g;
                }
            }
        }
        return (float) (loss / n);
    }

    @Override public void saveCheckpoint(Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"vocab\": " + vocab + "}");
        new SafetensorsWriter().putFloats(w.name, w.data, w.shape).putFloats(b.name, b.data, b.shape)
                .write(dir.resolve("model.safetensors"));
    }

    /** A deterministic pseudo-English text of about {@code bytes} bytes with strong bigram structure. */
    static byte[] corpus(int bytes, long seed) {
        String[] words = {"the", "lord", "said", "unto", "moses", "and", "it", "came", "to", "pass", "that", "in", "day"};
        SplittableRandom r = new SplittableRandom(seed);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < bytes) sb.append(words[r.nextInt(words.length)]).append(r.nextInt(8) == 0 ? ".\n" : " ");
        return sb.substring(0, bytes).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
}
