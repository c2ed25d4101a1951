package org.kmemlab.analysis.hot;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.kmemlab.analysis.TraceDb;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/**
 * Folded stacks, the exchange format of Brendan Gregg's FlameGraph ({@code stackcollapse-*.pl} output,
 * read by {@code flamegraph.pl} and speedscope): one line per distinct stack, frames from the outermost
 * caller to the leaf joined by {@code ;}, a space, then its weight. A profile here is a sorted map from
 * the folded stack to its weight, so equal inputs always print and draw the same way.
 */
public final class Folded {
    private Folded() {}

    /** What a trace event weighs in a profile. */
    public enum Weight { COUNT, BYTES }

    public static Map<String, Long> parse(Path file) throws IOException {
        Map<String, Long> out = new TreeMap<>();
        int no = 0;
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = r.readLine()) != null) {
                no++;
                String t = line.strip();
                if (t.isEmpty() || t.startsWith("#")) continue;
                int sp = t.lastIndexOf(' ');
                long w;
                try {
                    if (sp <= 0) throw new NumberFormatException();
                    w = Long.parseLong(t.substring(sp + 1));
                } catch (NumberFormatException e) {
                    throw InputError.atLine(file.toString(), no, "expected 'frame;frame;... WEIGHT'");
                }
                if (w < 0) throw InputError.atLine(file.toString(), no, "negative weight " + w);
                out.merge(t.substring(0, sp), w, Long::sum);
            }
        } catch (java.nio.charset.CharacterCodingException e) {
            throw InputError.atLine(file.toString(), no + 1, "expected UTF-8 text (folded stacks)");
        }
        return out;
    }

    public static void write(Map<String, Long> folded, Writer out) throws IOException {
        for (Map.Entry<String, Long> e : new TreeMap<>(folded).entrySet()) {
            if (e.getValue() > 0) out.write(e.getKey() + " " + e.getValue() + "\n");
        }
        out.flush();
    }

    /**
     * The call chains of a trace recorded with {@code perf record -g}, each weighed by the number of events
     * or the bytes they allocate (bytes_alloc, or 4096 << order for pages). The grouping runs in DuckDB;
     * only the distinct stacks come back to Java. An event filter is bound, never spliced.
     *
     * @param event a canonical event name such as {@code kmem:kmalloc}, or null for all events with a chain
     */
    public static Map<String, Long> fromTrace(TraceDb db, List<Path> traces, Weight weight, String event)
            throws IOException, SQLException {
        Map<String, Map<Integer, List<String>>> stacks = new TreeMap<>();
        for (Path t : traces) {
            TraceInfo info = TraceReader.readInfo(t);
            stacks.put(t.getFileName().toString(), info.stacks);
        }
        // Bytes weigh allocations only (frees would count the same memory twice); count weighs every event.
        String w = weight == Weight.COUNT ? "count(*)"
                : "coalesce(sum(CASE WHEN event = 'kmem:mm_page_alloc' THEN 4096::BIGINT << coalesce(\"order\", 0)"
                        + " WHEN event IN ('kmem:kmalloc', 'kmem:kmem_cache_alloc') THEN bytes_alloc ELSE 0 END), 0)";
        String sql = "SELECT trace, stack_id, (" + w + ")::BIGINT FROM events WHERE stack_id IS NOT NULL"
                + " AND (?::VARCHAR IS NULL OR event = ?::VARCHAR) GROUP BY trace, stack_id";
        Map<String, Long> out = new TreeMap<>();
        try (PreparedStatement ps = db.prepare(sql, java.util.Arrays.asList(event, event));
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<String> frames = stacks.getOrDefault(rs.getString(1), Map.of()).get(rs.getInt(2));
                if (frames == null || frames.isEmpty()) continue;
                long v = rs.getLong(3);
                if (v <= 0) continue;
                out.merge(fold(frames), v, Long::sum);
            }
        }
        return out;
    }

    /**
     * perf script prints chains leaf first; folded stacks go root first. A run of {@code [unknown]} frames
     * becomes one: when perf loses a user stack it prints up to 127 of them (its max-stack), which would
     * otherwise make one thin tower the height of the whole flame graph.
     */
    static String fold(List<String> leafFirst) {
        List<String> r = new ArrayList<>(leafFirst.size());
        for (int i = leafFirst.size() - 1; i >= 0; i--) {
            String f = leafFirst.get(i).replace(';', ':');
            if (f.equals("[unknown]") && !r.isEmpty() && r.get(r.size() - 1).equals(f)) continue;
            r.add(f);
        }
        return String.join(";", r);
    }

    public static long total(Map<String, Long> folded) {
        long t = 0;
        for (long v : folded.values()) t += v;
        return t;
    }

    static String[] frames(String stack) { return stack.split(";", -1); }
}
