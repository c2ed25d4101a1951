package org.kmemlab.cli.notebook;

import java.math.BigDecimal;
import java.math.MathContext;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.kmemlab.analysis.report.Html;

/**
 * A query result as a cell shows it: the first {@link #MAX_ROWS} rows and the total count, so that a
 * {@code SELECT * FROM events} does not put a whole trace into the notebook. The HTML is the report's
 * sortable table (numbers right-aligned, raw value in data-v); the plain text is aligned columns.
 */
public final class ResultTable {
    public static final int MAX_ROWS = 50;
    /** Longer text values are cut in the outputs (SQL keeps them whole). */
    static final int MAX_TEXT = 200;

    final List<String> names = new ArrayList<>();
    final List<Boolean> numeric = new ArrayList<>();
    final List<Object[]> rows = new ArrayList<>();
    long total;

    public static ResultTable read(ResultSet rs) throws SQLException {
        ResultTable t = new ResultTable();
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        for (int i = 1; i <= n; i++) {
            t.names.add(md.getColumnLabel(i));
            int ty = md.getColumnType(i);
            t.numeric.add(ty == java.sql.Types.BIGINT || ty == java.sql.Types.INTEGER || ty == java.sql.Types.DOUBLE
                    || ty == java.sql.Types.DECIMAL || ty == java.sql.Types.SMALLINT || ty == java.sql.Types.FLOAT
                    || ty == java.sql.Types.TINYINT || ty == java.sql.Types.NUMERIC || ty == java.sql.Types.REAL);
        }
        while (rs.next()) {
            if (t.total < MAX_ROWS) {
                Object[] r = new Object[n];
                for (int i = 0; i < n; i++) r[i] = rs.getObject(i + 1);
                t.rows.add(r);
            }
            t.total++;
        }
        return t;
    }

    public long total() { return total; }

    public List<Object[]> rows() { return rows; }

    public List<String> names() { return names; }

    String footer() {
        return total > rows.size()
                ? String.format(Locale.ROOT, "(first %d of %,d rows)", rows.size(), total)
                : "(" + total + " row" + (total == 1 ? "" : "s") + ")";
    }

    public String html() {
        StringBuilder sb = new StringBuilder("<table class=\"sortable\"><thead><tr>");
        for (String h : names) sb.append("<th>").append(Html.esc(h)).append("</th>");
        sb.append("</tr></thead><tbody>\n");
        for (Object[] r : rows) {
            sb.append("<tr>");
            for (Object v : r) {
                if (v instanceof Number num) {
                    sb.append("<td class=\"n\" data-v=\"").append(num.doubleValue()).append("\">").append(Html.esc(grouped(v))).append("</td>");
                } else if (v == null) {
                    sb.append("<td><span class=\"null\">—</span></td>");
                } else {
                    sb.append("<td>").append(Html.esc(cut(text(v)))).append("</td>");
                }
            }
            sb.append("</tr>\n");
        }
        if (rows.isEmpty()) sb.append("<tr><td colspan=\"").append(names.size()).append("\" class=\"empty\">no rows</td></tr>");
        sb.append("</tbody></table>\n<p class=\"rows\">").append(Html.esc(footer())).append("</p>\n");
        return sb.toString();
    }

    public String plain() {
        int n = names.size();
        int[] w = new int[n];
        List<String[]> cells = new ArrayList<>();
        for (int i = 0; i < n; i++) w[i] = names.get(i).length();
        for (Object[] r : rows) {
            String[] c = new String[n];
            for (int i = 0; i < n; i++) {
                c[i] = r[i] == null ? "NULL" : cut(text(r[i]));
                w[i] = Math.max(w[i], c[i].length());
            }
            cells.add(c);
        }
        StringBuilder sb = new StringBuilder();
        line(sb, names.toArray(new String[0]), w);
        for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : "-+-").append("-".repeat(w[i]));
        sb.append('\n');
        for (String[] c : cells) line(sb, c, w);
        return sb.append(footer()).append('\n').toString();
    }

    private void line(StringBuilder sb, String[] c, int[] w) {
        StringBuilder l = new StringBuilder();
        for (int i = 0; i < c.length; i++) {
            String p = " ".repeat(Math.max(0, w[i] - c[i].length()));
            l.append(i == 0 ? "" : " | ").append(numeric.get(i) ? p + c[i] : c[i] + p);
        }
        sb.append(l.toString().stripTrailing()).append('\n');
    }

    static String cut(String s) {
        return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT - 1) + "…";
    }

    /**
     * A value as text: integers exactly, floating point to 6 decimals, or 6 significant digits below 1 (a
     * ratio reads 0.981234, not 0.98123412345678), everything else by toString.
     */
    public static String text(Object v) {
        if (v == null) return "NULL";
        if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) return String.valueOf(d);
            if (d == Math.rint(d) && Math.abs(d) < 1e15) return Long.toString((long) d);
            if (Math.abs(d) >= 1e15 || Math.abs(d) < 1e-6) return String.format(Locale.ROOT, "%.6g", d);
            BigDecimal b = new BigDecimal(d);
            b = Math.abs(d) >= 1 ? b.setScale(6, java.math.RoundingMode.HALF_EVEN) : b.round(new MathContext(6));
            return b.stripTrailingZeros().toPlainString();
        }
        return String.valueOf(v);
    }

    /** As {@link #text}, with thousands separators on the integer part, for the HTML page. */
    static String grouped(Object v) {
        String s = text(v);
        if (!s.matches("-?\\d+(\\.\\d+)?")) return s;
        int start = s.startsWith("-") ? 1 : 0;
        int dot = s.indexOf('.');
        int end = dot < 0 ? s.length() : dot;
        StringBuilder sb = new StringBuilder(s.substring(0, start));
        for (int i = start; i < end; i++) {
            if (i > start && (end - i) % 3 == 0) sb.append(',');
            sb.append(s.charAt(i));
        }
        return sb.append(s, end, s.length()).toString();
    }
}
