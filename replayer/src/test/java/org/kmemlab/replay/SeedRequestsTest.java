package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.replay.ReplayerTest.rows;
import static org.kmemlab.replay.ReplayerTest.summary;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.rcu.KfreeRcu;
import org.kmemlab.alloc.task.TaskCosts;
import org.kmemlab.trace.InputError;

/** The seed scenarios' requests beyond kmem.h, with expectations derived by hand from the model's rules. */
class SeedRequestsTest {
    static final long MS = 1_000_000L;
    static final long GP = 20 * MS;
    static final String MEM = "268435456";

    @TempDir Path tmp;

    private static Map<?, ?> section(Map<String, Object> s, String name) { return (Map<?, ?>) s.get(name); }

    private static long num(Map<?, ?> m, String key) { return ((Number) m.get(key)).longValue(); }

    // ---- replay hints ----

    @Test
    void hintsAreDefaultsThatSetOverrides() throws IOException {
        Path trace = tmp.resolve("hints.arrow");
        Traces t = new Traces(trace, Map.of("kmemlab.hint.kfreeRcu.bnodeAlloc", "FAST_TRY",
                "kmemlab.hint.replay.gracePeriodNs", "5000000", "kmemlab.hint.replay.memoryBytes", MEM));
        t.kmalloc(1 * MS, 0, 10, 0x1000, 64, "site");
        t.close();
        Map<String, Object> s = new Replayer(trace, "baseline", Map.of()).run(tmp.resolve("h1"));
        assertEquals("FAST_TRY", section(s, "kfree_rcu").get("bnode_alloc"));
        assertEquals("5000000", section(s, "settings").get("replay.gracePeriodNs"));
        assertEquals(Map.of("kfreeRcu.bnodeAlloc", "FAST_TRY", "replay.gracePeriodNs", "5000000", "replay.memoryBytes", MEM),
                s.get("hints"));
        s = new Replayer(trace, "baseline", Map.of("kfreeRcu.bnodeAlloc", "NOWAIT_UNDER_LOCK")).run(tmp.resolve("h2"));
        assertEquals("NOWAIT_UNDER_LOCK", section(s, "kfree_rcu").get("bnode_alloc"), "--set wins over the hint");
        assertEquals("NOWAIT_UNDER_LOCK", section(s, "settings").get("kfreeRcu.bnodeAlloc"));
        assertEquals("5000000", section(s, "settings").get("replay.gracePeriodNs"), "the other hints still apply");
    }

    @Test
    void aHintNoReplayAcceptsIsBadInputNamingTheTrace() throws IOException {
        Path trace = tmp.resolve("badhint.arrow");
        Traces t = new Traces(trace, Map.of("kmemlab.hint.kfreeRcu.bnodeAlloc", "SOMETIMES"));
        t.kmalloc(1 * MS, 0, 10, 0x1000, 64, "site");
        t.close();
        InputError e = assertThrows(InputError.class, () -> new Replayer(trace, "baseline", Map.of()));
        assertTrue(e.getMessage().startsWith(trace.toString()) && e.getMessage().contains("SOMETIMES"), e.getMessage());
    }

    // ---- kfree_rcu ----

    /**
     * N objects kmalloc'ed on CPU 0 from time 0, then handed to kfree_rcu on CPU 1 (whose pcp lists never got a page),
     * within 20 µs so that one kfree_rcu_monitor (a kworker 50 µs after the first call) batches them all; the
     * kernel's kfree_rcu_work frees them at 30 ms on CPU 2; a last event at 60 ms carries the timeline past
     * the model's own free.
     */
    private Path kfreeRcuBurst(int n) throws IOException {
        Path trace = tmp.resolve("rcu" + n + ".arrow");
        Traces t = new Traces(trace);
        long base = 0xffff888100000000L;
        // The first event is at 0, so trace and model times coincide.
        for (int i = 0; i < n; i++) t.kmalloc(100L * i, 0, 10, base + 64L * i, 64, "alloc_obj");
        for (int i = 0; i < n; i++) t.kfreeRcu(2 * MS + 10L * i, 1, 10, base + 64L * i, 16);
        for (int i = 0; i < n; i++) t.kfree(30 * MS + 10L * i, 2, 99, base + 64L * i);
        t.kmalloc(60 * MS, 0, 10, 0x7000, 64, "late");
        t.close();
        return trace;
    }

    @Test
    void kfreeRcuFreesAfterAGracePeriodAndTheTracesOwnKfreeIsDerived() throws IOException {
        int n = 2000;
        Path trace = kfreeRcuBurst(n);
        Path out = tmp.resolve("rcu-nowait");
        Map<String, Object> s = new Replayer(trace, "baseline",
                Map.of("replay.memoryBytes", MEM, "replay.timelineIntervalNs", String.valueOf(MS))).run(out);
        Map<?, ?> k = section(s, "kfree_rcu");
        // One pointer block per KVFREE_BULK_MAX_ENTR objects, each page from the buddy via the pcp refill.
        long blocks = (n + KfreeRcu.DEFAULT_BLOCK_ENTRIES - 1) / KfreeRcu.DEFAULT_BLOCK_ENTRIES;
        assertEquals(n, num(k, "requests"));
        assertEquals(n, num(k, "bulk"));
        assertEquals(blocks, num(k, "bnode_page_ok"));
        assertEquals(0, num(k, "bnode_page_fail"));
        assertEquals(0, num(k, "rcu_head_fallback") + num(k, "synchronize_rcu_fallback"));
        assertEquals(1, num(k, "batches"));
        assertEquals(n, num(k, "freed"));
        assertEquals(0, num(k, "pending_end"));
        assertEquals(n, num(k, "kfree_rcu_work_frees_in_trace"));
        assertEquals(0, ((Number) s.get("frees_without_object")).longValue());
        List<Map<String, Object>> req = rows(out.resolve("requests.arrow"));
        assertEquals(n, req.stream().filter(r -> "kfree_rcu".equals(r.get("kind"))).count());
        assertEquals(0, req.stream().filter(r -> "kfree".equals(r.get("kind"))).count(), "kfree_rcu_work's kfrees are not replayed");
        // The batch is queued by the monitor at about 2.05 ms; call_rcu() callbacks run at the end of the grace
        // period after the current one: (floor(2.05 ms / GP) + 2) * GP = 40 ms.
        long freedAt = (2 * MS / GP + 2) * GP;
        Map<Long, Double> pending = new HashMap<>();
        for (Map<String, Object> r : rows(out.resolve("timeline.arrow"))) {
            if ("kfree_rcu_pending".equals(r.get("metric"))) pending.put((Long) r.get("t_ns"), (Double) r.get("value"));
        }
        assertEquals(n, pending.get(3 * MS), 0.0);
        assertEquals(n, pending.get(freedAt - MS), 0.0, "still queued one sample before the grace period ends");
        assertEquals(0, pending.get(freedAt), 0.0, "freed when the grace period ends");
        assertEquals(0, pending.get(50 * MS), 0.0);
    }

    @Test
    void fastTryFailsWhereNowaitRefillsWhenThePcpListsAreEmpty() throws IOException {
        int n = 2000;
        Path trace = kfreeRcuBurst(n);
        Path outF = tmp.resolve("rcu-fast");
        Map<String, Object> f = new Replayer(trace, "gfp-fast-try", Map.of("replay.memoryBytes", MEM)).run(outF);
        Map<String, Object> w = new Replayer(trace, "baseline", Map.of("replay.memoryBytes", MEM)).run(tmp.resolve("rcu-w"));
        Map<?, ?> kf = section(f, "kfree_rcu"), kw = section(w, "kfree_rcu");
        // CPU 1's pcp lists are empty and FAST_TRY never refills them: every object's block allocation fails and
        // the two-argument kfree_rcu links its rcu_head instead. GFP_NOWAIT refills the list under zone->lock.
        assertEquals(0, num(kf, "bnode_page_ok"));
        assertEquals(n, num(kf, "bnode_page_fail"));
        assertEquals(n, num(kf, "rcu_head_fallback"));
        assertEquals(0, num(kw, "bnode_page_fail"));
        assertTrue(num(kf, "bnode_page_fail") > num(kw, "bnode_page_fail"));
        assertEquals(n, num(kf, "freed"), "the rcu_head channel is freed after the grace period too");
        long headRows = rows(outF.resolve("requests.arrow")).stream().filter(r -> "rcu_head".equals(r.get("fallback"))).count();
        assertEquals(n, headRows);
    }

    // ---- cgroup_mutex ----

    /**
     * N cgroups, each with an (emptied) per-memcg copy of sighand_cache (SLAB_TYPESAFE_BY_RCU in
     * kernel/fork.c), all removed at the same instant T from N CPUs.
     */
    private Path cgroupChurn(int n, long t) throws IOException { return cgroupChurn(n, t, n); }

    /** As above with the rmdirs spread over {@code cpus} CPUs (rmdir i on CPU i % cpus). */
    private Path cgroupChurn(int n, long t, int cpus) throws IOException {
        Path trace = tmp.resolve("cg" + n + "-" + cpus + ".arrow");
        Traces tr = new Traces(trace);
        long ts = -100_000; // the first event at 0: trace and model times coincide
        for (int i = 0; i < n; i++) {
            int id = 40 + i;
            tr.cgroup(ts += 100_000, i, 200 + i, true, id, "/jobs/job-" + id);
            String cache = "sighand_cache(" + id + ":job-" + id + ")";
            tr.cacheAlloc(ts += 100_000, i, 200 + i, cache, 0xffff888300000000L + 0x10000L * i, 2112, 0xcc0, "GFP_KERNEL");
            tr.cacheFree(ts += 100_000, i, 200 + i, cache, 0xffff888300000000L + 0x10000L * i);
        }
        for (int i = 0; i < n; i++) tr.cgroup(t, i % cpus, 300 + i, false, 40 + i, "/jobs/job-" + (40 + i));
        tr.close();
        return trace;
    }

    private static List<Map<String, Object>> rmdirs(Path out) throws IOException {
        return rows(out.resolve("cgroup_mutex.arrow")).stream().filter(r -> "rmdir".equals(r.get("op"))).toList();
    }

    @Test
    void syncPerCacheHoldsCgroupMutexForAGracePeriodPerCgroupAndTheOthersQueue() throws IOException {
        int n = 4;
        long t = 5 * GP;
        Path out = tmp.resolve("cg-sync");
        Map<String, Object> s = new Replayer(cgroupChurn(n, t), "baseline", Map.of("replay.memoryBytes", MEM)).run(out);
        assertEquals(n, num(section(s, "cache_lifecycle"), "slab_rcu_barriers"), "one rcu_barrier() per TYPESAFE_BY_RCU cache");
        assertEquals(n, num(section(s, "cache_lifecycle"), "caches_destroyed"));
        // An rcu_barrier() started just after a grace-period boundary ends at the end of the next one: 2 GP.
        // Each hold starts just after the previous one ended on such a boundary, so each lasts 2 GP plus the
        // cgroup and cache-release costs (µs), and the k-th waits for the k holds before it.
        long slack = 200_000;
        List<Map<String, Object>> rm = rmdirs(out);
        assertEquals(n, rm.size());
        for (int k = 0; k < n; k++) {
            Map<String, Object> r = rm.get(k);
            long hold = (Long) r.get("hold_ns"), wait = (Long) r.get("wait_ns");
            assertTrue(Math.abs(hold - 2 * GP) <= slack, "hold " + k + ": " + r);
            assertTrue(wait >= k * 2 * GP && wait <= k * (2 * GP + slack), "wait " + k + ": " + r);
            assertEquals(n - 1 - k, ((Integer) r.get("waiters")).intValue(), "operations queued behind hold " + k);
            assertEquals(1, ((Integer) r.get("caches_destroyed")).intValue());
        }
        Map<?, ?> m = section(s, "cgroup_mutex");
        assertTrue(Math.abs(num(m, "longest_hold_ns") - 2 * GP) <= slack);
        assertEquals(n - 1, num(m, "waiting_operations"));
        assertEquals(n - 1, num(m, "max_waiters"), "the first hold had every other rmdir behind it");
        long totalWait = 0;
        for (Map<String, Object> r : rm) totalWait += (Long) r.get("wait_ns");
        assertTrue(totalWait >= (long) n * (n - 1) / 2 * 2 * GP, "total wait " + totalWait);
        assertEquals(totalWait, num(m, "total_wait_ns"), "the mkdirs never waited");
        // The requests rows carry the same wait and hold.
        List<Map<String, Object>> req = rows(out.resolve("requests.arrow"));
        long reqHolds = req.stream().filter(r -> "cgroup_rmdir".equals(r.get("kind"))).mapToLong(r -> (Long) r.get("mutex_hold_ns")).sum();
        assertEquals(rm.stream().mapToLong(r -> (Long) r.get("hold_ns")).sum(), reqHolds);
        assertNull(req.stream().filter(r -> "cache_alloc".equals(r.get("kind"))).findFirst().orElseThrow().get("mutex_hold_ns"));
    }

    @Test
    void anRmdirBehindAHolderOnItsOwnCpuStillCountsAsItsWaiter() throws IOException {
        // The engine runs a request to its end on its CPU, so the second rmdir on CPU 0 starts only when the
        // first released cgroup_mutex: it never sleeps in mutex_lock, yet it waited the first's 2 GP hold.
        Path out = tmp.resolve("cg-onecpu");
        new Replayer(cgroupChurn(2, 5 * GP, 1), "baseline", Map.of("replay.memoryBytes", MEM)).run(out);
        List<Map<String, Object>> rm = rmdirs(out);
        assertEquals(1, ((Integer) rm.get(0).get("waiters")).intValue());
        assertEquals(0L, rm.get(1).get("mutex_wait_ns"));
        assertTrue(Math.abs((Long) rm.get(1).get("wait_ns") - 2 * GP) <= 200_000, rm.get(1).toString());
    }

    @Test
    void batchedAsyncHoldsCgroupMutexBrieflyAndOneBarrierServesTheBatch() throws IOException {
        int n = 4;
        long t = 5 * GP;
        Path out = tmp.resolve("cg-batched");
        Map<String, Object> s = new Replayer(cgroupChurn(n, t), "rcu-destroy-batched", Map.of("replay.memoryBytes", MEM)).run(out);
        assertEquals(1, num(section(s, "cache_lifecycle"), "slab_rcu_barriers"), "one barrier on the work item for all N");
        assertEquals(n, num(section(s, "cache_lifecycle"), "caches_released"));
        for (Map<String, Object> r : rmdirs(out)) {
            assertTrue((Long) r.get("hold_ns") < GP / 100, "no grace period inside cgroup_mutex: " + r);
        }
        Map<?, ?> m = section(s, "cgroup_mutex");
        assertTrue(num(m, "total_wait_ns") < GP / 20, m.toString());
    }

    // ---- cpu work and call chains ----

    @Test
    void cpuWorkIsChargedUnderItsCallChainAndKvmallocKeepsItsCallers() throws IOException {
        Path trace = tmp.resolve("cpu.arrow");
        Traces t = new Traces(trace);
        List<String> chain = List.of("memcpy_erms", "xlog_cil_insert_format_items", "xlog_cil_commit", "xfs_trans_commit");
        t.cpuWork(1 * MS, 0, 10, "memcpy_erms", 65536, -1, chain);
        t.cpuWork(2 * MS, 0, 10, "crc32c_pcl_intel_update", 4096, 5000, null);
        t.kmallocChain(3 * MS, 0, 10, 0xffff888100001000L, 65536, "kvmalloc_node",
                List.of("__kmalloc_node", "kvmalloc_node", "xlog_cil_commit", "xfs_trans_commit"));
        t.close();
        Path out = tmp.resolve("cpu-out");
        new Replayer(trace, "baseline", Map.of("replay.memoryBytes", MEM)).run(out);
        long memcpy = 65536 * new CostTable().get(TaskCosts.MEMCPY_PER_KIB) / 1024;
        assertEquals(64 * 137, memcpy, "COSTS-task.md: 137 ns per KiB");
        Map<String, Long> folded = new HashMap<>();
        for (String l : Files.readAllLines(out.resolve("profile.folded"))) {
            folded.put(l.substring(0, l.lastIndexOf(' ')), Long.parseLong(l.substring(l.lastIndexOf(' ') + 1)));
        }
        assertEquals(memcpy, folded.get("xfs_trans_commit;xlog_cil_commit;xlog_cil_insert_format_items;memcpy_erms"));
        assertEquals(5000L, folded.get("crc32c_pcl_intel_update"));
        assertTrue(folded.keySet().stream().anyMatch(k -> k.startsWith("xfs_trans_commit;xlog_cil_commit;kvmalloc_node;__kmalloc_node;")),
                folded.keySet().toString());
        assertTrue(folded.keySet().stream().noneMatch(k -> k.contains("kvmalloc_node;kvmalloc_node")), folded.keySet().toString());
        List<Map<String, Object>> req = rows(out.resolve("requests.arrow"));
        assertEquals(memcpy, req.get(0).get("modeled_ns"));
        assertEquals("cpu_work", req.get(0).get("kind"));
    }

    // ---- the model's own reclaim events, cache lifecycle probes, SPL over time ----

    @Test
    void theMempoolReserveIsUsedBeforeTheModelStartsDirectReclaim() throws IOException {
        // As ReplayerTest's mempool scenarios: the pool is created full while memory is plentiful, a filler takes
        // every free object and then the machine's pages with GFP_NOWAIT (no reclaim). A GFP_KERNEL element then
        // comes from the reserve (the first pass has no __GFP_DIRECT_RECLAIM), and only a GFP_KERNEL|__GFP_NORETRY
        // page allocation after it enters try_to_free_pages.
        Path trace = tmp.resolve("reserve.arrow");
        Traces t = new Traces(trace);
        long ts = 0, ptr = 0xffff888200000000L;
        int perSlab = new org.kmemlab.alloc.slab.SlubAllocator(ReplayerTest.NO_PAGES, 2, new CostTable())
                .createCacheWithSize("probe", 4096, 0).objsPerSlab;
        for (int i = 0; i < 5 * perSlab - 1; i++) t.cacheAlloc(ts += 1000, 0, 3, "cacheA", ptr += 4096, 4096, 0x800, "GFP_NOWAIT");
        for (int i = 0; i < 600; i++) t.pageAlloc(ts += 1000, 0, 3, 0x10000 + 16L * i, 4, 0x2800, "GFP_NOWAIT");
        for (int i = 0; i < 3000; i++) t.pageAlloc(ts += 1000, 0, 3, 0x90000 + i, 0, 0x2800, "GFP_NOWAIT");
        t.cacheAlloc(ts += 1000, 1, 1, "cacheA", 0xaaa0, 4096, 0xcc0, "GFP_KERNEL");
        t.pageAlloc(ts += 1000, 1, 1, 0x200000, 0, 0x10cc0, "GFP_KERNEL|__GFP_NORETRY");
        t.close();
        Path out = tmp.resolve("reserve-out");
        new Replayer(trace, "baseline", Map.of("replay.mempoolCaches", "cacheA", "mempool.minNr", "1",
                "replay.memoryBytes", "33554432", "replay.used", "0")).run(out);
        long reserveAt = rows(out.resolve("requests.arrow")).stream().filter(r -> "mempool_reserve".equals(r.get("fallback")))
                .mapToLong(r -> (Long) r.get("start_ns")).min().orElseThrow(() -> new AssertionError("no reserve element taken"));
        long begin = Long.MAX_VALUE, end = Long.MAX_VALUE;
        int order = -1;
        long gfp = 0;
        try (org.kmemlab.trace.TraceReader r = new org.kmemlab.trace.TraceReader(out.resolve("events.arrow"))) {
            org.kmemlab.trace.TraceEvent e = new org.kmemlab.trace.TraceEvent();
            while (r.next()) {
                for (int i = 0; i < r.batch().size(); i++) {
                    r.batch().read(i, e);
                    if (org.kmemlab.trace.EventNames.VMSCAN_DIRECT_RECLAIM_BEGIN.equals(e.event) && e.tsNs < begin) {
                        begin = e.tsNs;
                        order = e.order;
                        gfp = e.gfpFlags;
                    }
                    if (org.kmemlab.trace.EventNames.VMSCAN_DIRECT_RECLAIM_END.equals(e.event)) {
                        end = Math.min(end, e.tsNs);
                        assertTrue(e.extra.startsWith("nr_reclaimed="), e.extra);
                    }
                }
            }
        }
        assertTrue(begin != Long.MAX_VALUE, "direct reclaim began");
        assertEquals(0, order);
        assertTrue((gfp & org.kmemlab.alloc.core.Gfp.DIRECT_RECLAIM) != 0);
        assertTrue(end >= begin);
        // events.arrow is stamped t0 + model time and the trace starts at 1 µs.
        assertTrue(reserveAt + 1000 < begin, "reserve at " + reserveAt + ", reclaim at " + begin);
    }

    @Test
    void aProbedTypesafeCacheIsDestroyedAtModuleExitWithItsOwnBarrierAndNoCgroupMutex() throws IOException {
        Path trace = tmp.resolve("module.arrow");
        Traces t = new Traces(trace);
        t.cacheCreate(0, 0, 5, "nf_conntrack", 256, "SLAB_TYPESAFE_BY_RCU|SLAB_HWCACHE_ALIGN");
        t.cacheAlloc(1 * MS, 0, 5, "nf_conntrack", 0xffff888400000000L, 256, 0xa20, "GFP_ATOMIC");
        t.cacheFree(2 * MS, 0, 5, "nf_conntrack", 0xffff888400000000L);
        t.cacheDestroy(3 * MS, 0, 5, "nf_conntrack");
        t.close();
        Path out = tmp.resolve("module-out");
        Map<String, Object> s = new Replayer(trace, "baseline", Map.of("replay.memoryBytes", MEM)).run(out);
        Map<?, ?> life = section(s, "cache_lifecycle");
        assertEquals(1, num(life, "kmem_cache_create"));
        assertEquals(1, num(life, "caches_destroyed"));
        assertEquals(1, num(life, "slab_rcu_barriers"), "the probe's flags made it TYPESAFE_BY_RCU");
        assertEquals(0, num(section(s, "cgroup_mutex"), "operations"));
        Map<String, Object> destroy = rows(out.resolve("requests.arrow")).stream()
                .filter(r -> "cache_destroy".equals(r.get("kind"))).findFirst().orElseThrow();
        // The barrier: the end of the grace period after the current one, from 3 ms: 2 GP - 3 ms of sleep.
        assertTrue((Long) destroy.get("sleep_ns") >= 2 * GP - 3 * MS - 100_000, destroy.toString());
        assertNull(destroy.get("mutex_wait_ns"));
    }

    @Test
    void splEmergencyObjectsAreOnTheTimelinePerCache() throws IOException {
        // ReplayerTest's SPL scenario: every grow wait times out, so each allocation takes an emergency object.
        Path trace = tmp.resolve("spl.arrow");
        Traces t = new Traces(trace);
        long ts = 0;
        for (int i = 0; i < 20; i++) t.cacheAlloc(ts += 10_000, i % 2, 7, "zio_buf_16384", 0x7000_0000L + 0x10000L * i, 16384, 0x810, "GFP_NOIO");
        ts = 5 * MS;
        for (int i = 0; i < 20; i++) t.cacheFree(ts += 10_000, i % 2, 7, "zio_buf_16384", 0x7000_0000L + 0x10000L * i);
        t.kmalloc(8 * MS, 0, 8, 0x9000, 64, "late");
        t.close();
        Path out = tmp.resolve("spl-out");
        Map<String, Object> s = new Replayer(trace, "spl-emergency", Map.of("replay.splCaches", "zio_buf_16384:16384",
                "replay.kworkerLatencyNs", "100000000", "replay.timelineIntervalNs", String.valueOf(MS))).run(out);
        long max = num((Map<?, ?>) section(s, "spl_caches").get("zio_buf_16384"), "emergency_max");
        assertTrue(max > 0);
        Map<Long, Double> cur = new HashMap<>(), hi = new HashMap<>();
        for (Map<String, Object> r : rows(out.resolve("timeline.arrow"))) {
            if ("spl_emergency:zio_buf_16384".equals(r.get("metric"))) cur.put((Long) r.get("t_ns"), (Double) r.get("value"));
            if ("spl_emergency_max:zio_buf_16384".equals(r.get("metric"))) hi.put((Long) r.get("t_ns"), (Double) r.get("value"));
        }
        assertEquals(max, cur.get(4 * MS), 0.0, "all still in use between the allocations and the frees");
        assertEquals(0, cur.get(7 * MS), 0.0, "all freed");
        assertEquals(max, hi.get(7 * MS), 0.0, "the historical worst case stays");
    }

    // ---- determinism ----

    @Test
    void seedRequestsReplayByteIdenticallyOnOneOrFourThreads() throws IOException {
        Path trace = cgroupChurn(3, 5 * GP);
        List<String> policies = List.of("baseline", "gfp-fast-try", "rcu-destroy-batched");
        Map<String, String> set = Map.of("replay.memoryBytes", MEM);
        MultiReplay.run(trace, policies, set, tmp.resolve("one"), 1);
        MultiReplay.run(trace, policies, set, tmp.resolve("four"), 4);
        Path rcu = kfreeRcuBurst(600);
        MultiReplay.run(rcu, policies, set, tmp.resolve("rone"), 1);
        MultiReplay.run(rcu, policies, set, tmp.resolve("rfour"), 4);
        int files = 0;
        for (String[] pair : new String[][] {{"one", "four"}, {"rone", "rfour"}}) {
            for (String p : policies) {
                try (var s = Files.list(tmp.resolve(pair[0]).resolve(p))) {
                    for (Path f : s.sorted().toList()) {
                        Path g = tmp.resolve(pair[1]).resolve(p).resolve(f.getFileName());
                        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(g), "differs: " + p + "/" + f.getFileName());
                        files++;
                    }
                }
            }
        }
        assertEquals(2 * policies.size() * 7, files);
    }
}
