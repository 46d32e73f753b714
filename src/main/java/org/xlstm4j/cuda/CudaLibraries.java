package org.xlstm4j.cuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Finds the CUDA shared libraries at run time: first by soname through the dynamic loader's own search
 * ({@code LD_LIBRARY_PATH}, the ldconfig cache), then as files in the usual directories: {@code $XLSTM4J_CUDA_LIBS}
 * (a path list, searched first of all), {@code $CUDA_HOME/lib64}, {@code $CUDA_PATH/lib64}, {@code /usr/local/cuda/lib64},
 * {@code /usr/local/cuda-<version>/lib64}, the system library directories, and the pip wheels' layout
 * ({@code site-packages/nvidia/cu13/lib}, {@code nvidia/cuda_nvrtc/lib}, {@code nvidia/cublas/lib}, …) of the usual
 * Python installations, {@code $VIRTUAL_ENV} and {@code $CONDA_PREFIX}. Libraries are loaded once, into the global
 * arena, and never unloaded.
 */
public final class CudaLibraries {
    private CudaLibraries() {}

    /** A loaded library: its symbols and where it was found (a soname or a file). */
    public record Loaded(SymbolLookup lookup, String where) {}

    /** The driver API: {@code libcuda.so.1} (installed with the NVIDIA driver, never shipped in wheels). */
    public static final List<String> CUDA = List.of("libcuda.so.1", "libcuda.so");
    /** NVRTC, newest first. */
    public static final List<String> NVRTC = List.of("libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so");
    /** cuBLAS, newest first. */
    public static final List<String> CUBLAS = List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so");
    /** cuBLASLt (loaded before cuBLAS, from the same directory, so that cuBLAS finds it), newest first. */
    public static final List<String> CUBLASLT = List.of("libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so");

    /** Sub-directories of a Python {@code site-packages} directory where NVIDIA's wheels put their libraries. */
    static final List<String> WHEEL_DIRS = List.of("nvidia/cu13/lib", "nvidia/cu12/lib", "nvidia/cuda_nvrtc/lib",
            "nvidia/cublas/lib", "nvidia/cuda_runtime/lib");

    /**
     * Loads the first of {@code names} that can be loaded, by soname and then as a file in {@code dirs} (also any
     * {@code <name>.<more>} file there, newest version first). Throws a {@link CudaException} whose message names
     * the library and everything tried when none loads.
     */
    public static Loaded load(String what, List<String> names, List<Path> dirs) {
        List<String> tried = new ArrayList<>();
        for (String name : names) {
            try {
                return new Loaded(SymbolLookup.libraryLookup(name, Arena.global()), name);
            } catch (IllegalArgumentException | IllegalCallerException e) {
                tried.add(name);
            }
        }
        for (Path dir : dirs) {
            for (Path file : candidates(dir, names)) {
                try {
                    return new Loaded(SymbolLookup.libraryLookup(file, Arena.global()), file.toString());
                } catch (IllegalArgumentException | IllegalCallerException e) {
                    tried.add(file + " (" + oneLine(e.getMessage()) + ")");
                }
            }
        }
        throw new CudaException(what + " not found: tried " + names + " through the dynamic loader and in "
                + (dirs.isEmpty() ? "no directories" : dirs.size() + " directories " + dirs)
                + (tried.size() > names.size() ? "; files that failed to load: " + tried.subList(names.size(), tried.size()) : "")
                + "; set XLSTM4J_CUDA_LIBS to the directory that holds it");
    }

    /** The files in {@code dir} that may be one of {@code names}: exact names first, then versioned ones, newest first. */
    static List<Path> candidates(Path dir, List<String> names) {
        if (!Files.isDirectory(dir)) return List.of();
        Set<Path> out = new LinkedHashSet<>();
        for (String name : names) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) out.add(p);
        }
        String base = stem(names.getFirst());
        try (Stream<Path> s = Files.list(dir)) {
            s.filter(p -> p.getFileName().toString().startsWith(base + ".") && Files.isRegularFile(p))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
                    .forEach(out::add);
        } catch (IOException e) {
            return List.copyOf(out);
        }
        return List.copyOf(out);
    }

    /** "libnvrtc.so.13" → "libnvrtc.so". */
    private static String stem(String soname) {
        int i = soname.indexOf(".so");
        return i < 0 ? soname : soname.substring(0, i + 3);
    }

    /** The directories searched, in order, for this process's environment and home directory. */
    public static List<Path> searchDirs() {
        return searchDirs(System.getenv(), System.getProperty("user.home"));
    }

    /** The directories searched for the given environment and home directory (existing ones only). */
    static List<Path> searchDirs(Map<String, String> env, String home) {
        Set<Path> dirs = new LinkedHashSet<>();
        String own = env.get("XLSTM4J_CUDA_LIBS");
        if (own != null)
            for (String s : own.split(java.io.File.pathSeparator)) if (!s.isBlank()) dirs.add(Path.of(s));
        for (String var : List.of("CUDA_HOME", "CUDA_PATH"))
            if (env.get(var) != null) {
                dirs.add(Path.of(env.get(var), "lib64"));
                dirs.add(Path.of(env.get(var), "lib"));
            }
        dirs.add(Path.of("/usr/local/cuda/lib64"));
        dirs.addAll(globDirs(Path.of("/usr/local"), "cuda-", "lib64"));
        dirs.add(Path.of("/usr/lib/x86_64-linux-gnu"));
        dirs.add(Path.of("/usr/lib64"));
        dirs.add(Path.of("/usr/local/nvidia/lib64"));
        for (Path site : sitePackages(env, home))
            for (String sub : WHEEL_DIRS) dirs.add(site.resolve(sub));
        List<Path> existing = new ArrayList<>();
        for (Path d : dirs) if (Files.isDirectory(d)) existing.add(d);
        return existing;
    }

    /** Python site-packages / dist-packages directories of the usual installations. */
    static List<Path> sitePackages(Map<String, String> env, String home) {
        List<Path> libRoots = new ArrayList<>();
        for (String var : List.of("VIRTUAL_ENV", "CONDA_PREFIX"))
            if (env.get(var) != null) libRoots.add(Path.of(env.get(var), "lib"));
        libRoots.add(Path.of("/usr/local/lib"));
        libRoots.add(Path.of("/usr/lib"));
        libRoots.add(Path.of("/opt/conda/lib"));
        if (home != null) libRoots.add(Path.of(home, ".local", "lib"));
        List<Path> out = new ArrayList<>();
        for (Path root : libRoots)
            for (Path py : globDirs(root, "python3", null))
                for (String kind : List.of("site-packages", "dist-packages")) {
                    Path p = py.resolve(kind);
                    if (Files.isDirectory(p)) out.add(p);
                }
        return out;
    }

    /** Sub-directories of {@code parent} whose names start with {@code prefix}, each resolved against {@code sub}. */
    private static List<Path> globDirs(Path parent, String prefix, String sub) {
        if (!Files.isDirectory(parent)) return List.of();
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(p -> p.getFileName().toString().startsWith(prefix) && Files.isDirectory(p))
                    .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
                    .map(p -> sub == null ? p : p.resolve(sub)).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replace('\n', ' ');
    }
}
