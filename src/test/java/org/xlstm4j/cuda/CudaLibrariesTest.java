package org.xlstm4j.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Library lookup without a GPU: clear reasons for missing libraries, search order, the pip wheel layout. */
class CudaLibrariesTest {
    @Test void missingLibraryGivesOneClearLine(@TempDir Path dir) {
        CudaException e = assertThrows(CudaException.class, () -> CudaLibraries.load("the test library (libxlstm4jmissing)",
                List.of("libxlstm4jmissing.so.7", "libxlstm4jmissing.so"), List.of(dir)));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.startsWith("the test library (libxlstm4jmissing) not found"), m);
        assertTrue(m.contains("libxlstm4jmissing.so.7") && m.contains(dir.toString()) && m.contains("XLSTM4J_CUDA_LIBS"), m);
    }

    @Test void brokenFileIsNamedInTheReason(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("libxlstm4jbroken.so.3"), "not an ELF file");
        CudaException e = assertThrows(CudaException.class, () -> CudaLibraries.load("broken",
                List.of("libxlstm4jbroken.so.3"), List.of(dir)));
        assertTrue(e.getMessage().contains(dir.resolve("libxlstm4jbroken.so.3").toString()), e.getMessage());
    }

    @Test void candidatesPreferExactNamesThenNewestVersions(@TempDir Path dir) throws Exception {
        for (String f : List.of("libnvrtc.so.12", "libnvrtc.so.13", "libnvrtc.so.13.0.88", "libnvrtc-builtins.so.13", "other.so"))
            Files.writeString(dir.resolve(f), "");
        List<Path> c = CudaLibraries.candidates(dir, CudaLibraries.NVRTC);
        assertEquals(List.of(dir.resolve("libnvrtc.so.13"), dir.resolve("libnvrtc.so.12"), dir.resolve("libnvrtc.so.13.0.88")), c);
        assertEquals(List.of(), CudaLibraries.candidates(dir.resolve("absent"), CudaLibraries.NVRTC));
    }

    @Test void searchDirsFollowTheEnvironmentAndThePipLayout(@TempDir Path root) throws Exception {
        Path own = Files.createDirectories(root.resolve("own"));
        Path cudaHome = Files.createDirectories(root.resolve("cuda/lib64"));
        Path venvWheel = Files.createDirectories(root.resolve("venv/lib/python3.12/site-packages/nvidia/cu13/lib"));
        Path nvrtcWheel = Files.createDirectories(root.resolve("home/.local/lib/python3.11/site-packages/nvidia/cuda_nvrtc/lib"));
        List<Path> dirs = CudaLibraries.searchDirs(Map.of("XLSTM4J_CUDA_LIBS", own.toString(),
                "CUDA_HOME", root.resolve("cuda").toString(), "VIRTUAL_ENV", root.resolve("venv").toString()),
                root.resolve("home").toString());
        assertEquals(own, dirs.get(0));
        assertEquals(cudaHome, dirs.get(1));
        assertTrue(dirs.contains(venvWheel), dirs.toString());
        assertTrue(dirs.contains(nvrtcWheel), dirs.toString());
        assertTrue(dirs.indexOf(cudaHome) < dirs.indexOf(venvWheel));
        for (Path d : dirs) assertTrue(Files.isDirectory(d), d + " does not exist");
    }

    @Test void availabilityNeverThrowsAndExplainsItself() {
        boolean ok = Cuda.available();
        if (ok) assertEquals(null, Cuda.unavailableReason());
        else {
            String r = Cuda.unavailableReason();
            assertTrue(r != null && !r.isBlank());
            CudaException e = assertThrows(CudaException.class, Cuda::device);
            assertTrue(e.getMessage().startsWith("CUDA is not available: "), e.getMessage());
        }
    }
}
