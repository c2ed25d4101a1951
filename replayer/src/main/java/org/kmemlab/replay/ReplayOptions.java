package org.kmemlab.replay;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Replay settings that are not allocator policy: the engine's own knobs, all settable with
 * {@code --set replay.<name>=<value>}. Everything else in the {@code --set} map goes to the policy
 * ({@code PolicyRegistry.configure}) or, for {@code cost.<name>}, to the cost table.
 */
public record ReplayOptions(long gracePeriodNs, long kworkerLatencyNs, long timelineIntervalNs, String lockFrameStyle,
                            long hungTaskNs, long allocStallNs, String mempoolCaches, String splCaches, String kvmallocSites,
                            long memoryBytes, double fragmentation, double used, boolean populateSlabs, long seed,
                            String tracedPages, long vmstatIntervalNs, String pcpStart, long kthreadLatencyNs,
                            long compactionProactiveness, String slabStart) {

    public static ReplayOptions defaults() {
        return new ReplayOptions(20_000_000L, 50_000L, 10_000_000L, "NATIVE", 120_000_000_000L, 10_000_000_000L,
                "", "", "kvmalloc_node,kvmalloc_node_noprof,__kvmalloc_node,__kvmalloc_node_noprof,xlog_cil_kvmalloc,xlog_kvmalloc",
                0, 0.0, -1, true, 1, "lru", 1_000_000_000L, "trace", 50_000L, 20, "trace");
    }

    /** Takes {@code replay.*} keys out of {@code set} (leaving the rest for the policy). */
    public static ReplayOptions from(Map<String, String> set) {
        ReplayOptions d = defaults();
        Map<String, String> m = new LinkedHashMap<>();
        set.entrySet().removeIf(e -> {
            if (!e.getKey().startsWith("replay.")) return false;
            m.put(e.getKey().substring(7), e.getValue());
            return true;
        });
        Map<String, String> m0 = Map.copyOf(m);
        try {
            ReplayOptions r = new ReplayOptions(
                    nanos("gracePeriodNs", m.remove("gracePeriodNs"), d.gracePeriodNs),
                    nanos("kworkerLatencyNs", m.remove("kworkerLatencyNs"), d.kworkerLatencyNs),
                    nanos("timelineIntervalNs", m.remove("timelineIntervalNs"), d.timelineIntervalNs),
                    m.containsKey("lockFrameStyle") ? m.remove("lockFrameStyle") : d.lockFrameStyle,
                    nanos("hungTaskNs", m.remove("hungTaskNs"), d.hungTaskNs),
                    nanos("allocStallNs", m.remove("allocStallNs"), d.allocStallNs),
                    m.containsKey("mempoolCaches") ? m.remove("mempoolCaches") : d.mempoolCaches,
                    m.containsKey("splCaches") ? m.remove("splCaches") : d.splCaches,
                    m.containsKey("kvmallocSites") ? m.remove("kvmallocSites") : d.kvmallocSites,
                    bytes("memoryBytes", m.remove("memoryBytes"), d.memoryBytes),
                    m.containsKey("fragmentation") ? Double.parseDouble(m.remove("fragmentation")) : d.fragmentation,
                    m.containsKey("used") ? used(m.remove("used")) : d.used,
                    m.containsKey("populateSlabs") ? Boolean.parseBoolean(m.remove("populateSlabs")) : d.populateSlabs,
                    num("seed", m.remove("seed"), d.seed),
                    m.containsKey("tracedPages") ? m.remove("tracedPages") : d.tracedPages,
                    nanos("vmstatIntervalNs", m.remove("vmstatIntervalNs"), d.vmstatIntervalNs),
                    m.containsKey("pcpStart") ? m.remove("pcpStart") : d.pcpStart,
                    nanos("kthreadLatencyNs", m.remove("kthreadLatencyNs"), d.kthreadLatencyNs),
                    num("compactionProactiveness", m.remove("compactionProactiveness"), d.compactionProactiveness),
                    m.containsKey("slabStart") ? m.remove("slabStart") : d.slabStart);
            if (!m.isEmpty()) {
                throw new IllegalArgumentException("unknown replay knob(s) " + m.keySet() + "; known: gracePeriodNs, kworkerLatencyNs, "
                        + "timelineIntervalNs, lockFrameStyle (NATIVE|PV|PV_DEBUG), hungTaskNs, allocStallNs, mempoolCaches, splCaches, "
                        + "kvmallocSites, memoryBytes (bytes, or with K, M, G, T), fragmentation, used (memory in use at the start as clean page cache: a fraction of memory, or bytes when > 1), populateSlabs (true|false), seed, tracedPages (lru|pinned), vmstatIntervalNs (vm.stat_interval; 0: never), pcpStart (trace|snapshot), kthreadLatencyNs (when a woken kswapd or kcompactd runs), compactionProactiveness (vm.compaction_proactiveness, 0..100; 0: no proactive compaction), slabStart (trace|snapshot)");
            }
            if (m0.containsKey("used") && !(r.used >= 0)) {
                throw new IllegalArgumentException("replay.used is the memory in use at the start: a fraction of memory (0..1) or bytes (> 1, or with K, M, G, T), not "
                        + m0.get("used"));
            }
            r.lockFrames();
            if (r.compactionProactiveness < 0 || r.compactionProactiveness > 100)
                throw new IllegalArgumentException("replay.compactionProactiveness is vm.compaction_proactiveness, 0..100, not " + r.compactionProactiveness);
            if (!r.pcpStart.equals("trace") && !r.pcpStart.equals("snapshot"))
                throw new IllegalArgumentException("replay.pcpStart must be trace or snapshot, not " + r.pcpStart);
            if (!r.slabStart.equals("trace") && !r.slabStart.equals("snapshot"))
                throw new IllegalArgumentException("replay.slabStart must be trace or snapshot, not " + r.slabStart);
            if (!r.tracedPages.equals("lru") && !r.tracedPages.equals("pinned"))
                throw new IllegalArgumentException("replay.tracedPages must be lru or pinned, not " + r.tracedPages);
            return r;
        } catch (NumberFormatException e) {
            // only replay.fragmentation gets here: every other number names its knob itself
            throw new IllegalArgumentException("replay.fragmentation expects a number from 0 to 1, not '" + m0.get("fragmentation") + "'");
        }
    }

    private static long num(String key, String v, long d) {
        if (v == null) return d;
        try {
            return Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("replay." + key + " expects a whole number, not '" + v + "'");
        }
    }

    /** Bytes as the kernel's {@code memparse()} reads {@code mem=}: a number with an optional K, M, G or T (powers of 1024). */
    static long bytes(String key, String v, long d) {
        if (v == null) return d;
        long r = scaled(v, new String[] {"", "K", "M", "G", "T"}, new long[] {1, 1L << 10, 1L << 20, 1L << 30, 1L << 40});
        if (r < 0) throw new IllegalArgumentException("replay." + key + " expects bytes, e.g. 268435456, 256M or 4G, not '" + v + "'");
        return r;
    }

    /** A duration in nanoseconds, or with a unit: ns, us, ms or s. */
    static long nanos(String key, String v, long d) {
        if (v == null) return d;
        long r = scaled(v, new String[] {"", "ns", "us", "ms", "s"}, new long[] {1, 1, 1_000, 1_000_000, 1_000_000_000});
        if (r < 0) throw new IllegalArgumentException("replay." + key + " expects nanoseconds or a duration, e.g. 20000000 or 20ms, not '" + v + "'");
        return r;
    }

    /** replay.used: a fraction of memory (at most 1), or bytes with memparse()'s suffixes. */
    private static double used(String v) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            long b = scaled(v, new String[] {"K", "M", "G", "T"}, new long[] {1L << 10, 1L << 20, 1L << 30, 1L << 40});
            return b < 0 ? Double.NaN : b; // NaN: refused below with the knob's own message
        }
    }

    /** A non-negative whole number with one of {@code units} (case-insensitive) and its multiplier, or -1. */
    private static long scaled(String v, String[] units, long[] mult) {
        String t = v.trim().replace("_", "");
        for (int i = units.length - 1; i >= 0; i--) {
            String u = units[i];
            if (t.length() <= u.length() || !t.regionMatches(true, t.length() - u.length(), u, 0, u.length())) continue;
            String n = t.substring(0, t.length() - u.length()).trim();
            if (n.isEmpty() || !n.chars().allMatch(Character::isDigit) || n.length() > 18) continue;
            long x = Long.parseLong(n);
            if (x > Long.MAX_VALUE / mult[i]) return -1;
            return x * mult[i];
        }
        return -1;
    }

    /**
     * {@code replay.tracedPages=lru} (the default): the trace's page cache is on the model's LRU, where reclaim
     * may free it and compaction move it, as on the real machine; {@code pinned}: every traced page stays
     * where it was put until the trace frees it (the model before this knob).
     */
    boolean tracedPagesOnLru() { return tracedPages.equals("lru"); }

    /** The spinlock slow-path frames perf shows (allocator-model.md §0.3). */
    String[] lockFrames() {
        return switch (lockFrameStyle) {
            case "NATIVE" -> new String[] {"native_queued_spin_lock_slowpath"};
            case "PV" -> new String[] {"__pv_queued_spin_lock_slowpath"};
            case "PV_DEBUG" -> new String[] {"do_raw_spin_lock", "__pv_queued_spin_lock_slowpath"};
            default -> throw new IllegalArgumentException("replay.lockFrameStyle must be NATIVE, PV or PV_DEBUG, not " + lockFrameStyle);
        };
    }
}
