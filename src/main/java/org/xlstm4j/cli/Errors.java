package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.io.SafetensorsException;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Turns user mistakes into one clear line on stderr (exit 2); anything else is a bug and keeps its stack trace. */
final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        if (ex instanceof UserError || ex instanceof SafetensorsException || ex instanceof FileSystemException
                || ex instanceof IllegalArgumentException || ex instanceof org.xlstm4j.cuda.CudaException) {
            String msg = ex instanceof FileSystemException fs ? fileMessage(fs) : ex.getMessage();
            cl.getErr().println("xlstm: error: " + msg);
            return 2;
        }
        cl.getErr().println("xlstm: internal error (please report): " + ex);
        ex.printStackTrace(cl.getErr());
        return 70;
    }

    /** A file the user named could not be used (an --out that is a file, a folder that does not exist, no permission). */
    static String fileMessage(FileSystemException e) {
        return switch (e) {
            case NoSuchFileException n -> "no such file: " + n.getFile();
            case FileAlreadyExistsException f -> f.getFile() + ": already exists"
                    + (java.nio.file.Files.isDirectory(java.nio.file.Path.of(f.getFile())) ? "" : " (and is not a folder)");
            case NotDirectoryException d -> d.getFile() + ": not a folder";
            case AccessDeniedException a -> a.getFile() + ": permission denied";
            default -> e.getMessage();
        };
    }

    /**
     * A bad option or argument (picocli's parse errors, and the checks commands make before they start): the message in
     * one line and where to read the usage, instead of the whole usage page.
     */
    static int badArguments(CommandLine.ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("xlstm: error: " + ex.getMessage());
        if (ex instanceof CommandLine.UnmatchedArgumentException u) CommandLine.UnmatchedArgumentException.printSuggestions(u, err);
        err.println("try: " + cl.getCommandSpec().qualifiedName() + " --help");
        err.flush();
        return cl.getCommandSpec().exitCodeOnInvalidInput();
    }
}
