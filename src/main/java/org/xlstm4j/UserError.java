package org.xlstm4j;

/** A mistake in what the user gave us (a file, a flag, a shape): reported as one line, never as a stack trace. */
public class UserError extends RuntimeException {
    public UserError(String message) { super(message); }
    public UserError(String message, Throwable cause) { super(message, cause); }
}
