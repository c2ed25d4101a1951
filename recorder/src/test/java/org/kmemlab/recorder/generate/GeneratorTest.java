package org.kmemlab.recorder.generate;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.ImportSupport;
import org.kmemlab.recorder.Importers;
import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/** Generated traces: deterministic per seed, shaped by their parameters, and importable as perf script text. */
class GeneratorTest {
    @TempDir Path tmp;

    static final String[] ALL = {"xfs-cil-commit", "spl-writeback", "btrfs-extent-state", "kfree-rcu-storm", "cgroup-churn"};

    /** Small runs of each scenario, so the tests take a second each. */
    static Map<String, String> small(String scenario) {
        return switch (scenario) {
            case "xfs-cil-commit" -> Map.of("cpus", "4", "commits", "30", "cil", "50");
            case "spl-writeback" -> Map.of("txgs", "2", "blocks", "20", "dirtyPages", "100");
            case "btrfs-extent-state" -> Map.of("threads", "4", "ops", "20", "memory", "16M", "hogExtra", "8");
            case "kfree-rcu-storm" -> Map.of("loops", "4", "objects", "16", "bursts", "3", "burstPages", "70");
            case "cgroup-churn" -> Map.of("cgroups", "12", "batch", "5");
            default -> throw new AssertionError(scenario);
        };
    }

    @ParameterizedTest
    @ValueSource(strings = {"xfs-cil-commit", "spl-writeback", "btrfs-extent-state", "kfree-rcu-storm", "cgroup-churn"})
    void sameSeedSameBytesOtherSeedOtherBytes(String s) throws Exception {
        Path a = tmp.resolve("a.arrow"), b = tmp.resolve("b.arrow"), c = tmp.resolve("c.arrow");
        Generator.generate(s, small(s), 7, a, Generator.Format.ARROW);
        Generator.generate(s, small(s), 7, b, Generator.Format.ARROW);
        Generator.generate(s, small(s), 8, c, Generator.Format.ARROW);
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"xfs-cil-commit", "spl-writeback", "btrfs-extent-state", "kfree-rcu-storm", "cgroup-churn"})
    void perfScriptTextImportsToTheSameEventsAsTheArrowOutput(String s) throws Exception {
        Path arrow = tmp.resolve("direct.arrow"), text = tmp.resolve("trace.txt");
        Generator.generate(s, small(s), 3, arrow, Generator.Format.ARROW);
        Generator.generate(s, small(s), 3, text, Generator.Format.PERF_SCRIPT);
        String kernel = new ScenarioParams(Generator.byName(s), small(s)).str("kernel");
        Path imported = ImportSupport.importFile(Importers.byName("perf-script"), text, tmp,
                ImportOptions.defaults().withStrict(true).withKernelRelease(kernel));
        List<String> direct = rows(arrow), back = rows(imported);
        assertTrue(direct.size() > 100, "a real trace: " + direct.size());
        assertEquals(direct.size(), back.size());
        for (int i = 0; i < direct.size(); i++) assertEquals(direct.get(i), back.get(i), "event " + i);
    }

    /** Every column of every event, the call chain spelled out (ids may differ between files, frames may not). */
    static List<String> rows(Path p) throws Exception {
        List<String> l = new ArrayList<>();
        try (TraceReader r = new TraceReader(p)) {
            TraceInfo info = r.info();
            r.forEach(e -> l.add(e.tsNs + "|" + e.cpu + "|" + e.pid + "|" + e.tid + "|" + e.comm + "|" + e.event + "|" + e.callSite
                    + "|" + e.callSiteFn + "|" + (e.has(TraceEvent.F_PTR) ? e.ptr : "-") + "|" + (e.has(TraceEvent.F_BYTES_REQ) ? e.bytesReq : "-")
                    + "|" + (e.has(TraceEvent.F_BYTES_ALLOC) ? e.bytesAlloc : "-") + "|" + (e.has(TraceEvent.F_GFP_FLAGS) ? e.gfpFlags : "-")
                    + "|" + e.gfp + "|" + (e.has(TraceEvent.F_NODE) ? e.node : "-") + "|" + e.cache + "|" + (e.has(TraceEvent.F_ACCOUNTED) ? e.accounted : "-")
                    + "|" + (e.has(TraceEvent.F_PFN) ? e.pfn : "-") + "|" + (e.has(TraceEvent.F_ORDER) ? e.order : "-")
                    + "|" + (e.has(TraceEvent.F_MIGRATETYPE) ? e.migratetype : "-") + "|" + e.context + "|" + e.extra
                    + "|" + (e.has(TraceEvent.F_STACK_ID) ? info.stacks.get(e.stackId) : "-")));
        }
        return l;
    }

    @Test
    void setChangesWhatItNames() throws Exception {
        List<TraceEvent> four = Generator.events("xfs-cil-commit", Map.of("cpus", "4", "commits", "10", "cil", "8"), 1);
        List<TraceEvent> six = Generator.events("xfs-cil-commit", Map.of("cpus", "6", "commits", "10", "cil", "8", "size", "32K"), 1);
        Set<Integer> cpus4 = new HashSet<>(), cpus6 = new HashSet<>();
        four.forEach(e -> cpus4.add(e.cpu));
        six.forEach(e -> cpus6.add(e.cpu));
        assertEquals(Set.of(0, 1, 2, 3), cpus4);
        assertEquals(Set.of(0, 1, 2, 3, 4, 5), cpus6);
        // 4 CPUs x 10 commits of 65536 bytes; 6 x 10 of 32 KiB
        assertEquals(40L * 65536, four.stream().filter(e -> e.event.equals("kmem:kmalloc")).mapToLong(e -> e.bytesReq).sum());
        assertEquals(60L * 32768, six.stream().filter(e -> e.event.equals("kmem:kmalloc")).mapToLong(e -> e.bytesReq).sum());
    }

    @Test
    void badParametersNameTheValidOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Generator.generate("xfs-cil-commit", Map.of("cpu", "4"), 1, tmp.resolve("x.arrow"), Generator.Format.ARROW));
        assertTrue(e.getMessage().contains("cpus, commits"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Generator.byName("xfs"));
        for (String s : ALL) assertTrue(e.getMessage().contains(s), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Generator.generate("cgroup-churn", Map.of("batch", "many"), 1, tmp.resolve("x.arrow"), Generator.Format.ARROW));
        assertTrue(e.getMessage().contains("batch=many"), e.getMessage());
        assertFalse(Files.exists(tmp.resolve("x.arrow")));
    }

    @Test
    void metadataSaysHowToRegenerateAndReplay() throws Exception {
        Path p = tmp.resolve("b.arrow");
        Generator.generate("btrfs-extent-state", small("btrfs-extent-state"), 5, p, Generator.Format.ARROW);
        try (TraceReader r = new TraceReader(p)) {
            Map<String, String> h = r.info().header;
            assertEquals("generated", h.get("kmemlab.source_format"));
            assertEquals("btrfs-extent-state", h.get("kmemlab.scenario"));
            String params = h.get("kmemlab.scenario.params");
            assertTrue(params.contains("threads=4") && params.contains("minNr=4") && params.contains("seed=5"), params);
            assertEquals("extent_buffer", h.get("kmemlab.hint.replay.mempoolCaches"));
            assertEquals(Long.toString(16L << 20), h.get("kmemlab.hint.replay.memoryBytes"));
            assertEquals("3.2.0", h.get("kmemlab.kernel_release"));
            assertTrue(r.info().snapshot.get("meminfo").startsWith("MemTotal:"));
        }
    }

    @Test
    void splWritebackHintsTheDirtyPagesOnlyTxgSyncCanWrite() throws Exception {
        Path p = tmp.resolve("spl.arrow");
        Generator.generate("spl-writeback", Map.of("txgs", "1", "blocks", "4", "dirtyPages", "10", "fsDirtyPages", "1234"), 1, p,
                Generator.Format.ARROW);
        try (TraceReader r = new TraceReader(p)) {
            Map<String, String> h = r.info().header;
            assertEquals("1234", h.get("kmemlab.hint.replay.fsDirtyPages"));
            assertEquals("txg_sync", h.get("kmemlab.hint.replay.writebackTasks"));
        }
    }

    @Test
    void splWritebackFreesEveryBufferAndEndsEachTxgWithTxgSync() throws Exception {
        // 3 txgs x 30 blocks: every zio_buf and every copied zio_data_buf comes back at its write's completion
        List<TraceEvent> ev = Generator.events("spl-writeback", Map.of("txgs", "3", "blocks", "30", "dirtyPages", "10"), 2);
        for (String cache : List.of("zio_buf_131072", "zio_data_buf_131072")) {
            Set<Long> live = new HashSet<>();
            long allocs = 0;
            for (TraceEvent e : ev) {
                if (!cache.equals(e.cache)) continue;
                if (e.event.equals("kmem:kmem_cache_alloc")) { assertTrue(live.add(e.ptr)); allocs++; }
                else assertTrue(live.remove(e.ptr), cache + " frees what it allocated");
            }
            assertTrue(allocs > 0, cache);
            assertEquals(Set.of(), live, cache + ": all freed by the end");
        }
        assertEquals(90, ev.stream().filter(e -> "zio_buf_131072".equals(e.cache) && e.event.endsWith("alloc")).count());
        // spa_sync's end, one per txg, after the txg's last write completed
        List<TraceEvent> synced = ev.stream().filter(e -> e.event.equals("kmemlab:cpu_work") && "txg_sync".equals(e.comm)).toList();
        assertEquals(3, synced.size());
        long lastFree = ev.stream().filter(e -> e.event.equals("kmem:kmem_cache_free")).mapToLong(e -> e.tsNs).max().orElseThrow();
        assertTrue(synced.get(2).tsNs > lastFree, "the last txg is synced after its last write");
    }

    @Test
    void gfpIsTheErasSpellingAndPointersLookLikeKernelAddresses() throws Exception {
        // 3.x printed GFP_NOFS as WAIT|IO (0x50); 5.14 prints kvmalloc_node's flags with 0x400 DIRECT_RECLAIM.
        List<TraceEvent> btrfs = Generator.events("btrfs-extent-state", small("btrfs-extent-state"), 1);
        TraceEvent first = btrfs.stream().filter(e -> "extent_state".equals(e.cache)).findFirst().orElseThrow();
        assertEquals("GFP_NOFS", first.gfp);
        assertEquals(0x50L, first.gfpFlags);
        List<TraceEvent> xfs = Generator.events("xfs-cil-commit", small("xfs-cil-commit"), 1);
        TraceEvent kv = xfs.get(0);
        assertEquals("kmem:kmalloc", kv.event);
        assertEquals(GfpCodec.of(GfpCodec.Layout.V5_10).parse("GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY"), kv.gfpFlags);
        assertTrue(kv.callSite.matches("kvmalloc_node\\+0x[0-9a-f]+"), kv.callSite);
        assertEquals(0xffff888L, kv.ptr >>> 36, Long.toHexString(kv.ptr));
        // timestamps move forward with jitter: not all gaps alike
        Set<Long> gaps = new HashSet<>();
        for (int i = 1; i < xfs.size(); i++) {
            assertTrue(xfs.get(i).tsNs >= xfs.get(i - 1).tsNs);
            gaps.add(xfs.get(i).tsNs - xfs.get(i - 1).tsNs);
        }
        assertTrue(gaps.size() > 20, "jittered gaps: " + gaps.size());
    }

    @Test
    void everyFreeFollowsItsAllocationAndNoLiveObjectIsHandedOutTwice() throws Exception {
        for (String s : ALL) {
            Map<Long, String> live = new HashMap<>();
            Map<Long, Integer> pages = new HashMap<>();
            for (TraceEvent e : Generator.events(s, small(s), 11)) {
                switch (e.event) {
                    case "kmem:kmalloc", "kmem:kmem_cache_alloc" -> assertNull(live.put(e.ptr, e.event), s + ": reused live " + e);
                    case "kmem:kfree", "kmem:kmem_cache_free" -> assertNotNull(live.remove(e.ptr), s + ": free of nothing " + e);
                    case "rcu:rcu_kvfree_callback" -> assertNotNull(live.remove(e.ptr), s + ": kfree_rcu of nothing " + e);
                    case "kmem:mm_page_alloc" -> assertNull(pages.put(e.pfn, e.order), s + ": page twice " + e);
                    case "kmem:mm_page_free" -> assertEquals(e.order, pages.remove(e.pfn), s + ": " + e);
                    default -> { }
                }
            }
        }
    }
}
