package org.kmemlab.analysis.chart;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.kmemlab.analysis.NamedParams;
import org.kmemlab.analysis.TraceDb;

/**
 * Renders a {@link ChartSpec} with JFreeChart: runs its SQL in the session, then draws one consistent
 * style (white plot, light grid, legend below, the {@link #PALETTE} in series order, "total" in near-black)
 * to PNG or to SVG for inline use in the report. SVG lines are drawn as one path per series, which keeps
 * the files small (stack-notes.md: 1.9 MB against 237 KB).
 */
public final class Charts {
    private Charts() {}

    public static final int WIDTH = 900, HEIGHT = 440;

    /** Tableau 10: distinguishable, colour-blind tolerant; the report's CSS uses the same colours. */
    public static final Color[] PALETTE = {
        new Color(0x4E79A7), new Color(0xF28E2B), new Color(0xE15759), new Color(0x76B7B2), new Color(0x59A14F),
        new Color(0xEDC948), new Color(0xB07AA1), new Color(0xFF9DA7), new Color(0x9C755F), new Color(0xBAB0AC)};
    public static final Color TOTAL = new Color(0x222222);

    /** The rows of a chart's query, in arrival order. */
    public record Point(Object x, String series, double y) {}

    public static List<Point> query(TraceDb db, String sql, Map<String, ?> params) throws SQLException {
        NamedParams.Bound b = NamedParams.bind(sql, params);
        List<Point> out = new ArrayList<>();
        try (PreparedStatement ps = db.prepare(b.sql(), b.params()); ResultSet rs = ps.executeQuery()) {
            if (rs.getMetaData().getColumnCount() < 3) throw new SQLException("a chart query returns x, series, y");
            while (rs.next()) {
                Object x = rs.getObject(1);
                out.add(new Point(x, String.valueOf(rs.getObject(2)), rs.getDouble(3)));
            }
        }
        return out;
    }

    public static JFreeChart build(ChartSpec spec, TraceDb db, Map<String, ?> params) throws SQLException {
        return build(spec, query(db, spec.sql(), params));
    }

    /** 1024-based unit for the largest value, so that axes read "Live bytes (MiB)" with small numbers. */
    static String[] byteUnit(double max) {
        String[] u = {"B", "KiB", "MiB", "GiB", "TiB"};
        int i = 0;
        double scale = 1;
        while (i < u.length - 1 && max >= 1024 * scale) { scale *= 1024; i++; }
        return new String[] {u[i], Double.toString(scale)};
    }

    public static JFreeChart build(ChartSpec spec, List<Point> pts) {
        double max = 0;
        for (Point p : pts) max = Math.max(max, Math.abs(p.y()));
        double scale = 1;
        String yLabel = spec.yLabel();
        if (spec.yUnit() == ChartSpec.Unit.BYTES) {
            String[] u = byteUnit(max);
            scale = Double.parseDouble(u[1]);
            yLabel = yLabel + " (" + u[0] + ")";
        }
        Map<String, Integer> seriesIndex = new LinkedHashMap<>();
        for (Point p : pts) seriesIndex.putIfAbsent(p.series(), seriesIndex.size());
        JFreeChart chart;
        if (spec.kind() == ChartSpec.Kind.LINE) {
            XYSeriesCollection ds = new XYSeriesCollection();
            Map<String, XYSeries> ser = new LinkedHashMap<>();
            for (String s : seriesIndex.keySet()) {
                XYSeries xs = new XYSeries(s, true, true);
                ser.put(s, xs);
                ds.addSeries(xs);
            }
            for (Point p : pts) ser.get(p.series()).addOrUpdate(((Number) p.x()).doubleValue(), p.y() / scale);
            chart = ChartFactory.createXYLineChart(spec.title(), spec.xLabel(), yLabel, ds, PlotOrientation.VERTICAL, true, false, false);
            XYPlot plot = chart.getXYPlot();
            XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
            r.setDrawSeriesLineAsPath(true);
            int i = 0;
            for (String s : seriesIndex.keySet()) {
                boolean total = s.equals("total");
                r.setSeriesPaint(i, total ? TOTAL : PALETTE[colourIndex(seriesIndex, s) % PALETTE.length]);
                r.setSeriesStroke(i, new BasicStroke(total ? 2.4f : 1.6f));
                i++;
            }
            plot.setRenderer(r);
            style(plot.getRangeAxis(), spec.yUnit());
            ((NumberAxis) plot.getDomainAxis()).setAutoRangeIncludesZero(true);
            ((NumberAxis) plot.getDomainAxis()).setNumberFormatOverride(new DecimalFormat("#,##0.###"));
            // total first and underneath, so that the caches it sums stay visible on top of it
            plot.setSeriesRenderingOrder(org.jfree.chart.plot.SeriesRenderingOrder.FORWARD);
            plot.setBackgroundPaint(Color.WHITE);
            plot.setDomainGridlinePaint(new Color(0xDDDDDD));
            plot.setRangeGridlinePaint(new Color(0xDDDDDD));
            plot.setNoDataMessage("No data in this trace");
        } else {
            DefaultCategoryDataset ds = new DefaultCategoryDataset();
            for (Point p : pts) ds.addValue(p.y() / scale, p.series(), String.valueOf(p.x()));
            chart = spec.kind() == ChartSpec.Kind.STACKED_BAR
                    ? ChartFactory.createStackedBarChart(spec.title(), spec.xLabel(), yLabel, ds, PlotOrientation.VERTICAL, true, false, false)
                    : ChartFactory.createBarChart(spec.title(), spec.xLabel(), yLabel, ds, PlotOrientation.VERTICAL, true, false, false);
            CategoryPlot plot = chart.getCategoryPlot();
            BarRenderer r = (BarRenderer) plot.getRenderer();
            r.setBarPainter(new StandardBarPainter());
            r.setShadowVisible(false);
            r.setItemMargin(0.02);
            for (String s : seriesIndex.keySet()) {
                r.setSeriesPaint(ds.getRowIndex(s), PALETTE[colourIndex(seriesIndex, s) % PALETTE.length]);
            }
            style(plot.getRangeAxis(), spec.yUnit());
            CategoryAxis ca = plot.getDomainAxis();
            if (ds.getColumnCount() > 8) ca.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
            // labels such as "10 ms–100 ms" must not be cut to "10 ms–1..."
            ca.setMaximumCategoryLabelWidthRatio(1.6f);
            plot.setBackgroundPaint(Color.WHITE);
            plot.setRangeGridlinePaint(new Color(0xDDDDDD));
            plot.setNoDataMessage("No data in this trace");
        }
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font("SansSerif", Font.BOLD, 16));
        LegendTitle lt = chart.getLegend();
        if (lt != null) {
            lt.setPosition(RectangleEdge.BOTTOM);
            lt.setFrame(org.jfree.chart.block.BlockBorder.NONE);
        }
        return chart;
    }

    /** Series keep their colour across charts when their name repeats; "total" is not in the palette. */
    private static int colourIndex(Map<String, Integer> idx, String s) {
        int i = idx.get(s);
        return idx.containsKey("total") && idx.get("total") < i ? i - 1 : i;
    }

    private static void style(org.jfree.chart.axis.ValueAxis a, ChartSpec.Unit unit) {
        if (a instanceof NumberAxis na) {
            na.setNumberFormatOverride(new DecimalFormat("#,##0.##"));
            na.setAutoRangeIncludesZero(true);
        }
    }

    public static void writePng(JFreeChart chart, Path out) throws IOException {
        ChartUtils.saveChartAsPNG(out.toFile(), chart, WIDTH, HEIGHT);
    }

    /** An {@code <svg>} element; {@code idPrefix} keeps clip-path ids unique when several charts share a page. */
    public static String svg(JFreeChart chart, String idPrefix) {
        return svg(chart, idPrefix, WIDTH, HEIGHT);
    }

    /** An {@code <svg>} element of the given size in pixels. */
    public static String svg(JFreeChart chart, String idPrefix, int width, int height) {
        SVGGraphics2D g2 = new SVGGraphics2D(width, height);
        g2.setDefsKeyPrefix(idPrefix);
        chart.draw(g2, new Rectangle2D.Double(0, 0, width, height));
        return g2.getSVGElement(idPrefix + "svg", true, new org.jfree.svg.ViewBox(0, 0, width, height), null, null);
    }

    /** PNG bytes of the given size in pixels. */
    public static byte[] png(JFreeChart chart, int width, int height) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(out, chart, width, height);
        return out.toByteArray();
    }

    /** A bucket width giving about {@code buckets} points over the trace's span, at least 1 µs. */
    public static long bucketNs(TraceDb db, int buckets) throws SQLException {
        try (ResultSet rs = db.query("SELECT coalesce(max(ts_ns) - min(ts_ns), 0) FROM events")) {
            rs.next();
            return Math.max(1_000, rs.getLong(1) / Math.max(1, buckets) + 1);
        }
    }
}
