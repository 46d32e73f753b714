package org.xlstm4j.experiments;

import org.xlstm4j.experiments.tasks.Task;
import org.xlstm4j.experiments.tasks.Tasks;
import org.xlstm4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the result lines of {@code xlstm experiment table} into the synthetic-task section of docs/EXPERIMENTS.md (a
 * scaled-accuracy table of tasks × models, per-bucket accuracies, MQAR accuracies by width, and rule-based checks of the
 * paper's claims) plus two charts. Only the text between {@link #BEGIN} and {@link #END} is replaced; every other part
 * of the file (other sections, hand-written discussion) is kept. Without the markers, the section is appended.
 */
public final class ExperimentReport {
    public static final String BEGIN = "<!-- synthetic-tasks:generated:begin (written by `xlstm experiment table`; edits here are overwritten) -->";
    public static final String END = "<!-- synthetic-tasks:generated:end -->";
    public static final String HEATMAP = "formal-languages.png", MQAR_PNG = "mqar.png";

    private ExperimentReport() {}

    /** Reads a results file (one JSON line per run; later lines replace earlier ones of the same cell). */
    public static List<ExperimentResult> read(Path results) throws IOException {
        Map<String, ExperimentResult> byCell = new LinkedHashMap<>();
        if (!Files.exists(results)) return new ArrayList<>();
        for (String line : Files.readAllLines(results)) {
            if (line.isBlank()) continue;
            ExperimentResult r = ExperimentResult.fromJson(line);
            byCell.put(cellKey(r.task(), r.model(), r.width()), r);
        }
        return new ArrayList<>(byCell.values());
    }

    /** The key of a grid cell: task, model and width. */
    public static String cellKey(String task, String model, int width) { return task + "|" + model + "|" + width; }

    /**
     * Writes the generated section into {@code doc} and the charts next to it (in {@code figures}), describing the grid
     * made by {@code commandLine}.
     */
    public static void write(Path doc, Path figures, List<ExperimentResult> results, List<String> formalTasks,
                             List<String> mqarTasks, List<String> models, int[] widths, String commandLine,
                             String budget) throws IOException {
        Files.createDirectories(figures);
        Map<String, ExperimentResult> cell = new LinkedHashMap<>();
        for (ExperimentResult r : results) cell.put(cellKey(r.task(), r.model(), r.width()), r);
        int formalWidth = results.stream().filter(r -> !r.task().startsWith("mqar")).mapToInt(ExperimentResult::width)
                .findFirst().orElse(ExperimentConfig.DEFAULT_WIDTH);
        Path rel = doc.toAbsolutePath().getParent().relativize(figures.toAbsolutePath());
        StringBuilder md = new StringBuilder();
        md.append(BEGIN).append("\n\n");
        md.append("Command (the grid is resumable: cells already in the results file are skipped):\n\n```bash\n")
                .append(commandLine).append("\n```\n\n").append(budget).append("\n\n");

        // ---------------------------------------------------------------- formal languages
        md.append("### Formal languages: scaled accuracy on test lengths 40–256 (trained on 3–40)\n\n");
        md.append("Scaled accuracy = (acc − chance)/(1 − chance) over all answer tokens of ")
                .append("the test set (0 = chance, 1 = perfect); width ").append(formalWidth).append(".\n\n");
        String[] labels = models.stream().map(ExperimentModels::label).toArray(String[]::new);
        md.append("| Task | level |");
        for (String l : labels) md.append(' ').append(l).append(" |");
        md.append("\n|---|---|").append("---:|".repeat(labels.length)).append('\n');
        double[][] heat = new double[models.size()][formalTasks.size()];
        String[] taskTitles = new String[formalTasks.size()];
        for (int t = 0; t < formalTasks.size(); t++) {
            Task task = Tasks.create(formalTasks.get(t));
            taskTitles[t] = task.title();
            md.append("| ").append(task.title()).append(" | ").append(task.level()).append(" |");
            for (int m = 0; m < models.size(); m++) {
                ExperimentResult r = cell.get(cellKey(task.name(), models.get(m), formalWidth));
                heat[m][t] = r == null ? Double.NaN : r.scaledAccuracy();
                md.append(' ').append(r == null ? "not run" : fmt(r.scaledAccuracy())).append(" |");
            }
            md.append('\n');
        }
        md.append("\nPer length bucket (scaled accuracy 40–63 / 64–127 / 128–256), training seconds on one thread:\n\n");
        md.append("| Task | Model | 40–63 | 64–127 | 128–256 | all | train s | final train loss |\n|---|---|---:|---:|---:|---:|---:|---:|\n");
        for (String tn : formalTasks)
            for (String mn : models) {
                ExperimentResult r = cell.get(cellKey(tn, mn, formalWidth));
                if (r == null) continue;
                Task task = Tasks.create(tn);
                md.append("| ").append(task.title()).append(" | ").append(ExperimentModels.label(mn)).append(" |");
                for (int b = 0; b < r.buckets().length; b++)
                    md.append(' ').append(fmt(Task.scaled(r.bucketAccuracy()[b], task.chance()))).append(" |");
                md.append(' ').append(fmt(r.scaledAccuracy())).append(" | ").append(String.format(Locale.ROOT, "%.0f", r.trainSeconds()))
                        .append(" | ").append(String.format(Locale.ROOT, "%.3f", r.finalLoss())).append(" |\n");
            }
        if (!formalTasks.isEmpty()) {
            HeatMapChart.write(figures.resolve(HEATMAP), "Scaled accuracy, test lengths 40-256 (xlstm4j)", taskTitles, labels, heat);
            md.append("\n![scaled accuracy heat map](").append(rel.resolve(HEATMAP).toString().replace('\\', '/')).append(")\n\n");
        }

        // ---------------------------------------------------------------- MQAR
        if (!mqarTasks.isEmpty()) {
            md.append("### MQAR experiment 1: accuracy on the query tokens (V = 8192)\n\n");
            md.append("| Model | width |");
            for (String tn : mqarTasks) md.append(' ').append(Tasks.create(tn).title()).append(" |");
            md.append("\n|---|---:|").append("---:|".repeat(mqarTasks.size())).append('\n');
            double[][][] acc = new double[mqarTasks.size()][models.size()][widths.length];
            for (int m = 0; m < models.size(); m++)
                for (int w = 0; w < widths.length; w++) {
                    md.append("| ").append(labels[m]).append(" | ").append(widths[w]).append(" |");
                    for (int p = 0; p < mqarTasks.size(); p++) {
                        ExperimentResult r = cell.get(cellKey(mqarTasks.get(p), models.get(m), widths[w]));
                        acc[p][m][w] = r == null ? Double.NaN : r.accuracy();
                        md.append(' ').append(r == null ? "not run" : fmt(r.accuracy())).append(" |");
                    }
                    md.append('\n');
                }
            String[] panels = mqarTasks.stream().map(tn -> Tasks.create(tn).title()).toArray(String[]::new);
            MqarChart.write(figures.resolve(MQAR_PNG), "MQAR accuracy vs width (xlstm4j)", panels, labels, widths, acc);
            md.append("\n![MQAR accuracy against width](").append(rel.resolve(MQAR_PNG).toString().replace('\\', '/')).append(")\n\n");
        }

        md.append("### The paper's claims, checked against these numbers\n\n");
        md.append(ClaimChecks.markdown(cell, formalWidth, widths)).append('\n');
        md.append(END);
        replaceSection(doc, md.toString());
    }

    static String fmt(double v) { return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v); }

    /** Replaces the generated block of {@code doc} (or appends a new section holding it), keeping everything else. */
    static void replaceSection(Path doc, String block) throws IOException {
        String text = Files.exists(doc) ? Files.readString(doc) : "# Experiments\n";
        int b = text.indexOf(BEGIN), e = text.indexOf(END);
        String out;
        if (b >= 0 && e > b) {
            out = text.substring(0, b) + block + text.substring(e + END.length());
        } else {
            out = (text.endsWith("\n") ? text : text + "\n") + "\n## Formal languages and associative recall (paper §4.1, appendix B.1)\n\n"
                    + block + "\n";
        }
        AtomicFiles.writeString(doc, out);
    }
}
