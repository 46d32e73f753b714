package org.xlstm4j.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * 2 MiB pages for memory that is streamed (weights, their copies, the bandwidth reference buffer), best effort, through
 * Linux's transparent huge pages ({@code madvise(MADV_HUGEPAGE)}).
 *
 * <p>Why: decoding reads every weight once per token, and with 4 KiB pages the page walks and a physically scattered page
 * cache cost a large part of the memory bandwidth (docs/PERFORMANCE.md, issue 5). A read-only file mapping advised this
 * way is filled with 2 MiB page-cache folios, mapped whole ({@code FilePmdMapped} in {@code /proc/PID/smaps}), on file
 * systems that cache in large folios (ext4 and XFS on recent kernels) when its pages are read from the file; pages that
 * were already cached in 4 KiB pieces (a file just written, say) stay so until the cache drops them. Anonymous memory
 * from {@link #allocate} is mapped fresh and advised before it is touched, so it gets 2 MiB pages whenever the kernel
 * has them.
 *
 * <p>Needs native access ({@code --enable-native-access=ALL-UNNAMED}, which the {@code xlstm} launcher passes); without
 * it, on another OS, with {@code -Dxlstm4j.hugePages=false}, or where the kernel refuses, memory comes as before: the
 * mapping unadvised, {@link #allocate} from the arena.
 */
public final class HugePages {
    private static final int MADV_HUGEPAGE = 14, PROT_READ_WRITE = 3, MAP_PRIVATE_ANONYMOUS = 0x22;
    private static final long HUGE_PAGE = 2L << 20;
    private static final boolean NATIVE_ACCESS = HugePages.class.getModule().isNativeAccessEnabled();
    private static final int POSIX_FADV_DONTNEED = 4;
    private static final MethodHandle MADVISE, MMAP, MUNMAP, FOPEN, FILENO, FADVISE, FCLOSE;

    static {
        MethodHandle madvise = null, mmap = null, munmap = null, fopen = null, fileno = null, fadvise = null, fclose = null;
        try {
            if (System.getProperty("os.name", "").toLowerCase().contains("linux")
                    && HugePages.class.getModule().isNativeAccessEnabled()
                    && Boolean.parseBoolean(System.getProperty("xlstm4j.hugePages", "true"))) {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                madvise = linker.downcallHandle(libc.find("madvise").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
                munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                fopen = linker.downcallHandle(libc.find("fopen").orElseThrow(), FunctionDescriptor.of(ValueLayout.ADDRESS,
                        ValueLayout.ADDRESS, ValueLayout.ADDRESS));
                fileno = linker.downcallHandle(libc.find("fileno").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS));
                fadvise = linker.downcallHandle(libc.find("posix_fadvise").orElseThrow(), FunctionDescriptor.of(
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                fclose = linker.downcallHandle(libc.find("fclose").orElseThrow(), FunctionDescriptor.of(ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS));
            }
        } catch (RuntimeException | LinkageError e) {
            madvise = mmap = munmap = fopen = fileno = fadvise = fclose = null;
        }
        MADVISE = madvise;
        MMAP = mmap;
        MUNMAP = munmap;
        FOPEN = fopen;
        FILENO = fileno;
        FADVISE = fadvise;
        FCLOSE = fclose;
    }

    private HugePages() {}

    /** Whether this JVM can ask for huge pages (Linux, native access, not turned off). */
    public static boolean available() { return MADVISE != null; }

    /**
     * Advises the 2 MiB-aligned part of a native segment (e.g. from {@code FileChannel.map}, right after mapping, before
     * its pages are read); returns whether the kernel accepted it.
     */
    public static boolean advise(MemorySegment mapping) {
        if (MADVISE == null || !mapping.isNative()) return false;
        long start = (mapping.address() + HUGE_PAGE - 1) & -HUGE_PAGE, end = (mapping.address() + mapping.byteSize()) & -HUGE_PAGE;
        if (end <= start) return false;
        try {
            return (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), end - start, MADV_HUGEPAGE) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * {@code bytes} of zeroed memory, 2 MiB-aligned and advised for huge pages before anything touches it, unmapped when
     * {@code arena} closes; from {@code arena} itself (64-byte aligned) when huge pages are not {@link #available}.
     */
    public static MemorySegment allocate(long bytes, Arena arena) {
        if (MMAP == null || bytes < HUGE_PAGE) return arena.allocate(bytes, 64);
        long len = bytes + HUGE_PAGE;                                   // room to align the start
        MemorySegment base;
        try {
            base = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, len, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        } catch (Throwable t) {
            return arena.allocate(bytes, 64);
        }
        if (base.address() == -1L) return arena.allocate(bytes, 64);    // MAP_FAILED
        long addr = base.address();
        MemorySegment whole;
        try {
            whole = base.reinterpret(len, arena, s -> unmap(addr, len));
        } catch (RuntimeException e) {                                  // e.g. the arena is closed: give the memory back
            unmap(addr, len);
            throw e;
        }
        MemorySegment aligned = whole.asSlice(((addr + HUGE_PAGE - 1) & -HUGE_PAGE) - addr, bytes);
        advise(aligned);
        return aligned;
    }

    /**
     * Drops {@code file}'s clean pages from the page cache ({@code posix_fadvise(POSIX_FADV_DONTNEED)}), so that the next
     * read of an {@link #advise advised} mapping fills it in 2 MiB folios; for a file just written (its pages were cached
     * in 4 KiB pieces) and flushed to disk. Returns whether the kernel accepted it.
     */
    public static boolean uncache(java.nio.file.Path file) {
        if (FOPEN == null) return false;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = (MemorySegment) FOPEN.invokeExact(a.allocateFrom(file.toString()), a.allocateFrom("r"));
            if (f.address() == 0) return false;
            try {
                int fd = (int) FILENO.invokeExact(f);
                return (int) FADVISE.invokeExact(fd, 0L, 0L, POSIX_FADV_DONTNEED) == 0;
            } finally {
                int ignored = (int) FCLOSE.invokeExact(f);
            }
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * The memory of a file mapping as a plain native segment of the same arena, read-only when the mapping is (when
     * native access is enabled, whatever {@code -Dxlstm4j.hugePages} says; else {@code mapped} itself). The SIMD kernels then see one kind of native segment, whether a weight is mapped or a copy
     * made by {@link #allocate}: with two kinds flowing through the same loads, C2's type profile of the segment became
     * bimorphic and the Vector API loads of the decoding kernel fell back to their slow Java path (a 7B decoded at 1.9
     * instead of 2.3 tokens/s with the FFN down projections copied; docs/PERFORMANCE.md, fifth session).
     */
    public static MemorySegment asPlainNative(MemorySegment mapped, Arena arena) {
        if (!NATIVE_ACCESS || !mapped.isNative()) return mapped;
        MemorySegment view = MemorySegment.ofAddress(mapped.address()).reinterpret(mapped.byteSize(), arena, null);
        return mapped.isReadOnly() ? view.asReadOnly() : view;                 // a write still fails as it did
    }

    private static void unmap(long addr, long len) {
        try {
            int ignored = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(addr), len);
        } catch (Throwable t) {
            // nothing to do: the process keeps the mapping
        }
    }
}
