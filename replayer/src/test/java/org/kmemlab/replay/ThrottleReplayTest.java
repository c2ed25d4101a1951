package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code throttle_direct_reclaim()} in a replay: interrupts' atomic allocations drain a 64 MiB box, full of page
 * cache, below half its min watermarks (GFP_ATOMIC may go to a quarter of min); then a user task's GFP_KERNEL
 * allocation is throttled on pfmemalloc_wait until kswapd, woken by the atomics, has reclaimed the node back above
 * it, while a kworker's allocation at the same moment reclaims at once: kernel threads are never throttled.
 */
class ThrottleReplayTest {
    @TempDir Path tmp;

    static final long GFP_KERNEL = 0xcc0, GFP_ATOMIC = 0x820;

    private Path trace() throws IOException {
        Path p = tmp.resolve("throttle.arrow");
        Traces t = new Traces(p);
        t.comm(10, "irq/30-nvme0q1").comm(20, "dd").comm(30, "kworker/1:2");
        long ts = 1_000_000;
        for (int i = 0; i < 3000; i++) t.pageAlloc(ts, 0, 10, 0x10000 + i, 0, GFP_ATOMIC, "GFP_ATOMIC");
        t.pageAlloc(ts + 1_000, 1, 20, 0x20000, 0, GFP_KERNEL, "GFP_KERNEL");
        t.pageAlloc(ts + 2_000, 2, 30, 0x20001, 0, GFP_KERNEL, "GFP_KERNEL");
        t.close();
        return p;
    }

    @Test
    void aUserTaskWaitsForKswapdAKworkerDoesNot() throws IOException {
        Path out = tmp.resolve("out");
        new Replayer(trace(), "baseline", new HashMap<>(Map.of("replay.memoryBytes", "64M", "replay.used", "1.0"))).run(out);
        Map<String, Object> s = ReplayerTest.summary(out);
        Map<?, ?> page = (Map<?, ?>) s.get("page_allocator");
        // dd alone: the kworker reclaims in the same state, and the atomics never reclaim
        assertEquals(1L, ((Number) page.get("pgscan_direct_throttle")).longValue(), page.toString());
        Map<String, Object> dd = null, kworker = null;
        for (Map<String, Object> r : ReplayerTest.rows(out.resolve("requests.arrow"))) {
            if ("dd".equals(String.valueOf(r.get("comm")))) dd = r;
            if ("kworker/1:2".equals(String.valueOf(r.get("comm")))) kworker = r;
        }
        assertNotNull(dd);
        assertNotNull(kworker);
        assertEquals("ok", String.valueOf(dd.get("outcome")), dd.toString());
        // A GFP_KERNEL sleeper has no timeout: the request parks, and runs again from the start once kswapd's
        // wake_up_all() comes, so the wait shows as the request's delay against its trace timestamp.
        long ddDelay = ((Number) dd.get("delay_ns")).longValue(), kwDelay = ((Number) kworker.get("delay_ns")).longValue();
        assertTrue(ddDelay > 50_000, "parked until kswapd, woken 50 us after the atomics, had reclaimed: " + dd);
        assertTrue(kwDelay < ddDelay, "the kworker reclaims at once: " + kworker);
        assertEquals("ok", String.valueOf(kworker.get("outcome")), kworker.toString());
    }
}
