package org.xlstm4j.cuda;

/**
 * The entry point of the CUDA backend: {@link #available()} says whether a driver and a GPU were found (never
 * throws), {@link #unavailableReason()} why not, and {@link #device()} gives device 0 (initialized once).
 */
public final class Cuda {
    private Cuda() {}

    private static volatile boolean probed;
    private static CudaDevice device;
    private static String reason;

    /** Whether the CUDA driver loads, initializes and reports at least one GPU. */
    public static boolean available() {
        probe();
        return device != null;
    }

    /** Why {@link #available()} is false (null when it is true). */
    public static String unavailableReason() {
        probe();
        return reason;
    }

    /** Device 0; throws {@link CudaException} with the reason when CUDA is not available. */
    public static CudaDevice device() {
        probe();
        if (device == null) throw new CudaException("CUDA is not available: " + reason);
        device.makeCurrent();
        return device;
    }

    private static synchronized void probe() {
        if (probed) return;
        try {
            if (!System.getProperty("os.name", "").toLowerCase().contains("linux"))
                throw new CudaException("the CUDA backend supports Linux only, not " + System.getProperty("os.name"));
            CudaDriver drv = new CudaDriver(CudaLibraries.load("the CUDA driver (libcuda)", CudaLibraries.CUDA, CudaLibraries.searchDirs()));
            drv.init();
            int n = drv.deviceCount();
            if (n < 1) throw new CudaException("the CUDA driver reports no GPU");
            device = new CudaDevice(drv, 0);
        } catch (CudaException e) {
            reason = e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        } finally {
            probed = true;
        }
    }
}
