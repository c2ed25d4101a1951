package org.kmemlab.analysis.report;

import java.math.BigDecimal;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.Locale;

/** A small HTML builder: escaping, and result sets as tables that the page's inline script sorts. */
public final class Html {
    private final StringBuilder sb = new StringBuilder(1 << 16);

    public Html raw(String s) { sb.append(s); return this; }

    public Html text(String s) { sb.append(esc(s)); return this; }

    public Html p(String s) { sb.append("<p>").append(esc(s)).append("</p>\n"); return this; }

    public static String esc(String s) {
        if (s == null) return "";
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static String num(Object v) {
        if (v instanceof Double || v instanceof Float || v instanceof BigDecimal) {
            double d = ((Number) v).doubleValue();
            return d == Math.rint(d) && Math.abs(d) < 1e15 ? String.format(Locale.ROOT, "%,d", (long) d)
                    : String.format(Locale.ROOT, "%,.2f", d);
        }
        if (v instanceof Number n) return String.format(Locale.ROOT, "%,d", n.longValue());
        return String.valueOf(v);
    }

    /** A sortable table of a query's rows; numbers right-aligned with their raw value in data-v for sorting. */
    public Html table(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        sb.append("<table class=\"sortable\"><thead><tr>");
        for (int i = 1; i <= n; i++) sb.append("<th>").append(esc(md.getColumnLabel(i))).append("</th>");
        sb.append("</tr></thead><tbody>\n");
        int rows = 0;
        while (rs.next()) {
            rows++;
            sb.append("<tr>");
            for (int i = 1; i <= n; i++) {
                Object v = rs.getObject(i);
                if (v instanceof Number) {
                    sb.append("<td class=\"n\" data-v=\"").append(((Number) v).doubleValue()).append("\">").append(num(v)).append("</td>");
                } else {
                    sb.append("<td>").append(v == null ? "<span class=\"null\">—</span>" : esc(String.valueOf(v))).append("</td>");
                }
            }
            sb.append("</tr>\n");
        }
        if (rows == 0) sb.append("<tr><td colspan=\"").append(n).append("\" class=\"empty\">no rows</td></tr>");
        sb.append("</tbody></table>\n");
        return this;
    }

    @Override
    public String toString() { return sb.toString(); }
}
