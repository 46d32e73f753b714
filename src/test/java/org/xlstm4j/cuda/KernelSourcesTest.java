package org.xlstm4j.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The kernel sources NVRTC gets: shared headers inlined once, no include left for it to resolve (runs without a GPU). */
class KernelSourcesTest {
    static int count(String s, String part) {
        int n = 0;
        for (int i = s.indexOf(part); i >= 0; i = s.indexOf(part, i + 1)) n++;
        return n;
    }

    @Test void headersAreInlinedOnce() {
        for (String r : new String[]{"mlstm.cu", "slstm.cu", "large.cu"}) {
            String src = CudaDevice.readResource(r);
            assertFalse(src.contains("#include \""), r + " still has an include");
            assertEquals(1, count(src, "typedef unsigned short bf16_t;"), r + ": bf16.cuh inlined once");
        }
        for (String r : new String[]{"large.cu", "paper.cu"}) {
            String src = CudaDevice.readResource(r);
            assertFalse(src.contains("#include \""), r + " still has an include");
            assertEquals(1, count(src, "__device__ float block_sum("), r + ": reduce.cuh inlined once");
        }
    }
}
