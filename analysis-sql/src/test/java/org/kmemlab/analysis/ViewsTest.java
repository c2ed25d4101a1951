package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/**
 * The views of views.sql against expectations worked out by hand (a small fixture covering cross-CPU
 * frees, unmatched frees, a double allocation and kfree(NULL)) and against an independent stack-per-address
 * pairing in plain Java on a random trace (fixed seed).
 */
class ViewsTest {
    @TempDir Path tmp;

    Path fixture() throws Exception { return ViewsTestFixture.write(tmp); }

    static List<List<Object>> rows(TraceDb db, String sql) throws SQLException {
        List<List<Object>> out = new ArrayList<>();
        try (ResultSet rs = db.query(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<Object> r = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    Object o = rs.getObject(i);
                    if (o instanceof Number num && !(o instanceof Double) && !(o instanceof java.math.BigDecimal)) o = num.longValue();
                    if (o instanceof java.math.BigDecimal bd) o = bd.doubleValue();
                    r.add(o);
                }
                out.add(r);
            }
        }
        return out;
    }

    static List<Object> row(Object... v) {
        List<Object> r = new ArrayList<>();
        for (Object o : v) r.add(o instanceof Integer i ? (Object) i.longValue() : o);
        return r;
    }

    @Test
    void lifetimesPairEachFreeWithTheLatestUnfreedAllocAndKeepUnmatchedSides() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(fixture()))) {
            List<List<Object>> got = rows(db, "SELECT kind, addr, alloc_ts_ns, free_ts_ns, lifetime_ns, alloc_cpu, free_cpu, cross_cpu,"
                    + " alloc_context, free_context, cache, bytes_alloc FROM lifetimes"
                    + " ORDER BY kind, addr, coalesce(alloc_ts_ns, free_ts_ns)");
            List<List<Object>> want = List.of(
                    row("page", 1000, 150, 350, 200, 0, 1, true, null, null, null, 4096),
                    row("page", 2000, 250, null, null, 0, null, null, null, null, null, 16384),
                    row("page", 3000, null, 450, null, null, 0, null, null, null, null, 4096),
                    // kfree(NULL): an unmatched free, as perf kmem counts it
                    row("slab", 0, null, 800, null, null, 0, null, null, "task", null, null),
                    row("slab", 0xA, 100, 200, 100, 0, 1, true, "task", "softirq", "kmalloc-16", 16),
                    row("slab", 0xB, null, 300, null, null, 0, null, null, "task", null, null),
                    // double allocation of 0xC: the first free takes the latest alloc, the second the earlier one
                    row("slab", 0xC, 400, 700, 300, 0, 1, true, "task", "task", "dentry", 128),
                    row("slab", 0xC, 500, 600, 100, 0, 0, false, "task", "task", "dentry", 128),
                    row("slab", 0xD, 800, null, null, 1, null, null, "softirq", null, "kmalloc-32", 32));
            assertEquals(want, got);
            // the failed kmalloc (ptr 0) is an alloc but not a lifetime
            assertEquals(List.of(row(7L)), rows(db, "SELECT count(*) FROM allocs"));
            assertEquals(List.of(row(7L)), rows(db, "SELECT count(*) FROM frees"));
        }
    }

    @Test
    void byCacheIsSlabinfoLike() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(fixture()))) {
            List<List<Object>> got = rows(db, "SELECT cache, allocs, frees, unmatched_frees, active_objs, active_bytes, peak_live_objs,"
                    + " objsize, bytes_req, bytes_alloc, frag_pct, cross_cpu_frees FROM by_cache ORDER BY cache");
            assertEquals(List.of(
                    row("?", 0, 0, 2, 0, 0, 0, null, 0, 0, 0.0, 0),
                    row("dentry", 2, 2, 0, 0, 0, 2, 128, 200, 256, 21.875, 1),
                    row("kmalloc-16", 1, 1, 0, 0, 0, 1, 16, 10, 16, 37.5, 1),
                    row("kmalloc-32", 1, 0, 0, 1, 32, 1, 32, 30, 32, 6.25, 0)), got);
        }
    }

    @Test
    void byCallSiteFollowsPerfKmemCaller() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(fixture()))) {
            assertEquals(List.of(
                    row("f1+0x1", "f1", 2, 40, 48, 1, 1, 1, 32),
                    row("f2+0x1", "f2", 2, 200, 256, 2, 1, 0, 0)),
                    rows(db, "SELECT call_site, call_site_fn, hits, bytes_req, bytes_alloc, frees, pingpong, live_objs, live_bytes"
                            + " FROM by_call_site ORDER BY call_site"));
        }
    }

    @Test
    void pagesGroupByOrderMigratetypeAndGfp() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(fixture()))) {
            assertEquals(List.of(
                    row(0, 0, "Unmovable", "GFP_KERNEL", 1, 4096, 1, 0),
                    row(2, 1, "Movable", "GFP_HIGHUSER_MOVABLE", 1, 16384, 0, 1)),
                    rows(db, "SELECT \"order\", migratetype, migratetype_name, gfp, allocs, bytes, freed, live"
                            + " FROM pages_by_order_migratetype_gfp ORDER BY 1"));
        }
    }

    @Test
    void liveBytesOverTimeIsDenseAndCumulative() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(fixture()))) {
            // span 100..900 in buckets of 100 ns: deltas +16@100 -16@200 +128@400 +128@500 -128@600 -128@700 +32@800
            assertEquals(List.of(row(0, 16), row(1, 0), row(2, 0), row(3, 128), row(4, 256), row(5, 128), row(6, 0), row(7, 32), row(8, 32)),
                    rows(db, "SELECT bucket, live_bytes FROM live_bytes_over_time(100) WHERE dim = 'total' ORDER BY bucket"));
            assertEquals(List.of(row(0, 0), row(3, 128), row(4, 256), row(5, 128), row(6, 0), row(8, 0)),
                    rows(db, "SELECT bucket, live_bytes FROM live_bytes_over_time(100) WHERE dim = 'cache' AND key = 'dentry'"
                            + " AND bucket IN (0, 3, 4, 5, 6, 8) ORDER BY bucket"));
            assertEquals(List.of(row("f1+0x1", 16, 32), row("f2+0x1", 0, 0)),
                    rows(db, "SELECT key, max(live_bytes) FILTER (WHERE bucket = 0), max(live_bytes) FILTER (WHERE bucket = 8)"
                            + " FROM live_bytes_over_time(100) WHERE dim = 'call_site' GROUP BY key ORDER BY key"));
        }
    }

    /** Stack-per-address pairing in plain Java, the semantics the SQL must reproduce; most addresses misbehave. */
    /** Both pairings, the SQL's windows and LifetimePairing's pass while loading. */
    @org.junit.jupiter.params.ParameterizedTest(name = "javaPairing={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void lifetimesAgreeWithAJavaStackPairingOnARandomTrace(boolean javaPairing) throws Exception {
        checkAgainstJavaStack(new Random(42), 40, 52, javaPairing);
    }

    /** Mostly alternating addresses (the fast path) mixed with a few that get a double alloc or free (the stack path). */
    @org.junit.jupiter.params.ParameterizedTest(name = "javaPairing={0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void lifetimesAgreeWithAJavaStackPairingWhenMostAddressesAlternate(boolean javaPairing) throws Exception {
        checkAgainstJavaStack(new Random(7), 2000, -1, javaPairing);
    }

    /**
     * allocPct >= 0: each event picks a random address and allocates with that probability. allocPct < 0:
     * each address alternates alloc/free, except that 1 event in 50 repeats the previous direction.
     */
    void checkAgainstJavaStack(Random r, int addrs, int allocPct, boolean javaPairing) throws Exception {
        Map<Long, Boolean> lastWasAlloc = new HashMap<>();
        Path p = tmp.resolve("rnd.arrow");
        Map<Long, ArrayDeque<Long>> stacks = new HashMap<>();
        Set<String> wantPairs = new HashSet<>();
        Set<Long> wantUnmatchedFrees = new HashSet<>();
        Map<Long, Integer> allocCpu = new HashMap<>();
        int crossWant = 0;
        List<Long> allocTs = new ArrayList<>();
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.ZSTD)) {
            for (int i = 0; i < 5000; i++) {
                long ts = 1_000 + 10L * i;
                long ptr = 0x1000 + r.nextInt(addrs) * 64L;
                int cpu = r.nextInt(3);
                boolean alloc;
                if (allocPct >= 0) {
                    alloc = r.nextInt(100) < allocPct;
                } else {
                    Boolean last = lastWasAlloc.get(ptr);
                    alloc = last == null ? r.nextInt(4) > 0 : !last;
                    if (r.nextInt(50) == 0) alloc = !alloc;
                }
                lastWasAlloc.put(ptr, alloc);
                if (alloc) {
                    w.accept(ViewsTestFixture.slab(ts, cpu, r.nextBoolean() ? EventNames.KMALLOC : EventNames.KMEM_CACHE_ALLOC, ptr, "s" + r.nextInt(5), null, "task", 8, 8));
                    stacks.computeIfAbsent(ptr, k -> new ArrayDeque<>()).push(ts);
                    allocCpu.put(ts, cpu);
                    allocTs.add(ts);
                } else {
                    w.accept(ViewsTestFixture.slab(ts, cpu, r.nextBoolean() ? EventNames.KFREE : EventNames.KMEM_CACHE_FREE, ptr, "g", null, "task", 0, 0));
                    ArrayDeque<Long> s = stacks.get(ptr);
                    if (s == null || s.isEmpty()) {
                        wantUnmatchedFrees.add(ts);
                    } else {
                        long a = s.pop();
                        wantPairs.add(a + "->" + ts);
                        if (allocCpu.get(a) != cpu) crossWant++;
                    }
                }
            }
        }
        Set<Long> wantLive = new HashSet<>();
        stacks.values().forEach(wantLive::addAll);
        try (TraceDb db = TraceDb.open(List.of(p), Map.of(), javaPairing)) {
            assertEquals(javaPairing, db.javaPairs());
            Set<String> pairs = new HashSet<>();
            Set<Long> unmatched = new HashSet<>();
            Set<Long> live = new HashSet<>();
            int cross = 0;
            for (List<Object> row : rows(db, "SELECT alloc_ts_ns, free_ts_ns, cross_cpu FROM lifetimes")) {
                if (row.get(0) == null) unmatched.add((Long) row.get(1));
                else if (row.get(1) == null) live.add((Long) row.get(0));
                else {
                    pairs.add(row.get(0) + "->" + row.get(1));
                    if (Boolean.TRUE.equals(row.get(2))) cross++;
                }
            }
            assertTrue(wantPairs.size() > 1000 && wantUnmatchedFrees.size() > 10 && wantLive.size() > 10, "fixture exercises all cases");
            long stackPath = Long.parseLong(String.valueOf(rows(db, "SELECT count(*) FROM (SELECT addr FROM (SELECT addr, d, lag(d) OVER (PARTITION BY addr ORDER BY ts_ns) AS p"
                    + " FROM (SELECT addr, ts_ns, 1 AS d FROM allocs UNION ALL SELECT addr, ts_ns, -1 FROM frees)) WHERE d = p GROUP BY addr)").get(0).get(0)));
            assertTrue(stackPath > 0, "some addresses take the stack path");
            assertEquals(wantPairs, pairs);
            assertEquals(wantUnmatchedFrees, unmatched);
            assertEquals(wantLive, live);
            assertEquals(crossWant, cross);
        }
    }
}
