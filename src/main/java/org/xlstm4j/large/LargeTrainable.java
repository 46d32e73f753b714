package org.xlstm4j.large;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.BlockState;
import org.xlstm4j.blocks.MLstmBlockState;
import org.xlstm4j.cells.MLstmState;
import org.xlstm4j.io.AtomicFiles;
import org.xlstm4j.io.DType;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.layers.CrossEntropy;
import org.xlstm4j.layers.Embedding;
import org.xlstm4j.layers.RMSNorm;
import org.xlstm4j.model.LMState;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.Param;
import org.xlstm4j.tensor.Buffers;
import org.xlstm4j.tensor.Kernels;
import org.xlstm4j.train.TrainableModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The xLSTM-7B architecture ("xLSTM Large", spec §6) as a trainable model: float32 parameters named as in the checkpoint
 * they came from, the forward of {@link XLstmLarge} (same math; the mLSTM in the chunkwise form with the config's chunk
 * size, ragged last chunk, memory linear in T) and a hand-written backward, over buffers that grow with B·T and are
 * reused (a training step allocates nothing once shapes are stable).
 * <pre>
 *   x = embedding[ids];  per block: x = block(x)  ({@link LargeTrainableBlock});  z = lm_head(out_norm(x))
 *   logits = 30·tanh(z/30)                        loss = mean cross-entropy(logits, targets)
 * </pre>
 * Loading ({@link #load}) reads F32, BF16, F16 or F64 weights in either naming (Hugging Face or official), single or
 * fused weight mode, one file or shards; {@link #saveCheckpoint} writes the config file as it was read, the side files
 * (tokenizer, generation config) and {@code model.safetensors} with the same tensor names, the same fused/single split and
 * each tensor in its original dtype (BF16/F16 rounded to nearest even), so the result loads wherever the input did.
 * Weight decay follows the official rule: parameters whose name contains "weight" and not "norm", not the embedding.
 */
public final class LargeTrainable implements TrainableModel, LanguageModel {
    /** Small files of a Hugging Face folder that belong with the weights; copied into every saved checkpoint. */
    private static final List<String> SIDE_FILES = List.of("tokenizer.json", "tokenizer_config.json",
            "special_tokens_map.json", "generation_config.json");

    public final LargeConfig config;
    private final Kernels kernels;
    private final LargeLayout layout;
    private final Embedding embedding;
    private final LargeTrainableBlock[] blocks;
    private final RMSNorm outNorm;            // null when add_out_norm is false
    private final Param head;                 // lm_head.weight, or the embedding when tied
    private final List<Param> params;
    /** File name → bytes of the config file (config.json or config.yaml) and the side files, written on save. */
    private final Map<String, byte[]> files;
    private final CrossEntropy crossEntropy = new CrossEntropy();
    private final Scratch scratch = new Scratch();
    private final int E, V;

    private int B, T;
    private int[] ids = new int[0];
    private float[][] acts;                   // acts[i] = input of block i; acts[n] = the last block's output
    private float[] normed, logits = new float[0], dLogits, d;

    /**
     * A model of {@code config} with Hugging Face names and all-F32 storage; matrices start at zero, norm scales at 1
     * (fill them, e.g. from {@link #parameters()}). Saved with a generated config.json.
     */
    public LargeTrainable(LargeConfig config, Kernels kernels) {
        this(config.validate("config"), LargeLayout.huggingFace(config), kernels,
                Map.of("config.json", (config.toHuggingFaceJson("float32") + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private LargeTrainable(LargeConfig config, LargeLayout layout, Kernels kernels, Map<String, byte[]> files) {
        this.config = config;
        this.layout = layout;
        this.kernels = kernels;
        this.files = new LinkedHashMap<>(files);
        E = config.embeddingDim;
        V = config.vocabSize;
        embedding = new Embedding(layout.embeddingName.substring(0, layout.embeddingName.length() - ".weight".length()), V, E);
        embedding.weight.weightDecay = false;                                    // official: embeddings opt-in, off here
        blocks = new LargeTrainableBlock[config.numBlocks];
        for (int i = 0; i < blocks.length; i++) blocks[i] = new LargeTrainableBlock(config, layout, i, scratch);
        outNorm = config.addOutNorm ? new RMSNorm("backbone.out_norm", E, (float) config.normEps) : null;
        if (config.tieWordEmbeddings) {
            head = embedding.weight;
        } else {
            head = new Param("lm_head.weight", V, E);
            head.weightDecay = true;                                             // "weight", not "norm"
        }
        List<Param> ps = new ArrayList<>();
        ps.add(embedding.weight);
        for (LargeTrainableBlock b : blocks) ps.addAll(b.params());
        if (outNorm != null) ps.add(outNorm.weight);
        if (!config.tieWordEmbeddings) ps.add(head);
        params = Collections.unmodifiableList(ps);
    }

    /**
     * Reads a checkpoint folder (config.json or config.yaml; model.safetensors, a sharded index or the official
     * model_N.safetensors) into float32 parameters. Shape and name problems are one {@link UserError}.
     */
    public static LargeTrainable load(Path dir, Kernels kernels) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder");
        LargeConfig config = LargeConfig.load(dir);
        Map<String, byte[]> files = new LinkedHashMap<>();
        try {
            String cfgName = Files.exists(dir.resolve("config.json")) ? "config.json" : "config.yaml";
            files.put(cfgName, Files.readAllBytes(dir.resolve(cfgName)));
            for (String f : SIDE_FILES) if (Files.isRegularFile(dir.resolve(f))) files.put(f, Files.readAllBytes(dir.resolve(f)));
        } catch (IOException e) {
            throw new UserError(dir + ": cannot read: " + e.getMessage());
        }
        try (TensorSource src = LargeCheckpoints.open(dir)) {
            LargeWeights.read(src, config, dir.toString());                       // validates names, shapes and dtypes
            LargeTrainable m = new LargeTrainable(config, LargeLayout.of(src, config), kernels, files);
            m.forEachTensor((name, shape, parts) -> {
                int off = 0;
                float[] all = parts.length == 1 ? null : src.floats(name);             // fused: split the rows
                for (float[] p : parts) {
                    if (all == null) src.floats(name, p, 0);
                    else System.arraycopy(all, off, p, 0, p.length);
                    off += p.length;
                }
            });
            return m;
        }
    }

    /**
     * Saves a copy of {@code tokenizerJson} as tokenizer.json with every checkpoint (the tokenizer the model is trained
     * with, so generation finds it); a {@link UserError} when it cannot be read.
     */
    public void keepTokenizer(Path tokenizerJson) {
        try {
            files.put("tokenizer.json", Files.readAllBytes(tokenizerJson));
        } catch (IOException e) {
            throw new UserError(tokenizerJson + ": cannot read: " + e.getMessage());
        }
    }

    // ---------------------------------------------------------------- forward and backward

    @Override public List<Param> parameters() { return params; }

    @Override public int vocabSize() { return V; }

    public long parameterCount() {
        long n = 0;
        for (Param p : params) n += p.size();
        return n;
    }

    @Override public LMState newState(int B) {
        BlockState[] s = new BlockState[blocks.length];
        for (int i = 0; i < s.length; i++)
            s[i] = new MLstmBlockState(MLstmState.zeros(B, config.numHeads, config.qkHeadDim(), config.vHeadDim()), new float[0]);
        return new LMState(B, s);
    }

    /**
     * Forward over ids [B, T]; returns logits [B·T, V] (a model-owned buffer, valid until the next call). {@code state}:
     * null = zeros (training; the activations are kept for {@link #forwardBackward}), otherwise the initial state,
     * overwritten with the final one.
     */
    @Override public float[] forward(int[] idx, int B, int T, LMState state) {
        if (B < 1 || T < 1) throw new IllegalArgumentException("bad input shape B=" + B + " T=" + T);
        if (state != null && state.batch != B)
            throw new IllegalArgumentException("state was made for batch " + state.batch + ", input has batch " + B);
        this.B = B;
        this.T = T;
        int rows = B * T;
        ensure(rows);
        System.arraycopy(idx, 0, ids, 0, rows);
        embedding.forward(ids, acts[0], rows);
        for (int i = 0; i < blocks.length; i++)
            blocks[i].forward(kernels, acts[i], acts[i + 1], B, T,
                    state == null ? null : ((MLstmBlockState) state.blocks[i]).cell);
        float[] last = acts[blocks.length];
        if (outNorm != null) outNorm.forward(last, normed, rows);                // spec §6.1: out_norm
        else System.arraycopy(last, 0, normed, 0, rows * E);
        kernels.matmulXWt(normed, 0, head.data, 0, logits, 0, rows, V, E, false); // lm_head
        if (config.outputLogitSoftCap != null)                                   // 30·tanh(z/30)
            SoftCap.forward(logits, 0, rows * V, config.outputLogitSoftCap.floatValue());
        return logits;
    }

    /** Mean cross-entropy of next-token targets [B, T] (−1 = ignored), without gradients. */
    @Override public float loss(int[] inputs, int[] targets, int B, int T) {
        forward(inputs, B, T, null);
        return crossEntropy.forward(logits, targets, B * T, V, null);
    }

    /** Forward + backward: adds d(mean loss)/d(param) into every {@link Param#grad}; returns the mean loss. */
    @Override public float forwardBackward(int[] inputs, int[] targets, int B, int T) {
        forward(inputs, B, T, null);
        int rows = B * T;
        dLogits = Buffers.ensure(dLogits, rows * V);
        float loss = crossEntropy.forward(logits, targets, rows, V, dLogits);
        backward();
        return loss;
    }

    /** Backward from dLogits (the loss's gradient with respect to the capped logits). */
    private void backward() {
        int rows = B * T;
        if (config.outputLogitSoftCap != null)                                   // 1 − tanh²(z/30)
            SoftCap.backward(logits, dLogits, 0, rows * V, config.outputLogitSoftCap.floatValue());
        d = Buffers.ensure(d, rows * E);
        kernels.matmulDyTX(dLogits, 0, normed, 0, head.grad, 0, rows, V, E, true);
        if (outNorm != null) {
            float[] dn = scratch.get(0, rows * E);
            kernels.matmulDyW(dLogits, 0, head.data, 0, dn, 0, rows, V, E, false);
            outNorm.backward(dn, d, rows, false);
        } else {
            kernels.matmulDyW(dLogits, 0, head.data, 0, d, 0, rows, V, E, false);
        }
        for (int i = blocks.length - 1; i >= 0; i--) blocks[i].backward(kernels, d);
        embedding.backward(d, rows);
    }

    private void ensure(int rows) {
        if (acts == null) acts = new float[blocks.length + 1][];
        for (int i = 0; i <= blocks.length; i++) acts[i] = Buffers.ensure(acts[i], rows * E);
        normed = Buffers.ensure(normed, rows * E);
        // exact size, so callers can use the returned array directly; reallocated only when B·T changes
        if (logits.length != rows * V) logits = new float[rows * V];
        ids = Buffers.ensure(ids, rows);
    }

    // ---------------------------------------------------------------- checkpoint

    /**
     * Writes the config file (as read), the side files and model.safetensors (the loaded checkpoint's names, weight mode
     * and dtypes; one file even when the input was sharded) into {@code dir}, which must exist.
     */
    @Override public void saveCheckpoint(Path dir) throws IOException {
        for (Map.Entry<String, byte[]> f : files.entrySet()) AtomicFiles.write(dir.resolve(f.getKey()), f.getValue());
        SafetensorsWriter w = new SafetensorsWriter().metadata(layout.metadata);
        forEachTensor((name, shape, parts) -> {
            float[] data = parts[0];
            if (parts.length > 1) {                                              // re-fuse: row-concatenate the parts
                data = new float[shape.total()];
                int off = 0;
                for (float[] p : parts) {
                    System.arraycopy(p, 0, data, off, p.length);
                    off += p.length;
                }
            }
            w.putFloats(name, layout.dtype(name), data, shape.dims());
        });
        if (config.tieWordEmbeddings && layout.storesTiedHead)
            w.putFloats("lm_head.weight", layout.dtype("lm_head.weight"), head.data, V, E);
        w.write(dir.resolve(TensorSource.SINGLE_FILE_NAME));
    }

    /** A stored tensor's shape. */
    private record Shape(int... dims) {
        int total() {
            int n = 1;
            for (int x : dims) n *= x;
            return n;
        }
    }

    /** A stored tensor and the parameter arrays it holds, in row order (one, or several for a fused tensor). */
    @FunctionalInterface
    private interface TensorVisitor {
        void visit(String name, Shape shape, float[][] parts);
    }

    /** Every tensor of the checkpoint layout (except a tied lm_head copy) with the parameters stored in it. */
    private void forEachTensor(TensorVisitor v) {
        int NH = config.numHeads, QK = config.qkDim(), VD = config.vDim(), F = config.ffnDim();
        v.visit(layout.embeddingName, new Shape(V, E), new float[][]{embedding.weight.data});
        for (int i = 0; i < blocks.length; i++) {
            LargeTrainableBlock b = blocks[i];
            LargeMLstmLayer m = b.mlstm;
            String p = LargeLayout.block(i), ml = LargeLayout.mlstm(i);
            v.visit(p + "norm_mlstm.weight", new Shape(E), new float[][]{b.normMlstm.weight.data});
            if (layout.fusedQkvo[i]) {
                v.visit(ml + "qkv_opreact.weight", new Shape(2 * QK + 2 * VD, E),
                        new float[][]{m.q.weight.data, m.k.weight.data, m.v.weight.data, m.ogate.weight.data});
            } else {
                for (var lin : List.of(m.q, m.k, m.v, m.ogate))
                    v.visit(lin.weight.name, new Shape(lin.out(), E), new float[][]{lin.weight.data});
            }
            if (layout.fusedGates[i]) {
                v.visit(ml + "ifgate_preact.weight", new Shape(2 * NH, E), new float[][]{m.igate.weight.data, m.fgate.weight.data});
                v.visit(ml + "ifgate_preact.bias", new Shape(2 * NH), new float[][]{m.igate.bias.data, m.fgate.bias.data});
            } else {
                for (var lin : List.of(m.igate, m.fgate)) {
                    v.visit(lin.weight.name, new Shape(NH, E), new float[][]{lin.weight.data});
                    v.visit(lin.bias.name, new Shape(NH), new float[][]{lin.bias.data});
                }
            }
            v.visit(ml + "multihead_norm.weight", new Shape(VD), new float[][]{m.multiheadNorm.weight.data});
            v.visit(ml + "out_proj.weight", new Shape(E, VD), new float[][]{m.outProj.weight.data});
            v.visit(p + "norm_ffn.weight", new Shape(E), new float[][]{b.normFfn.weight.data});
            if (layout.fusedUpGate[i]) {
                v.visit(p + "ffn.proj_up_gate_z.weight", new Shape(2 * F, E), new float[][]{b.ffn.upGate.weight.data, b.ffn.up.weight.data});
            } else {
                v.visit(p + "ffn.proj_up_gate.weight", new Shape(F, E), new float[][]{b.ffn.upGate.weight.data});
                v.visit(p + "ffn.proj_up.weight", new Shape(F, E), new float[][]{b.ffn.up.weight.data});
            }
            v.visit(p + "ffn.proj_down.weight", new Shape(E, F), new float[][]{b.ffn.down.weight.data});
        }
        if (outNorm != null) v.visit("backbone.out_norm.weight", new Shape(E), new float[][]{outNorm.weight.data});
        if (!config.tieWordEmbeddings) v.visit("lm_head.weight", new Shape(V, E), new float[][]{head.data});
    }

    @Override public String toString() { return "LargeTrainable" + config; }
}
