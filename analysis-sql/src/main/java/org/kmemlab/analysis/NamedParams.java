package org.kmemlab.analysis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code :name} placeholders in kmemlab's own SQL (charts, report), turned into JDBC {@code ?} with the
 * values bound in order, so that time windows, cache names and limits never become SQL text. Quotes,
 * comments and DuckDB's {@code ::} casts are left alone.
 */
public final class NamedParams {
    private NamedParams() {}

    public record Bound(String sql, List<Object> params) {}

    public static Bound bind(String sql, Map<String, ?> values) {
        StringBuilder out = new StringBuilder(sql.length());
        List<Object> params = new ArrayList<>();
        int n = sql.length();
        for (int i = 0; i < n; i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                int j = sql.indexOf(c, i + 1);
                if (j < 0) j = n - 1;
                out.append(sql, i, j + 1);
                i = j;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int j = sql.indexOf('\n', i);
                if (j < 0) j = n - 1;
                out.append(sql, i, j + 1);
                i = j;
            } else if (c == ':' && i + 1 < n && sql.charAt(i + 1) == ':') {
                out.append("::");
                i++;
            } else if (c == ':' && i + 1 < n && Character.isJavaIdentifierStart(sql.charAt(i + 1))) {
                int j = i + 1;
                while (j < n && Character.isJavaIdentifierPart(sql.charAt(j))) j++;
                String name = sql.substring(i + 1, j);
                if (!values.containsKey(name)) throw new IllegalArgumentException("no value for :" + name);
                out.append('?');
                params.add(values.get(name));
                i = j - 1;
            } else {
                out.append(c);
            }
        }
        return new Bound(out.toString(), params);
    }
}
