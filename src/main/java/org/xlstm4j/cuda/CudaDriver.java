package org.xlstm4j.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda}) through the Foreign Function &amp; Memory API: one method per call, each
 * checked; a failure throws {@link CudaException} naming the call and the error ({@code cuGetErrorName}). Handles
 * (contexts, modules, functions, streams, events, graphs) are raw {@link MemorySegment} addresses, device pointers
 * ({@code CUdeviceptr}) are {@code long}s.
 */
public final class CudaDriver {
    // CUdevice_attribute values (cuda.h)
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    /** CUfunction_attribute CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES. */
    public static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    /** CU_STREAM_NON_BLOCKING. */
    public static final int STREAM_NON_BLOCKING = 1;
    /** CU_STREAM_CAPTURE_MODE_THREAD_LOCAL. */
    public static final int CAPTURE_MODE_THREAD_LOCAL = 1;

    private final NativeFunctions lib;
    private final MethodHandle cuInit, cuDriverGetVersion, cuDeviceGetCount, cuDeviceGet, cuDeviceGetName,
            cuDeviceGetAttribute, cuDeviceTotalMem, cuDevicePrimaryCtxRetain, cuCtxSetCurrent, cuCtxSynchronize,
            cuMemAlloc, cuMemFree, cuMemcpyHtoD, cuMemcpyDtoH, cuMemcpyDtoD, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync,
            cuMemcpyDtoDAsync, cuMemsetD8, cuMemsetD8Async, cuModuleLoadData, cuModuleUnload, cuModuleGetFunction,
            cuFuncSetAttribute, cuLaunchKernel, cuStreamCreate, cuStreamSynchronize, cuStreamDestroy, cuEventCreate,
            cuEventRecord, cuEventSynchronize, cuEventElapsedTime, cuEventDestroy, cuGetErrorName, cuGetErrorString,
            cuStreamBeginCapture, cuStreamEndCapture, cuGraphInstantiateWithFlags, cuGraphLaunch, cuGraphExecDestroy,
            cuGraphDestroy;

    /** Binds the driver library found by {@link CudaLibraries}. */
    CudaDriver(CudaLibraries.Loaded loaded) {
        lib = new NativeFunctions(loaded);
        FunctionDescriptor iI = FunctionDescriptor.of(JAVA_INT, JAVA_INT);
        FunctionDescriptor iP = FunctionDescriptor.of(JAVA_INT, ADDRESS);
        FunctionDescriptor iPP = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
        cuGetErrorName = lib.require("cuGetErrorName", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuGetErrorString = lib.require("cuGetErrorString", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
        cuInit = lib.require("cuInit", iI);
        cuDriverGetVersion = lib.require("cuDriverGetVersion", iP);
        cuDeviceGetCount = lib.require("cuDeviceGetCount", iP);
        cuDeviceGet = lib.require("cuDeviceGet", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDeviceGetName = lib.require("cuDeviceGetName", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceGetAttribute = lib.require("cuDeviceGetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuDeviceTotalMem = lib.require("cuDeviceTotalMem_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuDevicePrimaryCtxRetain = lib.require("cuDevicePrimaryCtxRetain", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuCtxSetCurrent = lib.require("cuCtxSetCurrent", iP);
        cuCtxSynchronize = lib.require("cuCtxSynchronize", FunctionDescriptor.of(JAVA_INT));
        cuMemAlloc = lib.require("cuMemAlloc_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
        cuMemFree = lib.require("cuMemFree_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG));
        cuMemcpyHtoD = lib.require("cuMemcpyHtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG));
        cuMemcpyDtoH = lib.require("cuMemcpyDtoH_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
        cuMemcpyDtoD = lib.require("cuMemcpyDtoD_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG));
        cuMemcpyHtoDAsync = lib.require("cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS));
        cuMemcpyDtoHAsync = lib.require("cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemcpyDtoDAsync = lib.require("cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS));
        cuMemsetD8 = lib.require("cuMemsetD8_v2", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG));
        cuMemsetD8Async = lib.require("cuMemsetD8Async", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_BYTE, JAVA_LONG, ADDRESS));
        cuModuleLoadData = lib.require("cuModuleLoadData", iPP);
        cuModuleUnload = lib.require("cuModuleUnload", iP);
        cuModuleGetFunction = lib.require("cuModuleGetFunction", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuFuncSetAttribute = lib.require("cuFuncSetAttribute", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
        cuLaunchKernel = lib.require("cuLaunchKernel", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        cuStreamCreate = lib.require("cuStreamCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuStreamSynchronize = lib.require("cuStreamSynchronize", iP);
        cuStreamDestroy = lib.require("cuStreamDestroy_v2", iP);
        cuEventCreate = lib.require("cuEventCreate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        cuEventRecord = lib.require("cuEventRecord", iPP);
        cuEventSynchronize = lib.require("cuEventSynchronize", iP);
        cuEventElapsedTime = lib.optional(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS),
                "cuEventElapsedTime_v2", "cuEventElapsedTime");
        cuEventDestroy = lib.require("cuEventDestroy_v2", iP);
        cuStreamBeginCapture = lib.optional(FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), "cuStreamBeginCapture_v2");
        cuStreamEndCapture = lib.optional(iPP, "cuStreamEndCapture");
        cuGraphInstantiateWithFlags = lib.optional(FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG),
                "cuGraphInstantiateWithFlags");
        cuGraphLaunch = lib.optional(iPP, "cuGraphLaunch");
        cuGraphExecDestroy = lib.optional(iP, "cuGraphExecDestroy");
        cuGraphDestroy = lib.optional(iP, "cuGraphDestroy");
    }

    /** Where the driver library was found. */
    public String where() {
        return lib.where();
    }

    /** Throws {@link CudaException} unless {@code result} is CUDA_SUCCESS. */
    void check(int result, String call) {
        check(result, call, null);
    }

    void check(int result, String call, String context) {
        if (result == 0) return;
        throw new CudaException(CudaException.format(call, result, errorName(result), errorString(result), context), result);
    }

    /** cuGetErrorName, or null when the code is unknown to the driver. */
    public String errorName(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if (NativeFunctions.call(cuGetErrorName, "cuGetErrorName", code, p) != 0) return null;
            return NativeFunctions.cString(p.get(ADDRESS, 0));
        }
    }

    /** cuGetErrorString, or null when the code is unknown to the driver. */
    public String errorString(int code) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            if (NativeFunctions.call(cuGetErrorString, "cuGetErrorString", code, p) != 0) return null;
            return NativeFunctions.cString(p.get(ADDRESS, 0));
        }
    }

    public void init() {
        check(NativeFunctions.call(cuInit, "cuInit", 0), "cuInit");
    }

    /** The driver's CUDA version, e.g. 13000 for 13.0. */
    public int driverVersion() {
        return intOut(cuDriverGetVersion, "cuDriverGetVersion");
    }

    public int deviceCount() {
        return intOut(cuDeviceGetCount, "cuDeviceGetCount");
    }

    /** The CUdevice handle of device {@code ordinal}. */
    public int device(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(NativeFunctions.call(cuDeviceGet, "cuDeviceGet", p, ordinal), "cuDeviceGet", "device " + ordinal);
            return p.get(JAVA_INT, 0);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(256);
            check(NativeFunctions.call(cuDeviceGetName, "cuDeviceGetName", p, 256, device), "cuDeviceGetName");
            return p.getString(0);
        }
    }

    public int deviceAttribute(int device, int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(NativeFunctions.call(cuDeviceGetAttribute, "cuDeviceGetAttribute", p, attribute, device),
                    "cuDeviceGetAttribute", "attribute " + attribute);
            return p.get(JAVA_INT, 0);
        }
    }

    public long deviceTotalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check(NativeFunctions.call(cuDeviceTotalMem, "cuDeviceTotalMem_v2", p, device), "cuDeviceTotalMem_v2");
            return p.get(JAVA_LONG, 0);
        }
    }

    /** Retains the device's primary context (the one the CUDA runtime, and so cuBLAS, uses too). */
    public MemorySegment primaryContextRetain(int device) {
        return pointerOut(cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain", device);
    }

    public void contextSetCurrent(MemorySegment ctx) {
        callExact(cuCtxSetCurrent, "cuCtxSetCurrent", ctx);
    }

    public void contextSynchronize() {
        check(NativeFunctions.call(cuCtxSynchronize, "cuCtxSynchronize"), "cuCtxSynchronize");
    }

    /** cuMemAlloc_v2: {@code bytes} of plain device memory. */
    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_LONG);
            check(NativeFunctions.call(cuMemAlloc, "cuMemAlloc_v2", p, bytes), "cuMemAlloc_v2", bytes + " bytes");
            return p.get(JAVA_LONG, 0);
        }
    }

    public void memFree(long ptr) {
        check(NativeFunctions.call(cuMemFree, "cuMemFree_v2", ptr), "cuMemFree_v2");
    }

    public void memcpyHtoD(long dst, MemorySegment src, long bytes) {
        check(NativeFunctions.call(cuMemcpyHtoD, "cuMemcpyHtoD_v2", dst, src, bytes), "cuMemcpyHtoD_v2", bytes + " bytes");
    }

    public void memcpyDtoH(MemorySegment dst, long src, long bytes) {
        check(NativeFunctions.call(cuMemcpyDtoH, "cuMemcpyDtoH_v2", dst, src, bytes), "cuMemcpyDtoH_v2", bytes + " bytes");
    }

    public void memcpyDtoD(long dst, long src, long bytes) {
        check(NativeFunctions.call(cuMemcpyDtoD, "cuMemcpyDtoD_v2", dst, src, bytes), "cuMemcpyDtoD_v2", bytes + " bytes");
    }

    /** Asynchronous host-to-device copy on {@code stream}; {@code src} must stay valid until the stream reaches it. */
    public void memcpyHtoDAsync(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        int r;
        try {                                           // exact invocation: no boxing, nothing allocated per call
            r = (int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeFunctions.failed("cuMemcpyHtoDAsync_v2", t);
        }
        check(r, "cuMemcpyHtoDAsync_v2");
    }

    public void memcpyDtoHAsync(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        int r;
        try {
            r = (int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream);
        } catch (Throwable t) {
            throw NativeFunctions.failed("cuMemcpyDtoHAsync_v2", t);
        }
        check(r, "cuMemcpyDtoHAsync_v2");
    }

    public void memcpyDtoDAsync(long dst, long src, long bytes, MemorySegment stream) {
        check(NativeFunctions.call(cuMemcpyDtoDAsync, "cuMemcpyDtoDAsync_v2", dst, src, bytes, stream), "cuMemcpyDtoDAsync_v2");
    }

    public void memsetD8(long dst, byte value, long bytes) {
        check(NativeFunctions.call(cuMemsetD8, "cuMemsetD8_v2", dst, value, bytes), "cuMemsetD8_v2");
    }

    public void memsetD8Async(long dst, byte value, long bytes, MemorySegment stream) {
        check(NativeFunctions.call(cuMemsetD8Async, "cuMemsetD8Async", dst, value, bytes, stream), "cuMemsetD8Async");
    }

    /** Loads a module from a cubin or PTX image (copied into native memory for the call). */
    public MemorySegment moduleLoadData(byte[] image, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment img = a.allocate(image.length + 1L, 16);
            MemorySegment.copy(image, 0, img, JAVA_BYTE, 0, image.length);
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeFunctions.call(cuModuleLoadData, "cuModuleLoadData", p, img), "cuModuleLoadData", what);
            return p.get(ADDRESS, 0);
        }
    }

    public void moduleUnload(MemorySegment module) {
        check(NativeFunctions.call(cuModuleUnload, "cuModuleUnload", module), "cuModuleUnload");
    }

    public MemorySegment moduleGetFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeFunctions.call(cuModuleGetFunction, "cuModuleGetFunction", p, module, a.allocateFrom(name)),
                    "cuModuleGetFunction", name);
            return p.get(ADDRESS, 0);
        }
    }

    public void funcSetAttribute(MemorySegment function, int attribute, int value) {
        check(NativeFunctions.call(cuFuncSetAttribute, "cuFuncSetAttribute", function, attribute, value),
                "cuFuncSetAttribute", "attribute " + attribute + " = " + value);
    }

    /** cuLaunchKernel with {@code params} the void** array of pointers to the argument values. */
    public void launchKernel(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                             MemorySegment stream, MemorySegment params, String name) {
        int rc;
        try {   // exact invocation: launches are on the per-token path
            rc = (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream, params, MemorySegment.NULL);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new CudaException("cuLaunchKernel: native call failed: " + t, t);
        }
        if (rc != 0) check(rc, "cuLaunchKernel",
                name + " grid (" + gx + ", " + gy + ", " + gz + ") block (" + bx + ", " + by + ", " + bz + ") shared " + sharedBytes);
    }

    public MemorySegment streamCreate(int flags) {
        return pointerOut(cuStreamCreate, "cuStreamCreate", flags);
    }

    public void streamSynchronize(MemorySegment stream) {
        callExact(cuStreamSynchronize, "cuStreamSynchronize", stream);
    }

    public void streamDestroy(MemorySegment stream) {
        check(NativeFunctions.call(cuStreamDestroy, "cuStreamDestroy_v2", stream), "cuStreamDestroy_v2");
    }

    public MemorySegment eventCreate(int flags) {
        return pointerOut(cuEventCreate, "cuEventCreate", flags);
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        check(NativeFunctions.call(cuEventRecord, "cuEventRecord", event, stream), "cuEventRecord");
    }

    public void eventSynchronize(MemorySegment event) {
        check(NativeFunctions.call(cuEventSynchronize, "cuEventSynchronize", event), "cuEventSynchronize");
    }

    /** Milliseconds between two recorded (and completed) events. */
    public float eventElapsedTime(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_FLOAT);
            check(NativeFunctions.call(cuEventElapsedTime, "cuEventElapsedTime", p, start, end), "cuEventElapsedTime");
            return p.get(JAVA_FLOAT, 0);
        }
    }

    public void eventDestroy(MemorySegment event) {
        check(NativeFunctions.call(cuEventDestroy, "cuEventDestroy_v2", event), "cuEventDestroy_v2");
    }

    public void streamBeginCapture(MemorySegment stream, int mode) {
        check(NativeFunctions.call(cuStreamBeginCapture, "cuStreamBeginCapture_v2", stream, mode), "cuStreamBeginCapture_v2");
    }

    /** Ends a capture and returns the captured CUgraph. */
    public MemorySegment streamEndCapture(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeFunctions.call(cuStreamEndCapture, "cuStreamEndCapture", stream, p), "cuStreamEndCapture");
            return p.get(ADDRESS, 0);
        }
    }

    public MemorySegment graphInstantiate(MemorySegment graph) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeFunctions.call(cuGraphInstantiateWithFlags, "cuGraphInstantiateWithFlags", p, graph, 0L),
                    "cuGraphInstantiateWithFlags");
            return p.get(ADDRESS, 0);
        }
    }

    public void graphLaunch(MemorySegment graphExec, MemorySegment stream) {
        if (cuGraphLaunch == null) throw new CudaException("cuGraphLaunch is not available in the loaded library");
        int r;
        try {
            r = (int) cuGraphLaunch.invokeExact(graphExec, stream);
        } catch (Throwable t) {
            throw NativeFunctions.failed("cuGraphLaunch", t);
        }
        check(r, "cuGraphLaunch");
    }

    public void graphExecDestroy(MemorySegment graphExec) {
        check(NativeFunctions.call(cuGraphExecDestroy, "cuGraphExecDestroy", graphExec), "cuGraphExecDestroy");
    }

    public void graphDestroy(MemorySegment graph) {
        check(NativeFunctions.call(cuGraphDestroy, "cuGraphDestroy", graph), "cuGraphDestroy");
    }

    private int intOut(MethodHandle h, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(JAVA_INT);
            check(NativeFunctions.call(h, name, p), name);
            return p.get(JAVA_INT, 0);
        }
    }

    /**
     * A checked call of a driver function taking one pointer, through an exact invocation (no argument boxing: these
     * run once per operation or step).
     */
    private void callExact(MethodHandle h, String name, MemorySegment arg) {
        int r;
        try {
            r = (int) h.invokeExact(arg);
        } catch (Throwable t) {
            throw NativeFunctions.failed(name, t);
        }
        check(r, name);
    }

    private MemorySegment pointerOut(MethodHandle h, String name, int arg) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ADDRESS);
            check(NativeFunctions.call(h, name, p, arg), name);
            return p.get(ADDRESS, 0);
        }
    }
}
