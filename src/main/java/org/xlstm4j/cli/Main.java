package org.xlstm4j.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code xlstm} command line; every subcommand is a thin layer over a library call. */
@Command(name = "xlstm", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "xLSTM (sLSTM, mLSTM, xLSTM-7B) on the JVM: train, run and inspect models.",
        subcommands = {CommandLine.HelpCommand.class, InspectCommand.class, ForwardCommand.class, TrainCommand.class, GenerateCommand.class, BenchCommand.class, TokenizeCommand.class, ExperimentCommand.class})
public final class Main implements Runnable {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new Errors());
        cl.setParameterExceptionHandler(Errors::badArguments);
        return cl.execute(args);
    }

    @Override public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[]{"xlstm4j " + (v == null ? "0.1.0" : v) + " (Java " + Runtime.version() + ")"};
        }
    }
}
