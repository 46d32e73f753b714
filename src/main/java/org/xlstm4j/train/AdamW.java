package org.xlstm4j.train;

import org.xlstm4j.UserError;
import org.xlstm4j.io.SafetensorsException;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.model.Param;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter 2019) with PyTorch's {@code torch.optim.AdamW} semantics and float32 operation order
 * (single-tensor path): per step t and parameter p with gradient g,
 * <pre>
 *   p  *= 1 - lr·wd                      (only for params with weightDecay = true)
 *   m   = lerp(m, g, 1 - β1)
 *   v   = v·β2 + (1 - β2)·g·g
 *   p  -= lr / (1 - β1^t) · m / (sqrt(v) / sqrt(1 - β2^t) + eps)
 * </pre>
 * State (m, v, t) is saved to and restored from a safetensors file with tensors {@code <name>.exp_avg} and
 * {@code <name>.exp_avg_sq} per parameter and the step in the metadata.
 */
public final class AdamW {
    private final Param[] params;
    private final float[][] m, v;
    private final double beta1, beta2, eps, weightDecay;
    private long t;

    /** An optimizer over {@code params} with zeroed moments; {@code weightDecay} is the decoupled coefficient. */
    public AdamW(List<Param> params, double beta1, double beta2, double eps, double weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
            throw new UserError("AdamW betas must be in [0, 1), got " + beta1 + ", " + beta2);
        if (!(eps >= 0) || !(weightDecay >= 0))
            throw new UserError("AdamW eps and weight decay must be >= 0, got " + eps + ", " + weightDecay);
        this.params = params.toArray(Param[]::new);
        this.m = new float[this.params.length][];
        this.v = new float[this.params.length][];
        for (int i = 0; i < this.params.length; i++) {
            m[i] = new float[this.params[i].size()];
            v[i] = new float[this.params[i].size()];
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    /** An optimizer with the betas, eps and weight decay of a training configuration. */
    public static AdamW of(List<Param> params, TrainConfig c) {
        return new AdamW(params, c.beta1(), c.beta2(), c.eps(), c.weightDecay());
    }

    /** Number of updates made so far (PyTorch's {@code state["step"]}). */
    public long stepCount() { return t; }

    /** First moment (exp_avg) of parameter {@code i}, live. */
    public float[] firstMoment(int i) { return m[i]; }

    /** Second moment (exp_avg_sq) of parameter {@code i}, live. */
    public float[] secondMoment(int i) { return v[i]; }

    /** One update of every parameter from its current gradient with learning rate {@code lr}. */
    public void step(double lr) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t), bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) -(lr / bc1), bc2Sqrt = (float) Math.sqrt(bc2), epsF = (float) eps;
        float decay = (float) (1 - lr * weightDecay), b2 = (float) beta2, c2 = (float) (1 - beta2);
        float w = (float) (1 - beta1), wc = 1 - w;   // lerp weight and its complement, as torch.lerp computes them
        for (int i = 0; i < params.length; i++) {
            float[] p = params[i].data, g = params[i].grad, mi = m[i], vi = v[i];
            boolean wd = params[i].weightDecay && weightDecay != 0;
            for (int j = 0; j < p.length; j++) {
                float gj = g[j], pj = p[j];
                if (wd) pj = pj * decay;
                float mj = w < 0.5f ? mi[j] + w * (gj - mi[j]) : gj - (gj - mi[j]) * wc;
                float vj = vi[j] * b2;
                vj = vj + c2 * gj * gj;
                float denom = (float) Math.sqrt(vj) / bc2Sqrt + epsF;
                p[j] = pj + stepSize * mj / denom;
                mi[j] = mj;
                vi[j] = vj;
            }
        }
    }

    /** Writes the optimizer state to a safetensors file (atomically and fsynced; {@link SafetensorsException} on failure). */
    public void save(Path file) {
        SafetensorsWriter w = new SafetensorsWriter().metadata(Map.of("format", "xlstm4j-adamw", "step", Long.toString(t),
                "betas", beta1 + "," + beta2, "eps", Double.toString(eps), "weight_decay", Double.toString(weightDecay)));
        for (int i = 0; i < params.length; i++) {
            w.putFloats(params[i].name + ".exp_avg", m[i], params[i].shape);
            w.putFloats(params[i].name + ".exp_avg_sq", v[i], params[i].shape);
        }
        w.write(file);
    }

    /** Restores the state written by {@link #save}; every parameter must be present with the same size. */
    public void load(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String step = f.metadata().get("step");
            if (step == null) throw new UserError(file + ": not an xlstm4j optimizer state (no step in metadata)");
            for (int i = 0; i < params.length; i++) {
                m[i] = read(f, params[i].name + ".exp_avg", params[i].size());
                v[i] = read(f, params[i].name + ".exp_avg_sq", params[i].size());
            }
            t = Long.parseLong(step);
        } catch (SafetensorsException | NumberFormatException e) {
            throw new UserError(file + ": cannot restore the optimizer: " + e.getMessage(), e);
        }
    }

    private static float[] read(SafetensorsFile f, String name, int size) {
        if (!f.contains(name)) throw new UserError(f.path() + ": optimizer state has no '" + name + "' (a different model?)");
        float[] a = f.floats(name);
        if (a.length != size)
            throw new UserError(f.path() + ": '" + name + "' has " + a.length + " values, the model needs " + size);
        return a;
    }
}
