package org.xlstm4j.layers;

import org.xlstm4j.UserError;

/**
 * Mean cross-entropy over the rows whose target is not −1 (PyTorch {@code ignore_index=-1}), with a numerically
 * stable log-softmax accumulated in double.
 */
public final class CrossEntropy {
    /** The target value of rows that do not count (PyTorch ignore_index). */
    public static final int IGNORE = -1;

    public CrossEntropy() {}

    /**
     * Returns the mean of −log softmax(logits[r])[targets[r]] over counted rows (NaN when none count, as PyTorch).
     * If dLogits != null, writes d(mean loss)/d logits [rows, vocab] (zeros for ignored rows); dLogits may be the
     * logits array itself (the gradient then overwrites the logits). A target outside [0, vocab) other than −1 is a
     * {@link UserError}.
     */
    public float forward(float[] logits, int[] targets, int rows, int vocab, float[] dLogits) {
        int counted = 0;
        for (int r = 0; r < rows; r++) {
            int t = targets[r];
            if (t == IGNORE) continue;
            if (t < 0 || t >= vocab) throw new UserError("target id " + t + " is out of range for vocab size " + vocab);
            counted++;
        }
        double invN = 1.0 / counted, loss = 0;
        for (int r = 0; r < rows; r++) {
            int o = r * vocab, t = targets[r];
            if (t == IGNORE) {
                if (dLogits != null) java.util.Arrays.fill(dLogits, o, o + vocab, 0f);
                continue;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[o + v]);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += Math.exp(logits[o + v] - max);
            double lse = max + Math.log(sum);
            float target = logits[o + t];
            loss += lse - target; // −log softmax at the target
            if (dLogits != null) { // d/dlogit = (softmax − onehot)/N; each logit read before its slot is written
                for (int v = 0; v < vocab; v++) dLogits[o + v] = (float) (Math.exp(logits[o + v] - lse) * invN);
                dLogits[o + t] = (float) ((Math.exp(target - lse) - 1.0) * invN);
            }
        }
        return counted == 0 ? Float.NaN : (float) (loss * invN);
    }
}
