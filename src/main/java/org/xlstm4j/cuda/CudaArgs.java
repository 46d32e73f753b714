package org.xlstm4j.cuda;

/** Argument checks shared by the CUDA cells: a host array or device buffer too short for the call names itself. */
final class CudaArgs {
    private CudaArgs() {}

    /** {@code a} holds at least n floats, else "OWNER: NAME has length L, needs n". */
    static void hostLen(String owner, String name, float[] a, long n) {
        if (a == null || a.length < n)
            throw new IllegalArgumentException(owner + ": " + name + " has length " + (a == null ? "null" : a.length) + ", needs " + n);
    }

    /** {@code b} holds at least {@code bytes}, else "OWNER: NAME holds B bytes, needs bytes". */
    static void need(String owner, String name, DeviceBuffer b, long bytes) {
        if (b == null || b.bytes < bytes)
            throw new IllegalArgumentException(owner + ": " + name + " holds " + (b == null ? "null" : b.bytes + " bytes")
                    + ", needs " + bytes);
    }
}
