package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kcompactd's proactive compaction as the replay runs it: asleep with a 500 ms timeout
 * (HPAGE_FRAG_CHECK_INTERVAL_MSEC) from the trace's first request, it wakes with no work requested, finds its
 * node's fragmentation score above the high mark (90 at the default proactiveness of 20) and compacts until the
 * score is down to the low mark (80), in the background; vm.compaction_proactiveness 0 leaves the node as it was.
 */
class ProactiveCompactionReplayTest {
    @TempDir Path tmp;

    static final long GFP_KERNEL = 0xcc0;

    /** A task on cpu 1 allocating a page every 100 ms for 2 s: nothing that wakes kswapd or kcompactd. */
    private Path trace() throws IOException {
        Path p = tmp.resolve("allocs.arrow");
        if (Files.exists(p)) return p;
        Traces t = new Traces(p);
        for (int i = 0; i < 20; i++) t.pageAlloc(1_000_000 + 100_000_000L * i, 1, 7, 0x1000 + i, 0, GFP_KERNEL, "GFP_KERNEL");
        t.close();
        return p;
    }

    /** A 256 MiB box aged until 95 % of its free memory is outside order-9 blocks. */
    private Map<String, Object> replay(String name, String proactiveness) throws IOException {
        Path out = tmp.resolve(name);
        new Replayer(trace(), "baseline", new java.util.HashMap<>(Map.of("replay.memoryBytes", "256M", "replay.fragmentation", "0.95",
                "replay.compactionProactiveness", proactiveness))).run(out);
        return ReplayerTest.summary(out);
    }

    /** The timeline's fragmentation_score:node0 by sample time. */
    private TreeMap<Long, Double> scores(String name) throws IOException {
        TreeMap<Long, Double> m = new TreeMap<>();
        for (Map<String, Object> r : ReplayerTest.rows(tmp.resolve(name).resolve("timeline.arrow"))) {
            if ("fragmentation_score:node0".equals(String.valueOf(r.get("metric")))) m.put(((Number) r.get("t_ns")).longValue(), ((Number) r.get("value")).doubleValue());
        }
        return m;
    }

    @Test
    void kcompactdLowersAFragmentedNodesScoreHalfASecondIn() throws IOException {
        Map<String, Object> s = replay("on", "20");
        Map<?, ?> k = (Map<?, ?>) ((Map<?, ?>) s.get("kthreads")).get("kcompactd0");
        assertNotNull(k, s.toString());
        assertEquals(1L, ((Number) k.get("proactive_runs")).longValue(), k.toString());
        assertEquals(0L, ((Number) k.get("runs")).longValue(), "nobody woke it for work: " + k);
        assertEquals(0L, ((Number) k.get("proactive_deferrals")).longValue(), "the run lowered the score: " + k);
        assertTrue(((Number) k.get("migrated_pages")).longValue() > 0, k.toString());

        TreeMap<Long, Double> on = scores("on");
        assertFalse(on.isEmpty());
        // the timer is armed at the first request (1 ms) and fires at 501 ms: the 500 ms sample is still above 90
        assertTrue(on.floorEntry(500_000_000L).getValue() > 90, on.toString());
        double last = on.lastEntry().getValue();
        assertTrue(last <= 80 && last > 60, "down to the low mark and not much further: " + last);
        // the score only fell once kcompactd ran
        for (Map.Entry<Long, Double> e : on.headMap(500_000_000L, true).entrySet()) assertTrue(e.getValue() > 90, on.toString());

        Map<String, Object> s0 = replay("off", "0");
        assertNull(((Map<?, ?>) s0.get("kthreads")).get("kcompactd0"), "proactiveness 0: kcompactd sleeps until woken");
        TreeMap<Long, Double> off = scores("off");
        assertEquals(on.firstEntry().getValue(), off.firstEntry().getValue(), "the same machine at the start");
        for (double v : off.values()) assertTrue(v > 90, off.toString());

        // and the profile shows it as a kernel engineer would see it in perf
        String folded = Files.readString(tmp.resolve("on").resolve("profile.folded"));
        // (a trace without a kernel release replays as 5.10, where compact_node(pgdat, true) was proactive_compact_node())
        assertTrue(folded.contains("kcompactd0;ret_from_fork;kthread;kcompactd;proactive_compact_node;compact_zone;"),
                folded.lines().filter(l -> l.contains("kcompactd")).toList().toString());
    }

    @Test
    void replaysWithProactiveCompactionAreByteIdentical() throws IOException {
        replay("a", "20");
        replay("b", "20");
        for (String f : List.of("requests.arrow", "profile.folded", "timeline.arrow", "events.arrow", "summary.json")) {
            assertArrayEquals(Files.readAllBytes(tmp.resolve("a").resolve(f)), Files.readAllBytes(tmp.resolve("b").resolve(f)), f);
        }
    }

    /**
     * A trace with compaction tracepoints (kmemlab record enables them) gets the model's direct compactions and
     * kcompactd_do_work() runs beside its own in the fidelity report. 600 order-4 GFP_KERNEL allocations on the
     * fragmented box (notebook 001's machine) run out of free order-4 blocks and compact; the model's lines must
     * equal its own counters (compactstall, and kcompactd's runs in summary.json), the trace's what it recorded.
     */
    @Test
    void fidelityComparesTheTracesCompactionWithTheModels() throws IOException {
        Path p = tmp.resolve("recorded.arrow");
        Traces t = new Traces(p);
        t.pageAlloc(1_000_000, 1, 7, 0x1000, 0, GFP_KERNEL, "GFP_KERNEL");
        for (int i = 0; i < 5; i++) t.vmscan(1_500_000 + i, 1, 7, "task7", org.kmemlab.trace.EventNames.COMPACTION_TRY_TO_COMPACT_PAGES);
        t.vmscan(1_600_000, 0, 0, "kcompactd0", org.kmemlab.trace.EventNames.COMPACTION_KCOMPACTD_WAKE);
        t.vmscan(1_700_000, 0, 0, "kcompactd0", "compaction:mm_compaction_kcompactd_sleep");
        for (int i = 0; i < 600; i++) t.pageAlloc(2_000_100 + 10_000L * i, 1, 7, 0x2000 + 16L * i, 4, GFP_KERNEL, "GFP_KERNEL");
        t.close();
        Path out = tmp.resolve("fid");
        new Replayer(p, "baseline", new java.util.HashMap<>(Map.of("replay.memoryBytes", "256M", "replay.fragmentation", "0.95",
                "replay.used", "0.6"))).run(out);
        Map<String, double[]> lines = new java.util.HashMap<>();
        for (Fidelity.Line l : Fidelity.of(p, out).lines) lines.put(l.metric(), new double[] {l.trace(), l.model()});
        Map<String, Object> s = ReplayerTest.summary(out);
        long compactstall = ((Number) ((Map<?, ?>) s.get("page_allocator")).get("compactstall")).longValue();
        long kcompactdRuns = ((Number) ((Map<?, ?>) ((Map<?, ?>) s.get("kthreads")).get("kcompactd0")).get("runs")).longValue();
        assertTrue(compactstall > 10 && kcompactdRuns > 0, s.toString());
        assertArrayEquals(new double[] {5, compactstall}, lines.get("mm_compaction_try_to_compact_pages (direct compactions)"));
        assertArrayEquals(new double[] {1, kcompactdRuns}, lines.get("mm_compaction_kcompactd_wake (kcompactd_do_work runs)"));
        assertEquals(0, lines.get("mm_compaction_wakeup_kcompactd (a sleeping kcompactd woken)")[0]);
        assertTrue(lines.get("mm_compaction_wakeup_kcompactd (a sleeping kcompactd woken)")[1] >= 1, "the model woke it at least once");

        // the model's tracepoints are in events.arrow, each by the context that fired it
        List<org.kmemlab.trace.TraceEvent> ev = KswapdReplayTest.events(out.resolve("events.arrow"));
        assertTrue(KswapdReplayTest.named(ev, org.kmemlab.trace.EventNames.COMPACTION_KCOMPACTD_WAKE).stream()
                .allMatch(e -> "kcompactd0".equals(e.comm) && (e.order == 4 || e.order == 9)),
                "by kcompactd0, for the allocations' order or (woken by kswapd's boosted pass) pageblock order");
        assertTrue(KswapdReplayTest.named(ev, org.kmemlab.trace.EventNames.COMPACTION_TRY_TO_COMPACT_PAGES).stream()
                .allMatch(e -> e.pid == 7 && e.order == 4), "by the allocating task");

        // a trace without compaction tracepoints says nothing about compaction: no such lines
        assertTrue(Fidelity.of(trace(), tmp.resolve("fid")).lines.stream().noneMatch(l -> l.metric().startsWith("mm_compaction")));
    }

    @Test
    void proactivenessOutOfRangeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ReplayOptions.from(new java.util.HashMap<>(Map.of("replay.compactionProactiveness", "101"))));
        assertTrue(e.getMessage().contains("0..100"), e.getMessage());
    }
}
