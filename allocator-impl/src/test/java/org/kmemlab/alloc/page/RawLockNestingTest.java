package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.LockDep;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.kmemlab.alloc.rcu.BnodeAlloc;
import org.kmemlab.alloc.rcu.KfreeRcu;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.vmalloc.Vmalloc;

/** Seed 003's claim (allocator-model.md §E.5) checked by the lock validator on the real page allocator. */
class RawLockNestingTest {
    final PageAllocator pa = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(1L << 30).cpus(2).era(KernelEra.E2020));
    final SlubAllocator slab = new SlubAllocator(pa, 2, new CostTable());
    final Vmalloc vm = new Vmalloc(KernelEra.E2020, pa, slab);

    private LockDep run(BnodeAlloc how, boolean preemptRt, boolean boosted) {
        SimpleExecContext ctx = new SimpleExecContext(0, 1, new CostTable());
        List<Long> objs = new ArrayList<>();
        for (int i = 0; i < 3; i++) objs.add(slab.kmalloc(ctx, 64, Gfp.GFP_KERNEL));
        pa.drainAllPages(ctx); // every pcp list empty: the next order-0 allocation needs rmqueue_bulk
        if (boosted) {
            Zone z = pa.zone(0, PageConst.ZONE_DMA32);
            z.setWatermarkBoost(16);
            z.boostedWatermark = true;
        }
        KfreeRcu k = new KfreeRcu(slab, vm, how).blockEntries(1).preemptRt(preemptRt); // a block per pointer
        LockDep ld = new LockDep(preemptRt);
        ctx.lockDep(ld);
        for (long o : objs) k.kvfreeCallRcu(ctx, o, true);
        ctx.runPending(); // PRECACHE_WORKER's fill_page_cache_func runs here, outside krcp->lock
        return ld;
    }

    @Test
    void nowaitUnderLockReachesZoneLockUnderTheRawKrcpLockOnce() {
        LockDep ld = run(BnodeAlloc.NOWAIT_UNDER_LOCK, false, false);
        // the first block page refills the empty pcp list (rmqueue_bulk, zone->lock); the next two come
        // from that list without a lock
        assertTrue(pa.zone(0, PageConst.ZONE_DMA32).pcp(0).batch() >= 3, "one refill serves all three blocks");
        List<LockDep.WaitContext> w = ld.waitContextReports();
        assertEquals(1, w.size(), ld.waitContextJson().toString());
        assertEquals("BUG: Invalid wait context", w.get(0).bug);
        assertEquals("krcp->lock", w.get(0).outer);
        assertEquals("zone->lock", w.get(0).inner);
        assertEquals(1, w.get(0).count);
        assertTrue(w.get(0).stack.startsWith("kvfree_call_rcu;__get_free_pages;__alloc_pages_nodemask;get_page_from_freelist;rmqueue;rmqueue_bulk"),
                w.get(0).stack);
    }

    @Test
    void fastTryNeverTakesASpinlockTUnderIt() {
        assertEquals(List.of(), run(BnodeAlloc.FAST_TRY, false, false).waitContextJson());
    }

    @Test
    void fastTryStillWakesKswapdOnABoostedZoneAndThatIsFlagged() {
        // 5.10 rmqueue(): "if (test_bit(ZONE_BOOSTED_WATERMARK, &zone->flags)) wakeup_kswapd()" whatever the gfp
        List<LockDep.WaitContext> w = run(BnodeAlloc.FAST_TRY, false, true).waitContextReports();
        assertEquals(1, w.size());
        assertEquals("krcp->lock", w.get(0).outer);
        assertEquals("pgdat->kswapd_wait.lock", w.get(0).inner);
        assertEquals(1, w.get(0).count, "the boost bit is cleared by the wakeup");
    }

    @Test
    void precacheWorkerAndPreemptRtTakeNothingUnderTheRawLock() {
        assertEquals(List.of(), run(BnodeAlloc.PRECACHE_WORKER, false, false).waitContextJson());
        // on RT the NOWAIT path does not allocate at all ("as it uses sleeping locks")
        assertEquals(List.of(), run(BnodeAlloc.NOWAIT_UNDER_LOCK, true, false).waitContextJson());
    }
}
