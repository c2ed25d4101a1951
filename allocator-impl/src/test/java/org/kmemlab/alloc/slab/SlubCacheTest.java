package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

class SlubCacheTest {
    final TestPageProvider pages = new TestPageProvider(1 << 16, 2);
    final SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable());
    final TestCtx ctx = new TestCtx();

    @Test
    void firstAllocationCreatesOneSlabThenTheFastPathServesTheRest() {
        SlubCache c = slab.kmallocCaches().cacheFor(64, Gfp.GFP_KERNEL);
        assertEquals("kmalloc-64", c.name);
        // 64 bytes: min_objects 12 → order 0, 4096/64 = 64 objects per slab
        assertEquals(64, c.objsPerSlab);
        long first = slab.kmalloc(ctx, 40, Gfp.GFP_KERNEL);
        assertTrue(ctx.entered("new_slab") && ctx.entered("allocate_slab") && ctx.entered("___slab_alloc"));
        ctx.resetRecording();
        for (int i = 1; i < 64; i++) assertNotEquals(0, slab.kmalloc(ctx, 64, Gfp.GFP_KERNEL));
        assertFalse(ctx.entered("___slab_alloc"), "63 more objects come from the cpu slab");
        assertEquals(1, c.nrSlabs());
        slab.kmalloc(ctx, 64, Gfp.GFP_KERNEL);
        assertEquals(2, c.nrSlabs());
        assertEquals(64, slab.ksize(first));
        assertSame(c, slab.cacheOf(first));
    }

    @Test
    void largeKmallocGoesToThePageAllocatorWithGfpComp() {
        long p = slab.kmallocNode(ctx, 65536, Gfp.GFP_KERNEL);
        assertTrue(ctx.entered("__kmalloc_node") && ctx.entered("kmalloc_large_node"));
        assertEquals(4, pages.orderLog.get(pages.orderLog.size() - 1));
        assertTrue((pages.gfpLog.get(pages.gfpLog.size() - 1) & Gfp.COMP) != 0);
        assertEquals(65536, slab.ksize(p));
        assertEquals(16, slab.largeKmallocPages());
        slab.kfree(ctx, p);
        assertEquals(0, slab.largeKmallocPages());
        assertEquals(0, pages.allocatedPages());
    }

    @Test
    void highOrderSlabFallsBackToMinOrderWithoutReclaimOnTheFirstTry() {
        SlubCache c = slab.kmallocCaches().cacheFor(2048, Gfp.GFP_KERNEL);
        // 2048: get_order(12*2048) = 3 → order 3 (16 objects); s->min = order 0 (2 objects)
        assertEquals(3, c.order);
        assertEquals(0, c.minOrder);
        pages.fragmentedFromOrder = 1;
        long p = c.alloc(ctx, Gfp.GFP_KERNEL);
        assertNotEquals(0, p);
        assertEquals(1, c.statOrderFallback);
        // first try: (GFP_KERNEL|COMP|NOWARN|NORETRY|NOMEMALLOC) & ~__GFP_RECLAIM — no reclaim at all
        long firstTry = pages.gfpLog.get(0);
        assertEquals(0, firstTry & Gfp.RECLAIM);
        assertEquals(Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN, firstTry & (Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN));
        assertEquals(0, pages.statDirectCompact);
        assertEquals(2, slab.slabOf(p).objects);
    }

    @Test
    void remoteFreeOfAFullSlabPutsItOnTheFreeingCpusPartialList() {
        SlubCache c = slab.kmemCacheCreate(ctx, "obj256", 256, 0, 0);
        int n = c.objsPerSlab;
        long[] objs = new long[n];
        for (int i = 0; i < n; i++) objs[i] = c.alloc(ctx, Gfp.GFP_KERNEL);
        c.alloc(ctx, Gfp.GFP_KERNEL); // the first slab is full and left the cpu
        TestCtx cpu1 = new TestCtx().cpu(1);
        c.free(cpu1, objs[0]);
        assertTrue(cpu1.entered("__slab_free") && cpu1.entered("put_cpu_partial"));
        assertEquals(1, c.cpuPartialCount(1));
        assertFalse(cpu1.tookLock(c.listLock.name()), "put_cpu_partial needs no list_lock");
    }

    @Test
    void emptySlabsBeyondMinPartialAreDiscardedUnderListLock() {
        SlubCache c = slab.kmemCacheCreate(ctx, "obj512", 512, 0, 0);
        int per = c.objsPerSlab;
        int slabs = c.minPartial + c.cpuPartialSlabs + 4;
        long[] objs = new long[per * slabs];
        for (int i = 0; i < objs.length; i++) objs[i] = c.alloc(ctx, Gfp.GFP_KERNEL);
        for (long o : objs) c.free(ctx, o);
        c.shrink(ctx);
        assertEquals(0, c.nrSlabs());
        assertEquals(0, slab.slabPages());
        assertEquals(0, pages.allocatedPages());
    }

    @Test
    void doubleFreeAndForeignFreeAreReported() {
        SlubCache a = slab.kmemCacheCreate(ctx, "a", 100, 0, 0);
        SlubCache b = slab.kmemCacheCreate(ctx, "b", 100, 0, 0);
        long p = a.alloc(ctx, Gfp.GFP_KERNEL);
        assertThrows(IllegalArgumentException.class, () -> b.free(ctx, p));
        a.free(ctx, p);
        assertThrows(IllegalStateException.class, () -> a.free(ctx, p));
    }

    @Test
    void failedPageAllocationReturnsNull() {
        TestPageProvider tiny = new TestPageProvider(0, 1);
        SlubAllocator s = new SlubAllocator(tiny, 1, new CostTable());
        assertEquals(0, s.kmalloc(ctx, 100, Gfp.GFP_KERNEL));
        assertEquals(0, s.kmalloc(ctx, 100_000, Gfp.GFP_KERNEL));
        assertEquals(SlubAllocator.ZERO_SIZE_PTR, s.kmalloc(ctx, 0, Gfp.GFP_KERNEL));
        assertEquals(0, slab.kmalloc(ctx, 8L << 20, Gfp.GFP_KERNEL), "order 11 exceeds MAX_PAGE_ORDER");
        s.kfree(ctx, SlubAllocator.ZERO_SIZE_PTR);
    }

    @Test
    void gfpSelectsTheKmallocVariant() {
        assertEquals("kmalloc-cg-96", slab.kmallocCaches().cacheFor(70, Gfp.GFP_KERNEL_ACCOUNT).name);
        assertEquals("kmalloc-rcl-1k", slab.kmallocCaches().cacheFor(1000, Gfp.GFP_KERNEL | Gfp.RECLAIMABLE).name);
        assertEquals("dma-kmalloc-8k", slab.kmallocCaches().cacheFor(8000, Gfp.GFP_KERNEL | Gfp.DMA).name);
        long p = slab.kmalloc(ctx, 1000, Gfp.GFP_KERNEL | Gfp.RECLAIMABLE);
        // kmalloc-rcl pages are reclaimable: s->allocflags carries __GFP_RECLAIMABLE
        assertTrue((pages.gfpLog.get(pages.gfpLog.size() - 1) & Gfp.RECLAIMABLE) != 0);
        slab.kfree(ctx, p);
    }
}
