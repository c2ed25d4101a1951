package org.kmemlab.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.KmemStat;
import org.kmemlab.trace.GfpCodec;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kmemlab stat}: perf kmem stat's vocabulary. The SUMMARY always; {@code --caller}, {@code --alloc},
 * {@code --slab} and {@code --page} tables on request, sorted by {@code -s} and cut at {@code -l}.
 */
@Command(name = "stat", mixinStandardHelpOptions = true, description = "perf kmem stat-style statistics of a trace.")
public final class StatCommand implements Callable<Integer> {
    @Parameters(paramLabel = "TRACE")
    Path trace;

    @Option(names = "--caller", description = "Per call site table.")
    boolean caller;

    @Option(names = "--alloc", description = "Per allocation (ptr) table.")
    boolean alloc;

    @Option(names = "--slab", description = "Per cache table.")
    boolean slab;

    @Option(names = "--page", description = "Page allocations by order x migratetype x gfp.")
    boolean page;

    @Option(names = {"-s", "--sort"}, description = "Sort keys, comma separated: ptr, callsite, bytes, hit, pingpong, frag, req, live (default frag,hit,bytes; for --page: bytes,hit).")
    String sort;

    @Option(names = {"-l", "--line"}, description = "Rows per table (default 20; 0 for all).", defaultValue = "20")
    int lines;

    @Option(names = "--format", description = "text, csv or json.", defaultValue = "text")
    String format;

    @Option(names = "--top", description = "Entries in the JSON top lists.", defaultValue = "10")
    int top;

    @Override
    public Integer call() throws IOException {
        if (!List.of("text", "csv", "json").contains(format)) throw new UserError("--format must be text, csv or json, not '" + format + "'");
        KmemStat s = KmemStat.of(trace, alloc);
        PrintStream out = System.out;
        String keys = sort == null ? "frag,hit,bytes" : sort;
        try {
            KmemStat.sorted(List.of(), keys);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        switch (format) {
            case "json" -> {
                Map<String, Object> m = s.toJson(top);
                if (caller) m.put("caller", rowsJson(KmemStat.sorted(s.byCallSite.values(), keys)));
                if (alloc) m.put("alloc", rowsJson(KmemStat.sorted(s.byPtr.values(), keys)));
                if (slab) m.put("slab_caches", rowsJson(KmemStat.sorted(s.byCache.values(), sort == null ? "hit" : keys)));
                if (page) m.put("page", pageJson(s));
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
            }
            case "csv" -> {
                if (!caller && !alloc && !slab && !page) summaryCsv(out, s);
                if (caller) rowsCsv(out, "callsite", KmemStat.sorted(s.byCallSite.values(), keys));
                if (alloc) rowsCsv(out, "ptr", KmemStat.sorted(s.byPtr.values(), keys));
                if (slab) rowsCsv(out, "cache", KmemStat.sorted(s.byCache.values(), sort == null ? "hit" : keys));
                if (page) pageCsv(out, s);
            }
            default -> {
                if (caller) rowsText(out, "Callsite", KmemStat.sorted(s.byCallSite.values(), keys));
                if (alloc) rowsText(out, "Alloc Ptr", KmemStat.sorted(s.byPtr.values(), keys));
                if (slab) rowsText(out, "Cache", KmemStat.sorted(s.byCache.values(), sort == null ? "hit" : keys));
                summaryText(out, s);
                if (page) pageText(out, s);
            }
        }
        return 0;
    }

    private <T> List<T> limit(List<T> l) { return lines <= 0 || l.size() <= lines ? l : l.subList(0, lines); }

    private List<Map<String, Object>> rowsJson(List<KmemStat.Row> rows) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (KmemStat.Row r : limit(rows)) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("key", r.key);
            m.put("hits", r.hits);
            m.put("bytes_alloc", r.bytesAlloc);
            m.put("bytes_req", r.bytesReq);
            m.put("pingpong", r.pingpong);
            m.put("frag_pct", Math.round(r.fragPct() * 1000) / 1000.0);
            m.put("frees", r.frees);
            out.add(m);
        }
        return out;
    }

    private void rowsText(PrintStream out, String what, List<KmemStat.Row> rows) {
        String line = "-".repeat(113);
        out.println(line);
        out.printf(" %-48s | Total_alloc/Per | Total_req/Per   | Hit      | Ping-pong | Frag%n", what);
        out.println(line);
        for (KmemStat.Row r : limit(rows)) {
            String a = r.bytesAlloc + "/" + (r.hits == 0 ? 0 : r.bytesAlloc / r.hits);
            String q = r.bytesReq + "/" + (r.hits == 0 ? 0 : r.bytesReq / r.hits);
            out.printf(" %-48s | %15s | %15s | %8d | %9d | %6.3f%%%n", trunc(r.key, 48), a, q, r.hits, r.pingpong, r.fragPct());
        }
        if (lines > 0 && rows.size() > lines) out.printf(" ...                                              | ...             | ...             | ...      | ...       | ...   %n");
        out.println(line);
        out.println();
    }

    private static String trunc(String s, int n) { return s.length() <= n ? s : s.substring(0, n - 3) + "..."; }

    private static void rowsCsv(PrintStream out, String keyName, List<KmemStat.Row> rows) {
        out.println(keyName + ",hits,bytes_alloc,bytes_req,pingpong,frag_pct,frees");
        for (KmemStat.Row r : rows) {
            out.printf("%s,%d,%d,%d,%d,%.3f,%d%n", csv(r.key), r.hits, r.bytesAlloc, r.bytesReq, r.pingpong, r.fragPct(), r.frees);
        }
    }

    static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static void summaryText(PrintStream out, KmemStat s) {
        out.println("SUMMARY (SLAB allocator)");
        out.println("========================");
        out.printf("Total bytes requested: %,d%n", s.bytesReq);
        out.printf("Total bytes allocated: %,d%n", s.bytesAlloc);
        out.printf("Total bytes freed:     %,d%n", s.bytesFreedMatched);
        out.printf("Net total bytes allocated: %,d%n", s.netBytes());
        out.printf("Total bytes wasted on internal fragmentation: %,d%n", s.internalFragBytes());
        out.printf("Internal fragmentation: %f%%%n", s.internalFragPct());
        out.printf("Cross CPU frees (ping-pong): %,d/%,d%n", s.crossCpuFrees, s.freesMatched);
        out.printf("Frees matched/unmatched: %,d/%,d, live at end: %,d%n", s.freesMatched, s.freesUnmatched, s.liveAtEnd);
        out.printf("Events: %,d over %.6f s%s%n", s.eventsTotal, s.durationS(),
                s.info != null && s.info.metaLong("lost_events", 0) > 0 ? ", LOST " + s.info.metaLong("lost_events", 0) : "");
    }

    private static void summaryCsv(PrintStream out, KmemStat s) {
        out.println("metric,value");
        s.toJson(10).forEach((k, v) -> {
            if (v instanceof Map<?, ?> m) m.forEach((k2, v2) -> { if (!(v2 instanceof Map) && !(v2 instanceof List)) out.println(k + "." + k2 + "," + v2); });
            else if (!(v instanceof List)) out.println(k + "," + v);
        });
    }

    private List<KmemStat.PageRow> pageRows(KmemStat s) {
        List<KmemStat.PageRow> rows = new ArrayList<>(s.pages.values());
        rows.sort((a, b) -> {
            int c = Long.compare(b.bytes(), a.bytes());
            if (c == 0) c = Long.compare(b.hits, a.hits);
            if (c == 0) c = Integer.compare(a.order, b.order);
            if (c == 0) c = Integer.compare(a.migratetype, b.migratetype);
            return c != 0 ? c : String.valueOf(a.gfp).compareTo(String.valueOf(b.gfp));
        });
        return rows;
    }

    static final String[] MIGRATETYPES = {"UNMOVABLE", "MOVABLE", "RECLAIMABLE", "HIGHATOMIC", "CMA", "ISOLATE"};

    static String mt(int m) { return m >= 0 && m < MIGRATETYPES.length ? MIGRATETYPES[m] : Integer.toString(m); }

    private void pageText(PrintStream out, KmemStat s) {
        out.println();
        out.println("SUMMARY (page allocator)");
        out.println("========================");
        out.printf("Total allocation requests: %,d  [ %,d KB ]%n", s.pageAllocs,
                s.pages.values().stream().mapToLong(KmemStat.PageRow::bytes).sum() / 1024);
        out.printf("Total free requests:       %,d%n", s.pageFrees);
        out.println();
        out.println("Order     Unmovable   Reclaimable       Movable      Reserved  CMA/Isolated");
        out.println("-----  ------------  ------------  ------------  ------------  ------------");
        int maxOrder = s.pageAllocsByOrder.isEmpty() ? 0 : java.util.Collections.max(s.pageAllocsByOrder.keySet());
        for (int o = 0; o <= Math.max(10, maxOrder); o++) {
            long[] c = new long[5];
            for (KmemStat.PageRow r : s.pages.values()) {
                if (r.order != o) continue;
                int col = switch (r.migratetype) { case 0 -> 0; case 2 -> 1; case 1 -> 2; case 3 -> 3; default -> 4; };
                c[col] += r.hits;
            }
            out.printf("%5d", o);
            for (long v : c) out.printf("  %12s", v == 0 ? "." : String.format("%,d", v));
            out.println();
        }
        out.println();
        String line = "-".repeat(100);
        out.println(line);
        out.printf(" %-10s | %5s | %-11s | %8s | %-40s | %s%n", "Total (KB)", "Order", "Mig.type", "Hits", "GFP flags", "compact");
        out.println(line);
        for (KmemStat.PageRow r : limit(pageRows(s))) {
            out.printf(" %10d | %5d | %-11s | %8d | %-40s | %s%n", r.bytes() / 1024, r.order, mt(r.migratetype), r.hits,
                    trunc(String.valueOf(r.gfp), 40), GfpCodec.compact(r.gfp));
        }
        out.println(line);
    }

    private void pageCsv(PrintStream out, KmemStat s) {
        out.println("order,migratetype,gfp,hits,bytes");
        for (KmemStat.PageRow r : pageRows(s)) out.printf("%d,%s,%s,%d,%d%n", r.order, mt(r.migratetype), csv(String.valueOf(r.gfp)), r.hits, r.bytes());
    }

    private List<Map<String, Object>> pageJson(KmemStat s) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (KmemStat.PageRow r : limit(pageRows(s))) {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("order", r.order);
            m.put("migratetype", mt(r.migratetype));
            m.put("gfp", r.gfp);
            m.put("hits", r.hits);
            m.put("bytes", r.bytes());
            out.add(m);
        }
        return out;
    }
}
