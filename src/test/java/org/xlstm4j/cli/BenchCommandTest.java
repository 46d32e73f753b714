package org.xlstm4j.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code xlstm bench matmul}: what it prints, that numpy's absence never fails it, and its flag checks. */
class BenchCommandTest {
    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler(new Errors());
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = cl.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }

    @Test void matmulPrintsAllLayoutsScalarAndBlas() {
        Result r = run("bench", "matmul", "--size", "40", "--threads", "2", "--runs", "3", "--warmup", "0");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("matmul 40×40×40, 2 threads"), r.out());
        for (String what : new String[]{"y = x·Wᵀ", "dx = dy·W", "dW = dyᵀ·x"}) assertTrue(r.out().contains(what), r.out());
        assertTrue(r.out().contains("cpu-simd"), r.out());
        assertTrue(r.out().contains("scalar twin (1 thread)"), r.out());
        Matcher m = Pattern.compile("y = x·Wᵀ +([0-9.]+) GFLOP/s \\(best +([0-9.]+)\\) +cpu-simd").matcher(r.out());
        assertTrue(m.find(), r.out());
        assertTrue(Double.parseDouble(m.group(2)) >= Double.parseDouble(m.group(1)), r.out()); // best ≥ median
        // with python3 + numpy a BLAS line and the ratio, without them one line saying so; never a failure
        assertTrue(r.out().contains("OpenBLAS: not available") || r.out().contains("ratio cpu-simd / "), r.out());
    }

    @Test void largeSizesSkipTheScalarTwinAndNoBlasSkipsPython() {
        Result r = run("bench", "matmul", "--size", "257", "--threads", "1", "--runs", "1", "--warmup", "0", "--no-blas");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("scalar twin: not timed for N > 256"), r.out());
        assertTrue(!r.out().contains("OpenBLAS"), r.out());
    }

    @Test void badFlagsAreUsageErrors() {
        Result r = run("bench", "matmul", "--size", "0");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("--size must be at least 1"), r.err());
        assertEquals(2, run("bench", "matmul", "--runs", "0").exit());
        assertEquals(2, run("bench", "matmul", "--threads", "0").exit());
    }

    @Test void benchAloneListsItsSubcommands() {
        Result r = run("bench");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("matmul"), r.out());
    }
}
