package org.xlstm4j.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.cli.Main;
import org.xlstm4j.io.SafetensorsFile;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --device cuda} of {@code xlstm forward} / {@code generate}: one clear line and a non-zero exit without a GPU
 * (these run everywhere); on a GPU the commands reproduce the hf_tiny and paper fixtures.
 */
class CudaLargeCliTest {
    /** Runs the CLI with stderr captured: {exit code, stderr}. */
    static Object[] run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Object[]{code, err.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(old);
        }
    }

    @Test void paperArchitectureWithoutAGpuIsOneLine(@TempDir Path tmp) {
        assumeFalse(Cuda.available(), "a GPU is present");
        Path dir = CudaLargeTest.fixture("paper_s");
        Object[] r = run("forward", "--model", dir.toString(), "--input", dir.resolve("io.safetensors").toString(),
                "--out", tmp.resolve("o.safetensors").toString(), "--device", "cuda");
        String err = (String) r[1];
        assertEquals(2, r[0]);
        assertTrue(err.contains("CUDA is not available"), err);
        assertEquals(1, err.strip().lines().count(), err);
    }

    @Test void paperArchitectureForwardOnTheGpu(@TempDir Path tmp) {
        assumeTrue(Cuda.available(), () -> "no CUDA GPU: " + Cuda.unavailableReason());
        for (String name : new String[]{"paper_m", "paper_s", "paper_mix"}) {
            Path dir = CudaLargeTest.fixture(name), io = dir.resolve("io.safetensors"), fw = tmp.resolve(name + ".safetensors");
            assertEquals(0, Main.run("forward", "--model", dir.toString(), "--input", io.toString(), "--out", fw.toString(),
                    "--device", "cuda"));
            try (SafetensorsFile want = SafetensorsFile.open(io); SafetensorsFile got = SafetensorsFile.open(fw)) {
                double e = CudaLargeTest.relErr(got.floats("output.logits"), want.floats("output.logits"));
                double s = CudaLargeTest.relErr(got.floats("output.step_logits"), want.floats("output.step_logits"));
                System.out.printf("cli cuda %s: logits %.2e, step logits %.2e%n", name, e, s);
                assertTrue(e < 1e-4, name + " logits " + e);
                assertTrue(s < 1e-4, name + " step logits " + s);
            }
        }
    }

    @Test void withoutAGpuDeviceCudaIsOneLine(@TempDir Path tmp) {
        assumeFalse(Cuda.available(), "a GPU is present");
        Path dir = CudaLargeTest.fixture("hf_tiny");
        Object[] r = run("generate", "--model", dir.toString(), "--input", dir.resolve("io.safetensors").toString(),
                "--greedy", "--max-new-tokens", "2", "--out", tmp.resolve("g.safetensors").toString(), "--device", "cuda");
        String err = (String) r[1];
        assertEquals(2, r[0]);
        assertTrue(err.contains("CUDA is not available"), err);
        assertEquals(1, err.strip().lines().count(), err);
        assertFalse(err.contains("Exception"), err);
    }

    @Test void forwardAndGenerateOnTheGpu(@TempDir Path tmp) {
        assumeTrue(Cuda.available(), () -> "no CUDA GPU: " + Cuda.unavailableReason());
        Path dir = CudaLargeTest.fixture("hf_tiny"), io = dir.resolve("io.safetensors");
        Path fw = tmp.resolve("forward.safetensors"), gen = tmp.resolve("gen.safetensors"), st = tmp.resolve("s.safetensors");
        assertEquals(0, Main.run("forward", "--model", dir.toString(), "--input", io.toString(), "--out", fw.toString(),
                "--device", "cuda", "--precision", "fp32"));
        assertEquals(0, Main.run("generate", "--model", dir.toString(), "--input", io.toString(), "--greedy",
                "--max-new-tokens", "8", "--out", gen.toString(), "--device", "cuda", "--save-state", st.toString()));
        try (SafetensorsFile want = SafetensorsFile.open(io); SafetensorsFile got = SafetensorsFile.open(fw);
             SafetensorsFile ids = SafetensorsFile.open(gen)) {
            assertTrue(CudaLargeTest.relErr(got.floats("output.logits"), want.floats("output.logits")) < 1e-4);
            assertTrue(CudaLargeTest.relErr(got.floats("output.step_logits"), want.floats("output.step_logits")) < 1e-4);
            assertArrayEquals(want.longs("output.greedy_ids"), ids.longs("output.greedy_ids"));
        }
    }
}
