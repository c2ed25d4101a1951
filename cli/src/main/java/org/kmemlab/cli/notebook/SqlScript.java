package org.kmemlab.cli.notebook;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The statements of a sql or verdict cell, and the table name its first line may give. */
final class SqlScript {
    private SqlScript() {}

    static final Pattern NAME = Pattern.compile("^\\s*--\\s*name:\\s*(\\S*)\\s*$");
    static final Pattern IDENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** {@code x} of a first line {@code -- name: x}, or null; the caller checks it is an identifier. */
    static String name(String body) {
        String first = body.split("\n", 2)[0];
        Matcher m = NAME.matcher(first);
        return m.matches() ? m.group(1) : null;
    }

    /**
     * Splits on {@code ;} outside string literals, quoted identifiers and comments (where a semicolon is
     * text), and drops statements that hold only comments and blanks.
     */
    static List<String> split(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int n = sql.length();
        for (int i = 0; i < n; i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                int j = i + 1;
                while (j < n) {
                    if (sql.charAt(j) == c) {
                        if (j + 1 < n && sql.charAt(j + 1) == c) { j += 2; continue; } // doubled quote
                        break;
                    }
                    j++;
                }
                j = Math.min(j, n - 1);
                cur.append(sql, i, j + 1);
                i = j;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int j = sql.indexOf('\n', i);
                if (j < 0) j = n - 1;
                cur.append(sql, i, j + 1);
                i = j;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int j = sql.indexOf("*/", i + 2);
                j = j < 0 ? n - 1 : j + 1;
                cur.append(sql, i, j + 1);
                i = j;
            } else if (c == ';') {
                add(out, cur);
            } else {
                cur.append(c);
            }
        }
        add(out, cur);
        return out;
    }

    private static void add(List<String> out, StringBuilder cur) {
        String s = cur.toString().strip();
        cur.setLength(0);
        if (!stripComments(s).isBlank()) out.add(s);
    }

    private static String stripComments(String s) {
        return s.replaceAll("(?m)--.*$", "").replaceAll("(?s)/\\*.*?\\*/", "");
    }
}
