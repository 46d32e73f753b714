package org.xlstm4j.cli;

import org.xlstm4j.UserError;
import org.xlstm4j.experiments.ExperimentConfig;
import org.xlstm4j.experiments.ExperimentModels;
import org.xlstm4j.experiments.ExperimentReport;
import org.xlstm4j.experiments.ExperimentResult;
import org.xlstm4j.experiments.ExperimentRunner;
import org.xlstm4j.experiments.tasks.Tasks;
import org.xlstm4j.tensor.CpuKernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code xlstm experiment TASK --model NAME}: trains one model on one of the paper's synthetic tasks (formal languages,
 * MQAR) and prints its test accuracy per length bucket and its scaled accuracy; {@code xlstm experiment table} runs a
 * grid and writes docs/EXPERIMENTS.md and its charts.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
        subcommands = ExperimentCommand.Table.class,
        description = {"Train a model on one of the xLSTM paper's synthetic tasks and report its accuracy on the test lengths.",
                "Tasks: parity, even_pairs, cycle_nav, mod_arith, mod_arith_brackets, solve_equation, majority, majority_count, "
                        + "missing_duplicate, bucket_sort, odds_first, repetition, reverse_string, stack_manipulation, set "
                        + "(train lengths 3-40, test 40-256); mqar64, mqar128, mqar256 (MQAR experiment 1: T=64/128/256, K=T/16, V=8192).",
                "Models: xlstm01 = xLSTM[0:1] (2 sLSTM blocks), xlstm10 = xLSTM[1:0] (2 mLSTM blocks), xlstm11 = xLSTM[1:1] "
                        + "(mLSTM then sLSTM), lstm = 2-layer LSTM, transformer = 2-block Llama-style Transformer.",
                "'xlstm experiment table' runs the grid of all five models and writes docs/EXPERIMENTS.md."})
public final class ExperimentCommand implements Callable<Integer> {
    @Parameters(index = "0", arity = "0..1", paramLabel = "TASK", description = "task name (see above)") String task;
    @Option(names = "--model", paramLabel = "NAME", description = "xlstm01, xlstm10, xlstm11, lstm or transformer") String model;
    @Option(names = "--steps", description = "optimizer updates (default ${DEFAULT-VALUE})") int steps = ExperimentConfig.DEFAULT_STEPS;
    @Option(names = "--batch", description = "sequences per update (default ${DEFAULT-VALUE})") int batch = ExperimentConfig.DEFAULT_BATCH;
    @Option(names = "--lr", description = "peak learning rate (default ${DEFAULT-VALUE})") double lr = ExperimentConfig.DEFAULT_LR;
    @Option(names = "--width", description = "embedding / hidden width (default ${DEFAULT-VALUE})") int width = ExperimentConfig.DEFAULT_WIDTH;
    @Option(names = "--heads", description = "heads of mLSTM, sLSTM and attention (default ${DEFAULT-VALUE})") int heads = ExperimentConfig.DEFAULT_HEADS;
    @Option(names = "--tie-weights", arity = "1", paramLabel = "BOOL", description = "head = embedding table (default: true for MQAR, false otherwise)") Boolean tieWeights;
    @Option(names = "--seed", description = "seed of the initialisation and of the samples (default ${DEFAULT-VALUE})") long seed = 1;
    @Option(names = "--threads", description = "worker threads (default 1)") int threads = 1;
    @Option(names = "--eval-samples", description = "test samples (default ${DEFAULT-VALUE})") int evalSamples = ExperimentConfig.DEFAULT_EVAL_SAMPLES;
    @Option(names = "--group", description = "sequences per forward pass; a batch is split into length groups (default ${DEFAULT-VALUE})") int group = ExperimentConfig.DEFAULT_GROUP;
    @Option(names = "--log-interval", description = "steps between progress lines (default ${DEFAULT-VALUE})") int logInterval = 100;
    @Option(names = "--json", paramLabel = "FILE", description = "append the result as one JSON line to FILE") Path json;
    @Spec CommandSpec spec;

    @Override public Integer call() throws Exception {
        if (task == null) {
            if (spec.commandLine().getParseResult().expandedArgs().isEmpty()) {   // plain `xlstm experiment`: the usage
                spec.commandLine().usage(System.out);
                return 0;
            }
            throw new UserError("give a TASK, e.g. xlstm experiment parity --model " + (model != null ? model : "xlstm10")
                    + " (xlstm experiment --help lists the tasks)");
        }
        if (model == null) throw new UserError("--model is required: " + String.join(", ", ExperimentModels.NAMES));
        Tasks.create(task);
        ExperimentModels.label(model);
        ExperimentConfig c = ExperimentConfig.defaults(task, model).steps(steps).batch(batch).lr(lr).width(width)
                .heads(heads).seed(seed).evalSamples(evalSamples).groupSize(group).logInterval(logInterval);
        if (tieWeights != null) c.tieWeights(tieWeights);
        try (CpuKernels kernels = new CpuKernels(threads)) {
            ExperimentResult r = ExperimentRunner.run(c, kernels, System.out);
            if (json != null) append(json, r);
        }
        return 0;
    }

    static void append(Path file, ExperimentResult r) throws java.io.IOException {
        if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, r.toJson() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** {@code xlstm experiment table}: the grid of tasks × models (and MQAR × widths), then docs/EXPERIMENTS.md. */
    @Command(name = "table", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Run every model on the formal-language tasks and MQAR experiment 1, one cell after the other "
                    + "(cells already in the results file are skipped, so an interrupted grid resumes), then write the "
                    + "synthetic-task section of the doc (other sections are kept) and the charts."})
    public static final class Table implements Callable<Integer> {
        @Option(names = "--tasks", split = ",", description = "formal-language tasks (default: the 10 of the paper's Figure 4)")
        List<String> tasks = new ArrayList<>(Tasks.FIGURE4);
        @Option(names = "--mqar", split = ",", description = "MQAR settings (default mqar64,mqar128,mqar256; 'none' skips MQAR)")
        List<String> mqar = new ArrayList<>(Tasks.MQAR);
        @Option(names = "--models", split = ",", description = "models (default: all five)") List<String> models = new ArrayList<>(ExperimentModels.NAMES);
        @Option(names = "--widths", split = ",", description = "MQAR widths (default 64,128)") int[] widths = {64, 128};
        @Option(names = "--steps", description = "updates per formal-language cell (default ${DEFAULT-VALUE})") int steps = 800;
        @Option(names = "--batch", description = "batch per formal-language update (default ${DEFAULT-VALUE})") int batch = ExperimentConfig.DEFAULT_BATCH;
        @Option(names = "--lr", description = "peak learning rate of formal-language cells (default ${DEFAULT-VALUE})") double lr = ExperimentConfig.DEFAULT_LR;
        @Option(names = "--width", description = "width of formal-language cells (default ${DEFAULT-VALUE})") int width = ExperimentConfig.DEFAULT_WIDTH;
        @Option(names = "--mqar-steps", description = "updates per MQAR cell (default ${DEFAULT-VALUE})") int mqarSteps = 400;
        @Option(names = "--mqar-batch", description = "batch per MQAR update (default ${DEFAULT-VALUE})") int mqarBatch = 8;
        @Option(names = "--mqar-lr", description = "peak learning rate of MQAR cells (default ${DEFAULT-VALUE})") double mqarLr = 3e-3;
        @Option(names = "--eval-samples", description = "test samples per formal cell (default ${DEFAULT-VALUE})") int evalSamples = 256;
        @Option(names = "--mqar-eval-samples", description = "test samples per MQAR cell (default ${DEFAULT-VALUE})") int mqarEvalSamples = 256;
        @Option(names = "--heads", description = "heads (default ${DEFAULT-VALUE})") int heads = ExperimentConfig.DEFAULT_HEADS;
        @Option(names = "--seed", description = "seed (default ${DEFAULT-VALUE})") long seed = 1;
        @Option(names = "--threads", description = "worker threads (default 1)") int threads = 1;
        @Option(names = "--results", description = "results file, one JSON line per cell (default ${DEFAULT-VALUE})")
        Path results = Path.of("docs/experiments/results.jsonl");
        @Option(names = "--doc", description = "markdown file to update (default ${DEFAULT-VALUE})") Path doc = Path.of("docs/EXPERIMENTS.md");
        @Option(names = "--figures", description = "folder of the charts (default ${DEFAULT-VALUE})") Path figures = Path.of("docs/experiments");
        @Option(names = "--report-only", description = "only rewrite the doc and charts from the results file") boolean reportOnly;
        @Spec CommandSpec spec;

        @Override public Integer call() throws Exception {
            if (mqar.size() == 1 && mqar.get(0).equals("none")) mqar = List.of();
            for (String t : tasks) Tasks.create(t);
            for (String t : mqar) if (!Tasks.MQAR.contains(t)) throw new UserError("not an MQAR setting: " + t);
            for (String m : models) ExperimentModels.label(m);
            List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
            args.remove("--report-only");                           // the doc names the command that ran the grid
            String command = "./xlstm " + String.join(" ", args);
            if (!reportOnly) runGrid();
            List<ExperimentResult> all = ExperimentReport.read(results);
            double seconds = all.stream().mapToDouble(ExperimentResult::trainSeconds).sum();
            String budget = String.format(Locale.ROOT, "Budget: %d updates of batch %d per formal-language cell (width %d, lr %.3g), "
                            + "%d updates of batch %d per MQAR cell (lr %.3g), seed %d, one thread; %d cells in %s, %.0f min of training in all. "
                            + "The paper trains 100k updates of batch 256 (formal languages) and 64 epochs of 100k samples (MQAR), "
                            + "and reports the best of several learning rates and 2 seeds.",
                    steps, batch, width, lr, mqarSteps, mqarBatch, mqarLr, seed, all.size(), results, seconds / 60);
            ExperimentReport.write(doc, figures, all, tasks, mqar, models, widths, command, budget);
            System.out.println("wrote " + doc + ", " + figures.resolve(ExperimentReport.HEATMAP) + ", " + figures.resolve(ExperimentReport.MQAR_PNG));
            return 0;
        }

        private void runGrid() throws Exception {
            List<String> done = new ArrayList<>();
            for (ExperimentResult r : ExperimentReport.read(results)) done.add(ExperimentReport.cellKey(r.task(), r.model(), r.width()));
            List<ExperimentConfig> cells = new ArrayList<>();
            for (String t : tasks)
                for (String m : models)
                    cells.add(ExperimentConfig.defaults(t, m).steps(steps).batch(batch).lr(lr).width(width)
                            .heads(heads).seed(seed).evalSamples(evalSamples).logInterval(Math.max(1, steps / 5)));
            for (String t : mqar)
                for (int w : widths)
                    for (String m : models)
                        cells.add(ExperimentConfig.defaults(t, m).steps(mqarSteps).batch(mqarBatch).lr(mqarLr).width(w)
                                .heads(heads).seed(seed).evalSamples(mqarEvalSamples).logInterval(Math.max(1, mqarSteps / 5)));
            int i = 0;
            try (CpuKernels kernels = new CpuKernels(threads)) {
                for (ExperimentConfig c : cells) {
                    i++;
                    if (done.contains(ExperimentReport.cellKey(c.task, c.model, c.width))) continue;
                    System.out.printf(Locale.ROOT, "=== cell %d/%d: %s %s width %d%n", i, cells.size(), c.task, c.model, c.width);
                    ExperimentResult r = ExperimentRunner.run(c, kernels, System.out);
                    append(results, r);
                    System.out.flush();
                }
            }
        }
    }
}
