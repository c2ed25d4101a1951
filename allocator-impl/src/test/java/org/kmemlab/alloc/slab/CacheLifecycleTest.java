package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

/** Seed 004: SLAB_TYPESAFE_BY_RCU cache release, one rcu_barrier per cache vs one per batch. */
class CacheLifecycleTest {
    static final int N = 10;
    final KLock cgroupMutex = new KLock("cgroup_mutex", KLock.Kind.MUTEX);

    /** Creates N TYPESAFE_BY_RCU caches with some churn and destroys them all under cgroup_mutex. */
    private long destroyAll(SlubAllocator slab, TestPageProvider pages, TestCtx ctx) {
        List<SlubCache> caches = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            SlubCache c = slab.kmemCacheCreate(ctx, "memcg_cache_" + i, 200, 0, SlabFlags.TYPESAFE_BY_RCU);
            long[] objs = new long[50];
            for (int j = 0; j < objs.length; j++) objs[j] = c.alloc(ctx, Gfp.GFP_KERNEL);
            for (long o : objs) c.free(ctx, o);
            caches.add(c);
        }
        ctx.lock(cgroupMutex);
        long t0 = ctx.now();
        for (SlubCache c : caches) assertTrue(slab.kmemCacheDestroy(ctx, c));
        long held = ctx.now() - t0;
        ctx.unlock(cgroupMutex);
        return held;
    }

    @Test
    void syncPerCacheRunsOneRcuBarrierPerCacheUnderTheCallersMutex() {
        TestPageProvider pages = new TestPageProvider(1 << 14, 2);
        SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable()).rcuDestroy(RcuDestroy.SYNC_PER_CACHE);
        TestCtx ctx = new TestCtx();
        long held = destroyAll(slab, pages, ctx);
        assertEquals(N, ctx.rcuBarriers);
        assertTrue(held >= N * ctx.gracePeriodNs(), "cgroup_mutex held ≈ N grace periods: " + held);
        assertEquals(N, slab.statCachesReleased);
        assertEquals(0, slab.slabPages(), "RCU-freed slab pages are back after the barriers");
    }

    @Test
    void batchedAsyncRunsOneRcuBarrierForNDestroyedCaches() {
        TestPageProvider pages = new TestPageProvider(1 << 14, 2);
        SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable()).rcuDestroy(RcuDestroy.BATCHED_ASYNC);
        TestCtx ctx = new TestCtx();
        long held = destroyAll(slab, pages, ctx);
        assertEquals(0, slab.statRcuBarriers, "the caller does not wait");
        assertTrue(held < ctx.gracePeriodNs(), "cgroup_mutex hold is O(N × shutdown), no grace period: " + held);
        assertEquals(N, slab.pendingRcuDestroy());
        assertEquals(1, ctx.workQueued, "one global work item for the whole batch");
        assertEquals(0, slab.statCachesReleased);
        ctx.runPending();
        assertEquals(1, slab.statRcuBarriers, "one rcu_barrier() for N caches");
        assertEquals(0, slab.statCachesReleased, "the work sleeps in rcu_barrier() until a grace period ends");
        ctx.gracePeriodElapses();
        assertEquals(N, slab.statCachesReleased);
        assertEquals(0, slab.pendingRcuDestroy());
        assertEquals(0, slab.slabPages());
        assertTrue(ctx.entered("slab_caches_to_rcu_destroy_workfn"));
    }

    @Test
    void syncNewFlushesKfreeRcuFirst() {
        TestPageProvider pages = new TestPageProvider(1 << 14, 2);
        int[] flushes = {0};
        SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable()).rcuDestroy(RcuDestroy.SYNC_NEW)
                .kvfreeRcuBarrier(c -> flushes[0]++);
        TestCtx ctx = new TestCtx();
        destroyAll(slab, pages, ctx);
        assertEquals(N, flushes[0]);
        assertEquals(N, ctx.rcuBarriers);
    }

    @Test
    void destroyWithLiveObjectsFailsAndKeepsTheCache() {
        TestPageProvider pages = new TestPageProvider(1 << 12, 1);
        SlubAllocator slab = new SlubAllocator(pages, 1, new CostTable());
        TestCtx ctx = new TestCtx();
        SlubCache c = slab.kmemCacheCreate(ctx, "leaky", 100, 0, 0);
        c.alloc(ctx, Gfp.GFP_KERNEL);
        assertFalse(slab.kmemCacheDestroy(ctx, c));
        assertTrue(slab.caches().containsKey("leaky"));
    }

    @Test
    void nonRcuCachesNeedNoBarrier() {
        TestPageProvider pages = new TestPageProvider(1 << 12, 1);
        SlubAllocator slab = new SlubAllocator(pages, 1, new CostTable()).rcuDestroy(RcuDestroy.BATCHED_ASYNC);
        TestCtx ctx = new TestCtx();
        SlubCache c = slab.kmemCacheCreate(ctx, "plain", 100, 0, 0);
        c.free(ctx, c.alloc(ctx, Gfp.GFP_KERNEL));
        assertTrue(slab.kmemCacheDestroy(ctx, c));
        assertEquals(0, ctx.workQueued);
        assertEquals(0, ctx.rcuBarriers);
        assertEquals(1, slab.statCachesReleased);
    }
}
