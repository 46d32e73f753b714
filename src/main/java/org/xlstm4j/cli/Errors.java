package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.io.SafetensorsException;
import picocli.CommandLine;

/** Turns user mistakes into one clear line on stderr (exit 2); anything else is a bug and keeps its stack trace. */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        if (ex instanceof UserError || ex instanceof SafetensorsException
                || ex instanceof java.nio.file.NoSuchFileException || ex instanceof IllegalArgumentException
                || ex instanceof org.xlstm4j.cuda.CudaException) {
            String msg = ex instanceof java.nio.file.NoSuchFileException ? "no such file: " + ex.getMessage() : ex.getMessage();
            cl.getErr().println("xlstm: error: " + msg);
            return 2;
        }
        cl.getErr().println("xlstm: internal error (please report): " + ex);
        ex.printStackTrace(cl.getErr());
        return 70;
    }
}
