package org.xlstm4j.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

/** Downcall handles to the functions of one native library, looked up by name, with a clear error when one is missing. */
final class NativeFunctions {
    private static final Linker LINKER = Linker.nativeLinker();
    private final CudaLibraries.Loaded lib;

    NativeFunctions(CudaLibraries.Loaded lib) {
        this.lib = lib;
    }

    /** The handle of {@code name}; throws {@link CudaException} when the library lacks it. */
    MethodHandle require(String name, FunctionDescriptor fd) {
        MemorySegment s = lib.lookup().find(name).orElseThrow(
                () -> new CudaException("symbol " + name + " not found in " + lib.where()));
        return LINKER.downcallHandle(s, fd);
    }

    /** The handle of the first of {@code names} the library has, or null when it has none of them. */
    MethodHandle optional(FunctionDescriptor fd, String... names) {
        for (String name : names) {
            var s = lib.lookup().find(name);
            if (s.isPresent()) return LINKER.downcallHandle(s.get(), fd);
        }
        return null;
    }

    String where() {
        return lib.where();
    }

    /** Calls a handle returning an int status code (CUresult, nvrtcResult, cublasStatus_t). */
    /** The exception for a native call that failed in the linker itself (not a CUDA error code). */
    static RuntimeException failed(String name, Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new CudaException(name + ": native call failed: " + t, t);
    }

    static int call(MethodHandle h, String name, Object... args) {
        if (h == null) throw new CudaException(name + " is not available in the loaded library");
        try {
            return (int) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException(name + ": native call failed: " + t, t);
        }
    }

    /** Calls a handle returning a pointer. */
    static MemorySegment callPointer(MethodHandle h, String name, Object... args) {
        try {
            return (MemorySegment) h.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException(name + ": native call failed: " + t, t);
        }
    }

    /** The NUL-terminated C string at {@code p} (empty for NULL). */
    static String cString(MemorySegment p) {
        if (p == null || p.equals(MemorySegment.NULL)) return "";
        return p.reinterpret(4096).getString(0);
    }
}
