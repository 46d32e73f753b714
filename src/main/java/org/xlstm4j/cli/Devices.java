package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.cuda.Cuda;
import org.xlstm4j.cuda.CudaLargeOps;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.Models;
import org.xlstm4j.tensor.Kernels;

import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code --device cpu|cuda} choice of the inference commands: which backend runs a checkpoint. */
final class Devices {
    private Devices() {}

    /**
     * Loads a checkpoint folder on {@code device}: "cpu" (any architecture) or "cuda" (xLSTM-Large checkpoints; weights
     * in their stored dtype, or widened to fp32 with {@code precision} "fp32"). Errors are one line: an unknown device,
     * no GPU or driver, an architecture the GPU path does not run yet.
     */
    static LanguageModel load(Path dir, String device, String precision, Kernels kernels) {
        switch (device.toLowerCase()) {
            case "cpu" -> {
                return Models.load(dir, kernels);
            }
            case "cuda", "gpu" -> {
                if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder");
                if (Models.kind(dir) == Models.Kind.PAPER)
                    throw new UserError(dir + ": the paper architecture (mLSTM/sLSTM blocks) is not yet supported on cuda; use --device cpu");
                CudaLargeOps.Precision p = CudaLargeOps.Precision.parse(precision);
                if (!Cuda.available()) throw new UserError("--device cuda: CUDA is not available: " + Cuda.unavailableReason());
                return CudaLargeOps.load(dir, p);
            }
            default -> throw new UserError("--device must be cpu or cuda, got '" + device + "'");
        }
    }
}
