package org.kmemlab.analysis.report;

import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.jfree.chart.JFreeChart;
import org.kmemlab.analysis.KmemStat;
import org.kmemlab.analysis.NamedParams;
import org.kmemlab.analysis.chart.ChartSpec;
import org.kmemlab.analysis.chart.Charts;
import org.kmemlab.analysis.hot.FlameGraph;
import org.kmemlab.analysis.hot.Folded;
import org.kmemlab.analysis.hot.HotTree;

/** The report's trace-only sections, and the labelled placeholders the replayer replaces. */
public final class Sections {
    private Sections() {}

    /** Top rows shown in the call-site and cache tables. */
    public static final int TOP = 25;

    public static List<ReportSection> standard() {
        List<ReportSection> l = new ArrayList<>();
        l.add(new Summary());
        l.add(new SqlTable("call-sites", "Top call sites (perf kmem stat --caller)",
                "Slab allocations per call site, by bytes allocated. Ping-pong counts frees on another CPU than the allocation.",
                "SELECT call_site, call_site_fn, hits, bytes_alloc, bytes_req, frag_pct, frees, pingpong, live_objs, live_bytes,"
                        + " median_lifetime_ns FROM by_call_site ORDER BY bytes_alloc DESC, call_site, trace LIMIT :limit"));
        l.add(new SqlTable("caches", "Top caches (slabinfo-like)",
                "Per cache: objects allocated and freed in the trace, active at its end, the peak of live objects, object size.",
                "SELECT cache, allocs, frees, unmatched_frees, active_objs, active_bytes, peak_live_objs, objsize, bytes_alloc,"
                        + " frag_pct, cross_cpu_frees, median_lifetime_ns FROM by_cache ORDER BY allocs DESC, cache, trace LIMIT :limit"));
        l.add(new SqlTable("pages", "Page allocations by order, migratetype and gfp (perf kmem stat --page)",
                "Pages allocated (mm_page_alloc) and how many were freed within the trace.",
                "SELECT \"order\", migratetype_name AS migratetype, gfp, allocs, bytes, freed, live"
                        + " FROM pages_by_order_migratetype_gfp ORDER BY allocs DESC, \"order\", migratetype, gfp, trace LIMIT :limit"));
        l.add(new ExtfragTable());
        for (ChartSpec s : ChartSpec.standard()) l.add(new Chart(s));
        l.add(new HotPaths());
        l.add(new Placeholder("policy-comparison", "Policy comparison",
                "Filled in by the replayer: each policy's metrics against the baseline with their ratio (view policy_diff)."));
        l.add(new Placeholder("policy-hot-paths", "Hot paths and flame graphs per policy",
                "Filled in by the replayer: the modelled allocator's profile per policy, as a perf report tree and a flame graph."));
        l.add(new Placeholder("fidelity", "Replay fidelity",
                "Given the trace and its replay output folder with a baseline replay (kmemlab report trace.arrow out/), the model's derived events beside the trace's own."));
        l.add(new Placeholder("deadlocks", "Deadlock report", "Filled in by the replayer when a replay found a deadlock."));
        return l;
    }

    /** A chart section; given to HtmlReport.write with a changed query, it replaces the standard chart of that id. */
    public static ReportSection chart(ChartSpec spec) { return new Chart(spec); }

    /** perf kmem stat's summary per trace (KmemStat), as definition lists. */
    static final class Summary implements ReportSection {
        public String id() { return "summary"; }
        public String title() { return "Summary (perf kmem stat)"; }

        public void render(ReportContext ctx, Html out) {
            for (Map.Entry<Path, KmemStat> e : ctx.stats().entrySet()) {
                KmemStat s = e.getValue();
                out.raw("<h3>").text(String.valueOf(e.getKey().getFileName())).raw("</h3>\n<div class=\"kv\">");
                kv(out, "Events", String.format(Locale.ROOT, "%,d over %.3f s", s.eventsTotal, s.durationS()));
                kv(out, "Slab allocations", String.format(Locale.ROOT, "%,d", s.allocs));
                kv(out, "Bytes requested / allocated", String.format(Locale.ROOT, "%,d / %,d", s.bytesReq, s.bytesAlloc));
                kv(out, "Internal fragmentation", String.format(Locale.ROOT, "%,d bytes (%.2f%%)", s.internalFragBytes(), s.internalFragPct()));
                kv(out, "Frees matched / unmatched", String.format(Locale.ROOT, "%,d / %,d", s.freesMatched, s.freesUnmatched));
                kv(out, "Bytes freed (matched)", String.format(Locale.ROOT, "%,d", s.bytesFreedMatched));
                kv(out, "Net bytes", String.format(Locale.ROOT, "%,d", s.netBytes()));
                kv(out, "Cross-CPU frees (ping-pong)", String.format(Locale.ROOT, "%,d", s.crossCpuFrees));
                kv(out, "Live objects at end", String.format(Locale.ROOT, "%,d", s.liveAtEnd));
                kv(out, "Page allocations / frees", String.format(Locale.ROOT, "%,d / %,d", s.pageAllocs, s.pageFrees));
                if (s.info != null) {
                    kv(out, "Lost events", String.format(Locale.ROOT, "%,d", s.info.metaLong("lost_events", 0)));
                    if (s.info.kernelRelease() != null) kv(out, "Kernel", s.info.kernelRelease());
                    // Bad trace semantics counted at import (SCHEMA.md, anomalies): shown even when zero, so a clean trace says so.
                    s.info.anomalies.forEach((k, v) -> kv(out, "Anomalies: " + k.replace('_', ' '), String.format(Locale.ROOT, "%,d", v)));
                }
                out.raw("</div>\n<table class=\"sortable\"><thead><tr><th>event</th><th>count</th></tr></thead><tbody>\n");
                s.eventsByType.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                        .forEach(x -> out.raw("<tr><td>").text(x.getKey()).raw("</td><td class=\"n\" data-v=\"" + x.getValue() + "\">")
                                .text(String.format(Locale.ROOT, "%,d", x.getValue())).raw("</td></tr>\n"));
                out.raw("</tbody></table>\n");
            }
        }

        private static void kv(Html out, String k, String v) {
            out.raw("<div><span class=\"k\">").text(k).raw("</span><span class=\"v\">").text(v).raw("</span></div>");
        }
    }

    /** A table from a query over the views; the query is shown so that readers can rerun and change it. */
    static final class SqlTable implements ReportSection {
        final String id, title, note, sql;

        SqlTable(String id, String title, String note, String sql) {
            this.id = id; this.title = title; this.note = note; this.sql = sql;
        }

        public String id() { return id; }
        public String title() { return title; }

        public void render(ReportContext ctx, Html out) throws Exception {
            out.p(note);
            // several traces: say which trace each row comes from
            String q = ctx.traces().size() > 1 ? sql.replaceFirst("^SELECT ", "SELECT trace, ") : sql;
            NamedParams.Bound b = NamedParams.bind(q, Map.of("limit", TOP));
            try (PreparedStatement ps = ctx.db().prepare(b.sql(), b.params()); ResultSet rs = ps.executeQuery()) {
                out.table(rs);
            }
            out.raw("<details><summary>SQL</summary><pre>").text(sql.replace(":limit", Integer.toString(TOP))).raw("</pre></details>\n");
        }
    }

    /** A chart as inline SVG with the SQL it came from. */
    static final class Chart implements ReportSection {
        final ChartSpec spec;

        Chart(ChartSpec spec) { this.spec = spec; }

        public String id() { return "chart-" + spec.id(); }
        public String title() { return spec.title(); }

        public void render(ReportContext ctx, Html out) throws Exception {
            long bucket = Charts.bucketNs(ctx.db(), 200);
            Map<String, Object> params = Map.of("bucket_ns", bucket, "top_n", 8);
            JFreeChart c = Charts.build(spec, ctx.db(), params);
            out.raw("<figure class=\"chart\">").raw(Charts.svg(c, spec.id() + "-")).raw("</figure>\n");
            out.raw("<details><summary>SQL (parameters: bucket_ns = " + bucket + ", top_n = 8)</summary><pre>")
                    .text(spec.sql()).raw("</pre></details>\n");
        }
    }

    /** Call chains recorded with perf record -g, weighed by bytes allocated: a perf report tree and a flame graph. */
    static final class HotPaths implements ReportSection {
        public String id() { return "hot-paths"; }
        public String title() { return "Hot allocation paths (recorded call chains)"; }

        public void render(ReportContext ctx, Html out) throws Exception {
            Map<String, Long> folded = Folded.fromTrace(ctx.db(), ctx.traces(), Folded.Weight.BYTES, null);
            if (folded.isEmpty()) {
                out.raw("<p class=\"placeholder\">").text("No call chains in this trace: record with perf record -g to see hot paths here.").raw("</p>\n");
                return;
            }
            out.raw("<figure class=\"flame\">").raw(FlameGraph.svg(folded, "Allocated bytes by call chain (frames under 1 px hidden)", "bytes", 1.0)).raw("</figure>\n");
            HotTree.Options o = new HotTree.Options();
            o.limit = 15;
            o.percentLimit = 1;
            o.graphLimit = 2;
            out.raw("<details><summary>perf report --children tree (top 15)</summary><pre>")
                    .text(new HotTree(folded).render(o, "bytes")).raw("</pre></details>\n");
        }
    }

    /** A clearly labelled empty section that a provider's section with the same id replaces. */
    public static final class Placeholder implements ReportSection {
        final String id, title, note;

        public Placeholder(String id, String title, String note) {
            this.id = id; this.title = title; this.note = note;
        }

        public String id() { return id; }
        public String title() { return title; }

        public void render(ReportContext ctx, Html out) {
            out.raw("<p class=\"placeholder\">").text("Not available yet. " + note).raw("</p>\n");
        }
    }
}
