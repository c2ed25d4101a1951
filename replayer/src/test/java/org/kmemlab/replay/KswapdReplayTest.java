package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceReader;
import org.junit.jupiter.api.io.TempDir;

/**
 * kswapd as a kernel thread of the replay (issue 5's engine): woken by an allocation below the low watermark,
 * it runs one scheduler latency later on the waking CPU, round by round on the virtual clock, and restores the
 * watermarks in the background, so the allocations after it stay on the fast path.
 */
class KswapdReplayTest {
    @TempDir Path tmp;

    static final long GFP_KERNEL = 0xcc0;

    /** Page allocations of one task on cpu 1: one at t=0, then one each millisecond from 10 ms. */
    private Path trace() throws IOException {
        Path p = tmp.resolve("allocs.arrow");
        Traces t = new Traces(p);
        t.pageAlloc(1_000_000, 1, 7, 0x1000, 0, GFP_KERNEL, "GFP_KERNEL");
        for (int i = 0; i < 10; i++) t.pageAlloc(11_000_000 + 1_000_000L * i, 1, 7, 0x1001 + i, 0, GFP_KERNEL, "GFP_KERNEL");
        t.close();
        return p;
    }

    /** A 128 MiB box whose free memory clean page cache has soaked up, down to the min watermark. */
    private Map<String, Object> replay(String name) throws IOException {
        Path out = tmp.resolve(name);
        new Replayer(trace(), "baseline", Map.of("replay.memoryBytes", "128M", "replay.fsCleanPages", "-1")).run(out);
        return ReplayerTest.summary(out);
    }

    @Test
    void kswapdRestoresTheWatermarksInTheBackground() throws IOException {
        Map<String, Object> s = replay("run");
        List<Map<String, Object>> rows = ReplayerTest.rows(tmp.resolve("run/requests.arrow"));
        assertEquals(11, rows.size());
        // the first allocation finds the zone at its min watermark: the slow path, which wakes kswapd and reclaims
        assertEquals("slowpath", rows.get(0).get("fallback"), rows.get(0).toString());
        // by 10 ms kswapd has taken the zone back over its high watermark: the fast path from then on
        for (Map<String, Object> r : rows.subList(1, rows.size())) assertNull(r.get("fallback"), r.toString());
        assertEquals(1L, ((Number) ((Map<?, ?>) s.get("page_allocator")).get("allocstall")).longValue());

        Map<?, ?> k = (Map<?, ?>) ((Map<?, ?>) s.get("kthreads")).get("kswapd0");
        assertNotNull(k, s.toString());
        assertEquals(1L, ((Number) k.get("wakeups")).longValue(), k.toString());
        assertEquals(1L, ((Number) k.get("balance_runs")).longValue(), k.toString());
        assertTrue(((Number) k.get("reclaimed_pages")).longValue() > 0, k.toString());
        assertEquals(0L, ((Number) k.get("failed_runs")).longValue(), k.toString());
        // balanced, it naps HZ/10 (until 110 ms at the latest) and then sleeps, long before the trace's 20 ms end
        // plus the end-of-replay tail
        assertEquals("SLEEPING", k.get("state_end"), k.toString());

        // events.arrow has kswapd's tracepoints, and the pages it reclaimed are freed by kswapd0 after it woke
        List<TraceEvent> ev = events(tmp.resolve("run/events.arrow"));
        List<TraceEvent> wakeup = named(ev, EventNames.VMSCAN_WAKEUP_KSWAPD);
        // the slow path wakes the kswapds on entry and again at its retry label, before kswapd has run
        assertEquals(2, wakeup.size());
        assertTrue(wakeup.stream().allMatch(e -> e.pid == 7), "woken by the allocating task");
        long wokenAt = wakeup.get(0).tsNs;
        List<TraceEvent> wake = named(ev, EventNames.VMSCAN_KSWAPD_WAKE);
        assertEquals(1, wake.size());
        assertEquals("kswapd0", wake.get(0).comm);
        assertEquals(1, wake.get(0).cpu, "on the waking CPU");
        long ranAt = wake.get(0).tsNs;
        assertTrue(ranAt >= wokenAt + 50_000, "one replay.kthreadLatencyNs after the wake-up: " + wokenAt + " -> " + ranAt);
        List<TraceEvent> sleep = named(ev, EventNames.VMSCAN_KSWAPD_SLEEP);
        assertEquals(1, sleep.size());
        assertTrue(sleep.get(0).tsNs >= ranAt + 100_000_000L, "after the HZ/10 nap");
        List<TraceEvent> byKswapd = ev.stream().filter(e -> "kswapd0".equals(e.comm)).toList();
        assertTrue(byKswapd.stream().anyMatch(e -> EventNames.MM_PAGE_FREE.equals(e.event)), "reclaimed pages are freed by kswapd0");
        assertTrue(byKswapd.stream().allMatch(e -> e.tsNs >= ranAt), "nothing of kswapd's before it ran");

        // its frames, under its own comm and the kernel's thread entry
        String folded = java.nio.file.Files.readString(tmp.resolve("run/profile.folded"));
        assertTrue(folded.contains("kswapd0;ret_from_fork;kthread;kswapd;balance_pgdat;kswapd_shrink_node;shrink_node;"), folded);
    }

    /**
     * With the reclaim the kernel recorded for the same allocations (vmscan tracepoints, as kmemlab record
     * enables them), the fidelity report sets the model's beside it: two wake-ups of the sleeping kswapd (the slow
     * path wakes the kswapds on entry and again at its retry label), one kswapd pass, one direct reclaim.
     */
    @Test
    void fidelityComparesTheTracesReclaimWithTheModels() throws IOException {
        Path p = tmp.resolve("recorded.arrow");
        Traces t = new Traces(p);
        t.pageAlloc(1_000_000, 1, 7, 0x1000, 0, GFP_KERNEL, "GFP_KERNEL");
        t.vmscan(1_000_100, 1, 7, "task7", EventNames.VMSCAN_WAKEUP_KSWAPD);
        t.vmscan(1_000_200, 1, 7, "task7", EventNames.VMSCAN_DIRECT_RECLAIM_BEGIN);
        t.vmscan(1_000_300, 1, 7, "task7", EventNames.VMSCAN_WAKEUP_KSWAPD);
        t.vmscan(1_060_000, 1, 0, "kswapd0", EventNames.VMSCAN_KSWAPD_WAKE);
        for (int i = 0; i < 10; i++) t.pageAlloc(11_000_000 + 1_000_000L * i, 1, 7, 0x1001 + i, 0, GFP_KERNEL, "GFP_KERNEL");
        t.close();
        Path out = tmp.resolve("fid");
        new Replayer(p, "baseline", Map.of("replay.memoryBytes", "128M", "replay.fsCleanPages", "-1")).run(out);
        Map<String, double[]> lines = new java.util.HashMap<>();
        for (Fidelity.Line l : Fidelity.of(p, out).lines) lines.put(l.metric(), new double[] {l.trace(), l.model()});
        assertArrayEquals(new double[] {2, 2}, lines.get("mm_vmscan_wakeup_kswapd (a sleeping kswapd woken)"));
        assertArrayEquals(new double[] {1, 1}, lines.get("mm_vmscan_kswapd_wake (kswapd passes)"));
        assertArrayEquals(new double[] {1, 1}, lines.get("mm_vmscan_direct_reclaim_begin (direct reclaims)"));

        // a trace without vmscan tracepoints says nothing about reclaim: no such lines
        replay("plain");
        assertTrue(Fidelity.of(trace(), tmp.resolve("plain")).lines.stream().noneMatch(l -> l.metric().startsWith("mm_vmscan")));
    }

    static List<TraceEvent> events(Path arrow) throws IOException {
        List<TraceEvent> l = new java.util.ArrayList<>();
        try (TraceReader r = new TraceReader(arrow)) {
            while (r.next()) {
                for (int i = 0; i < r.batch().size(); i++) {
                    TraceEvent e = new TraceEvent();
                    r.batch().read(i, e);
                    l.add(e);
                }
            }
        }
        return l;
    }

    static List<TraceEvent> named(List<TraceEvent> ev, String name) { return ev.stream().filter(e -> name.equals(e.event)).toList(); }

    @Test
    void replaysWithKswapdAreByteIdentical() throws IOException {
        replay("a");
        replay("b");
        for (String f : List.of("requests.arrow", "profile.arrow", "profile.folded", "timeline.arrow", "events.arrow", "summary.json")) {
            assertArrayEquals(java.nio.file.Files.readAllBytes(tmp.resolve("a").resolve(f)),
                    java.nio.file.Files.readAllBytes(tmp.resolve("b").resolve(f)), f);
        }
    }
}
