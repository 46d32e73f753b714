package org.xlstm4j.model;

import org.xlstm4j.UserError;
import org.xlstm4j.cells.SLstmCell;
import org.xlstm4j.io.AtomicFiles;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.io.TensorInfo;
import org.xlstm4j.io.TensorSource;
import org.xlstm4j.tensor.Kernels;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;

/**
 * Loads and saves the paper model in the official checkpoint format: a folder with {@code config.json} (the official
 * xLSTMLMModelConfig as JSON) and {@code model.safetensors} (or a sharded index) with the official state_dict names.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** Loads config.json and the weights of a checkpoint folder. */
    public static XLstmLM load(Path dir, Kernels kernels) {
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder (expected config.json + model.safetensors)");
        XLstmConfig config = XLstmConfig.load(dir.resolve("config.json"));
        XLstmLM model = new XLstmLM(config, kernels);
        try (TensorSource src = TensorSource.openCheckpoint(dir)) {
            loadWeights(model, src, dir.toString());
        }
        return model;
    }

    /**
     * Copies every parameter from a tensor source, converting the sLSTM recurrent kernel and bias from the cuda
     * backend's layout when the kernel's shape says so (spec §2.2). Missing, unknown or mis-shaped tensors raise one
     * UserError listing them.
     */
    public static void loadWeights(XLstmLM model, TensorSource src, String where) {
        Set<String> unused = new TreeSet<>(src.names());
        List<String> missing = new ArrayList<>();
        List<String> badShape = new ArrayList<>();
        Set<String> cudaBiasFor = new HashSet<>();
        for (Param p : model.parameters()) {
            String name = p.name;
            if (!src.contains(name)) {
                // a tied head may be stored under lm_head.weight only
                if (model.config.tieWeights && name.equals("token_embedding.weight") && src.contains("lm_head.weight")) name = "lm_head.weight";
                else { missing.add(p.name); continue; }
            }
            unused.remove(name);
            TensorInfo info = src.info(name);
            long[] shape = info.shape();
            float[] values = src.floats(name);
            if (name.endsWith("slstm_cell._recurrent_kernel_") && shape.length == 3 && p.shape.length == 3
                    && shape[0] == p.shape[0] && shape[1] == p.shape[2] && shape[2] == p.shape[1] && p.shape[1] != p.shape[2]) {
                int nh = p.shape[0], dh = p.shape[2];
                values = SLstmCell.recurrentKernelFromCuda(values, nh, dh);   // cuda layout (NH, DH, 4·DH)
                cudaBiasFor.add(name.substring(0, name.length() - "_recurrent_kernel_".length()) + "_bias_");
            } else if (!sameShape(shape, p.shape)) {
                badShape.add(name + " has shape " + Arrays.toString(shape) + ", expected " + Arrays.toString(p.shape));
                continue;
            }
            System.arraycopy(values, 0, p.data, 0, p.size());
        }
        if (model.config.tieWeights) unused.remove("lm_head.weight");
        // the cuda bias order follows from the kernel layout (spec §2.2: decide the bias order from the kernel shape)
        for (Param p : model.parameters())
            if (cudaBiasFor.contains(p.name)) {
                int e = p.size() / 4, nh = model.config.slstmNumHeads;
                float[] v = SLstmCell.biasFromCuda(p.data.clone(), nh, e / nh);
                System.arraycopy(v, 0, p.data, 0, v.length);
            }
        if (!missing.isEmpty() || !badShape.isEmpty() || !unused.isEmpty()) {
            StringBuilder sb = new StringBuilder(where).append(": checkpoint does not match the config:");
            if (!missing.isEmpty()) sb.append(" missing ").append(summary(missing)).append(";");
            if (!badShape.isEmpty()) sb.append(" wrong shape: ").append(summary(badShape)).append(";");
            if (!unused.isEmpty()) sb.append(" unknown ").append(summary(new ArrayList<>(unused))).append(";");
            throw new UserError(sb.substring(0, sb.length() - 1));
        }
    }

    /**
     * Writes config.json and model.safetensors (float32, official names, sLSTM in the vanilla layout) into {@code dir},
     * each file atomically (temp file, fsync, rename). The official PyTorch code loads the result.
     */
    public static void save(XLstmLM model, Path dir) throws java.io.IOException {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        for (Param p : model.parameters()) w.putFloats(p.name, p.data, p.shape);
        if (model.config.tieWeights) {
            Param emb = model.parameters().get(0);
            w.putFloats("lm_head.weight", emb.data, emb.shape);
        }
        w.write(dir.resolve("model.safetensors"));
        AtomicFiles.writeString(dir.resolve("config.json"), model.config.toJsonString() + "\n");
    }

    private static boolean sameShape(long[] a, int[] b) {
        if (a.length != b.length) return false;
        for (int i = 0; i < a.length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    private static String summary(List<String> items) {
        int show = Math.min(items.size(), 4);
        String s = String.join(", ", items.subList(0, show));
        return items.size() > show ? s + " (and " + (items.size() - show) + " more)" : s;
    }
}
