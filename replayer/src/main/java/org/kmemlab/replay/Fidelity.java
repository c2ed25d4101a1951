package org.kmemlab.replay;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamReader;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceReader;

/**
 * How closely the baseline model reproduces what the kernel derived from the same requests: the trace's
 * own slab page allocations, pcp refills and drains, page allocations by order and migratetype, and
 * bytes_alloc of every slab allocation, each beside the model's with the ratio model/trace.
 */
public final class Fidelity {
    /** One line: a metric, the trace's value, the model's, and the ratio. */
    public record Line(String metric, double trace, double model) {
        public double ratio() { return trace == 0 ? (model == 0 ? 1 : Double.POSITIVE_INFINITY) : model / trace; }
    }

    public final List<Line> lines = new ArrayList<>();

    public static Fidelity of(Path trace, Path baselineOut) throws IOException {
        Fidelity f = new Fidelity();
        PrePass pre = PrePass.scan(trace);
        // bytes_alloc of every kmalloc and kmem_cache_alloc: exact matches.
        long total = 0, match = 0;
        try (RootAllocator a = new RootAllocator();
             ArrowStreamReader r = new ArrowStreamReader(Files.newInputStream(baselineOut.resolve("requests.arrow")), a)) {
            while (r.loadNextBatch()) {
                VectorSchemaRoot root = r.getVectorSchemaRoot();
                VarCharVector kind = (VarCharVector) root.getVector("kind");
                BigIntVector bt = (BigIntVector) root.getVector("bytes_alloc_trace");
                BigIntVector bm = (BigIntVector) root.getVector("bytes_alloc_model");
                for (int i = 0; i < root.getRowCount(); i++) {
                    String k = new String(kind.get(i), java.nio.charset.StandardCharsets.UTF_8);
                    if (!k.equals("kmalloc") && !k.equals("cache_alloc")) continue;
                    total++;
                    if (bt.get(i) == bm.get(i)) match++;
                }
            }
        }
        f.lines.add(new Line("bytes_alloc exact matches (of " + total + " slab allocations)", total, match));
        // The model's derived events.
        long zl = 0, refill = 0, drain = 0;
        Map<String, long[]> daemons = Map.of();
        Map<String, Long> orderMt = new TreeMap<>();
        try (TraceReader r = new TraceReader(baselineOut.resolve("events.arrow"))) {
            Map<String, long[]> c = new LinkedHashMap<>();
            r.forEach(e -> {
                if (EventNames.MM_PAGE_ALLOC_ZONE_LOCKED.equals(e.event)) {
                    c.computeIfAbsent("zl", k -> new long[1])[0]++;
                    if (e.extra != null && e.extra.contains("percpu_refill=1")) c.computeIfAbsent("refill", k -> new long[1])[0]++;
                } else if (EventNames.MM_PAGE_PCPU_DRAIN.equals(e.event)) {
                    c.computeIfAbsent("drain", k -> new long[1])[0]++;
                } else if (EventNames.MM_PAGE_ALLOC.equals(e.event)) {
                    orderMt.merge(e.order + "/" + e.migratetype, 1L, Long::sum);
                } else if (e.event != null && (e.event.startsWith("vmscan:") || e.event.startsWith("compaction:"))) {
                    c.computeIfAbsent(e.event, k -> new long[1])[0]++;
                }
            });
            zl = c.getOrDefault("zl", new long[1])[0];
            refill = c.getOrDefault("refill", new long[1])[0];
            drain = c.getOrDefault("drain", new long[1])[0];
            daemons = c;
        }
        f.lines.add(new Line("mm_page_alloc_zone_locked", pre.zoneLocked, zl));
        f.lines.add(new Line("  of which pcp refills (percpu_refill=1)", pre.pcpRefills, refill));
        f.lines.add(new Line("mm_page_pcpu_drain", pre.pcpuDrain, drain));
        // Reclaim and compaction, where the trace recorded them: without their tracepoints there is nothing to set
        // beside the model's.
        List<Counted> counted = new ArrayList<>();
        if (pre.vmscanEvents) {
            counted.add(new Counted("mm_vmscan_wakeup_kswapd (a sleeping kswapd woken)", pre.wakeupKswapd, EventNames.VMSCAN_WAKEUP_KSWAPD));
            counted.add(new Counted("mm_vmscan_kswapd_wake (kswapd passes)", pre.kswapdWake, EventNames.VMSCAN_KSWAPD_WAKE));
            counted.add(new Counted("mm_vmscan_direct_reclaim_begin (direct reclaims)", pre.directReclaims, EventNames.VMSCAN_DIRECT_RECLAIM_BEGIN));
        }
        if (pre.compactionEvents) {
            counted.add(new Counted("mm_compaction_try_to_compact_pages (direct compactions)", pre.directCompactions,
                    EventNames.COMPACTION_TRY_TO_COMPACT_PAGES));
            counted.add(new Counted("mm_compaction_wakeup_kcompactd (a sleeping kcompactd woken)", pre.wakeupKcompactd,
                    EventNames.COMPACTION_WAKEUP_KCOMPACTD));
            counted.add(new Counted("mm_compaction_kcompactd_wake (kcompactd_do_work runs)", pre.kcompactdWakes,
                    EventNames.COMPACTION_KCOMPACTD_WAKE));
        }
        for (Counted c : counted) f.lines.add(new Line(c.metric(), c.trace(), count(daemons, c.event())));
        Map<String, Long> keys = new TreeMap<>(pre.pageAllocsByOrderMt);
        orderMt.keySet().forEach(k -> keys.putIfAbsent(k, 0L));
        for (String k : keys.keySet()) {
            f.lines.add(new Line("mm_page_alloc order/migratetype " + k, pre.pageAllocsByOrderMt.getOrDefault(k, 0L),
                    orderMt.getOrDefault(k, 0L)));
        }
        Map<String, Object> sum = new com.fasterxml.jackson.databind.ObjectMapper()
                .readValue(baselineOut.resolve("summary.json").toFile(), Map.class);
        Object sp = sum.get("slab_pages_allocated_by_cache");
        if (sp instanceof Map<?, ?> m) {
            Map<String, Double> model = new TreeMap<>();
            m.forEach((k, v) -> model.put(String.valueOf(k), ((Number) v).doubleValue()));
            // the trace's, with kmalloc's pages told apart by cache as the replay resolved them
            Map<String, Double> kernel = new TreeMap<>();
            if (sum.get("trace_slab_pages_by_cache") instanceof Map<?, ?> t) {
                t.forEach((k, v) -> kernel.put(String.valueOf(k), ((Number) v).doubleValue()));
            } else {
                pre.slabPagesByCache.forEach((k, v) -> kernel.put(k, v.doubleValue()));
            }
            // the model's caches too: a cache the kernel grew no slab for but the model did is a miss as well
            java.util.SortedSet<String> names = new java.util.TreeSet<>(kernel.keySet());
            model.forEach((k, v) -> { if (v > 0) names.add(k); });
            for (String n : names) {
                f.lines.add(new Line("slab pages allocated: " + n, kernel.getOrDefault(n, 0.0), model.getOrDefault(n, 0.0)));
            }
        }
        // The objects the trace allocated and did not free, per cache: where the model lost or kept more of them.
        if (sum.get("live_objects_by_cache") instanceof Map<?, ?> lm && sum.get("trace_live_objects_by_cache") instanceof Map<?, ?> lt) {
            java.util.SortedSet<String> names = new java.util.TreeSet<>();
            lm.keySet().forEach(k -> names.add(String.valueOf(k)));
            lt.keySet().forEach(k -> names.add(String.valueOf(k)));
            for (String n : names) {
                f.lines.add(new Line("live objects at the end: " + n, number(lt.get(n)), number(lm.get(n))));
            }
        }
        return f;
    }

    private static double number(Object o) { return o instanceof Number n ? n.doubleValue() : 0; }

    /** A tracepoint counted in the trace (by the pre-pass) and in the model's events.arrow. */
    private record Counted(String metric, long trace, String event) {}

    /** The model's events of this name, 0 when it fired none. */
    private static long count(Map<String, long[]> byEvent, String event) {
        long[] n = byEvent.get(event);
        return n == null ? 0 : n[0];
    }

    public void print(PrintStream out) {
        out.printf("%-60s %14s %14s %9s%n", "metric", "trace", "model", "model/trace");
        for (Line l : lines) {
            out.printf("%-60s %14.0f %14.0f %9.3f%n", l.metric(), l.trace(), l.model(), l.ratio());
        }
        out.println();
        for (String t : targets()) out.println(t);
    }

    private static final String SLAB_PAGES = "slab pages allocated: ";

    /** model/trace within 1 ± {@code tolerance}, the bound included (110 / 100 is within ±10 % in decimals, not in doubles). */
    private static boolean within(Line l, double tolerance) { return Math.abs(l.ratio() - 1) <= tolerance + 1e-9; }

    /**
     * The lines measured against the targets the replay is held to: bytes_alloc exact for every slab allocation,
     * slab pages per cache within ±10 %, pcp refills within ±15 %.
     */
    public List<String> targets() {
        List<String> out = new ArrayList<>();
        for (Line l : lines) {
            if (l.metric().startsWith("bytes_alloc exact")) {
                out.add(String.format(java.util.Locale.ROOT, "target bytes_alloc exact for every slab allocation: %s (%.0f of %.0f)",
                        l.model() == l.trace() ? "met" : "not met", l.model(), l.trace()));
            } else if (l.metric().contains("pcp refills")) {
                out.add(String.format(java.util.Locale.ROOT, "target pcp refills within ±15 %%: %s (%.3f)",
                        within(l, 0.15) ? "met" : "not met", l.ratio()));
            }
        }
        int caches = 0;
        List<String> outside = new ArrayList<>();
        for (Line l : lines) {
            if (!l.metric().startsWith(SLAB_PAGES)) continue;
            caches++;
            if (!within(l, 0.10)) {
                outside.add(String.format(java.util.Locale.ROOT, "%s %.0f / %.0f", l.metric().substring(SLAB_PAGES.length()), l.model(), l.trace()));
            }
        }
        if (caches > 0) {
            out.add(String.format(java.util.Locale.ROOT, "target slab pages per cache within ±10 %%: %d of %d caches%s", caches - outside.size(),
                    caches, outside.isEmpty() ? "" : " (outside, model / trace: " + String.join(", ", outside) + ")"));
        }
        return out;
    }
}
