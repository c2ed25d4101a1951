package org.kmemlab.alloc.rcu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;
import org.kmemlab.alloc.vmalloc.Vmalloc;

class KfreeRcuTest {
    final TestPageProvider pages = new TestPageProvider(1 << 16, 2);
    final SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable());
    final Vmalloc vm = new Vmalloc(KernelEra.E2020, pages, slab);

    /** Puts exactly {@code n} order-0 pages on cpu 0's pcp list. */
    private void primePcp(TestCtx ctx, int n) {
        pages.drainPcp(0);
        pages.pcpBatch(n);
        long p = pages.allocPages(ctx, 0, Gfp.GFP_KERNEL); // rmqueue_bulk moves n pages, one is handed out
        pages.freePages(ctx, p, 0);                         // and comes back: n on the list
        assertEquals(n, pages.pcpCount(0));
    }

    private List<Long> objects(TestCtx ctx, int n) {
        List<Long> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(slab.kmalloc(ctx, 64, Gfp.GFP_KERNEL));
        return l;
    }

    @Test
    void fastTryNeverTakesZoneLockAndFailsOnceThePcpListIsEmpty() {
        TestCtx ctx = new TestCtx();
        List<Long> objs = objects(ctx, 20);
        primePcp(ctx, 8);
        pages.pcpRefill(true);
        KfreeRcu k = new KfreeRcu(slab, vm, BnodeAlloc.FAST_TRY).blockEntries(1); // one block per pointer
        ctx.resetRecording();
        for (long o : objs) k.kvfreeCallRcu(ctx, o, true);
        // 8 pages on the pcp list → 8 blocks; then every FAST_TRY attempt fails
        assertEquals(8, k.statBnodeAllocOk);
        assertEquals(12, k.statBnodeAllocFail);
        assertEquals(12, k.statHeadFallback, "two-argument callers fall back to the rcu_head channel");
        assertEquals(0, pages.pcpCount(0));
        assertFalse(ctx.tookLock("zone->lock"), "FAST_TRY never takes zone->lock");
        assertFalse(ctx.entered("rmqueue_bulk"));
        assertFalse(ctx.entered("__alloc_pages_slowpath.constprop.0"));
        assertFalse(ctx.entered("wake_all_kswapds"), "no KSWAPD bit in the mask");
        // everything is freed after a grace period
        ctx.runPending();
        ctx.gracePeriodElapses();
        assertEquals(20, k.statFreed);
        assertEquals(0, k.pendingObjects());
    }

    @Test
    void nowaitUnderLockTakesZoneLockInsideTheRawKrcpLock() {
        TestCtx ctx = new TestCtx();
        List<Long> objs = objects(ctx, 3);
        KfreeRcu k = new KfreeRcu(slab, vm, BnodeAlloc.NOWAIT_UNDER_LOCK).blockEntries(1);
        pages.drainPcp(0);
        ctx.resetRecording();
        for (long o : objs) k.kvfreeCallRcu(ctx, o, true);
        assertEquals(3, k.statBnodeAllocOk);
        int krcp = ctx.locksTaken.indexOf("krcp[0]->lock");
        int zone = ctx.locksTaken.indexOf("zone->lock");
        assertTrue(krcp >= 0 && zone > krcp, "rmqueue_bulk's zone->lock nested in the raw krcp->lock: " + ctx.locksTaken);
        assertTrue(ctx.lockStacks.stream().anyMatch(s -> s.startsWith("kvfree_call_rcu;__get_free_pages") && s.endsWith("|zone->lock")));
    }

    @Test
    void oneArgumentCallersFallBackToSynchronizeRcu() {
        TestCtx ctx = new TestCtx();
        long o = slab.kmalloc(ctx, 64, Gfp.GFP_KERNEL);
        KfreeRcu k = new KfreeRcu(slab, vm, BnodeAlloc.NOWAIT_UNDER_LOCK).preemptRt(true);
        long t0 = ctx.now();
        k.kvfreeCallRcu(ctx, o, false);
        assertEquals(1, k.statSyncFallback);
        assertEquals(1, ctx.gracePeriods);
        assertTrue(ctx.now() - t0 >= ctx.gracePeriodNs());
        assertEquals(0, slab.ksize(o), "freed inline after the grace period");
    }

    @Test
    void precacheWorkerKeepsFallbacksLowAtSteadyState() {
        TestCtx ctx = new TestCtx();
        KfreeRcu k = new KfreeRcu(slab, vm, BnodeAlloc.PRECACHE_WORKER).blockEntries(4);
        for (int round = 0; round < 5; round++) {
            for (long o : objects(ctx, 16)) k.kvfreeCallRcu(ctx, o, true);
            ctx.runPending();       // page-cache worker and monitor
            ctx.gracePeriodElapses();
        }
        // the first round misses entirely (the worker runs asynchronously, after it); later rounds hit the cache
        assertEquals(16, k.statHeadFallback);
        assertFalse(ctx.lockStacks.stream().anyMatch(s -> s.startsWith("kvfree_call_rcu") && s.endsWith("|zone->lock")),
                "no page allocation under krcp->lock");
        assertTrue(k.statCacheHit > 0);
    }

    @Test
    void drainUsesKfreeBulkAndRecyclesBlockPages() {
        TestCtx ctx = new TestCtx();
        KfreeRcu k = new KfreeRcu(slab, vm, BnodeAlloc.NOWAIT_UNDER_LOCK);
        List<Long> objs = objects(ctx, 1000);
        long vmObj = vm.vmalloc(ctx, 8192);
        for (long o : objs) k.kvfreeCallRcu(ctx, o, true);
        k.kvfreeCallRcu(ctx, vmObj, true);
        assertEquals(3, k.bnodePages()); // 1000 slab pointers: 2 blocks of 510; 1 vmalloc block
        ctx.resetRecording();
        k.kvfreeRcuBarrier(ctx);
        assertTrue(ctx.entered("kfree_rcu_work") && ctx.entered("kfree_bulk") && ctx.entered("vfree"));
        assertEquals(1001, k.statFreed);
        assertEquals(3, k.cachedPages(0), "emptied blocks go back to the page cache (≤ 5)");
        assertFalse(vm.isLive(vmObj));
        for (long o : objs) assertEquals(0, slab.ksize(o));
        assertNotEquals(0, k.statBatches);
    }
}
