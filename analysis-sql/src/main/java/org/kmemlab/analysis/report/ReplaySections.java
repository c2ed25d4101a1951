package org.kmemlab.analysis.report;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.kmemlab.analysis.hot.FlameGraph;
import org.kmemlab.analysis.hot.Folded;
import org.kmemlab.analysis.hot.HotTree;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The report's replay sections, read from a replay output folder ({@code out/<policy>/summary.json} and
 * {@code profile.folded}, as {@code kmemlab replay} writes them): the policy comparison against baseline
 * with ratios, each policy's hot-path tree and flame graph, and the deadlock report when there is one.
 * It reads files only, so analysis-sql stays independent of the replayer's classes.
 */
public final class ReplaySections implements ReportSectionProvider {
    @Override
    public List<ReportSection> sections(ReportContext ctx) throws Exception {
        if (ctx.replayDir() == null || !Files.isDirectory(ctx.replayDir())) return List.of();
        Map<String, Map<String, Object>> summaries = new TreeMap<>();
        try (var s = Files.list(ctx.replayDir())) {
            for (Path d : s.sorted().toList()) {
                Path j = d.resolve("summary.json");
                if (Files.isRegularFile(j)) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> m = new ObjectMapper().readValue(j.toFile(), Map.class);
                    summaries.put(d.getFileName().toString(), m);
                }
            }
        }
        if (summaries.isEmpty()) return List.of();
        List<ReportSection> out = new ArrayList<>();
        out.add(new Comparison(summaries));
        out.add(new HotPaths(ctx.replayDir(), summaries.keySet()));
        out.add(new Deadlocks(summaries));
        // The replay's own tables join the report's session, so its charts are SQL like the others.
        List<String> tables = ctx.db().attachReplay(ctx.replayDir());
        if (tables.contains("requests")) out.add(new ReplayChart(LATENCY_CDF));
        if (tables.contains("timeline")) out.add(new ReplayChart(FREE_BLOCKS));
        if (tables.contains("timeline")) out.addAll(TimelineCharts.present(ctx.db()));
        return out;
    }

    /** The quantiles of the CDF as a constant list (DuckDB's quantile takes constant fractions only). */
    static final String QS;

    static {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i <= 100; i++) b.append(i == 0 ? "" : ", ").append(i / 100.0);
        QS = b.append(']').toString();
    }

    /** Modelled latency per request: the CDF per policy, on a log10 axis (ns), from 101 quantiles. */
    static final org.kmemlab.analysis.chart.ChartSpec LATENCY_CDF = new org.kmemlab.analysis.chart.ChartSpec(
            "replay-latency-cdf", "Modelled allocation latency CDF per policy (log scale)",
            org.kmemlab.analysis.chart.ChartSpec.Kind.LINE, "log10 of modelled latency per request (ns)",
            "Fraction of requests", org.kmemlab.analysis.chart.ChartSpec.Unit.COUNT,
            "WITH r AS (SELECT policy, quantile_cont(modeled_ns, " + QS + ") AS v FROM requests GROUP BY policy)\n"
            + "SELECT log10(greatest(unnest(v), 1)) AS x, policy AS series, unnest(" + QS + ") AS y\n"
            + "FROM r ORDER BY series, y");

    /** Free blocks per order over the replay's virtual time, for baseline. */
    static final org.kmemlab.analysis.chart.ChartSpec FREE_BLOCKS = new org.kmemlab.analysis.chart.ChartSpec(
            "replay-free-blocks", "Free blocks per order over time (model, baseline)",
            org.kmemlab.analysis.chart.ChartSpec.Kind.LINE, "Virtual time since trace start (s)", "Free blocks",
            org.kmemlab.analysis.chart.ChartSpec.Unit.COUNT,
            "SELECT t_ns / 1e9 AS x, replace(metric, 'free_blocks_', '') AS series, value AS y\n"
            + "FROM timeline WHERE policy = 'baseline' AND metric LIKE 'free_blocks_order_%'\n"
            + "ORDER BY series, x");

    /** A chart over the replay tables. */
    record ReplayChart(org.kmemlab.analysis.chart.ChartSpec spec) implements ReportSection {
        public String id() { return "chart-" + spec.id(); }
        public String title() { return spec.title(); }

        public void render(ReportContext ctx, Html out) throws Exception {
            var c = org.kmemlab.analysis.chart.Charts.build(spec, ctx.db(), Map.of());
            out.raw("<figure class=\"chart\">").raw(org.kmemlab.analysis.chart.Charts.svg(c, spec.id() + "-")).raw("</figure>\n");
            out.raw("<details><summary>SQL</summary><pre>").text(spec.sql()).raw("</pre></details>\n");
        }
    }

    static long num(Map<String, Object> s, String k) {
        Object v = s.get(k);
        return v instanceof Number n ? n.longValue() : 0;
    }

    static final String[][] METRICS = {
        {"requests", "requests"}, {"failures", "failures"}, {"modeled_ns", "allocator CPU (ns)"},
        {"spin_ns", "spinlock spin (ns)"}, {"sleep_ns", "sleep (ns)"}, {"delay_ns", "delay vs trace (ns)"},
        {"max_delay_ns", "max delay (ns)"}, {"kvmalloc_vmalloc_fallbacks", "kvmalloc → vmalloc"},
        {"mempool_reserve_used", "mempool reserve used"}, {"parked_requests", "parked requests"},
        {"trace_pages_reclaimed", "trace's page cache reclaimed (pages)"}};

    /** Each metric per policy, and its ratio to baseline (the policy_diff of the report). */
    record Comparison(Map<String, Map<String, Object>> summaries) implements ReportSection {
        public String id() { return "policy-comparison"; }
        public String title() { return "Policy comparison"; }

        public void render(ReportContext ctx, Html out) {
            Map<String, Object> base = summaries.getOrDefault("baseline", summaries.values().iterator().next());
            // set-up warnings (e.g. slabs that do not fit replay.memoryBytes) explain failures before any policy does
            java.util.Set<String> warnings = new java.util.LinkedHashSet<>();
            java.util.Set<String> watchdogKinds = new java.util.TreeSet<>();
            for (Map<String, Object> s : summaries.values()) {
                if (s.get("warnings") instanceof List<?> w) for (Object o : w) warnings.add(String.valueOf(o));
                if (s.get("watchdog_counts") instanceof Map<?, ?> c) for (Object k : c.keySet()) watchdogKinds.add(String.valueOf(k));
            }
            for (String w : warnings) out.p("Warning: " + w);
            out.p("Each policy replayed the same trace through the allocator model; ratios are policy / baseline.");
            out.raw("<table class=\"sortable\"><thead><tr><th>metric</th>");
            for (String p : summaries.keySet()) out.raw("<th>").text(p).raw("</th><th>").text(p + " / baseline").raw("</th>");
            out.raw("</tr></thead><tbody>\n");
            for (String[] m : METRICS) row(out, m[1], base, s -> num(s, m[0]));
            for (String k : watchdogKinds) row(out, "watchdog: " + k, base, s -> watchdogCount(s, k));
            out.raw("</tbody></table>\n");
        }

        /** One metric: its value per policy and the ratio to baseline's. */
        private void row(Html out, String label, Map<String, Object> base, java.util.function.ToLongFunction<Map<String, Object>> metric) {
            out.raw("<tr><td>").text(label).raw("</td>");
            long b = metric.applyAsLong(base);
            for (Map<String, Object> s : summaries.values()) {
                long v = metric.applyAsLong(s);
                out.raw("<td class=\"num\">").text(String.format("%,d", v)).raw("</td><td class=\"num\">")
                        .text(b == 0 ? (v == 0 ? "1.00" : "—") : String.format("%.2f", (double) v / b)).raw("</td>");
            }
            out.raw("</tr>\n");
        }

        private static long watchdogCount(Map<String, Object> s, String kind) {
            return s.get("watchdog_counts") instanceof Map<?, ?> c && c.get(kind) instanceof Number n ? n.longValue() : 0;
        }
    }

    /** perf report-style trees and flame graphs of each policy's modelled profile. */
    record HotPaths(Path dir, java.util.Set<String> policies) implements ReportSection {
        public String id() { return "policy-hot-paths"; }
        public String title() { return "Hot paths and flame graphs per policy"; }

        public void render(ReportContext ctx, Html out) throws Exception {
            for (String p : policies) {
                Path f = dir.resolve(p).resolve("profile.folded");
                if (!Files.isRegularFile(f)) continue;
                Map<String, Long> folded = Folded.parse(f);
                out.raw("<h3>").text(p).raw("</h3>\n");
                HotTree.Options o = new HotTree.Options();
                o.limit = 25;
                o.percentLimit = 0.5;
                out.raw("<details><summary>perf report-style tree (Children / Self, modelled ns)</summary><pre>")
                        .text(new HotTree(folded).render(o, "ns")).raw("</pre></details>\n");
                out.raw(FlameGraph.svg(folded, "modelled allocator time: " + p, "ns")).raw("\n");
            }
        }
    }

    /** The wait-for cycle a replay stopped on, per policy; says so when no replay deadlocked. */
    record Deadlocks(Map<String, Map<String, Object>> summaries) implements ReportSection {
        public String id() { return "deadlocks"; }
        public String title() { return "Deadlock report"; }

        @SuppressWarnings("unchecked")
        public void render(ReportContext ctx, Html out) {
            boolean any = false;
            for (Map.Entry<String, Map<String, Object>> e : summaries.entrySet()) {
                Object d = e.getValue().get("deadlock");
                if (!(d instanceof Map<?, ?> dm)) continue;
                any = true;
                out.raw("<h3>").text(e.getKey()).raw("</h3>\n<table><thead><tr><th>task</th><th>comm</th><th>holds</th>"
                        + "<th>waits for</th><th>since (s)</th><th>request</th></tr></thead><tbody>\n");
                for (Object o : (List<Object>) dm.get("cycle")) {
                    Map<String, Object> t = (Map<String, Object>) o;
                    out.raw("<tr><td>").text(String.valueOf(t.get("task"))).raw("</td><td>").text(String.valueOf(t.get("comm")))
                            .raw("</td><td>").text(String.valueOf(t.get("holds"))).raw("</td><td>").text(String.valueOf(t.get("waits_for")))
                            .raw("</td><td>").text(String.format("%.6f", ((Number) t.get("since_ns")).longValue() / 1e9))
                            .raw("</td><td>").text(String.valueOf(t.get("request"))).raw("</td></tr>\n");
                }
                out.raw("</tbody></table>\n");
            }
            if (!any) out.p("No replay deadlocked: every parked task was woken or timed out.");
            // The detectors' other findings: possible deadlocks (lockdep), invalid wait contexts, and
            // cycles a timeout broke. Listed only when a replay has any.
            for (Map.Entry<String, Map<String, Object>> e : summaries.entrySet()) {
                for (String key : List.of("lockdep", "wait_context", "deadlock_avoided")) {
                    if (!(e.getValue().get(key) instanceof List<?> l) || l.isEmpty()) continue;
                    out.raw("<h4>").text(e.getKey() + ": " + key).raw("</h4>\n<ul>\n");
                    for (Object o : l) {
                        Map<String, Object> r = (Map<String, Object>) o;
                        Object head = r.containsKey("bug") ? r.get("bug") + ": " + r.get("acquired") + " under " + r.get("held")
                                + " (x" + r.get("count") + ")"
                                : r.containsKey("cycle") ? r.get("kind") + ": " + r.get("cycle") : r.get("kind") + " in " + r.get("comm");
                        Object frames = r.containsKey("frames") ? r.get("frames") : r.get("worker_frames");
                        out.raw("<li>").text(String.valueOf(head));
                        if (frames != null) out.raw("<br><code>").text(String.valueOf(frames)).raw("</code>");
                        out.raw("</li>\n");
                    }
                    out.raw("</ul>\n");
                }
            }
        }
    }
}
