package org.xlstm4j.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One GPU with its primary context: properties, the caching allocator, streams and events, kernels compiled from the
 * project's CUDA C++ resources with NVRTC (cached on disk by {@link KernelCache}), and cuBLAS. Calls made from a
 * thread first make the context current on it ({@link #makeCurrent}); the public entry points of this package do.
 */
public final class CudaDevice {
    private final CudaDriver drv;
    private final int device;
    private final MemorySegment context;
    public final int ordinal;
    public final String name;
    public final int ccMajor, ccMinor, multiprocessors, maxSharedPerBlockOptin;
    public final long totalMemory;
    public final int driverVersion;
    private final CachingAllocator allocator;
    private final Map<String, CudaModule> modules = new HashMap<>();
    private Nvrtc nvrtc;
    private CudaLibraries.Loaded cublasLib;
    private final KernelCache cache = KernelCache.defaultCache();

    CudaDevice(CudaDriver drv, int ordinal) {
        this.drv = drv;
        this.ordinal = ordinal;
        this.device = drv.device(ordinal);
        this.name = drv.deviceName(device);
        this.ccMajor = drv.deviceAttribute(device, CudaDriver.ATTR_COMPUTE_CAPABILITY_MAJOR);
        this.ccMinor = drv.deviceAttribute(device, CudaDriver.ATTR_COMPUTE_CAPABILITY_MINOR);
        this.multiprocessors = drv.deviceAttribute(device, CudaDriver.ATTR_MULTIPROCESSOR_COUNT);
        this.maxSharedPerBlockOptin = drv.deviceAttribute(device, CudaDriver.ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
        this.totalMemory = drv.deviceTotalMemory(device);
        this.driverVersion = drv.driverVersion();
        this.context = drv.primaryContextRetain(device);
        drv.contextSetCurrent(context);
        this.allocator = new CachingAllocator(drv);
    }

    /** Makes this device's context current on the calling thread. */
    public void makeCurrent() {
        drv.contextSetCurrent(context);
    }

    CudaDriver driver() {
        return drv;
    }

    /** "sm_90" for compute capability 9.0. */
    public String arch() {
        return "sm_" + ccMajor + ccMinor;
    }

    /** A device buffer of {@code bytes} from the caching allocator. */
    public DeviceBuffer allocate(long bytes) {
        makeCurrent();
        return allocator.allocate(bytes);
    }

    public CachingAllocator allocator() {
        return allocator;
    }

    public CudaStream newStream() {
        makeCurrent();
        return new CudaStream(drv);
    }

    public CudaEvent newEvent() {
        makeCurrent();
        return new CudaEvent(drv);
    }

    /** Waits for all work on the device. */
    public void synchronize() {
        makeCurrent();
        drv.contextSynchronize();
    }

    /** Waits for {@code stream}, then runs {@code release} even when the wait failed (closing a backend). */
    public void afterStream(CudaStream stream, Runnable release) {
        makeCurrent();
        try {
            stream.synchronize();
        } finally {
            release.run();
        }
    }

    /** The NVRTC library (loaded on first use). */
    public synchronized Nvrtc nvrtc() {
        if (nvrtc == null) nvrtc = new Nvrtc(CudaLibraries.load("NVRTC (libnvrtc)", CudaLibraries.NVRTC, CudaLibraries.searchDirs()));
        return nvrtc;
    }

    /** A new cuBLAS handle on this device (the libraries are loaded on first use; cuBLASLt first, from the same place). */
    public synchronized CuBlas newCuBlas() {
        makeCurrent();
        if (cublasLib == null) {
            List<java.nio.file.Path> dirs = CudaLibraries.searchDirs();
            CudaLibraries.load("cuBLASLt (libcublasLt)", CudaLibraries.CUBLASLT, dirs);
            cublasLib = CudaLibraries.load("cuBLAS (libcublas)", CudaLibraries.CUBLAS, dirs);
        }
        return new CuBlas(cublasLib);
    }

    /** The compiler options used for this device's kernels. */
    public List<String> compileOptions() {
        List<String> o = new ArrayList<>();
        o.add("--gpu-architecture=" + arch());
        o.add("-default-device");
        o.add("--std=c++17");
        o.add("-lineinfo");
        return o;
    }

    /**
     * The module compiled from the resource {@code org/xlstm4j/cuda/<resource>} for this device, from the disk cache
     * when the same source, options, driver and compiler were compiled before; loaded once per device.
     */
    public synchronized CudaModule module(String resource) {
        makeCurrent();
        CudaModule m = modules.get(resource);
        if (m != null) return m;
        String source = readResource(resource);
        List<String> options = compileOptions();
        Nvrtc c = nvrtc();
        String key = KernelCache.key(source, options, Integer.toString(driverVersion), c.version(), arch());
        byte[] image = cache.read(key).orElse(null);
        if (image == null) {
            image = c.compileToCubin(source, resource, options);
            cache.write(key, image);
        }
        m = new CudaModule(drv, image, resource);
        modules.put(resource, m);
        return m;
    }

    /**
     * The kernel source {@code resource} with every {@code #include "name"} line replaced by that resource's text (once
     * per source: the shared headers carry {@code #pragma once}), so NVRTC needs no include path and the cache key
     * covers the headers.
     */
    static String readResource(String resource) {
        return inlineIncludes(readRaw(resource), new java.util.HashSet<>());
    }

    private static String inlineIncludes(String source, java.util.Set<String> seen) {
        StringBuilder out = new StringBuilder();
        for (String line : source.split("\n", -1)) {
            java.util.regex.Matcher m = INCLUDE.matcher(line);
            if (m.matches()) {
                if (seen.add(m.group(1))) out.append(inlineIncludes(readRaw(m.group(1)), seen));
            } else if (!line.strip().equals("#pragma once")) {      // (inlined: it would be the main file's)
                out.append(line);
            }
            out.append('\n');
        }
        return out.toString();
    }

    private static final java.util.regex.Pattern INCLUDE = java.util.regex.Pattern.compile("\\s*#include \"([\\w.]+)\"\\s*");

    private static String readRaw(String resource) {
        String path = "/org/xlstm4j/cuda/" + resource;
        try (InputStream in = CudaDevice.class.getResourceAsStream(path)) {
            if (in == null) throw new CudaException("kernel source " + path + " is not on the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + path + ": " + e.getMessage(), e);
        }
    }

    /** One line: name, compute capability, memory, driver. */
    public String describe() {
        return String.format("%s (%s, %d SMs, %.1f GiB, driver CUDA %d.%d)", name, arch(), multiprocessors,
                totalMemory / (1024.0 * 1024 * 1024), driverVersion / 1000, driverVersion % 1000 / 10);
    }
}
