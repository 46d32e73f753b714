package org.xlstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * NVRTC, the CUDA C++ run-time compiler, through the FFM API: compiles one source to a CUBIN for a given
 * architecture. A failed compilation throws {@link CudaException} whose first line names the call, the error and
 * the source, followed by the compiler's log.
 */
public final class Nvrtc {
    private final NativeFunctions lib;
    private final MethodHandle nvrtcVersion, nvrtcGetErrorString, nvrtcCreateProgram, nvrtcCompileProgram,
            nvrtcGetProgramLogSize, nvrtcGetProgramLog, nvrtcGetCUBINSize, nvrtcGetCUBIN, nvrtcDestroyProgram;

    Nvrtc(CudaLibraries.Loaded loaded) {
        lib = new NativeFunctions(loaded);
        nvrtcVersion = lib.require("nvrtcVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        nvrtcGetErrorString = lib.require("nvrtcGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        nvrtcCreateProgram = lib.require("nvrtcCreateProgram",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS));
        nvrtcCompileProgram = lib.require("nvrtcCompileProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        FunctionDescriptor sizeOut = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        nvrtcGetProgramLogSize = lib.require("nvrtcGetProgramLogSize", sizeOut);
        nvrtcGetProgramLog = lib.require("nvrtcGetProgramLog", sizeOut);
        nvrtcGetCUBINSize = lib.require("nvrtcGetCUBINSize", sizeOut);
        nvrtcGetCUBIN = lib.require("nvrtcGetCUBIN", sizeOut);
        nvrtcDestroyProgram = lib.require("nvrtcDestroyProgram", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    }

    /** Where the library was found. */
    public String where() {
        return lib.where();
    }

    /** NVRTC's version, "major.minor". */
    public String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(JAVA_INT), minor = a.allocate(JAVA_INT);
            check(NativeFunctions.call(nvrtcVersion, "nvrtcVersion", major, minor), "nvrtcVersion", null);
            return major.get(JAVA_INT, 0) + "." + minor.get(JAVA_INT, 0);
        }
    }

    private void check(int result, String call, String context) {
        if (result == 0) return;
        String name = NativeFunctions.cString(NativeFunctions.callPointer(nvrtcGetErrorString, "nvrtcGetErrorString", result));
        throw new CudaException(CudaException.format(call, result, name, null, context), result);
    }

    /**
     * Compiles {@code source} (named {@code name} in messages) with {@code options} and returns the CUBIN; the options
     * must name a real architecture ({@code --gpu-architecture=sm_90}).
     */
    public byte[] compileToCubin(String source, String name, List<String> options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment progOut = a.allocate(ADDRESS);
            check(NativeFunctions.call(nvrtcCreateProgram, "nvrtcCreateProgram", progOut, a.allocateFrom(source),
                    a.allocateFrom(name), 0, MemorySegment.NULL, MemorySegment.NULL), "nvrtcCreateProgram", name);
            MemorySegment prog = progOut.get(ADDRESS, 0);
            try {
                MemorySegment opts = a.allocate(ADDRESS, Math.max(1, options.size()));
                for (int i = 0; i < options.size(); i++) opts.setAtIndex(ADDRESS, i, a.allocateFrom(options.get(i)));
                int rc = NativeFunctions.call(nvrtcCompileProgram, "nvrtcCompileProgram", prog, options.size(), opts);
                if (rc != 0) {
                    String log = log(a, prog);
                    String errName = NativeFunctions.cString(NativeFunctions.callPointer(nvrtcGetErrorString, "nvrtcGetErrorString", rc));
                    throw new CudaException(CudaException.format("nvrtcCompileProgram", rc, errName, null,
                            name + " with " + options) + (log.isBlank() ? "" : "\n" + log.strip()), rc);
                }
                MemorySegment size = a.allocate(JAVA_LONG);
                check(NativeFunctions.call(nvrtcGetCUBINSize, "nvrtcGetCUBINSize", prog, size), "nvrtcGetCUBINSize", name);
                long n = size.get(JAVA_LONG, 0);
                if (n <= 0 || n > Integer.MAX_VALUE)
                    throw new CudaException("nvrtcGetCUBINSize returned " + n + " bytes for " + name
                            + " (the options must name a real architecture, sm_XX)");
                MemorySegment cubin = a.allocate(n);
                check(NativeFunctions.call(nvrtcGetCUBIN, "nvrtcGetCUBIN", prog, cubin), "nvrtcGetCUBIN", name);
                return cubin.toArray(JAVA_BYTE);
            } finally {
                check(NativeFunctions.call(nvrtcDestroyProgram, "nvrtcDestroyProgram", progOut), "nvrtcDestroyProgram", name);
            }
        }
    }

    private String log(Arena a, MemorySegment prog) {
        MemorySegment size = a.allocate(JAVA_LONG);
        check(NativeFunctions.call(nvrtcGetProgramLogSize, "nvrtcGetProgramLogSize", prog, size), "nvrtcGetProgramLogSize", null);
        long n = size.get(JAVA_LONG, 0);
        if (n <= 1) return "";
        MemorySegment buf = a.allocate(n);
        check(NativeFunctions.call(nvrtcGetProgramLog, "nvrtcGetProgramLog", prog, buf), "nvrtcGetProgramLog", null);
        return buf.getString(0);
    }
}
