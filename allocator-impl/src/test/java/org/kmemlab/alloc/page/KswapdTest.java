package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.SlowPathTest.*;

/**
 * kswapd as a thread run round by round ({@link Kswapd}, mm/vmscan.c kswapd(), balance_pgdat(),
 * kswapd_try_to_sleep(), wakeup_kswapd()). The expected counts follow from the kernel's loop: DEF_PRIORITY
 * (12) rounds per balance_pgdat() that reclaims nothing, MAX_RECLAIM_RETRIES (16) such runs to a hopeless node,
 * and an HZ/10 nap before the full sleep.
 */
class KswapdTest {

    @Test
    void reclaimsRoundByRoundNapsThenSleeps() {
        PageAllocator pa = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        assertTrue(pa.vmscan().addPageCache(ctx, 1 << 20, 0, FILL_MOVABLE) > 10000);
        Kswapd k = pa.kswapdThread(0);
        assertEquals(Kswapd.State.SLEEPING, k.state());
        assertFalse(k.woken());

        assertTrue(pa.allocPages(ctx, 0, Gfp.GFP_KERNEL) >= 0);
        assertTrue(k.woken(), "an allocation below the low watermark wakes kswapd");
        assertEquals(1, pa.kswapdWakeups());
        assertEquals(0, k.wokenBy());

        SimpleExecContext kctx = new SimpleExecContext(1, 99, ctx.costs());
        kctx.advance(1_000_000L);
        long next = k.run(kctx);
        assertEquals(Kswapd.State.RUNNING, k.state());
        assertEquals(kctx.now(), next, "another round straight away");
        assertFalse(k.woken());

        // a request while it runs: waitqueue_active() is false, so no wake-up, only kswapd_order is raised
        pa.wakeupKswapd(ctx, pa.costs(ctx), pa.zone(0, ZONE_DMA32), Gfp.GFP_KERNEL, 2, ZONE_NORMAL);
        assertFalse(k.woken());
        assertEquals(1, pa.kswapdWakeups());
        assertEquals(2, k.requestedOrder);

        int rounds = 1;
        while ((next = k.run(kctx)) == kctx.now()) rounds++;
        assertEquals(Kswapd.State.SHORT_SLEEP, k.state());
        assertEquals(kctx.now() + Kswapd.SHORT_SLEEP_NS, next);
        assertEquals(rounds + 1, k.statRounds, "the last iteration finds the node balanced and leaves");
        assertEquals(1, k.statRuns, "the order-2 request was met by the pages this run freed: no second run");
        assertTrue(pa.vmscan().pgdatBalanced(0, 2, ZONE_NORMAL));
        assertTrue(k.statReclaimed > 0);
        // kswapd_try_to_sleep() hands the order asked for meanwhile to kcompactd; the node is balanced for it, so
        // kcompactd_node_suitable() is false and wakeup_kcompactd() only records it: kcompactd takes it up at its
        // next timeout
        assertTrue(pa.kcompactdWorkRequested(0));
        assertFalse(pa.kcompactdPending(0));
        assertEquals(2, k.requestedOrder, "kswapd_order is read at the top of the loop and reset only when the next run starts");

        // the nap ends without a wake-up and the node is still balanced: a full sleep
        kctx.advance(next - kctx.now());
        assertEquals(Long.MAX_VALUE, k.run(kctx));
        assertEquals(Kswapd.State.SLEEPING, k.state());
        assertEquals(Long.MAX_VALUE, k.run(kctx), "asleep until woken");
        pa.checkInvariants();
    }

    @Test
    void aNodeWithNothingToReclaimBecomesHopelessUntilDirectReclaimProgresses() {
        PageAllocator pa = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        java.util.List<Long> kernel = new java.util.ArrayList<>();
        long p;
        while ((p = pa.allocPages(ctx, 0, FILL_KERNEL)) >= 0) kernel.add(p);
        Kswapd k = pa.kswapdThread(0);
        Zone normal = pa.zone(0, ZONE_DMA32); // a 64 MiB machine has no Normal zone
        pa.wakeupKswapd(ctx, pa.costs(ctx), normal, Gfp.GFP_KERNEL, 0, ZONE_NORMAL);
        assertTrue(k.woken());

        SimpleExecContext kctx = new SimpleExecContext(1, 99, ctx.costs());
        long next;
        while ((next = k.run(kctx)) == kctx.now()) { }
        // each balance_pgdat() lowers the priority from 12 to 1 without reclaiming anything and counts a failure;
        // prepare_kswapd_sleep() lets it sleep only once the node is hopeless
        assertEquals(Kswapd.MAX_RECLAIM_RETRIES, k.statRuns);
        assertEquals(Kswapd.MAX_RECLAIM_RETRIES * DEF_PRIORITY, k.statRounds);
        assertEquals(Kswapd.MAX_RECLAIM_RETRIES, k.failures);
        assertTrue(k.hopeless());
        assertEquals(0, k.statReclaimed);
        assertEquals(Kswapd.State.SHORT_SLEEP, k.state());
        assertEquals(kctx.now() + Kswapd.SHORT_SLEEP_NS, next);

        // "Hopeless node, leave it to direct reclaim if possible"
        long wakeups = pa.kswapdWakeups();
        pa.wakeupKswapd(ctx, pa.costs(ctx), normal, Gfp.GFP_KERNEL, 0, ZONE_NORMAL);
        assertFalse(k.woken());
        assertEquals(wakeups, pa.kswapdWakeups());

        // "A successful direct reclaim run will revive a dormant kswapd"
        // page cache in place of 2048 kernel pages, so that reclaim can lift the zone over its min watermark
        for (int i = 0; i < 2048; i++) pa.freePages(ctx, kernel.get(i), 0);
        pa.drainAllPages(ctx);
        assertEquals(2048, pa.vmscan().addPageCache(ctx, 2048, 0, FILL_MOVABLE));
        AllocOutcome out = new AllocOutcome();
        assertTrue(pa.alloc(ctx, 0, Gfp.GFP_KERNEL, out) >= 0, out.toString());
        assertTrue(out.took(AllocOutcome.PATH_RECLAIM), out.toString());
        assertEquals(0, k.failures);
        assertFalse(k.hopeless());
        pa.wakeupKswapd(ctx, pa.costs(ctx), normal, Gfp.GFP_KERNEL, 0, ZONE_NORMAL);
        assertTrue(k.woken(), "no longer hopeless, so woken again");
        pa.checkInvariants();
    }

    /**
     * kcompactd given the CPU in slices (PageAllocator.kcompactdSlice): each slice stops at the first pageblock
     * boundary past its end with the sync migrate scanner's position cached, the next goes on from there, and
     * the run does what one whole kcompactd_do_work() does on a twin machine.
     */
    @Test
    void kcompactdInSlicesDoesWhatOneWholeRunDoes() {
        PageAllocator whole = machine(KernelEra.ENOW, 64L << 20), sliced = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        // half of DMA32 free in order-0 holes, and in each pageblock one page under writeback, which compaction
        // cannot move: no pageblock can be emptied, so the run goes on until its scanners meet
        for (PageAllocator pa : java.util.List.of(whole, sliced)) {
            checkerboard(pa, new SimpleExecContext());
            Zone dz = pa.zone(0, ZONE_DMA32);
            for (int b = dz.startPfn & ~(PAGEBLOCK_PAGES - 1); b < dz.endPfn; b += PAGEBLOCK_PAGES) {
                for (int p = Math.max(b, dz.startPfn); p < b + PAGEBLOCK_PAGES && p < dz.endPfn; p++) {
                    if (pa.mem().state(p) == PhysMem.S_ALLOC && pa.mem().kind(p) == PhysMem.K_PAGECACHE) {
                        pa.mem().orFlags(p, PhysMem.F_WRITEBACK);
                        dz.nrWriteback++;
                        break;
                    }
                }
            }
            pa.wakeupKcompactd(0, PAGEBLOCK_ORDER);
        }

        long all = whole.kcompactd(new SimpleExecContext(1, 99, ctx.costs()), 0);
        assertTrue(all > 100, "migrated " + all);

        SimpleExecContext kctx = new SimpleExecContext(1, 99, ctx.costs());
        Zone z = sliced.zone(0, ZONE_DMA32);
        int slices = 0, lastPos = z.cachedMigratePfn(true);
        boolean done;
        do {
            long end = kctx.now() + 20_000;
            done = sliced.kcompactdSlice(kctx, 0, end);
            slices++;
            if (!done) {
                assertTrue(kctx.now() >= end, "a slice gives the CPU back only once it is over");
                assertEquals(0, z.cachedMigratePfn(true) % PAGEBLOCK_PAGES, "at a pageblock boundary");
                assertTrue(z.cachedMigratePfn(true) > lastPos, "each slice goes on from where the last stopped");
                lastPos = z.cachedMigratePfn(true);
            }
        } while (!done);
        assertTrue(slices > 2, slices + " slices");
        assertEquals(all, sliced.kcompactdMigrated);
        assertFalse(sliced.kcompactdPending(0));
        sliced.checkInvariants();
        whole.checkInvariants();
    }
}
