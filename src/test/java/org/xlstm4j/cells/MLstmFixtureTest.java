package org.xlstm4j.cells;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xlstm4j.io.SafetensorsFile;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.xlstm4j.cells.MLstmTestSupport.relErr;

/**
 * Parity with the official NeurIPS mLSTM backends (fixtures/mlstm_cell, computed in float32 by
 * {@code parallel_stabilized_simple}, {@code chunkwise_simple} with chunk 8 and {@code recurrent_step_stabilized_simple};
 * gradients by PyTorch autograd of the parallel form).
 */
class MLstmFixtureTest {
    // the fixture README's achievable levels (float32 port vs float32 reference); the brief allows 1e-4 and 1e-3
    static final double H_TOL = 1e-5, GRAD_TOL = 1e-4;
    static SafetensorsFile io;
    static int B, NH, T, DH;

    @BeforeAll
    static void load() throws Exception {
        io = SafetensorsFile.open(Path.of(MLstmFixtureTest.class.getResource("/fixtures/mlstm_cell/io.safetensors").toURI()));
        long[] shape = io.info("input.q").shape();
        B = (int) shape[0]; NH = (int) shape[1]; T = (int) shape[2]; DH = (int) shape[3];
        assertArrayEquals(new long[]{2, 2, 24, 8}, shape, "fixture shape (config.json)");
    }

    @AfterAll
    static void close() { io.close(); }

    private static float[] f(String name) { return io.floats(name); }

    private static void check(String what, float[] got, float[] ref, double tol) {
        double err = relErr(got, ref);
        System.out.printf("mlstm_cell fixture %-24s rel err %.2e (tol %.0e)%n", what, err, tol);
        assertTrue(err <= tol, what + ": rel err " + err + " > " + tol);
    }

    @Test
    void parallelForwardAndBackwardMatchAutograd() {
        MLstmCell cell = new MLstmCell(NH, DH, DH);
        float[] q = f("input.q"), k = f("input.k"), v = f("input.v");
        float[] ig = f("input.igate_preact"), fg = f("input.fgate_preact");
        float[] h = new float[B * NH * T * DH];
        cell.forwardParallel(q, k, v, ig, fg, h, B, T);
        check("h_parallel", h, f("output.h_parallel"), H_TOL);

        float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
        float[] dig = new float[ig.length], dfg = new float[fg.length];
        cell.backward(f("input.grad_h"), dq, dk, dv, dig, dfg);
        check("grad.q", dq, f("grad.q"), GRAD_TOL);
        check("grad.k", dk, f("grad.k"), GRAD_TOL);
        check("grad.v", dv, f("grad.v"), GRAD_TOL);
        check("grad.igate_preact", dig, f("grad.igate_preact"), GRAD_TOL);
        check("grad.fgate_preact", dfg, f("grad.fgate_preact"), GRAD_TOL);
    }

    @Test
    void chunkwiseMatchesOfficialOutputAndFinalState() {
        MLstmCell cell = new MLstmCell(NH, DH, DH);
        float[] h = new float[B * NH * T * DH];
        MLstmState state = MLstmState.zeros(B, NH, DH, DH);
        cell.forwardChunkwise(f("input.q"), f("input.k"), f("input.v"), f("input.igate_preact"),
                f("input.fgate_preact"), h, B, T, 8, state);
        check("h_chunkwise", h, f("output.h_chunkwise"), H_TOL);
        checkFinalState("chunkwise", state);
    }

    @Test
    void recurrentMatchesOfficialOutputAndFinalState() {
        MLstmCell cell = new MLstmCell(NH, DH, DH);
        float[] h = new float[B * NH * T * DH];
        MLstmState state = MLstmState.zeros(B, NH, DH, DH);
        cell.forwardRecurrent(f("input.q"), f("input.k"), f("input.v"), f("input.igate_preact"),
                f("input.fgate_preact"), h, B, T, state);
        check("h_recurrent", h, f("output.h_recurrent"), H_TOL);
        checkFinalState("recurrent", state);
    }

    private static void checkFinalState(String form, MLstmState s) {
        check(form + " final_c", s.c, f("output.final_c"), H_TOL);
        check(form + " final_n", s.n, f("output.final_n"), H_TOL);
        check(form + " final_m", s.m, f("output.final_m"), H_TOL);
    }
}
