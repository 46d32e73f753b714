package org.xlstm4j.experiments;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedRangeXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.xlstm4j.io.AtomicFiles;

import java.awt.Color;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.file.Path;

/**
 * MQAR accuracy against model width, one panel per (T, K) setting and one line per model, in the manner of the paper's
 * Figure 5 / 14. Drawn headless with JFreeChart.
 */
public final class MqarChart {
    private MqarChart() {}

    /** acc[p][m][w] = accuracy of model m at width widths[w] in panel p (NaN = not run). */
    public static void write(Path png, String title, String[] panels, String[] models, int[] widths, double[][][] acc)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        NumberAxis y = new NumberAxis("accuracy");
        y.setRange(0, 1.02);
        CombinedRangeXYPlot combined = new CombinedRangeXYPlot(y);
        Color[] colours = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
                new Color(0x8c564b), new Color(0xe377c2)};
        for (int p = 0; p < panels.length; p++) {
            XYSeriesCollection data = new XYSeriesCollection();
            for (int m = 0; m < models.length; m++) {
                XYSeries s = new XYSeries(models[m]);
                for (int w = 0; w < widths.length; w++) if (!Double.isNaN(acc[p][m][w])) s.add(widths[w], acc[p][m][w]);
                data.addSeries(s);
            }
            LogAxis x = new LogAxis(panels[p] + " — model width");
            x.setBase(2);
            x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            x.setNumberFormatOverride(new java.text.DecimalFormat("0"));     // 64, 128 rather than 2^6, 2^7
            x.setRange(widths[0] / 1.4, widths[widths.length - 1] * 1.4);
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, true);
            for (int m = 0; m < models.length; m++) r.setSeriesPaint(m, colours[m % colours.length]);
            if (p > 0) r.setDefaultSeriesVisibleInLegend(false);
            XYPlot plot = new XYPlot(data, x, null, r);
            plot.setBackgroundPaint(Color.WHITE);
            plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
            plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
            combined.add(plot, 1);
        }
        JFreeChart chart = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, combined, true);
        chart.setBackgroundPaint(Color.WHITE);
        AtomicFiles.write(png, out -> ChartUtils.writeChartAsPNG(Channels.newOutputStream(out), chart, 360 * panels.length + 80, 480));
    }
}
