package org.xlstm4j.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code xlstm bench}: the parent of the benchmark subcommands (matrix products, training, decoding and the CUDA
 * kernels, listed below). Without a subcommand it prints its usage.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure speed on this machine.",
        subcommands = {BenchMatmulCommand.class, BenchTrainCommand.class, BenchDecodeCommand.class,
                org.xlstm4j.cuda.BenchCudaMLstmCommand.class, org.xlstm4j.cuda.BenchCudaSLstmCommand.class,
                org.xlstm4j.cuda.BenchCudaLargeCommand.class})
public final class BenchCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
