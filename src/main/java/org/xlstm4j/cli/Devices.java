package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.cuda.Cuda;
import org.xlstm4j.cuda.CudaLargeOps;
import org.xlstm4j.cuda.CudaXLstmOps;
import org.xlstm4j.model.LanguageModel;
import org.xlstm4j.model.Models;
import org.xlstm4j.tensor.Kernels;

import java.nio.file.Files;
import java.nio.file.Path;

/** The {@code --device cpu|cuda} choice of the inference commands: which backend runs a checkpoint. */
final class Devices {
    private Devices() {}

    /**
     * Loads a checkpoint folder on {@code device}: "cpu" or "cuda" (any architecture: xLSTM-Large weights in their
     * stored dtype, or widened to fp32 with {@code precision} "fp32"; the paper architecture in fp32). Errors are one
     * line: an unknown device or precision, no GPU or driver.
     */
    static LanguageModel load(Path dir, String device, String precision, Kernels kernels) {
        checkPrecision(precision);
        switch (device.toLowerCase()) {
            case "cpu" -> {
                return Models.load(dir, kernels);
            }
            case "cuda", "gpu" -> {
                if (!Files.isDirectory(dir)) throw new UserError(dir + ": not a checkpoint folder");
                CudaLargeOps.Precision p = CudaLargeOps.Precision.parse(precision);
                boolean paper = Models.kind(dir) == Models.Kind.PAPER;
                if (!Cuda.available()) throw new UserError("--device cuda: CUDA is not available: " + Cuda.unavailableReason());
                return paper ? CudaXLstmOps.load(dir) : CudaLargeOps.load(dir, p);
            }
            default -> throw new UserError("--device must be cpu or cuda, got '" + device + "'");
        }
    }

    /** --precision is checked whatever the device (on the CPU, 16-bit weights are always read as stored). */
    static void checkPrecision(String precision) {
        CudaLargeOps.Precision.parse(precision);
    }
}
