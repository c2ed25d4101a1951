package org.kmemlab.analysis;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/**
 * {@code perf kmem stat} over a kmemlab trace, in one streaming pass (tools/perf/builtin-kmem.c:
 * {@code perf_evsel__process_alloc_event}, {@code perf_evsel__process_free_event},
 * {@code print_slab_summary}, {@code __print_slab_result}, {@code print_page_summary}).
 *
 * <p>Pairing follows the semantics of the ground-truth oracles: a free is "matched" when its ptr was
 * allocated earlier in the trace and not freed since; "bytes freed" sums the bytes_alloc of matched
 * frees; a cross-CPU free is a matched free on another CPU than the allocating one (perf's "ping-pong").
 * A second allocation of a ptr that is still live replaces it (its free was not traced, e.g.
 * {@code kmem_cache_free_bulk}). perf kmem itself counts "Cross CPU allocations" by node, and always
 * prints 0 on these traces; kmemlab reports ping-pong per the oracle instead.
 */
public final class KmemStat {
    public static final int PAGE_SIZE = 4096;

    /** Per call site, per cache or per ptr: perf kmem's row. */
    public static final class Row {
        public final String key;
        public long hits;
        public long bytesReq;
        public long bytesAlloc;
        public long pingpong;
        public long frees;
        public long live;

        Row(String key) { this.key = key; }

        public double fragPct() { return bytesAlloc == 0 ? 0 : 100.0 - 100.0 * bytesReq / bytesAlloc; }
    }

    /** A page-allocation group: order × migratetype × gfp. */
    public static final class PageRow {
        public final int order;
        public final int migratetype;
        public final String gfp;
        public long hits;

        PageRow(int order, int migratetype, String gfp) {
            this.order = order;
            this.migratetype = migratetype;
            this.gfp = gfp;
        }

        public long bytes() { return ((long) PAGE_SIZE << order) * hits; }
    }

    public long eventsTotal;
    public long firstTs = Long.MAX_VALUE;
    public long lastTs = Long.MIN_VALUE;
    public final Map<String, Long> eventsByType = new HashMap<>();
    public final Map<Integer, Long> eventsByCpu = new TreeMap<>();
    public long allocs, bytesReq, bytesAlloc, bytesFreedMatched, freesMatched, freesUnmatched,
            crossCpuFrees, liveAtEnd;
    public final Map<String, Row> byCallSite = new HashMap<>();
    public final Map<String, Row> byCallSiteFn = new HashMap<>();
    public final Map<String, Row> byCache = new HashMap<>();
    public final Map<Long, Row> byPtr = new HashMap<>();
    public final Map<Integer, Long> pageAllocsByOrder = new TreeMap<>();
    public final Map<Integer, Long> pageAllocsByMigratetype = new TreeMap<>();
    public final Map<String, PageRow> pages = new HashMap<>();
    public long pageAllocs, pageFrees;
    /** gfp strings of slab allocations (kmalloc and kmem_cache_alloc), as the oracle's top_gfp_flags counts them. */
    public final Map<String, Long> gfpCounts = new HashMap<>();
    public TraceInfo info;
    private final boolean perPtr;

    public KmemStat(boolean perPtr) { this.perPtr = perPtr; }

    public static KmemStat of(Path trace, boolean perPtr) throws IOException {
        KmemStat s = new KmemStat(perPtr);
        try (TraceReader r = new TraceReader(trace)) {
            // decoding (ZSTD, validation, the column copy) on a second thread, the statistics on this one
            StatColumns.pipeline(r, s::add);
            s.finish(r.info());
        }
        return s;
    }

    /** A KmemStat that {@link TraceDb#open(List, Map)} feeds while it loads the trace into DuckDB. */
    public static Collector collector(boolean perPtr) { return new Collector(new KmemStat(perPtr)); }

    /**
     * Copies each batch's columns on the loading thread and adds them on a thread of its own, so that the
     * report reads and decodes a trace once for DuckDB and the statistics together, and the statistics do
     * not hold up the load. The same copy feeds the session's {@link LifetimePairing}, when it has one.
     */
    public static final class Collector implements TraceDb.Tap {
        private final KmemStat stat;
        private LifetimePairing pairing;
        private final java.util.concurrent.BlockingQueue<StatColumns> free = new java.util.concurrent.ArrayBlockingQueue<>(3);
        private final java.util.concurrent.BlockingQueue<StatColumns> full = new java.util.concurrent.ArrayBlockingQueue<>(3);
        private final StatColumns endMark = new StatColumns();
        private Thread worker;
        private volatile RuntimeException failure;
        private boolean done;

        /** {@code stat} null: a collector that only pairs lifetimes. */
        Collector(KmemStat stat) {
            this.stat = stat;
            for (int i = 0; i < 3; i++) free.add(new StatColumns());
        }

        /** Also feeds {@code p}, from the first batch on. */
        Collector pairing(LifetimePairing p) {
            if (worker != null) throw new IllegalStateException("pairing after the first batch");
            pairing = p;
            return this;
        }

        private void start() {
            worker = new Thread(() -> {
                try {
                    for (StatColumns c; (c = full.take()) != endMark; ) {
                        // after a failure keep draining, so that the loading thread never waits forever
                        if (failure == null) {
                            try {
                                if (stat != null) stat.add(c);
                                if (pairing != null) pairing.add(c);
                            } catch (RuntimeException e) {
                                failure = e;
                            }
                        }
                        free.add(c);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, stat != null ? "kmemlab-stat" : "kmemlab-pairing");
            worker.setDaemon(true);
            worker.start();
        }

        @Override public void accept(TraceBatch b) {
            if (worker == null) start();
            try {
                full.put(free.take().fill(b));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while collecting statistics", e);
            }
        }

        @Override public void end(TraceInfo info) throws IOException {
            if (worker != null) {
                try {
                    full.put(endMark);
                    worker.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException("interrupted while collecting statistics");
                }
            }
            if (failure != null) throw failure;
            if (stat != null) stat.finish(info);
            done = true;
        }

        /** Whether a load has fed this collector a whole trace. */
        public boolean done() { return done; }

        /** The statistics, once the load has read the whole trace. */
        public KmemStat result() {
            if (!done) throw new IllegalStateException("the trace has not been loaded yet");
            if (stat == null) throw new IllegalStateException("this collector only pairs lifetimes");
            return stat;
        }
    }

    // ptr → (index into site tables << 40) | (bytes_alloc << 16) | cpu, packed to keep the live map primitive.
    // Sized for a few copies of a real trace's live set, so that growing it is rare.
    // A load factor of one half keeps the probe runs that every free's removal shifts short.
    private final LivePtrMap live = new LivePtrMap(1 << 17);
    private final List<Row> siteRows = new ArrayList<>();
    private final List<Row> fnRows = new ArrayList<>();
    private final Map<String, Integer> siteIndex = new HashMap<>();
    private final Map<String, Integer> fnIndex = new HashMap<>();
    private final com.carrotsearch.hppc.IntArrayList siteToFn = new com.carrotsearch.hppc.IntArrayList();

    // Per batch: what each dictionary entry resolves to, filled on first use, so that a row costs array
    // lookups instead of string hashing (the 10M-event benchmark spent a third of stat's time there).
    private int[] siteOfDict, fnOfDict;
    private Row[] cacheOfDict;
    private long[] gfpOfDict;
    /** The kmalloc-N row by bytes_alloc up to kmalloc's largest class: an array lookup per allocation. */
    private final Row[] kmallocRowBySmallSize = new Row[8193];
    private final com.carrotsearch.hppc.LongObjectHashMap<Row> kmallocRowByBytes = new com.carrotsearch.hppc.LongObjectHashMap<>();
    private final com.carrotsearch.hppc.LongObjectHashMap<PageRow> pageRowOfKey = new com.carrotsearch.hppc.LongObjectHashMap<>();
    /** The byCache row of each call site's latest allocation: where a kfree, which names no cache, lands. */
    private final List<Row> lastCacheOfSite = new ArrayList<>();
    private final long[] cpuCounts = new long[256];
    private final long[] ordersCount = new long[64];
    /** Page allocations per migratetype + 1 (-1 is "not recorded"). */
    private final long[] mtCounts = new long[64];
    private StatColumns scratch;

    /** Adds one batch, read on this thread. */
    public void add(TraceBatch b) {
        if (scratch == null) scratch = new StatColumns();
        add(scratch.fill(b));
    }

    void add(StatColumns b) {
        int n = b.n;
        String[] evDict = b.eventDict;
        int[] kind = b.eventKinds();
        siteOfDict = filled(b.siteDict.length);
        fnOfDict = filled(b.fnDict.length);
        cacheOfDict = new Row[b.cacheDict.length];
        gfpOfDict = new long[b.gfpDict.length];
        pageRowOfKey.clear();
        long[] evCount = new long[evDict.length];
        long[] tsCol = b.ts;
        int[] evCol = b.event, cpuCol = b.cpu;
        long first = firstTs, last = lastTs;
        for (int r = 0; r < n; r++) {
            long ts = tsCol[r];
            if (ts < first) first = ts;
            if (ts > last) last = ts;
            int ev = evCol[r];
            if (ev >= 0) evCount[ev]++;
            int cpu = cpuCol[r];
            if (cpu >= 0 && cpu < cpuCounts.length) cpuCounts[cpu]++;
            else eventsByCpu.merge(cpu, 1L, Long::sum);
            if (ev < 0) continue;
            switch (kind[ev]) {
                case StatColumns.SLAB_ALLOC -> alloc(b, r, cpu);
                case StatColumns.SLAB_FREE -> free(b, r, cpu);
                case StatColumns.PAGE_ALLOC -> pageAlloc(b, r);
                case StatColumns.PAGE_FREE -> pageFrees++;
                default -> { }
            }
        }
        firstTs = first;
        lastTs = last;
        for (int i = 0; i < evDict.length; i++) if (evCount[i] > 0) eventsByType.merge(evDict[i], evCount[i], Long::sum);
        for (int i = 0; i < b.gfpDict.length; i++) if (gfpOfDict[i] > 0) gfpCounts.merge(b.gfpDict[i], gfpOfDict[i], Long::sum);
        for (int c = 0; c < cpuCounts.length; c++) {
            if (cpuCounts[c] > 0) eventsByCpu.merge(c, cpuCounts[c], Long::sum);
            cpuCounts[c] = 0;
        }
        for (int o = 0; o < ordersCount.length; o++) {
            if (ordersCount[o] > 0) pageAllocsByOrder.merge(o, ordersCount[o], Long::sum);
            ordersCount[o] = 0;
        }
        for (int m = 0; m < mtCounts.length; m++) {
            if (mtCounts[m] > 0) pageAllocsByMigratetype.merge(m - 1, mtCounts[m], Long::sum);
            mtCounts[m] = 0;
        }
        eventsTotal += n;
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, -1);
        return a;
    }

    private int siteOf(StatColumns b, int r) { return rowOf(b.site[r], b.siteDict, siteOfDict, siteIndex, siteRows); }

    private int fnOf(StatColumns b, int r) { return rowOf(b.fn[r], b.fnDict, fnOfDict, fnIndex, fnRows); }

    /** The stat row of dictionary entry {@code d} ("?" for a null cell), cached per batch dictionary in {@code ofDict}. */
    private int rowOf(int d, String[] dict, int[] ofDict, Map<String, Integer> byName, List<Row> rows) {
        if (d < 0) return index("?", byName, rows);
        int i = ofDict[d];
        if (i < 0) i = ofDict[d] = index(dict[d], byName, rows);
        return i;
    }

    private void alloc(StatColumns b, int r, int cpu) {
        long ptr = b.ptr[r];
        if (ptr == StatColumns.NO_PTR) return;
        long req = b.req[r];
        long al = b.alloc[r];
        allocs++;
        int g = b.gfp[r];
        if (g >= 0) gfpOfDict[g]++;
        bytesReq += req;
        bytesAlloc += al;
        int si = siteOf(b, r);
        int fi = fnOf(b, r);
        Row sr = siteRows.get(si);
        sr.hits++; sr.bytesReq += req; sr.bytesAlloc += al;
        if (si == siteToFn.size()) siteToFn.add(fi);
        Row fr = fnRows.get(fi);
        fr.hits++; fr.bytesReq += req; fr.bytesAlloc += al;
        int cd = b.cache[r];
        Row c;
        if (cd >= 0) {
            c = cacheOfDict[cd];
            if (c == null) c = cacheOfDict[cd] = byCache.computeIfAbsent(b.cacheDict[cd], Row::new);
        } else {
            boolean small = al >= 0 && al < kmallocRowBySmallSize.length;
            c = small ? kmallocRowBySmallSize[(int) al] : kmallocRowByBytes.get(al);
            if (c == null) {
                c = byCache.computeIfAbsent(kmallocCacheName(al), Row::new);
                if (small) kmallocRowBySmallSize[(int) al] = c;
                else kmallocRowByBytes.put(al, c);
            }
        }
        c.hits++; c.bytesReq += req; c.bytesAlloc += al; c.live++;
        if (perPtr) {
            Row p = byPtr.computeIfAbsent(ptr, k -> new Row("0x" + Long.toHexString(k)));
            p.hits++; p.bytesReq += req; p.bytesAlloc += al;
        }
        live.put(ptr, ((long) si << 40) | ((al & 0xffffffL) << 16) | (cpu & 0xffff));
        while (lastCacheOfSite.size() <= si) lastCacheOfSite.add(null);
        lastCacheOfSite.set(si, c);
    }

    private void free(StatColumns b, int r, int cpu) {
        long ptr = b.ptr[r];
        if (ptr == StatColumns.NO_PTR) ptr = 0;
        // packed values are never negative (site indices stay far below 2^23)
        long v = ptr == 0 ? -1 : live.remove(ptr, -1);
        if (v < 0) {
            freesUnmatched++;
            return;
        }
        freesMatched++;
        long al = (v >>> 16) & 0xffffffL;
        int acpu = (int) (v & 0xffff);
        int si = (int) (v >>> 40);
        bytesFreedMatched += al;
        Row sr = siteRows.get(si);
        sr.frees++;
        boolean cross = acpu != (cpu & 0xffff);
        if (cross) {
            crossCpuFrees++;
            sr.pingpong++;
            fnRows.get(siteToFn.get(si)).pingpong++;
        }
        int cd = b.cache[r];
        Row c;
        if (cd >= 0) {
            // a free names the cache it frees to; a name no allocation used has no row (not created here)
            c = cacheOfDict[cd];
            if (c == null) c = byCache.get(b.cacheDict[cd]);
        } else {
            c = si < lastCacheOfSite.size() ? lastCacheOfSite.get(si) : null;
        }
        if (c != null) {
            c.frees++;
            c.live--;
            if (cross) c.pingpong++;
        }
        if (perPtr) {
            Row p = byPtr.get(ptr);
            if (p != null) {
                p.frees++;
                if (cross) p.pingpong++;
            }
        }
    }

    private void pageAlloc(StatColumns b, int r) {
        int order = b.order[r];
        int mt = b.mt[r];
        pageAllocs++;
        if (order >= 0 && order < ordersCount.length) ordersCount[order]++;
        else pageAllocsByOrder.merge(order, 1L, Long::sum);
        if (mt >= -1 && mt < mtCounts.length - 1) mtCounts[mt + 1]++;
        else pageAllocsByMigratetype.merge(mt, 1L, Long::sum);
        int g = b.gfp[r];
        long k = ((long) (order & 0xffff) << 48) | ((long) (mt & 0xffff) << 32) | (g & 0xffffffffL);
        PageRow pr = pageRowOfKey.get(k);
        if (pr == null) {
            String gfp = g < 0 ? null : b.gfpDict[g];
            pr = pages.computeIfAbsent(order + "|" + mt + "|" + gfp, x -> new PageRow(order, mt, gfp));
            pageRowOfKey.put(k, pr);
        }
        pr.hits++;
    }

    private static int index(String key, Map<String, Integer> idx, List<Row> rows) {
        Integer i = idx.get(key);
        if (i == null) {
            i = rows.size();
            rows.add(new Row(key));
            idx.put(key, i);
        }
        return i;
    }

    /** kmalloc events carry no cache name; name the size class they landed in. */
    static String kmallocCacheName(long bytesAlloc) {
        if (bytesAlloc > 8192) return "kmalloc_large";
        if (bytesAlloc >= 1024 && bytesAlloc % 1024 == 0) return "kmalloc-" + (bytesAlloc / 1024) + "k";
        return "kmalloc-" + bytesAlloc;
    }

    public void finish(TraceInfo info) {
        this.info = info;
        liveAtEnd = live.size();
        for (Row r : siteRows) byCallSite.put(r.key, r);
        for (Row r : fnRows) byCallSiteFn.put(r.key, r);
    }

    public long netBytes() { return bytesAlloc - bytesFreedMatched; }
    public long internalFragBytes() { return bytesAlloc - bytesReq; }
    public double internalFragPct() { return bytesAlloc == 0 ? 0 : 100.0 * internalFragBytes() / bytesAlloc; }
    public double durationS() { return eventsTotal == 0 ? 0 : (lastTs - firstTs) / 1e9; }

    /** Rows sorted by perf kmem's slab sort keys ({@code ptr, callsite, bytes, hit, pingpong, frag}). */
    public static List<Row> sorted(Iterable<Row> rows, String sortKeys) {
        List<Row> out = new ArrayList<>();
        rows.forEach(out::add);
        Comparator<Row> cmp = null;
        for (String k : sortKeys.split(",")) {
            Comparator<Row> c = switch (k.trim()) {
                case "ptr", "callsite", "name", "cache" -> Comparator.comparing((Row r) -> r.key);
                case "bytes" -> Comparator.comparingLong((Row r) -> r.bytesAlloc).reversed();
                case "hit" -> Comparator.comparingLong((Row r) -> r.hits).reversed();
                case "pingpong" -> Comparator.comparingLong((Row r) -> r.pingpong).reversed();
                case "frag" -> Comparator.comparingDouble(Row::fragPct).reversed();
                case "req" -> Comparator.comparingLong((Row r) -> r.bytesReq).reversed();
                case "live" -> Comparator.comparingLong((Row r) -> r.live).reversed();
                default -> throw new IllegalArgumentException("unknown sort key '" + k.trim()
                        + "'; slab keys are ptr, callsite, bytes, hit, pingpong, frag, req, live");
            };
            cmp = cmp == null ? c : cmp.thenComparing(c);
        }
        if (cmp == null) cmp = Comparator.comparing((Row r) -> r.key);
        out.sort(cmp.thenComparing(r -> r.key));
        return out;
    }

    /** The oracle-compatible summary ({@code ../shared/traces/*.oracle.json} keys and meanings). */
    public Map<String, Object> toJson(int top) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("events_total", eventsTotal);
        m.put("unparsed_lines", info == null ? 0 : info.metaLong("unparsed_lines", 0));
        m.put("lost_events", info == null ? 0 : info.metaLong("lost_events", 0));
        m.put("events_by_type", sortedByValue(eventsByType, Integer.MAX_VALUE));
        Map<String, Long> cpus = new LinkedHashMap<>();
        eventsByCpu.forEach((k, v) -> cpus.put(Integer.toString(k), v));
        m.put("events_by_cpu", cpus);
        m.put("duration_s", Math.round(durationS() * 1e6) / 1e6);
        Map<String, Object> slab = new LinkedHashMap<>();
        slab.put("allocs", allocs);
        slab.put("bytes_req", bytesReq);
        slab.put("bytes_alloc", bytesAlloc);
        slab.put("bytes_freed_matched", bytesFreedMatched);
        slab.put("net_bytes", netBytes());
        slab.put("internal_frag_bytes", internalFragBytes());
        slab.put("internal_frag_pct", Math.round(internalFragPct() * 1e6) / 1e6);
        slab.put("frees_matched", freesMatched);
        slab.put("frees_unmatched", freesUnmatched);
        slab.put("live_at_end", liveAtEnd);
        slab.put("cross_cpu_frees", crossCpuFrees);
        m.put("slab", slab);
        List<Map<String, Object>> sites = new ArrayList<>();
        for (Row r : sorted(byCallSiteFn.values(), "bytes,hit")) {
            if (sites.size() == top) break;
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("call_site", r.key);
            s.put("count", r.hits);
            s.put("bytes_req", r.bytesReq);
            s.put("bytes_alloc", r.bytesAlloc);
            sites.add(s);
        }
        m.put("top_call_sites_by_bytes_alloc", sites);
        Map<String, Long> caches = new HashMap<>();
        byCache.forEach((k, v) -> { if (!k.startsWith("kmalloc")) caches.put(k, v.hits); });
        m.put("top_caches_by_allocs", sortedByValue(caches, top));
        Map<String, Long> orders = new LinkedHashMap<>();
        pageAllocsByOrder.forEach((k, v) -> orders.put(Integer.toString(k), v));
        m.put("page_allocs_by_order", orders);
        Map<String, Long> mts = new LinkedHashMap<>();
        pageAllocsByMigratetype.forEach((k, v) -> mts.put(Integer.toString(k), v));
        m.put("page_allocs_by_migratetype", mts);
        m.put("top_gfp_flags", sortedByValue(gfpCounts, 8));
        return m;
    }

    static <K extends Comparable<K>> Map<K, Long> sortedByValue(Map<K, Long> in, int limit) {
        List<Map.Entry<K, Long>> l = new ArrayList<>(in.entrySet());
        l.sort(Map.Entry.<K, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        Map<K, Long> out = new LinkedHashMap<>();
        for (Map.Entry<K, Long> e : l) {
            if (out.size() == limit) break;
            out.put(e.getKey(), e.getValue());
        }
        return out;
    }
}
