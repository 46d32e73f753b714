package org.xlstm4j.train;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.xlstm4j.io.AtomicFiles;

import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Path;

/** {@code loss.png}: training and validation loss against step, drawn headless with JFreeChart. */
public final class LossChart {
    /** File name inside a run folder. */
    public static final String FILE = "loss.png";

    private LossChart() {}

    /** Draws the curves of {@code log} into {@code png} (atomically: a reader never sees a partial image). */
    public static void write(Path png, MetricsLog log, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(series("train", log.train));
        data.addSeries(series("validation", log.val));
        JFreeChart chart = ChartFactory.createXYLineChart(title, "step", "loss (nats/token)", data,
                PlotOrientation.VERTICAL, true, false, false);
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(false);
        AtomicFiles.write(png, out -> ChartUtils.writeChartAsPNG(Channels.newOutputStream(out), chart, 900, 540));
    }

    private static XYSeries series(String name, MetricsLog.Series s) {
        XYSeries out = new XYSeries(name, false, true);
        for (int i = 0; i < s.n; i++) out.add(s.x[i], s.y[i]);
        return out;
    }
}
