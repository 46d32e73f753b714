package org.xlstm4j.experiments;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.annotations.XYTextAnnotation;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.LookupPaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;
import org.xlstm4j.io.AtomicFiles;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A tasks × models heat map of scaled accuracy in the manner of the paper's Figure 4: one cell per (task, model),
 * coloured from red (0 = chance, or below) through yellow to green (1 = perfect), with the value printed in the cell;
 * missing cells stay grey. Drawn headless with JFreeChart.
 */
public final class HeatMapChart {
    private HeatMapChart() {}

    /** values[m][t] = scaled accuracy of model m on task t (NaN = not run). */
    public static void write(Path png, String title, String[] tasks, String[] models, double[][] values) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DefaultXYZDataset data = new DefaultXYZDataset();
        int n = tasks.length * models.length;
        double[][] series = new double[3][n];
        int k = 0;
        for (int m = 0; m < models.length; m++)
            for (int t = 0; t < tasks.length; t++, k++) {
                series[0][k] = t;
                series[1][k] = models.length - 1 - m;           // first model on top
                series[2][k] = values[m][t];
            }
        data.addSeries("scaled accuracy", series);
        String[] rows = new String[models.length];
        for (int m = 0; m < models.length; m++) rows[m] = models[models.length - 1 - m];
        SymbolAxis x = new SymbolAxis(null, tasks);
        x.setVerticalTickLabels(true);
        x.setGridBandsVisible(false);
        SymbolAxis y = new SymbolAxis(null, rows);
        y.setGridBandsVisible(false);
        XYBlockRenderer renderer = new XYBlockRenderer();
        LookupPaintScale scale = new LookupPaintScale(-1e9, 1e9, Color.LIGHT_GRAY);
        scale.add(-1e9, new Color(0xd7, 0x30, 0x27));
        for (int i = 0; i <= 20; i++) scale.add(i / 20.0, ramp(i / 20.0));
        renderer.setPaintScale(scale);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.LIGHT_GRAY);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        Font font = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
        k = 0;
        for (int m = 0; m < models.length; m++)
            for (int t = 0; t < tasks.length; t++, k++) {
                double v = values[m][t];
                XYTextAnnotation a = new XYTextAnnotation(Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2f", v),
                        t, models.length - 1 - m);
                a.setFont(font);
                a.setTextAnchor(TextAnchor.CENTER);
                plot.addAnnotation(a);
            }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        AtomicFiles.write(png, out -> ChartUtils.writeChartAsPNG(Channels.newOutputStream(out), chart,
                160 + 90 * tasks.length, 260 + 55 * models.length));
    }

    /** Red → yellow → green for 0 → 0.5 → 1. */
    static Color ramp(double v) {
        Color lo = new Color(0xd7, 0x30, 0x27), mid = new Color(0xfe, 0xe0, 0x8b), hi = new Color(0x1a, 0x98, 0x50);
        double f = Math.max(0, Math.min(1, v));
        Color a = f < 0.5 ? lo : mid, b = f < 0.5 ? mid : hi;
        double u = f < 0.5 ? f * 2 : (f - 0.5) * 2;
        return new Color((int) Math.round(a.getRed() + u * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + u * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + u * (b.getBlue() - a.getBlue())));
    }
}
