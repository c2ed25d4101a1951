package org.kmemlab.cli.notebook;

import java.awt.Color;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.kmemlab.analysis.NamedParams;
import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.chart.ChartSpec;
import org.kmemlab.analysis.chart.Charts;
import org.kmemlab.trace.InputError;

/**
 * A {@code chart} cell: {@code key: value} option lines, then the query. The query returns
 * {@code x, series, y} like the report's charts (ChartSpec), or just {@code x, y} for one series named
 * after the y column. {@code :bucket_ns} (about 200 buckets over the trace) and {@code :top_n} (8) are
 * bound as in {@code kmemlab report --chart-sql}, so a report chart's query can be pasted as it is.
 */
record ChartCell(String title, ChartSpec.Kind kind, String xLabel, String yLabel, ChartSpec.Unit unit,
                 boolean logX, boolean logY, int width, int height, String sql) {
    static final Pattern OPTION = Pattern.compile("^\\s*([A-Za-z][A-Za-z_-]*)\\s*:\\s*(.*?)\\s*$");
    static final List<String> KEYS = List.of("title", "kind", "x", "y", "unit", "log", "size");

    /** Parses the options; a bad one is an InputError naming the notebook line. */
    static ChartCell parse(Notebook.Cell cell, Path file) {
        String[] lines = cell.body().split("\n", -1);
        Map<String, String> o = new HashMap<>();
        int i = 0;
        for (; i < lines.length; i++) {
            if (lines[i].isBlank()) continue;
            Matcher m = OPTION.matcher(lines[i]);
            // "x: label" is an option; "SELECT ..." or "-- comment" is where the query starts
            if (!m.matches() || lines[i].strip().startsWith("--")) break;
            String k = m.group(1).toLowerCase(Locale.ROOT);
            if (!KEYS.contains(k)) {
                throw InputError.atLine(file, cell.bodyLine() + i, "unknown chart option '" + k + "' (options: " + String.join(", ", KEYS) + ")");
            }
            if (o.put(k, m.group(2)) != null) throw InputError.atLine(file, cell.bodyLine() + i, "chart option '" + k + "' given twice");
        }
        int sqlStart = i;
        String sql = String.join("\n", java.util.Arrays.asList(lines).subList(sqlStart, lines.length)).strip();
        int line = cell.bodyLine();
        if (sql.isEmpty()) throw InputError.atLine(file, cell.line(), "a chart cell needs a query after its options");
        ChartSpec.Kind kind;
        String k = o.getOrDefault("kind", "line").toLowerCase(Locale.ROOT).replace('-', '_');
        try {
            kind = ChartSpec.Kind.valueOf(k.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw InputError.atLine(file, optionLine(lines, "kind", line), "kind must be line, bar or stacked-bar, not '" + o.get("kind") + "'");
        }
        ChartSpec.Unit unit;
        try {
            unit = ChartSpec.Unit.valueOf(o.getOrDefault("unit", "count").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw InputError.atLine(file, optionLine(lines, "unit", line), "unit must be count or bytes, not '" + o.get("unit") + "'");
        }
        String log = o.getOrDefault("log", "none").toLowerCase(Locale.ROOT);
        if (!List.of("none", "x", "y", "xy").contains(log)) {
            throw InputError.atLine(file, optionLine(lines, "log", line), "log must be x, y, xy or none, not '" + log + "'");
        }
        if (log.contains("x") && kind != ChartSpec.Kind.LINE) {
            throw InputError.atLine(file, optionLine(lines, "log", line), "a log x axis needs kind: line (bars have categories on x)");
        }
        int w = Charts.WIDTH, h = Charts.HEIGHT;
        if (o.containsKey("size")) {
            Matcher m = Pattern.compile("(\\d{2,4})\\s*[xX×]\\s*(\\d{2,4})").matcher(o.get("size"));
            if (!m.matches() || Integer.parseInt(m.group(1)) < 200 || Integer.parseInt(m.group(2)) < 150) {
                throw InputError.atLine(file, optionLine(lines, "size", line), "size is WIDTHxHEIGHT in pixels, at least 200x150, not '" + o.get("size") + "'");
            }
            w = Integer.parseInt(m.group(1));
            h = Integer.parseInt(m.group(2));
        }
        return new ChartCell(o.getOrDefault("title", ""), kind, o.getOrDefault("x", "x"), o.getOrDefault("y", "y"), unit,
                log.contains("x"), log.contains("y"), w, h, sql);
    }

    private static int optionLine(String[] lines, String key, int bodyLine) {
        for (int i = 0; i < lines.length; i++) {
            Matcher m = OPTION.matcher(lines[i]);
            if (m.matches() && m.group(1).equalsIgnoreCase(key)) return bodyLine + i;
        }
        return bodyLine;
    }

    /** Runs the query and draws the chart; {@code id} keeps the SVG's ids unique on the page. */
    Output.Image render(TraceDb db, String id) throws SQLException, java.io.IOException {
        Map<String, Object> params = new HashMap<>();
        if (sql.contains(":bucket_ns")) params.put("bucket_ns", Charts.bucketNs(db, 200));
        params.put("top_n", 8);
        NamedParams.Bound b;
        try {
            b = NamedParams.bind(sql, params);
        } catch (IllegalArgumentException e) {
            throw new SQLException(e.getMessage() + " (a chart binds only :bucket_ns and :top_n)");
        }
        List<Charts.Point> pts = new ArrayList<>();
        int dropped = 0;
        try (PreparedStatement ps = db.prepare(b.sql(), b.params()); ResultSet rs = ps.executeQuery()) {
            int n = rs.getMetaData().getColumnCount();
            if (n < 2) throw new SQLException("a chart query returns x, series, y (or x, y)");
            String single = rs.getMetaData().getColumnLabel(2);
            while (rs.next()) {
                Object x = rs.getObject(1);
                String series = n == 2 ? single : String.valueOf(rs.getObject(2));
                Object yo = rs.getObject(n == 2 ? 2 : 3);
                if (yo == null) continue;
                if (!(yo instanceof Number yn)) throw new SQLException("the chart's y column must be a number, not " + yo.getClass().getSimpleName());
                if (kind == ChartSpec.Kind.LINE && !(x instanceof Number)) {
                    throw new SQLException("a line chart's x must be a number (got '" + x + "'); use kind: bar for labels");
                }
                double y = yn.doubleValue();
                if ((logY && y <= 0) || (logX && ((Number) x).doubleValue() <= 0)) { dropped++; continue; }
                pts.add(new Charts.Point(x, series, y));
            }
        }
        ChartSpec spec = new ChartSpec(id, title, kind, xLabel, yLabel, unit, sql);
        JFreeChart chart = Charts.build(spec, pts);
        if (logX || logY) logAxes(chart);
        String alt = String.format(Locale.ROOT, "%s chart%s: %d points in %d series%s", kind.name().toLowerCase(Locale.ROOT).replace('_', ' '),
                title.isEmpty() ? "" : " '" + title + "'", pts.size(), pts.stream().map(Charts.Point::series).distinct().count(),
                dropped > 0 ? " (" + dropped + " points <= 0 left off the log axis)" : "");
        return new Output.Image(Charts.svg(chart, id + "-", width, height), Charts.png(chart, width, height), width, height, alt);
    }

    private void logAxes(JFreeChart chart) {
        if (chart.getPlot() instanceof XYPlot p) {
            if (logX) p.setDomainAxis(log(p.getDomainAxis()));
            if (logY) p.setRangeAxis(log(p.getRangeAxis()));
        } else if (chart.getPlot() instanceof CategoryPlot p && logY) {
            p.setRangeAxis(log(p.getRangeAxis()));
            // bars grow from their base, which must be on the log axis: the decade below the smallest value
            double min = Double.MAX_VALUE;
            var ds = p.getDataset();
            for (int r = 0; r < ds.getRowCount(); r++) {
                for (int c = 0; c < ds.getColumnCount(); c++) {
                    Number v = ds.getValue(r, c);
                    if (v != null && v.doubleValue() > 0) min = Math.min(min, v.doubleValue());
                }
            }
            if (min == Double.MAX_VALUE) min = 1;
            if (p.getRenderer() instanceof BarRenderer r) r.setBase(Math.pow(10, Math.floor(Math.log10(min))));
        }
    }

    private static ValueAxis log(ValueAxis a) {
        LogAxis l = new LogAxis(a.getLabel());
        l.setLabelFont(a.getLabelFont());
        l.setTickLabelFont(a.getTickLabelFont());
        l.setNumberFormatOverride(new DecimalFormat("#,##0.###"));
        // one tick per decade: the automatic units put ticks at 10^0.1 steps (1,258.925 ...)
        l.setAutoTickUnitSelection(false);
        l.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
        l.setSmallestValue(1e-12);
        l.setAxisLinePaint(Color.GRAY);
        return l;
    }
}
