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
                            long memoryBytes, double fragmentation, double used, boolean populateSlabs, long seed) {

    public static ReplayOptions defaults() {
        return new ReplayOptions(20_000_000L, 50_000L, 10_000_000L, "NATIVE", 120_000_000_000L, 10_000_000_000L,
                "", "", "kvmalloc_node,kvmalloc_node_noprof,__kvmalloc_node,__kvmalloc_node_noprof,xlog_cil_kvmalloc,xlog_kvmalloc",
                0, 0.0, -1, true, 1);
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
                    num(m.remove("gracePeriodNs"), d.gracePeriodNs),
                    num(m.remove("kworkerLatencyNs"), d.kworkerLatencyNs),
                    num(m.remove("timelineIntervalNs"), d.timelineIntervalNs),
                    m.containsKey("lockFrameStyle") ? m.remove("lockFrameStyle") : d.lockFrameStyle,
                    num(m.remove("hungTaskNs"), d.hungTaskNs),
                    num(m.remove("allocStallNs"), d.allocStallNs),
                    m.containsKey("mempoolCaches") ? m.remove("mempoolCaches") : d.mempoolCaches,
                    m.containsKey("splCaches") ? m.remove("splCaches") : d.splCaches,
                    m.containsKey("kvmallocSites") ? m.remove("kvmallocSites") : d.kvmallocSites,
                    num(m.remove("memoryBytes"), d.memoryBytes),
                    m.containsKey("fragmentation") ? Double.parseDouble(m.remove("fragmentation")) : d.fragmentation,
                    m.containsKey("used") ? Double.parseDouble(m.remove("used")) : d.used,
                    m.containsKey("populateSlabs") ? Boolean.parseBoolean(m.remove("populateSlabs")) : d.populateSlabs,
                    num(m.remove("seed"), d.seed));
            if (!m.isEmpty()) {
                throw new IllegalArgumentException("unknown replay knob(s) " + m.keySet() + "; known: gracePeriodNs, kworkerLatencyNs, "
                        + "timelineIntervalNs, lockFrameStyle (NATIVE|PV|PV_DEBUG), hungTaskNs, allocStallNs, mempoolCaches, splCaches, "
                        + "kvmallocSites, memoryBytes, fragmentation, used (memory in use at the start as clean page cache: a fraction of memory, or bytes when > 1), populateSlabs (true|false), seed");
            }
            if (m0.containsKey("used") && !(r.used >= 0)) {
                throw new IllegalArgumentException("replay.used is the memory in use at the start: a fraction of memory (0..1) or bytes (> 1), not "
                        + m0.get("used"));
            }
            r.lockFrames();
            return r;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a replay knob expects a number: " + e.getMessage());
        }
    }

    private static long num(String v, long d) {
        if (v == null) return d;
        return Long.parseLong(v.replace("_", ""));
    }

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
