package org.xlstm4j.large;

import org.xlstm4j.UserError;
import org.xlstm4j.io.TensorInfo;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.layers.MultiHeadLayerNorm;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.tensor.MappedWeight;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Finds every tensor of an xLSTM-Large checkpoint (spec §6.4) and wraps it without copying: matrices as
 * {@link MappedWeight}s over the memory-mapped file in their stored type (F32, BF16, F16; F64 is converted to a heap
 * float32 copy), norm scales and gate biases as float arrays.
 *
 * <p>Names: the Hugging Face layout ({@code backbone.embeddings.weight}, {@code backbone.blocks.{i}...},
 * {@code backbone.out_norm.weight}, {@code lm_head.weight}) and the official one ({@code embedding.weight} instead of
 * the first); the q/k/v projections may also be called query/key/value; each block may be stored in "single" or
 * "fused" weight mode ({@code qkv_opreact}, {@code ifgate_preact}, {@code proj_up_gate_z}), found from the names. All
 * problems (missing tensor, wrong shape, unknown tensor, non-float dtype) are reported together in one line.
 */
final class LargeWeights {
    final MappedWeight embedding, lmHead;
    final LargeBlock[] blocks;
    /** null when add_out_norm is false. */
    final RMSNorm outNorm;

    private final TensorSource src;
    private final LargeConfig c;
    private final Set<String> unused;
    private final List<String> problems = new ArrayList<>();

    private LargeWeights(TensorSource src, LargeConfig c, String where) {
        this.src = src;
        this.c = c;
        this.unused = new TreeSet<>(src.names());
        int E = c.embeddingDim, V = c.vocabSize;
        String embName = src.contains("embedding.weight") && !src.contains("backbone.embeddings.weight")
                ? "embedding.weight" : "backbone.embeddings.weight";
        embedding = matrix(embName, V, E);
        blocks = new LargeBlock[c.numBlocks];
        for (int i = 0; i < blocks.length; i++) blocks[i] = block("backbone.blocks." + i + ".");
        outNorm = c.addOutNorm ? rmsNorm("backbone.out_norm") : null;
        if (c.tieWordEmbeddings) {
            lmHead = embedding;
            unused.remove("lm_head.weight");
        } else {
            lmHead = matrix("lm_head.weight", V, E);
        }
        if (!unused.isEmpty()) problems.add("unknown " + summary(new ArrayList<>(unused), ", "));
        if (!problems.isEmpty())
            throw new UserError(where + ": checkpoint does not match its config: " + summary(problems, "; "));
    }

    /** Reads all weights of {@code c} from {@code src}; the source must stay open as long as the weights are used. */
    static LargeWeights read(TensorSource src, LargeConfig c, String where) {
        return new LargeWeights(src, c, where);
    }

    private LargeBlock block(String p) {
        int E = c.embeddingDim, NH = c.numHeads, qk = c.qkDim(), v = c.vDim(), F = c.ffnDim();
        String m = p + "mlstm_layer.";
        MappedWeight q, k, vw, o, ig, fg;
        float[] igBias, fgBias;
        if (src.contains(m + "qkv_opreact.weight")) {                          // fused: rows [q; k; v; o]
            MappedWeight qkvo = matrix(m + "qkv_opreact.weight", 2 * qk + 2 * v, E);
            q = rows(qkvo, 0, qk);
            k = rows(qkvo, qk, 2 * qk);
            vw = rows(qkvo, 2 * qk, 2 * qk + v);
            o = rows(qkvo, 2 * qk + v, 2 * qk + 2 * v);
        } else {
            q = matrix(alias(m, "q", "query"), qk, E);
            k = matrix(alias(m, "k", "key"), qk, E);
            vw = matrix(alias(m, "v", "value"), v, E);
            o = matrix(m + "ogate_preact.weight", v, E);
        }
        if (src.contains(m + "ifgate_preact.weight")) {                        // fused: rows [i; f]
            MappedWeight ifw = matrix(m + "ifgate_preact.weight", 2 * NH, E);
            float[] ifb = vector(m + "ifgate_preact.bias", 2 * NH);
            ig = rows(ifw, 0, NH);
            fg = rows(ifw, NH, 2 * NH);
            igBias = Arrays.copyOfRange(ifb, 0, NH);
            fgBias = Arrays.copyOfRange(ifb, NH, 2 * NH);
        } else {
            ig = matrix(m + "igate_preact.weight", NH, E);
            igBias = vector(m + "igate_preact.bias", NH);
            fg = matrix(m + "fgate_preact.weight", NH, E);
            fgBias = vector(m + "fgate_preact.bias", NH);
        }
        MultiHeadLayerNorm mhNorm = new MultiHeadLayerNorm(m + "multihead_norm", NH, c.vHeadDim(), (float) c.normEps, false);
        copy(vector(m + "multihead_norm.weight", v), mhNorm.weight.data);
        MappedWeight outProj = matrix(m + "out_proj.weight", E, v);
        MappedWeight upGate, up;
        if (src.contains(p + "ffn.proj_up_gate_z.weight")) {                   // fused: rows [gate; up]
            MappedWeight gz = matrix(p + "ffn.proj_up_gate_z.weight", 2 * F, E);
            upGate = rows(gz, 0, F);
            up = rows(gz, F, 2 * F);
        } else {
            upGate = matrix(p + "ffn.proj_up_gate.weight", F, E);
            up = matrix(p + "ffn.proj_up.weight", F, E);
        }
        MappedWeight down = matrix(p + "ffn.proj_down.weight", E, F);
        return new LargeBlock(rmsNorm(p + "norm_mlstm"), q, k, vw, o, ig, igBias, fg, fgBias, mhNorm, outProj,
                rmsNorm(p + "norm_ffn"), upGate, up, down);
    }

    private String alias(String prefix, String name, String other) {
        String a = prefix + name + ".weight", b = prefix + other + ".weight";
        return !src.contains(a) && src.contains(b) ? b : a;
    }

    private RMSNorm rmsNorm(String name) {
        RMSNorm n = new RMSNorm(name, c.embeddingDim, (float) c.normEps);
        copy(vector(name + ".weight", c.embeddingDim), n.weight.data);
        return n;
    }

    private static void copy(float[] from, float[] to) {
        if (from != null) System.arraycopy(from, 0, to, 0, to.length);
    }

    /** A row range of a fused matrix; a placeholder when the matrix itself was missing (already reported). */
    private static MappedWeight rows(MappedWeight w, int r0, int r1) {
        return w == null ? null : w.rowRange(r0, r1);
    }

    /** A [rows, cols] matrix in place; null (and a recorded problem) when missing or mis-shaped. */
    private MappedWeight matrix(String name, int rows, int cols) {
        TensorInfo t = find(name, rows, cols);
        if (t == null) return null;
        MappedWeight.Storage st = switch (t.dtype()) {
            case F32 -> MappedWeight.Storage.F32;
            case BF16 -> MappedWeight.Storage.BF16;
            case F16 -> MappedWeight.Storage.F16;
            default -> null;
        };
        if (st != null) return new MappedWeight(src.segment(name), st, rows, cols);
        return MappedWeight.ofFloats(src.floats(name), rows, cols);         // F64: a float32 copy
    }

    /** A 1-D tensor copied to float32; null (and a recorded problem) when missing or mis-shaped. */
    private float[] vector(String name, int n) {
        TensorInfo t = find(name, n);
        return t == null ? null : src.floats(name);
    }

    private TensorInfo find(String name, int... shape) {
        if (!src.contains(name)) {
            problems.add("missing " + name);
            return null;
        }
        unused.remove(name);
        TensorInfo t = src.info(name);
        if (!t.dtype().isFloatingPoint()) {
            problems.add(name + " is " + t.dtype() + ", not a floating-point tensor");
            return null;
        }
        long[] s = t.shape();
        boolean ok = s.length == shape.length;
        for (int i = 0; ok && i < s.length; i++) ok = s[i] == shape[i];
        if (!ok) {
            problems.add(name + " has shape " + Arrays.toString(s) + ", expected " + Arrays.toString(shape));
            return null;
        }
        return t;
    }

    private static String summary(List<String> items, String separator) {
        int show = Math.min(items.size(), 3);
        String s = String.join(separator, items.subList(0, show));
        return items.size() > show ? s + " (and " + (items.size() - show) + " more)" : s;
    }
}
