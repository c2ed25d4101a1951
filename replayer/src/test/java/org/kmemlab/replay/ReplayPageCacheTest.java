package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trace's page cache on a machine smaller than the recording's (replay.tracedPages, replayer/README.md):
 * a writer dirties 30,000 pages (117 MiB) of page cache into 64 MiB, then deletes the files. The kernel
 * would write the pages back and reclaim them; a model that pins every traced page can only fail.
 */
class ReplayPageCacheTest {
    static final int PAGES = 30_000;
    /** Managed pages of a 64 MiB model (FillUsedTest). */
    static final int MANAGED = 16_067;
    /** GFP_HIGHUSER_MOVABLE|__GFP_WRITE as 6.x prints it: what filemap_alloc_folio() gets for a write. */
    static final long PAGECACHE_WRITE = 0x101cca;

    @TempDir Path tmp;
    Path trace;

    @BeforeEach
    void writeTrace() throws IOException {
        trace = tmp.resolve("write-then-delete.arrow");
        Traces t = new Traces(trace);
        long ts = 1_000;
        for (int i = 0; i < PAGES; i++) t.pageAlloc(ts += 10_000, i & 1, 7, 0x100000 + i, 0, PAGECACHE_WRITE, "GFP_HIGHUSER_MOVABLE|__GFP_WRITE");
        for (int i = 0; i < PAGES; i++) t.pageFree(ts += 1_000, i & 1, 7, 0x100000 + i, 0);
        t.close();
    }

    private Map<String, Object> replay(String name, Map<String, String> set) throws IOException {
        Map<String, String> s = new HashMap<>(set);
        s.put("replay.memoryBytes", "64M");
        Path out = tmp.resolve(name);
        new Replayer(trace, "baseline", s).run(out);
        return ReplayerTest.summary(out);
    }

    private static long num(Map<String, Object> s, String key) { return ((Number) s.get(key)).longValue(); }

    @Test
    void reclaimWritesBackAndFreesTheTracesPageCache() throws IOException {
        Map<String, Object> s = replay("lru", Map.of());
        assertEquals(0, num(s, "failures"), "every write finds a page once writeback has cleaned older ones");
        long reclaimed = num(s, "trace_pages_reclaimed");
        assertTrue(reclaimed >= PAGES - MANAGED, "at least the pages that cannot fit were reclaimed: " + reclaimed);
        assertEquals(reclaimed, num(s, "frees_of_reclaimed_pages"), "the trace deletes every page, reclaimed ones included");
        assertEquals(0, num(s, "frees_without_object"));
        assertEquals(2L * PAGES, num(s, "requests"));
    }

    @Test
    void pinnedTracedPagesFailOnceMemoryIsFull() throws IOException {
        Map<String, Object> s = replay("pinned", Map.of("replay.tracedPages", "pinned"));
        assertTrue(num(s, "failures") >= PAGES - MANAGED, "failures: " + s.get("failures"));
        assertEquals(0, num(s, "trace_pages_reclaimed"));
    }

    @Test
    void watchdogReportsAreBoundedButCounted() throws IOException {
        Map<String, Object> s = replay("stalls", Map.of("replay.allocStallNs", "0"));
        // with a 0 ns stall threshold every request that takes modeled time is reported: all but the frees
        // of pages the model had already reclaimed, which have nothing left to do
        assertEquals(Watchdog.KEPT, ((List<?>) s.get("watchdog")).size());
        assertTrue(num(s, "frees_of_reclaimed_pages") > 0);
        assertEquals(num(s, "requests") - num(s, "frees_of_reclaimed_pages"),
                ((Number) ((Map<?, ?>) s.get("watchdog_counts")).get("allocation stall")).longValue());
    }

    /**
     * A trace that allocates one pfn twice without a free between (a free that was not traced): the first
     * page, page cache, stays allocated but is no longer the trace's to follow, so reclaiming it must not
     * unmap the pfn from the second page, which is unmovable and stays put. The trace's free of that pfn
     * then frees the second page, not a page already reclaimed.
     */
    @Test
    void aPfnAllocatedTwiceFollowsItsSecondPageThroughReclaim() throws IOException {
        Path twice = tmp.resolve("pfn-twice.arrow");
        Traces t = new Traces(twice);
        long ts = 1_000, pfn = 0x90000;
        t.pageAlloc(ts += 10_000, 0, 7, pfn, 0, PAGECACHE_WRITE, "GFP_HIGHUSER_MOVABLE|__GFP_WRITE");
        t.pageAlloc(ts += 10_000, 0, 7, pfn, 0, 0xcc0, "GFP_KERNEL");
        // page cache written after both, never freed: reclaim takes the oldest LRU page, the first one, early on
        for (int i = 0; i < PAGES; i++) t.pageAlloc(ts += 10_000, i & 1, 7, 0x100000 + i, 0, PAGECACHE_WRITE, "GFP_HIGHUSER_MOVABLE|__GFP_WRITE");
        t.pageFree(ts += 1_000, 0, 7, pfn, 0);
        t.close();
        trace = twice;
        Map<String, Object> s = replay("twice", Map.of());
        assertEquals(0, num(s, "failures"));
        assertTrue(num(s, "trace_pages_reclaimed") >= PAGES - MANAGED, "the filler outgrew memory: " + s.get("trace_pages_reclaimed"));
        assertEquals(0, num(s, "frees_of_reclaimed_pages"), "the free found the live second page");
        assertEquals(0, num(s, "frees_without_object"));
    }

    @Test
    void slabsThatCannotFitAreWarnedAbout() throws IOException {
        Path big = tmp.resolve("big-slabs.arrow");
        Traces t = new Traces(big);
        // 500,000 dentries of 192 bytes, 21 to a one-page slab: 23,810 pages (93 MiB), more than 64 MiB holds
        t.snapshot("slabinfo", "slabinfo - version: 2.1\n"
                + "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n"
                + "dentry            500000 500000    192   21    1 : tunables    0    0    0 : slabdata  23810  23810      0\n");
        t.kmalloc(1_000, 0, 1, 0x1000, 128, "site_a").kfree(2_000, 0, 1, 0x1000);
        t.close();
        trace = big;
        List<?> w = (List<?>) replay("full", Map.of()).get("warnings");
        assertEquals(1, w.size(), String.valueOf(w));
        assertTrue(w.get(0).toString().contains("replay.populateSlabs=false"), w.get(0).toString());
        assertEquals(List.of(), replay("empty", Map.of("replay.populateSlabs", "false")).get("warnings"));
        // the page cache trace's machine has no snapshot slabs: nothing to warn about
        trace = tmp.resolve("write-then-delete.arrow");
        assertEquals(List.of(), replay("none", Map.of()).get("warnings"));
    }

    @Test
    void sizesAndDurationsTakeUnits() {
        assertEquals(256L << 20, ReplayOptions.from(new HashMap<>(Map.of("replay.memoryBytes", "256M"))).memoryBytes());
        assertEquals(4L << 30, ReplayOptions.from(new HashMap<>(Map.of("replay.memoryBytes", "4g"))).memoryBytes());
        assertEquals(1_000_000, ReplayOptions.from(new HashMap<>(Map.of("replay.memoryBytes", "1_000_000"))).memoryBytes());
        assertEquals(20_000_000, ReplayOptions.from(new HashMap<>(Map.of("replay.gracePeriodNs", "20ms"))).gracePeriodNs());
        assertEquals(5_000_000_000L, ReplayOptions.from(new HashMap<>(Map.of("replay.hungTaskNs", "5s"))).hungTaskNs());
        assertEquals(50_000, ReplayOptions.from(new HashMap<>(Map.of("replay.kworkerLatencyNs", "50us"))).kworkerLatencyNs());
        assertEquals(8L << 20, ReplayOptions.from(new HashMap<>(Map.of("replay.used", "8M"))).used());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReplayOptions.from(new HashMap<>(Map.of("replay.memoryBytes", "48MB"))));
        assertTrue(e.getMessage().contains("replay.memoryBytes") && e.getMessage().contains("'48MB'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ReplayOptions.from(new HashMap<>(Map.of("replay.allocStallNs", "5 min"))));
        assertTrue(e.getMessage().contains("replay.allocStallNs") && e.getMessage().contains("'5 min'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ReplayOptions.from(new HashMap<>(Map.of("replay.tracedPages", "lru2"))));
        assertTrue(e.getMessage().contains("lru2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReplayOptions.from(new HashMap<>(Map.of("replay.memoryBytes", "99999999999T"))));
    }
}
