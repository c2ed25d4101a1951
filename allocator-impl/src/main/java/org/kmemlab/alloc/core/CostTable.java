package org.kmemlab.alloc.core;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one table of modeled costs, in virtual ns. Every cost the model charges is named here with a
 * default and where that number comes from; configuration overrides any entry by name
 * ({@code --set cost.<name>=<ns>}). Components register their entries with {@link #define} in a static
 * block, so the table documents itself ({@link #describe()}).
 */
public final class CostTable {
    /** One documented cost. */
    public record Entry(String name, long defaultNs, String source) {}

    private static final Map<String, Entry> DEFINED = new TreeMap<>();

    private final Map<String, Long> overrides = new LinkedHashMap<>();

    /** Declares a cost (idempotent for equal definitions). Call from a static initializer. */
    public static synchronized long define(String name, long defaultNs, String source) {
        Entry prev = DEFINED.putIfAbsent(name, new Entry(name, defaultNs, source));
        if (prev != null && prev.defaultNs() != defaultNs) {
            throw new IllegalStateException("cost " + name + " defined twice with different defaults");
        }
        return defaultNs;
    }

    public static synchronized Map<String, Entry> defined() { return new TreeMap<>(DEFINED); }

    public CostTable set(String name, long ns) {
        overrides.put(name, ns);
        return this;
    }

    /** The cost named {@code name}: an override if configured, else its documented default. */
    public long get(String name) {
        Long o = overrides.get(name);
        if (o != null) return o;
        Entry e;
        synchronized (CostTable.class) { e = DEFINED.get(name); }
        if (e == null) throw new IllegalArgumentException("no cost named " + name);
        return e.defaultNs();
    }

    public Map<String, Long> overrides() { return Map.copyOf(overrides); }

    public static String describe() {
        StringBuilder sb = new StringBuilder();
        for (Entry e : defined().values()) {
            sb.append(String.format("%-40s %8d ns  %s%n", e.name(), e.defaultNs(), e.source()));
        }
        return sb.toString();
    }
}
