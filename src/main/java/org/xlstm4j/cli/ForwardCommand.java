package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.blocks.MLstmLayer;
import org.xlstm4j.io.SafetensorsFile;
import org.xlstm4j.io.SafetensorsWriter;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.Param;
import org.xlstm4j.model.XLstmLM;
import org.xlstm4j.tensor.CpuKernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code xlstm forward}: the parity tool — logits, step logits, loss and gradients in the fixtures' tensor names. */
@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Run a checkpoint on token ids from a safetensors file and write the outputs in the fixtures' layout: "
                + "output.logits (full sequence), output.step_logits (one token at a time through the recurrent state), "
                + "and with --backward output.loss and grad.<official parameter name> for every parameter."})
public final class ForwardCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "checkpoint folder (config.json + model.safetensors)")
    Path model;
    @Option(names = "--input", required = true, description = "safetensors file with input.idx (I64 [B,T]) and, for --backward, input.targets")
    Path input;
    @Option(names = "--out", required = true, description = "output safetensors file")
    Path out;
    @Option(names = "--backward", description = "also compute the mean cross-entropy against input.targets and all gradients")
    boolean backward;
    @Option(names = "--form", defaultValue = "parallel", description = "mLSTM full-sequence form: parallel (as the official forward) or chunkwise (default: ${DEFAULT-VALUE})")
    String form;
    @Option(names = "--chunk-size", defaultValue = "64", description = "chunk size of the chunkwise form (default: ${DEFAULT-VALUE})")
    int chunkSize;
    @Option(names = "--threads", description = "worker threads (default: all cores)")
    Integer threads;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu or cuda (both architectures on the GPU; default: ${DEFAULT-VALUE})")
    String device;
    @Option(names = "--precision", defaultValue = "stored", description = "with --device cuda: stored (matrices in the checkpoint's dtype, bf16 GEMMs for bf16 weights) or fp32 (default: ${DEFAULT-VALUE})")
    String precision;

    @Override public Integer call() throws Exception {
        MLstmLayer.Form f = switch (form) {
            case "parallel" -> MLstmLayer.Form.PARALLEL;
            case "chunkwise" -> MLstmLayer.Form.CHUNKWISE;
            default -> throw new UserError("--form must be parallel or chunkwise, got '" + form + "'");
        };
        try (CpuKernels kernels = threads == null ? new CpuKernels() : new CpuKernels(threads);
             SafetensorsFile in = SafetensorsFile.open(input)) {
            LanguageModel lm = Devices.load(model, device, precision, kernels);
            if (lm instanceof XLstmLM paper) paper.setMLstmForm(f, chunkSize);
            if (!in.contains("input.idx")) throw new UserError(input + ": no tensor 'input.idx' (I64 [B, T])");
            long[] shape = in.info("input.idx").shape();
            if (shape.length != 2) throw new UserError(input + ": input.idx must be 2-D [B, T], got " + shape.length + "-D");
            int B = Math.toIntExact(shape[0]), T = Math.toIntExact(shape[1]), V = lm.vocabSize();
            int[] idx = ids(in.longs("input.idx"), V, "input.idx");
            SafetensorsWriter w = new SafetensorsWriter();
            w.putFloats("output.logits", lm.forward(idx, B, T, null).clone(), B, T, V);
            w.putFloats("output.step_logits", lm.stepSequence(idx, B, T, null), B, T, V);
            if (backward) {
                if (!(lm instanceof XLstmLM paper))
                    throw new UserError(model + ": --backward is supported for the paper architecture only");
                if (!in.contains("input.targets")) throw new UserError(input + ": --backward needs 'input.targets' (I64 [B, T])");
                long[] ts = in.info("input.targets").shape();
                if (ts.length != 2 || ts[0] != B || ts[1] != T)
                    throw new UserError(input + ": input.targets has shape " + java.util.Arrays.toString(ts) + ", expected [" + B + ", " + T + "]");
                long[] tl = in.longs("input.targets");
                int[] targets = new int[tl.length];
                for (int i = 0; i < tl.length; i++) {
                    if (tl[i] != -1 && (tl[i] < 0 || tl[i] >= V)) throw new UserError(input + ": input.targets[" + i + "] = " + tl[i] + " is outside the vocabulary [0, " + V + ")");
                    targets[i] = (int) tl[i];
                }
                paper.zeroGrad();
                float loss = paper.forwardBackward(idx, targets, B, T);
                w.putFloats("output.loss", new float[]{loss}, 1);
                for (Param p : paper.parameters()) w.putFloats("grad." + p.name, p.grad, p.shape);
            }
            w.write(out);
            System.out.println("wrote " + out + " (B=" + B + ", T=" + T + ", V=" + V + (backward ? ", with loss and gradients" : "") + ")");
        }
        return 0;
    }

    static int[] ids(long[] raw, int vocab, String what) {
        int[] r = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] < 0 || raw[i] >= vocab) throw new UserError(what + "[" + i + "] = " + raw[i] + " is outside the vocabulary [0, " + vocab + ")");
            r[i] = (int) raw[i];
        }
        return r;
    }
}
