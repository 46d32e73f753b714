package org.xlstm4j.cuda;

/**
 * A failed CUDA, NVRTC or cuBLAS call, or a missing library or symbol: the message is one line naming the call and
 * the error (for NVRTC compilation errors the compiler log follows on further lines).
 */
public class CudaException extends RuntimeException {
    /** The numeric result code of the failed call, or 0 where there is none (a missing library, say). */
    public final int code;

    public CudaException(String message) {
        super(message);
        this.code = 0;
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
        this.code = 0;
    }

    public CudaException(String message, int code) {
        super(message);
        this.code = code;
    }

    /**
     * The message of a failed call: {@code "cuMemAlloc_v2 failed: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"};
     * a null or empty name or description is left out, and {@code context} (may be null) is appended after a comma.
     */
    public static String format(String call, int code, String errorName, String description, String context) {
        StringBuilder sb = new StringBuilder(call).append(" failed: ");
        sb.append(errorName == null || errorName.isEmpty() ? "error" : errorName).append(" (").append(code).append(')');
        if (description != null && !description.isEmpty() && !description.equals(errorName)) sb.append(": ").append(description);
        if (context != null && !context.isEmpty()) sb.append(", ").append(context);
        return sb.toString().replace('\n', ' ');
    }
}
