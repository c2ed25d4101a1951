package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seed 000's deadlock (allocator-model.md §E.2): ZFS's txg_sync grows a vmalloc-backed SPL cache under
 * GFP_NOIO; the page table vmalloc allocates ignores that gfp, reclaims with __GFP_FS, and the filesystem's
 * superblock shrinker waits for the txg — which only txg_sync itself can sync.
 */
class WritebackDeadlockTest {
    @TempDir Path tmp;

    static final long KM_PUSHPAGE = 0xc20; // GFP_NOIO | __GFP_HIGH in the current layout
    static final String CACHE = "zio_buf_131072";

    /** txg_sync allocates three 128 KiB buffers (the last after the grow worker could retry) and frees them. */
    private Path trace() throws IOException {
        Path p = tmp.resolve("txg.arrow");
        Traces t = new Traces(p).comm(1, "txg_sync");
        t.cacheAlloc(1_000_000, 0, 1, CACHE, 0xa000, 131072, KM_PUSHPAGE, "GFP_NOIO|__GFP_HIGH");
        t.cacheAlloc(2_000_000, 0, 1, CACHE, 0xb000, 131072, KM_PUSHPAGE, "GFP_NOIO|__GFP_HIGH");
        t.cacheAlloc(80_000_000, 0, 1, CACHE, 0xc000, 131072, KM_PUSHPAGE, "GFP_NOIO|__GFP_HIGH");
        t.cacheFree(90_000_000, 0, 1, CACHE, 0xa000);
        t.cacheFree(91_000_000, 0, 1, CACHE, 0xb000);
        t.cacheFree(92_000_000, 0, 1, CACHE, 0xc000);
        t.close();
        return p;
    }

    /** A 128 MiB box whose free memory the page cache has soaked up, 2000 pages of it dirty zfs data. */
    static Map<String, String> pressure() {
        return Map.of("replay.splCaches", CACHE + ":131072", "replay.writebackTasks", "txg_sync",
                "replay.memoryBytes", String.valueOf(128L << 20), "replay.fsDirtyPages", "2000", "replay.fsCleanPages", "-1");
    }

    @Test
    void syncInlineGrowthDeadlocksTxgSyncOnItself() throws IOException {
        Map<String, Object> s = new Replayer(trace(), "baseline", pressure()).run(tmp.resolve("base"));
        Map<?, ?> d = (Map<?, ?>) s.get("deadlock");
        assertNotNull(d, "a deadlock: " + s);
        List<?> cycle = (List<?>) d.get("cycle");
        assertEquals(1, cycle.size(), "txg_sync waits for itself: " + d);
        Map<?, ?> t = (Map<?, ?>) cycle.get(0);
        assertEquals(1L, ((Number) t.get("task")).longValue());
        assertEquals("txg_sync", t.get("comm"));
        assertTrue(t.get("waits_for").toString().startsWith("txg_wait_open"), d.toString());
        assertEquals(Map.of(t.get("waits_for"), 1L), t.get("holds"), "what it waits for is what only it can give");
        String frames = t.get("frames").toString();
        for (String f : List.of("spl_kmem_cache_alloc", "spl_cache_grow", "__vmalloc", "__pte_alloc_kernel", "__perform_reclaim",
                "shrink_slab", "super_cache_scan", "zfs_inactive", "txg_wait_open")) {
            assertTrue(frames.contains(";" + f + ";") || frames.endsWith(";" + f), f + " in " + frames);
        }
        assertTrue(frames.indexOf("__pte_alloc_kernel") < frames.indexOf("__perform_reclaim"));

        List<?> lockdep = (List<?>) s.get("lockdep");
        Map<?, ?> scope = lockdep.stream().map(x -> (Map<?, ?>) x).filter(x -> x.get("kind").toString().startsWith("fs_reclaim taken inside"))
                .findFirst().orElseThrow(() -> new AssertionError("fs_reclaim inside NOIO reported: " + lockdep));
        assertEquals("fs_reclaim taken inside NOIO scope", scope.get("kind"));
        assertEquals("txg_sync", scope.get("comm"));
        assertEquals("NOIO", scope.get("task_scope"), "PF_FSTRANS of a writeback task");
        assertEquals("GFP_NOIO|__GFP_HIGH", scope.get("caller_gfp"));
        assertTrue(scope.get("reclaim_gfp").toString().startsWith("GFP_KERNEL"), scope.toString());
        assertTrue(scope.get("frames").toString().contains("__pte_alloc_kernel"), scope.toString());
        assertEquals(List.of(), s.get("deadlock_avoided"));
    }

    @Test
    void splEmergencyObjectsBreakTheCycleByTimeout() throws IOException {
        Map<String, Object> s = new Replayer(trace(), "spl-emergency", pressure()).run(tmp.resolve("emerg"));
        assertNull(s.get("deadlock"), s.toString());
        assertEquals(List.of(), s.get("parked_at_end"));
        assertEquals(0L, ((Number) s.get("failures")).longValue(), s.toString());
        Map<?, ?> spl = (Map<?, ?>) ((Map<?, ?>) s.get("spl_caches")).get(CACHE);
        // the first two allocations wait one tick for the blocked worker and take emergency objects; the third
        // comes after the worker's retry linked a slab
        assertEquals(2L, ((Number) spl.get("emergency_allocs")).longValue(), spl.toString());
        assertEquals(2L, ((Number) spl.get("emergency_max")).longValue(), spl.toString());
        assertEquals(0L, ((Number) spl.get("emergency_end")).longValue(), "all freed: " + spl);
        // requests.fallback marks the two emergency allocations and their frees, not the slab object's
        List<Object> marked = ReplayerTest.rows(tmp.resolve("emerg/requests.arrow")).stream()
                .filter(r -> "spl_emergency".equals(r.get("fallback"))).map(r -> r.get("ts_ns")).toList();
        assertEquals(List.of(1_000_000L, 2_000_000L, 90_000_000L, 91_000_000L), marked);

        List<?> avoided = (List<?>) s.get("deadlock_avoided");
        assertEquals(1, avoided.size(), s.toString());
        Map<?, ?> a = (Map<?, ?>) avoided.get(0);
        assertEquals("txg_sync", a.get("comm"));
        assertEquals("spl_cache_grow_work", a.get("worker"));
        assertEquals(CACHE + ":skc_waitq", a.get("timed_wait_on"));
        assertEquals(4_000_000L, ((Number) a.get("timeout_ns")).longValue(), "one tick at HZ=250 (e2dcc6e)");
        assertEquals(2L, ((Number) a.get("timeouts")).longValue());
        assertTrue(a.get("worker_waits_for").toString().startsWith("txg_wait_open"), a.toString());
        assertTrue(a.get("worker_frames").toString().contains("__pte_alloc_kernel"), a.toString());
        // the worker parked in its first run and succeeded on its retry one replay.gracePeriodNs (20 ms) later
        long blocked = ((Number) a.get("worker_blocked_ns")).longValue();
        assertTrue(blocked > 15_000_000L && blocked < 25_000_000L, "worker blocked " + blocked + " ns");
        Map<?, ?> wb = (Map<?, ?>) s.get("writeback");
        assertEquals(0L, ((Number) wb.get("dirty_pages_end")).longValue());
        assertEquals(2000L, ((Number) wb.get("pages_cleaned")).longValue());
    }

    @Test
    void withoutDirtyDataNothingWaits() throws IOException {
        Map<String, String> set = new java.util.HashMap<>(pressure());
        set.put("replay.fsDirtyPages", "0");
        Map<String, Object> s = new Replayer(trace(), "baseline", set).run(tmp.resolve("clean"));
        assertNull(s.get("deadlock"), s.toString());
        assertEquals(List.of(), s.get("deadlock_avoided"));
    }

    /** Three objects allocated on cpu 0 and handed to kfree_rcu on cpu 1, whose pcp lists are still empty. */
    private Path kfreeRcuOnAColdCpu() throws IOException {
        Path p = tmp.resolve("rcu.arrow");
        Traces t = new Traces(p);
        for (int i = 0; i < 3; i++) t.kmalloc(1000L * i, 0, 10, 0x5000 + 64L * i, 64, "alloc_obj");
        for (int i = 0; i < 3; i++) t.kfreeRcu(1_000_000 + 10L * i, 1, 11, 0x5000 + 64L * i, 16);
        t.close();
        return p;
    }

    @Test
    void kfreeRcuUnderNowaitReachesZoneLockUnderTheRawKrcpLock() throws IOException {
        Map<String, Object> s = new Replayer(kfreeRcuOnAColdCpu(), "baseline", Map.of()).run(tmp.resolve("rcu-nowait"));
        List<?> w = (List<?>) s.get("wait_context");
        // one block page holds all three pointers: one allocation, one rmqueue_bulk refill of cpu 1's empty list
        assertEquals(1, w.size(), s.toString());
        Map<?, ?> r = (Map<?, ?>) w.get(0);
        assertEquals("BUG: Invalid wait context", r.get("bug"));
        assertEquals("krcp->lock", r.get("held"));
        assertEquals("zone->lock", r.get("acquired"));
        assertEquals(1L, ((Number) r.get("count")).longValue());
        assertTrue(r.get("frames").toString().contains("kvfree_call_rcu;__get_free_pages;"), r.toString());
        assertTrue(r.get("frames").toString().contains(";rmqueue_bulk;"), r.toString());
    }

    @Test
    void kfreeRcuUnderFastTryTakesNoSpinlockTUnderTheRawLock() throws IOException {
        Map<String, Object> s = new Replayer(kfreeRcuOnAColdCpu(), "gfp-fast-try", Map.of()).run(tmp.resolve("rcu-fast"));
        assertEquals(List.of(), s.get("wait_context"), s.toString());
        // and under RT the NOWAIT path does not allocate under the lock at all
        Map<String, Object> rt = new Replayer(kfreeRcuOnAColdCpu(), "baseline", Map.of("kfreeRcu.preemptRt", "true"))
                .run(tmp.resolve("rcu-rt"));
        assertEquals(List.of(), rt.get("wait_context"), rt.toString());
    }
}
