package org.xlstm4j.io;

/** A safetensors file is malformed or a requested tensor is missing; the message names the file and the problem. */
public class SafetensorsException extends RuntimeException {
    public SafetensorsException(String message) { super(message); }
    public SafetensorsException(String message, Throwable cause) { super(message, cause); }
}
