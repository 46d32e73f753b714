package org.xlstm4j.cli;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Arrays;

/** Small helpers shared by the training and decoding benchmarks: medians, heap peaks, allocated bytes. */
final class BenchStats {
    private BenchStats() {}

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    static double min(double[] v) { return Arrays.stream(v).min().orElse(Double.NaN); }

    static double max(double[] v) { return Arrays.stream(v).max().orElse(Double.NaN); }

    /** Collects garbage (twice, so that finalizable leftovers go too) and returns the live heap in bytes. */
    static long liveHeapAfterGc() {
        System.gc();
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /** Resets the peak usage of every heap pool (the next {@link #peakHeap} covers only what follows). */
    static void resetPeakHeap() {
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) p.resetPeakUsage();
    }

    /** Sum over the heap pools of their peak usage since the last {@link #resetPeakHeap}, in bytes. */
    static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans())
            if (p.getType() == MemoryType.HEAP) sum += p.getPeakUsage().getUsed();
        return sum;
    }

    /** Bytes allocated so far by the current thread (HotSpot), or −1 where not supported. */
    static long threadAllocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported())
            return t.getCurrentThreadAllocatedBytes();
        return -1;
    }

    /** Bytes allocated so far by all live threads (HotSpot), or −1 where not supported. */
    static long totalAllocatedBytes() {
        if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported())
            return t.getTotalThreadAllocatedBytes();
        return -1;
    }

    static String mib(long bytes) {
        return String.format("%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    /** CPU time used by this process so far in nanoseconds (all threads, incl. JIT and GC), or −1. */
    static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os)
            return os.getProcessCpuTime();
        return -1;
    }

    /** The one-minute load average, or NaN. */
    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
