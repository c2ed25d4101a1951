package org.kmemlab.alloc.spl;

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
import org.kmemlab.alloc.vmalloc.VmapAreas;
import org.kmemlab.alloc.vmalloc.Vmalloc;

class SplCacheTest {
    /** KM_PUSHPAGE of 2012: GFP_NOIO | __GFP_HIGH. */
    static final long KM_PUSHPAGE = Gfp.GFP_NOIO | Gfp.HIGH;

    final TestPageProvider pages = new TestPageProvider(1 << 16, 2);
    final SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable());
    final Vmalloc vmalloc = new Vmalloc(KernelEra.E2012, pages, slab);

    SplCache cache(SplConfig cfg) {
        // 16 KiB objects: spl_obj_size 16424 ≥ PAGE_SIZE/8 → KMC_VMEM, slabs from __vmalloc
        return new SplCache("zio_buf_16384", 16384, 0, cfg, slab, vmalloc);
    }

    @Test
    void geometryFollowsSplSlabSizeAndMagazineSize() {
        SplCache c = cache(SplConfig.defaults());
        assertFalse(c.isKmem());
        // (size - 64) / 16424 >= 16 → size = 512 KiB (first power of two with 16 objects: 524224/16424 = 31? no:)
        // 256 KiB: (262144-64)/16424 = 15 < 16; 512 KiB: (524288-64)/16424 = 31 ≥ 16
        assertEquals(512 * 1024, c.slabSize);
        assertEquals(31, c.objsPerSlab);
        assertEquals(64, c.magazineSize); // 4 KiB < 16 KiB ≤ 128 KiB
        SplCache small = new SplCache("small", 100, 0, SplConfig.defaults(), slab, vmalloc);
        assertTrue(small.isKmem()); // 104 + 40 < 512
        assertEquals(256, small.magazineSize);
    }

    @Test
    void syncGrowRunsVmallocInTheCallersContext() {
        TestCtx ctx = new TestCtx();
        SplCache c = cache(SplConfig.defaults().withGrowMode(SplConfig.GrowMode.SYNC_INLINE));
        long p = c.alloc(ctx, KM_PUSHPAGE);
        assertNotEquals(0, p);
        assertTrue(ctx.entered("spl_cache_grow") && ctx.entered("__vmalloc"));
        assertEquals(0, ctx.workQueued);
        // the refill wants (64+1)/2 = 32 objects but a slab holds 31: spl_cache_refill grows twice
        assertEquals(2, c.slabTotal);
        assertEquals(31, c.magazineAvail(0));
    }

    @Test
    void asyncGrowWakesTheWaiterWhenTheWorkerFinishesInTime() {
        TestCtx ctx = new TestCtx();
        SplCache c = cache(SplConfig.defaults());
        long p = c.alloc(ctx, KM_PUSHPAGE);
        assertNotEquals(0, p);
        assertEquals(2, ctx.workQueued); // 32 objects wanted, 31 per slab
        assertEquals(0, ctx.timeouts);
        assertEquals(0, c.objEmergency);
        assertTrue(VmapAreas.isVmallocAddr(p));
    }

    @Test
    void emergencyObjectWhenTheGrowWorkerCannotFinishInTimeAndItIsFreedThroughTheEmergencyPath() {
        TestCtx ctx = new TestCtx().stallWork(true); // the worker is stuck (e.g. in reclaim) until we run it
        SplCache c = cache(SplConfig.defaults());
        long t0 = ctx.now();
        long e = c.alloc(ctx, KM_PUSHPAGE);
        assertNotEquals(0, e);
        assertEquals(1, ctx.timeouts);
        assertTrue(ctx.now() - t0 >= SplConfig.defaults().waitNs(), "waited one tick");
        assertTrue(ctx.entered("spl_emergency_alloc"));
        assertEquals(1, c.objEmergency);
        assertEquals(1, c.objEmergencyMax);
        assertFalse(VmapAreas.isVmallocAddr(e), "emergency objects are kmalloc'd, not vmalloc'd");
        // the emergency kmalloc honours GFP_NOIO: no compaction (needs __GFP_IO)
        assertEquals(0, pages.statDirectCompact);
        String[] cols = c.procLine().trim().split("\\s+");
        assertEquals("1", cols[12], c.procLine());
        assertEquals("1", cols[13], c.procLine());

        ctx.stallWork(false).runPending(); // the worker finally links its slab
        assertEquals(1, c.slabTotal);
        long normal = c.alloc(ctx, KM_PUSHPAGE);
        assertTrue(VmapAreas.isVmallocAddr(normal));

        ctx.resetRecording();
        int magBefore = c.magazineAvail(0);
        c.free(ctx, e);
        assertTrue(ctx.entered("spl_emergency_free") && ctx.entered("kfree"));
        assertEquals(0, c.objEmergency);
        assertEquals(1, c.objEmergencyMax);
        assertEquals(magBefore, c.magazineAvail(0), "not pushed into the magazine");
        assertFalse(c.isEmergency(e));
    }

    @Test
    void deadlockLatchAllocatesEmergencyObjectsOnlyAfterTheLatch() {
        TestCtx ctx = new TestCtx().stallWork(true);
        SplCache c = cache(SplConfig.defaults().withTrigger(SplConfig.EmergencyTrigger.DEADLOCK_LATCH).withWaitTicks(25));
        long e = c.alloc(ctx, KM_PUSHPAGE);
        assertNotEquals(0, e);
        assertEquals(1, c.objDeadlock);
        assertEquals(1, ctx.timeouts, "one timed-out wait, then the latched path allocates without waiting");
        assertEquals(1, c.objEmergency);
        long e2 = c.alloc(ctx, KM_PUSHPAGE);
        assertNotEquals(0, e2);
        assertEquals(1, ctx.timeouts, "latched: no further waits");
        ctx.runPending();
        assertEquals(0, c.flags() & SplCache.KMC_DEADLOCKED);
    }

    @Test
    void listIndexFreeCostGrowsWithTheEmergencyCountTreeDoesNot() {
        long listCost = freeCostOfOldest(SplConfig.EmergencyIndex.LIST, 200);
        long treeCost = freeCostOfOldest(SplConfig.EmergencyIndex.RBTREE, 200);
        long listSmall = freeCostOfOldest(SplConfig.EmergencyIndex.LIST, 10);
        // list: 200 steps vs 10 steps of 5 ns; tree: 1 + log2(200) = 8 levels of 15 ns
        assertTrue(listCost - listSmall >= 190 * 5, listCost + " vs " + listSmall);
        assertTrue(treeCost < listCost, treeCost + " vs " + listCost);
    }

    /** Self-time of spl_emergency_free when freeing the oldest of n emergency objects. */
    private long freeCostOfOldest(SplConfig.EmergencyIndex idx, int n) {
        TestPageProvider pg = new TestPageProvider(1 << 16, 1);
        SlubAllocator s = new SlubAllocator(pg, 1, new CostTable());
        Vmalloc vm = new Vmalloc(KernelEra.E2012, pg, s);
        SplCache c = new SplCache("c", 16384, 0, SplConfig.defaults().withIndex(idx), s, vm);
        TestCtx ctx = new TestCtx().stallWork(true);
        List<Long> objs = new ArrayList<>();
        for (int i = 0; i < n; i++) objs.add(c.alloc(ctx, KM_PUSHPAGE));
        assertEquals(n, c.objEmergency);
        ctx.resetRecording();
        c.free(ctx, objs.get(0));
        return ctx.profile().get("spl_kmem_cache_free;spl_emergency_free");
    }

    @Test
    void reapFreesEmptySlabsAndDestroyNeedsEverythingBack() {
        TestCtx ctx = new TestCtx();
        SplCache c = cache(SplConfig.defaults());
        List<Long> objs = new ArrayList<>();
        for (int i = 0; i < 100; i++) objs.add(c.alloc(ctx, KM_PUSHPAGE));
        assertTrue(c.slabTotal >= 4);
        for (long o : objs) c.free(ctx, o);
        c.reapNow(ctx);
        assertEquals(0, c.slabTotal);
        assertEquals(0, c.objAlloc);
        c.destroy(ctx);
        ctx.runPending();
        vmalloc.areas().purgeLazy(ctx);
        assertEquals(pages.allocatedPages(), vmalloc.pageTablePages() + slab.slabPages(),
                "only vmalloc page tables and kmalloc slabs (vm_struct, page arrays) remain");
    }

    /** Seed 000's hazard: __vmalloc(GFP_NOIO) still allocates page tables with GFP_KERNEL (FS + IO reclaim). */
    private boolean sawFsCapableRequest(int from) {
        for (int i = from; i < pages.gfpLog.size(); i++) if ((pages.gfpLog.get(i) & (Gfp.FS | Gfp.IO)) == (Gfp.FS | Gfp.IO)) return true;
        return false;
    }

    @Test
    void syncGrowIssuesFsReclaimCapablePageTableAllocationsFromTheNoioCaller() {
        TestCtx ctx = new TestCtx();
        cache(SplConfig.defaults().withGrowMode(SplConfig.GrowMode.SYNC_INLINE)).alloc(ctx, KM_PUSHPAGE);
        assertEquals(0, ctx.workQueued);
        assertTrue(sawFsCapableRequest(0), "the writeback caller itself may recurse into FS reclaim");
    }

    @Test
    void asyncGrowKeepsTheNoioCallerFreeOfFsReclaimCapableRequests() {
        TestCtx ctx = new TestCtx().stallWork(true);
        SplCache c = cache(SplConfig.defaults());
        assertNotEquals(0, c.alloc(ctx, KM_PUSHPAGE)); // emergency object: honours GFP_NOIO
        assertFalse(sawFsCapableRequest(0), "caller-side requests all honour GFP_NOIO");
        int mark = pages.gfpLog.size();
        ctx.stallWork(false).runPending();
        assertTrue(sawFsCapableRequest(mark), "only the grow worker's vmalloc reaches GFP_KERNEL page tables");
    }

    @Test
    void procViewHasEmergAndMaxColumns() {
        String h = SplCache.procHeader();
        assertTrue(h.contains("emerg") && h.trim().endsWith("emerg   max"), h);
        SplCache c = cache(SplConfig.defaults());
        String line = c.procLine();
        assertEquals(14, line.trim().split("\\s+").length, line);
    }
}
