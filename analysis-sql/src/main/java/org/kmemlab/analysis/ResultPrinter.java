package org.kmemlab.analysis;

import java.io.PrintStream;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

/** Prints a result set as an aligned table, CSV, or JSON (an array of objects). */
public final class ResultPrinter {
    private ResultPrinter() {}

    public static int print(ResultSet rs, String format, PrintStream out) throws SQLException {
        return print(rs, format, out, 0);
    }

    /** At most {@code maxRows} rows when it is positive (DuckDB's JDBC driver ignores Statement.setMaxRows). */
    public static int print(ResultSet rs, String format, PrintStream out, long maxRows) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        List<String> names = new ArrayList<>();
        for (int i = 1; i <= n; i++) names.add(md.getColumnLabel(i));
        List<Object[]> rows = new ArrayList<>();
        while ((maxRows <= 0 || rows.size() < maxRows) && rs.next()) {
            Object[] r = new Object[n];
            for (int i = 0; i < n; i++) r[i] = rs.getObject(i + 1);
            rows.add(r);
        }
        switch (format) {
            case "csv" -> {
                out.println(String.join(",", names.stream().map(ResultPrinter::csv).toList()));
                for (Object[] r : rows) {
                    StringBuilder sb = new StringBuilder();
                    for (int i = 0; i < n; i++) {
                        if (i > 0) sb.append(',');
                        sb.append(r[i] == null ? "" : csv(String.valueOf(r[i])));
                    }
                    out.println(sb);
                }
            }
            case "json" -> {
                List<Map<String, Object>> l = new ArrayList<>();
                for (Object[] r : rows) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i < n; i++) m.put(names.get(i), jsonValue(r[i]));
                    l.add(m);
                }
                try {
                    out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(l));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            }
            default -> table(names, rows, md, out);
        }
        return rows.size();
    }

    private static Object jsonValue(Object v) {
        if (v == null || v instanceof Number || v instanceof Boolean || v instanceof String) return v;
        return String.valueOf(v);
    }

    private static void table(List<String> names, List<Object[]> rows, ResultSetMetaData md, PrintStream out) throws SQLException {
        int n = names.size();
        int[] w = new int[n];
        boolean[] right = new boolean[n];
        for (int i = 0; i < n; i++) {
            w[i] = names.get(i).length();
            int t = md.getColumnType(i + 1);
            right[i] = t == java.sql.Types.BIGINT || t == java.sql.Types.INTEGER || t == java.sql.Types.DOUBLE
                    || t == java.sql.Types.DECIMAL || t == java.sql.Types.SMALLINT || t == java.sql.Types.FLOAT
                    || t == java.sql.Types.TINYINT || t == java.sql.Types.NUMERIC || t == java.sql.Types.REAL;
        }
        List<String[]> cells = new ArrayList<>();
        for (Object[] r : rows) {
            String[] c = new String[n];
            for (int i = 0; i < n; i++) {
                c[i] = r[i] == null ? "NULL" : String.valueOf(r[i]);
                w[i] = Math.max(w[i], c[i].length());
            }
            cells.add(c);
        }
        StringBuilder sep = new StringBuilder();
        for (int i = 0; i < n; i++) sep.append(i == 0 ? "" : "-+-").append("-".repeat(w[i]));
        StringBuilder h = new StringBuilder();
        for (int i = 0; i < n; i++) h.append(i == 0 ? "" : " | ").append(pad(names.get(i), w[i], right[i]));
        out.println(h);
        out.println(sep);
        for (String[] c : cells) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < n; i++) sb.append(i == 0 ? "" : " | ").append(pad(c[i], w[i], right[i]));
            out.println(sb.toString().stripTrailing());
        }
        out.println("(" + rows.size() + " row" + (rows.size() == 1 ? "" : "s") + ")");
    }

    private static String pad(String s, int w, boolean right) {
        String p = " ".repeat(Math.max(0, w - s.length()));
        return right ? p + s : s + p;
    }

    static String csv(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
