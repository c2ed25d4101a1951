package org.kmemlab.alloc.core;

import java.util.Map;
import java.util.TreeMap;

/**
 * Self-time per folded call chain ({@code a;b;c} → ns), the input of perf-report-style trees and flame
 * graphs. Kept sorted so that its output is deterministic.
 */
public final class FrameProfile {
    private final Map<String, long[]> selfNs = new TreeMap<>();

    public void add(String folded, long ns) {
        if (ns == 0) return;
        selfNs.computeIfAbsent(folded, k -> new long[1])[0] += ns;
    }

    public long get(String folded) {
        long[] v = selfNs.get(folded);
        return v == null ? 0 : v[0];
    }

    public long total() {
        long t = 0;
        for (long[] v : selfNs.values()) t += v[0];
        return t;
    }

    /** Total self-time of every chain that contains {@code frame} (the "Children" time of the frame). */
    public long inclusive(String frame) {
        long t = 0;
        for (Map.Entry<String, long[]> e : selfNs.entrySet()) {
            for (String f : e.getKey().split(";")) {
                if (f.equals(frame)) { t += e.getValue()[0]; break; }
            }
        }
        return t;
    }

    public Map<String, Long> asMap() {
        Map<String, Long> m = new TreeMap<>();
        selfNs.forEach((k, v) -> m.put(k, v[0]));
        return m;
    }

    public void clear() { selfNs.clear(); }
}
