package org.kmemlab.replay;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A wait-for cycle: each task, what it holds, what it waits for, since when, and the request it is
 * stuck in (allocator-model.md §E.1: a knot in the wait-for graph over counted resources).
 */
public final class DeadlockReport {
    /** One task of the cycle. */
    public record Entry(long task, String comm, Map<String, Long> holds, String waitsFor, long sinceNs, String request, String frames) {}

    public final List<Entry> tasks = new ArrayList<>();

    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kind", "deadlock");
        List<Map<String, Object>> l = new ArrayList<>();
        for (Entry e : tasks) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("task", e.task());
            t.put("comm", e.comm());
            t.put("holds", e.holds());
            t.put("waits_for", e.waitsFor());
            t.put("since_ns", e.sinceNs());
            t.put("request", e.request());
            t.put("frames", e.frames());
            l.add(t);
        }
        m.put("cycle", l);
        return m;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("DEADLOCK: a cycle of " + tasks.size() + " tasks\n");
        for (Entry e : tasks) {
            sb.append(String.format("  task %d (%s) holds %s, waits for %s since %.6f s, in: %s%n", e.task(), e.comm(),
                    e.holds(), e.waitsFor(), e.sinceNs() / 1e9, e.request()));
            if (e.frames() != null) sb.append("    at ").append(e.frames()).append('\n');
        }
        return sb.toString();
    }
}
