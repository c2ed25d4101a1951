package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/**
 * LifetimePairing's pairs (found while loading) against the SQL's windows (lifetime_pairs_sql), two
 * independent formulations of one stack per address, on seeded random traces of slab objects and pages with
 * repeated timestamps, double allocations and frees, kfree(NULL) and failed allocations; and the cases where
 * the session must fall back to the SQL: timestamps out of order, a time window, a trace added later.
 */
class LifetimePairingTest {
    @TempDir Path tmp;

    /**
     * A random trace over few addresses so that stacks get deep. {@code shuffleTs}: timestamps go
     * backwards now and then, as in a trace merged badly from per-CPU buffers.
     */
    Path randomTrace(String name, long seed, int events, boolean shuffleTs) throws Exception {
        Random r = new Random(seed);
        Path p = tmp.resolve(name);
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.ZSTD)) {
            long ts = 1_000;
            for (int i = 0; i < events; i++) {
                // equal timestamps are common in real traces: seq breaks the tie
                ts += r.nextInt(3) == 0 ? 0 : 1 + r.nextInt(20);
                long at = shuffleTs && r.nextInt(40) == 0 ? ts - 100 - r.nextInt(500) : ts;
                int cpu = r.nextInt(4);
                int k = r.nextInt(100);
                TraceEvent e;
                if (k < 40) {
                    long ptr = r.nextInt(30) == 0 ? 0 : 0x1000 + 64L * r.nextInt(25);
                    String ev = r.nextBoolean() ? EventNames.KMALLOC : EventNames.KMEM_CACHE_ALLOC;
                    String cache = ev.equals(EventNames.KMEM_CACHE_ALLOC) && r.nextBoolean() ? "dentry" : null;
                    // kmalloc's size classes by name: plain, in KiB, large, and no size at all (no name)
                    long size = SIZES[r.nextInt(SIZES.length)];
                    e = ViewsTestFixture.slab(at, cpu, ev, ptr, r.nextInt(20) == 0 ? null : "f" + r.nextInt(4), cache, "task", size - 8, size);
                    if (r.nextInt(15) == 0) e.gfp = "GFP_ATOMIC";
                } else if (k < 75) {
                    long ptr = r.nextInt(30) == 0 ? 0 : 0x1000 + 64L * r.nextInt(25);
                    String ev = r.nextBoolean() ? EventNames.KFREE : EventNames.KMEM_CACHE_FREE;
                    e = ViewsTestFixture.slab(at, cpu, ev, ptr, "g", ev.equals(EventNames.KMEM_CACHE_FREE) ? "cache" + r.nextInt(3) : null, "task", 0, 0);
                } else if (k < 88) {
                    e = ViewsTestFixture.page(at, cpu, EventNames.MM_PAGE_ALLOC, 500 + r.nextInt(15), r.nextInt(3),
                            r.nextInt(10) == 0 ? null : r.nextInt(3), r.nextInt(10) == 0 ? null : "GFP_KERNEL");
                } else if (k < 98) {
                    e = ViewsTestFixture.page(at, cpu, r.nextBoolean() ? EventNames.MM_PAGE_FREE : EventNames.MM_PAGE_FREE_BATCHED,
                            500 + r.nextInt(15), r.nextInt(3), null, null);
                } else if (k < 99) {
                    // a free without an address: never paired, but a row of lifetimes
                    e = ViewsTestFixture.ev(at, cpu, r.nextBoolean() ? EventNames.KFREE : EventNames.MM_PAGE_FREE);
                } else {
                    e = ViewsTestFixture.ev(at, cpu, "kmem:mm_page_pcpu_drain");
                }
                w.accept(e);
            }
        }
        return p;
    }

    /** bytes_alloc of the random slab allocations; 0 leaves both sizes null. */
    private static final long[] SIZES = {32, 32, 96, 2048, 16384, 0};

    static List<List<Object>> lifetimes(TraceDb db) throws Exception {
        return ViewsTest.rows(db, "SELECT * FROM lifetimes ORDER BY trace, coalesce(alloc_seq, free_seq), free_seq");
    }

    /** free_cache is left out: the Java pairs carry it only where the allocation names no cache (lifetimes compares it). */
    static List<List<Object>> pairs(TraceDb db) throws Exception {
        return ViewsTest.rows(db, "SELECT alloc_seq, free_seq, free_ts_ns, free_cpu FROM lifetime_pairs ORDER BY free_seq");
    }

    @Test
    void javaPairsEqualTheSqlPairsOnRandomTraces() throws Exception {
        for (long seed = 1; seed <= 6; seed++) {
            Path p = randomTrace("r" + seed + ".arrow", seed, 3000, false);
            try (TraceDb java = TraceDb.open(List.of(p), Map.of(), true);
                 TraceDb sql = TraceDb.open(List.of(p), Map.of(), false)) {
                assertTrue(java.javaPairs(), "seed " + seed);
                assertFalse(sql.javaPairs());
                List<List<Object>> want = pairs(sql);
                assertTrue(want.size() > 300, "the trace pairs many objects");
                long deep = (Long) ViewsTest.rows(sql, "SELECT count(*) FROM lifetime_pairs p JOIN events a ON a.seq = p.alloc_seq"
                        + " WHERE EXISTS (SELECT 1 FROM allocs x WHERE x.addr = (CASE WHEN a.event = 'kmem:mm_page_alloc' THEN a.pfn ELSE a.ptr END)"
                        + " AND x.seq > p.alloc_seq AND x.seq < p.free_seq)").get(0).get(0);
                assertTrue(deep > 10, "some frees pop an allocation from below another one");
                assertEquals(want, pairs(java), "seed " + seed);
                assertEquals(lifetimes(sql), lifetimes(java), "seed " + seed);
                java.materializeLifetimes();
                assertEquals(ViewsTest.rows(sql, "SELECT * FROM by_cache ORDER BY ALL"), ViewsTest.rows(java, "SELECT * FROM by_cache ORDER BY ALL"));
                assertEquals(ViewsTest.rows(sql, "SELECT * FROM by_call_site ORDER BY ALL"), ViewsTest.rows(java, "SELECT * FROM by_call_site ORDER BY ALL"));
                assertEquals(ViewsTest.rows(sql, "SELECT * FROM pages_by_order_migratetype_gfp ORDER BY ALL"),
                        ViewsTest.rows(java, "SELECT * FROM pages_by_order_migratetype_gfp ORDER BY ALL"));
            }
        }
    }

    @Test
    void severalTracesInOneSessionArePairedEachOnItsOwn() throws Exception {
        Path a = randomTrace("a.arrow", 11, 2000, false), b = randomTrace("b.arrow", 12, 2500, false);
        // the same addresses in both traces: a pair never crosses from one trace to the other
        try (TraceDb java = TraceDb.open(List.of(a, b), Map.of(), true);
             TraceDb sql = TraceDb.open(List.of(a, b), Map.of(), false)) {
            assertTrue(java.javaPairs());
            assertEquals(pairs(sql), pairs(java));
            assertEquals(lifetimes(sql), lifetimes(java));
        }
        // one file named twice is one trace to the views, paired across both copies in time order: the SQL's
        try (TraceDb java = TraceDb.open(List.of(a, b, a), Map.of(), true);
             TraceDb sql = TraceDb.open(List.of(a, b, a), Map.of(), false)) {
            assertFalse(java.javaPairs());
            assertEquals(pairs(sql), pairs(java));
        }
    }

    /** Past its budget the pass stops, frees its lists and says it is not usable: the session keeps the SQL. */
    @Test
    void morePairsThanTheBudgetGiveUp() throws Exception {
        // more than one batch (the writer's are 64K rows), so that the pass notices between two of them
        Path p = randomTrace("big.arrow", 8, 140_000, false);
        LifetimePairing within = new LifetimePairing(0, 1_000_000), over = new LifetimePairing(0, 50);
        try (org.kmemlab.trace.TraceReader r = new org.kmemlab.trace.TraceReader(p)) {
            StatColumns.pipeline(r, c -> {
                within.add(c);
                over.add(c);
            });
        }
        assertTrue(within.usable());
        assertTrue(within.size() > 10_000);
        assertFalse(over.usable());
        assertEquals(0, over.size(), "the lists were let go");
    }

    @Test
    void timestampsOutOfOrderKeepTheSqlPairing() throws Exception {
        Path p = randomTrace("unsorted.arrow", 3, 3000, true);
        try (TraceDb java = TraceDb.open(List.of(p), Map.of(), true);
             TraceDb sql = TraceDb.open(List.of(p), Map.of(), false)) {
            assertFalse(java.javaPairs(), "load order is not (ts, seq) order");
            assertEquals(pairs(sql), pairs(java));
        }
    }

    @Test
    void aTimeWindowOrAnAddedTraceGoesBackToTheSql() throws Exception {
        Path p = randomTrace("w.arrow", 5, 3000, false);
        try (TraceDb java = TraceDb.open(List.of(p), Map.of(), true);
             TraceDb sql = TraceDb.open(List.of(p), Map.of(), false)) {
            java.materializeLifetimes();
            java.restrictTime(0.005, 0.02);
            sql.restrictTime(0.005, 0.02);
            assertFalse(java.javaPairs());
            assertEquals(pairs(sql), pairs(java));
            assertEquals(ViewsTest.rows(sql, "SELECT * FROM by_cache ORDER BY ALL"), ViewsTest.rows(java, "SELECT * FROM by_cache ORDER BY ALL"));
        }
        Path q = randomTrace("x.arrow", 6, 2000, false);
        try (TraceDb java = TraceDb.open(List.of(p), Map.of(), true);
             TraceDb sql = TraceDb.open(List.of(p, q), Map.of(), false)) {
            java.addTrace(q);
            assertFalse(java.javaPairs());
            assertEquals(lifetimes(sql), lifetimes(java));
        }
    }
}
