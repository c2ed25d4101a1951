package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.SlowPathTest.*;

import java.util.ArrayList;
import java.util.List;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.junit.jupiter.api.Test;

/**
 * {@code throttle_direct_reclaim()} and {@code allow_direct_reclaim()} of mm/vmscan.c: a task that is not a kernel
 * thread, about to reclaim while the free pages of the node's zones up to ZONE_NORMAL are at or below half their
 * min watermarks, sleeps on {@code pfmemalloc_wait}: for at most HZ (one second) without __GFP_FS, until kswapd
 * wakes it with __GFP_FS. kswapd wakes the sleepers after a balance_pgdat() round that made
 * {@code allow_direct_reclaim()} true, and always before it sleeps.
 */
class ThrottleDirectReclaimTest {
    static final long HZ_NS = 1_000_000_000L;

    /** A 64 MiB box filled with page cache and kernel pages down to an empty buddy: 0 free pages, far below min / 2. */
    private static PageAllocator starved() {
        PageAllocator pa = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        assertTrue(pa.vmscan().addPageCache(ctx, 1 << 20, 0, FILL_MOVABLE) > 10000);
        while (pa.allocPages(ctx, 0, FILL_KERNEL) >= 0) { }
        pa.drainAllPages(ctx);
        long free = 0, min = 0;
        for (Zone z : pa.zones) {
            if (z.node != 0 || z.type > ZONE_NORMAL || !z.populated()) continue;
            free += z.freePages();
            min += z.minWmark();
        }
        assertTrue(min > 0 && free <= min / 2, "free " + free + ", min watermarks " + min);
        return pa;
    }

    /**
     * {@code zone_reclaimable_pages()} since 6.13 counts a zone's free pages when it has nothing reclaimable, and
     * {@code should_reclaim_retry()} adds the free pages to that: a DMA32 of kernel pages only, with free pages at
     * three quarters of its min watermark, would meet the watermark with them counted twice, so the current era
     * retries reclaim where 5.10's goes towards OOM.
     */
    @Test
    void aZoneWithNothingReclaimableCountsItsFreePagesTwiceInShouldReclaimRetrySince613() {
        for (KernelEra era : new KernelEra[] {KernelEra.ENOW, KernelEra.E2020}) {
            PageAllocator pa = machine(era, 64L << 20);
            SimpleExecContext ctx = new SimpleExecContext();
            while (pa.allocPages(ctx, 0, FILL_KERNEL | Gfp.DMA) >= 0) { }
            Zone z = pa.zone(0, ZONE_DMA32);
            // pcp refills take pages from the buddy in batches: take all of it, then give pages back one by one
            List<Long> taken = new ArrayList<>();
            long p;
            while ((p = pa.allocPages(ctx, 0, FILL_KERNEL | Gfp.DMA32)) >= 0) taken.add(p);
            pa.drainAllPages(ctx);
            // min_wmark_pages() includes the watermark boost, which the fill's fallbacks raised
            long target = z.minWmark() * 3 / 4;
            while (z.freePages() < target) {
                pa.freePages(ctx, taken.remove(taken.size() - 1), 0);
                pa.drainAllPages(ctx);
            }
            assertEquals(0, z.reclaimablePages());
            assertTrue(z.freePages() > 0 && z.freePages() < z.minWmark() && 2 * z.freePages() > z.minWmark() + 1,
                    "free " + z.freePages() + ", min " + z.minWmark());
            Zone[] zl = pa.zonelists[0][ZONE_DMA32];
            boolean retry = pa.shouldReclaimRetry(ctx, pa.costs(ctx), Gfp.GFP_KERNEL, 0, zl, ZONE_DMA32, 0, ALLOC_WMARK_MIN,
                    true, new int[1]);
            assertEquals(era == KernelEra.ENOW, retry, era.toString());
        }
    }

    /** A context that records the wait queues woken through it, with how many rounds kswapd had finished then. */
    private static final class Recording extends SimpleExecContext {
        final List<String> woken = new ArrayList<>();
        Kswapd watched;

        Recording(int cpu, long task) {
            super(cpu, task, new org.kmemlab.alloc.core.CostTable());
            recordFrames(true);
        }

        @Override
        public void wakeUp(ExecContext ctx, Object waitQueue) {
            woken.add(waitQueue + (watched == null ? "" : " after " + watched.statRounds + " rounds"));
        }
    }

    @Test
    void aUserTaskWithoutGfpFsSleepsASecondThenReclaims() {
        PageAllocator pa = starved();
        pa.kswapdDriven(true);
        SimpleExecContext ctx = new SimpleExecContext().recordFrames(true);
        assertTrue(pa.allocPages(ctx, 0, Gfp.GFP_NOFS) >= 0, "reclaim frees page cache once the throttle times out");
        // Each pass of the slow path reclaims SWAP_CLUSTER_MAX pages and, with nobody else freeing memory here,
        // meets the throttle again until the zones are back above their min watermarks: a second every time.
        long throttled = pa.pgscanDirectThrottle();
        assertTrue(throttled >= 1, "throttled " + throttled);
        assertTrue(ctx.now() >= throttled * HZ_NS, "slept " + ctx.now() + " ns in " + throttled + " throttles");
        assertTrue(ctx.framesEntered.contains("throttle_direct_reclaim"));
        assertTrue(pa.kswapdThread(0).woken(), "a throttled task's node has kswapd awake");
        pa.checkInvariants();
    }

    @Test
    void kernelThreadsHopelessNodesAndCallersWithoutKswapdAreNotThrottled() {
        PageAllocator pa = starved();
        pa.kswapdDriven(true);
        SimpleExecContext kthread = new SimpleExecContext().kthread(true).recordFrames(true);
        assertTrue(pa.allocPages(kthread, 0, Gfp.GFP_NOFS) >= 0);
        assertEquals(0, pa.pgscanDirectThrottle(), "PF_KTHREAD");
        assertFalse(kthread.framesEntered.contains("throttle_direct_reclaim"));
        assertTrue(kthread.now() < HZ_NS);

        // A hopeless node (kswapd_failures >= MAX_RECLAIM_RETRIES) is left to direct reclaim, which revives it.
        PageAllocator hopeless = starved();
        hopeless.kswapdDriven(true);
        SimpleExecContext user0 = new SimpleExecContext();
        assertFalse(hopeless.vmscan().allowDirectReclaim(user0, 0));
        hopeless.kswapdThread(0).failures = Kswapd.MAX_RECLAIM_RETRIES;
        assertTrue(hopeless.vmscan().allowDirectReclaim(user0, 0));

        PageAllocator clockless = starved();
        SimpleExecContext user = new SimpleExecContext();
        assertTrue(clockless.allocPages(user, 0, Gfp.GFP_KERNEL) >= 0, "no kswapd thread would wake a GFP_FS sleeper");
        assertEquals(0, clockless.pgscanDirectThrottle());
    }

    @Test
    void kswapdWakesTheThrottledOnceReclaimIsAllowedAndOnlyThen() {
        PageAllocator pa = starved();
        pa.kswapdDriven(true);
        Recording user = new Recording(0, 10);
        assertTrue(pa.allocPages(user, 0, Gfp.GFP_NOFS) >= 0);
        assertTrue(pa.pgscanDirectThrottle() >= 1);
        assertEquals(List.of(), user.woken);

        Kswapd k = pa.kswapdThread(0);
        assertTrue(k.woken());
        Recording kswapd = new Recording(1, -3000);
        kswapd.kthread(true);
        kswapd.watched = k;
        kswapd.advance(user.now());
        while (k.run(kswapd) == kswapd.now()) { }
        assertTrue(k.statRounds > 1, "rounds " + k.statRounds);
        assertEquals(List.of("pfmemalloc_wait (node 0) after 0 rounds"), kswapd.woken,
                "woken in the first round, whose reclaim lifted the node above half its min watermarks; then nobody is left");
        assertTrue(pa.vmscan().allowDirectReclaim(kswapd, 0));

        // Nobody throttled since: kswapd's next run and sleep wake nobody.
        kswapd.woken.clear();
        pa.wakeupKswapd(user, pa.costs(user), pa.zone(0, ZONE_DMA32), Gfp.GFP_KERNEL, 0, ZONE_NORMAL);
        kswapd.advance(Kswapd.SHORT_SLEEP_NS);
        while (k.run(kswapd) != Long.MAX_VALUE) kswapd.advance(Kswapd.SHORT_SLEEP_NS);
        assertEquals(List.of(), kswapd.woken);
        pa.checkInvariants();
    }
}
