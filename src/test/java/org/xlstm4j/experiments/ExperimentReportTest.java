package org.xlstm4j.experiments;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xlstm4j.cli.Main;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The report keeps every other part of docs/EXPERIMENTS.md, replaces its own block on rewrite, draws both charts, and
 * the command line runs a single experiment and a tiny resumable grid.
 */
class ExperimentReportTest {
    static ExperimentResult result(String task, String model, int width, double acc, double chance) {
        String[] buckets = task.startsWith("mqar") ? new String[]{"T=64"} : new String[]{"40-63", "64-127", "128-256"};
        double[] a = new double[buckets.length];
        java.util.Arrays.fill(a, acc);
        long[] n = new long[buckets.length];
        java.util.Arrays.fill(n, 10);
        return new ExperimentResult(task, model, 100, 8, 1e-3, width, 1, task.startsWith("mqar"), 1, 1000, 1.5, 0.5, buckets, a, n, acc,
                (acc - chance) / (1 - chance));
    }

    @Test
    void sectionIsReplacedAndOtherSectionsKept(@TempDir Path dir) throws Exception {
        Path doc = dir.resolve("EXPERIMENTS.md"), figs = dir.resolve("figs");
        Files.writeString(doc, "# Experiments\n\n## Tiny Shakespeare\n\nlead's text\n");
        List<ExperimentResult> rs = new ArrayList<>();
        rs.add(result("parity", "xlstm01", 64, 1.0, 0.5));
        rs.add(result("parity", "transformer", 64, 0.5, 0.5));
        rs.add(result("mqar64", "xlstm10", 64, 0.99, 1 / 4096.0));
        List<String> models = ExperimentModels.NAMES;
        ExperimentReport.write(doc, figs, rs, List.of("parity", "even_pairs"), List.of("mqar64"), models, new int[]{64, 128}, "cmd1", "budget1");
        String first = Files.readString(doc);
        assertTrue(first.startsWith("# Experiments\n\n## Tiny Shakespeare\n\nlead's text\n"));
        assertTrue(first.contains("| Parity | R | 1.00 | not run | not run | not run | 0.00 |"), first);
        assertTrue(first.contains("Parity is solved by xLSTM[0:1] (memory mixing) | solved (Fig. 4) | 1.00 | agrees"), first);
        assertTrue(first.contains("Parity is not solved by Transformer (no memory mixing) | fails (Fig. 4, §4.1) | 0.00 | agrees"), first);
        assertTrue(Files.size(figs.resolve(ExperimentReport.HEATMAP)) > 1000);
        assertTrue(Files.size(figs.resolve(ExperimentReport.MQAR_PNG)) > 1000);
        // hand-written notes after the block survive a rewrite; the block itself is replaced
        Files.writeString(doc, first + "\n### Discussion\n\nnotes\n");
        ExperimentReport.write(doc, figs, rs, List.of("parity"), List.of("mqar64"), models, new int[]{64}, "cmd2", "budget2");
        String second = Files.readString(doc);
        assertTrue(second.contains("cmd2") && !second.contains("cmd1"));
        assertTrue(second.endsWith("### Discussion\n\nnotes\n"));
        assertEquals(1, second.split(java.util.regex.Pattern.quote(ExperimentReport.BEGIN), -1).length - 1);
    }

    @Test
    void commandLineRunsOneExperimentAndATinyGrid(@TempDir Path dir) throws Exception {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true));
        try {
            assertEquals(0, Main.run("experiment", "even_pairs", "--model", "lstm", "--steps", "3", "--batch", "4",
                    "--width", "8", "--eval-samples", "8", "--json", dir.resolve("r.jsonl").toString()));
            Path results = dir.resolve("grid.jsonl"), doc = dir.resolve("E.md");
            String[] grid = {"experiment", "table", "--tasks", "parity", "--mqar", "none", "--models", "lstm,transformer",
                    "--steps", "2", "--batch", "4", "--width", "8", "--eval-samples", "8", "--results", results.toString(),
                    "--doc", doc.toString(), "--figures", dir.resolve("f").toString()};
            assertEquals(0, Main.run(grid));
            assertEquals(2, Files.readAllLines(results).size());
            assertEquals(0, Main.run(grid));                                      // resumes: nothing left to run
            assertEquals(2, Files.readAllLines(results).size());
            assertTrue(Files.readString(doc).contains("| Task | level | LSTM | Transformer |"));
            String[] report = java.util.Arrays.copyOf(grid, grid.length + 1);
            report[grid.length] = "--report-only";
            assertEquals(0, Main.run(report));
            assertTrue(Files.readString(doc).contains("./xlstm experiment table --tasks parity --mqar none"), "the grid's command");
            assertFalse(Files.readString(doc).contains("--report-only"));
        } finally {
            System.setOut(old);
        }
        String out = buf.toString();
        assertTrue(out.contains("even_pairs lstm: accuracy"), out);
        assertTrue(out.contains("scaled accuracy"), out);
        assertEquals(1, Files.readAllLines(dir.resolve("r.jsonl")).size());
        assertEquals(2, Main.run("experiment", "parity", "--model", "nope"));    // a user error: one line, exit code 2
    }
}
