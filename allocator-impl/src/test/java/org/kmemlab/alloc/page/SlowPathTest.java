package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/** Compaction, reclaim and the slow path's control flow (allocator-model.md §B.4, §B.6, §B.7). */
class SlowPathTest {

    /** Fills without reclaiming, down to an empty buddy (reserves allowed), like a memory hog at boot. */
    static final long FILL_MOVABLE = (Gfp.GFP_HIGHUSER_MOVABLE & ~Gfp.RECLAIM) | Gfp.MEMALLOC | Gfp.NOWARN;
    static final long FILL_KERNEL = (Gfp.GFP_KERNEL & ~Gfp.RECLAIM) | Gfp.MEMALLOC | Gfp.NOWARN;

    static PageAllocator machine(KernelEra era, long bytes) {
        return MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(bytes).cpus(2).era(era));
    }

    /** Fills DMA32 with page cache and frees every other page: all free memory is order 0. */
    static List<Long> checkerboard(PageAllocator pa, SimpleExecContext ctx) {
        Zone z = pa.zone(0, ZONE_DMA32);
        // pin ZONE_DMA, the fallback zone, with kernel pages, and fill DMA32 with page cache
        while (pa.allocPages(ctx, 0, FILL_KERNEL | Gfp.DMA) >= 0) { }
        pa.vmscan().addPageCache(ctx, 1 << 20, 0, FILL_MOVABLE | Gfp.DMA32);
        List<Long> freed = new ArrayList<>();
        for (int p = z.startPfn; p < z.endPfn; p += 2) {
            if (pa.mem().state(p) == S_ALLOC && pa.mem().kind(p) == K_PAGECACHE) { pa.vmscan().releaseOwned(ctx, p); freed.add((long) p); }
        }
        pa.drainAllPages(ctx);
        return freed;
    }

    @Test
    void compactionMigratesPageCacheToFormHighOrderBlocks() {
        PageAllocator pa = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        checkerboard(pa, ctx);
        Zone z = pa.zone(0, ZONE_DMA32);
        long filesBefore = z.filePages();
        assertTrue(z.nrFree(0) > 1000, "checkerboard leaves order-0 holes");
        long order9Before = 0;
        for (int o = 9; o < NR_ORDERS; o++) order9Before += z.nrFree(o);
        long migrated = pa.compactAll(ctx);
        pa.checkInvariants();
        assertTrue(migrated > 1000, "migrated " + migrated);
        long order9After = 0;
        for (int o = 9; o < NR_ORDERS; o++) order9After += z.nrFree(o);
        assertTrue(order9After > order9Before + 3, order9Before + " -> " + order9After);
        assertEquals(filesBefore, z.filePages());
        assertTrue(ctx.profile().inclusive("isolate_migratepages_block") > 0);
        assertTrue(ctx.profile().inclusive("isolate_freepages_block") > 0);
        assertTrue(ctx.profile().inclusive("migrate_pages") >= migrated * 2000);
    }

    @Test
    void asyncCompactionResumesWhereItsScannersStopped() {
        PageAllocator pa = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        checkerboard(pa, ctx);
        Zone z = pa.zone(0, ZONE_DMA32);
        PageCosts c = pa.costs(ctx);
        int lastBlock = (z.endPfn - 1) & ~(PAGEBLOCK_PAGES - 1);
        assertEquals(z.startPfn, z.cachedMigratePfn(false));
        assertEquals(lastBlock, z.cachedFreePfn());
        CompactResult r = pa.compaction().compactZone(ctx, c, z, 4, COMPACT_PRIO_ASYNC, true, MT_MOVABLE, ALLOC_WMARK_MIN, ZONE_NORMAL);
        assertEquals(CompactResult.SUCCESS, r);
        int resumeAt = z.cachedMigratePfn(false);
        assertTrue(resumeAt > z.startPfn);
        assertEquals(z.startPfn, z.cachedMigratePfn(true), "an async run leaves the sync position alone");
        assertTrue(z.cachedFreePfn() <= lastBlock && z.cachedFreePfn() > resumeAt);
        // a run that resumes mid-zone and reaches the free scanner is only PARTIAL_SKIPPED (not COMPLETE),
        // and the positions start over: resume one pageblock below the free scanner on a fresh machine
        PageAllocator fresh = machine(KernelEra.ENOW, 64L << 20);
        checkerboard(fresh, ctx);
        Zone fz = fresh.zone(0, ZONE_DMA32);
        fz.cachedMigratePfn[0] = lastBlock - PAGEBLOCK_PAGES;
        r = fresh.compaction().compactZone(ctx, c, fz, 4, COMPACT_PRIO_ASYNC, true, MT_MOVABLE, ALLOC_WMARK_MIN, ZONE_NORMAL);
        assertEquals(CompactResult.PARTIAL_SKIPPED, r);
        assertEquals(fz.startPfn, fz.cachedMigratePfn(false));
        assertEquals(lastBlock, fz.cachedFreePfn());
        fresh.checkInvariants();
        pa.checkInvariants();
    }

    @Test
    void compactionNeverMovesExternallyAllocatedPages() {
        PageAllocator pa = machine(KernelEra.E2020, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        Zone z = pa.zone(0, ZONE_DMA32);
        List<Long> ext = new ArrayList<>();
        long p;
        while ((p = pa.allocPages(ctx, 0, FILL_MOVABLE | Gfp.DMA32)) >= 0) ext.add(p);
        for (int i = 0; i < ext.size(); i += 2) pa.freePages(ctx, ext.get(i), 0);
        pa.drainAllPages(ctx);
        long before = z.freePages();
        assertEquals(0, pa.compactAll(ctx));
        for (int i = 1; i < ext.size(); i += 2) assertEquals(S_ALLOC, pa.mem().state(ext.get(i)));
        assertEquals(before, z.freePages());
    }

    @Test
    void directReclaimFreesCleanPageCacheAndSkipsDirty() {
        PageAllocator pa = machine(KernelEra.E2020, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        // fill everything with page cache, half of it dirty
        Zone z = pa.zone(0, ZONE_DMA32);
        int n = pa.vmscan().addPageCache(ctx, 1 << 20, 0, FILL_MOVABLE);
        assertTrue(n > 10000);
        pa.vmscan().dirtyPages(z, (int) (z.filePages() / 2));
        long dirty = z.dirtyPages();
        AllocOutcome out = new AllocOutcome();
        long pfn = pa.alloc(ctx, 0, Gfp.GFP_KERNEL, out);
        assertTrue(pfn >= 0, out.toString());
        assertTrue(out.took(AllocOutcome.PATH_SLOWPATH));
        assertTrue(out.took(AllocOutcome.PATH_RECLAIM), out.toString());
        assertTrue(out.reclaimed >= SWAP_CLUSTER_MAX);
        assertEquals(dirty, z.dirtyPages(), "direct reclaim never writes file pages");
        assertTrue(pa.kswapdPending(0));
        assertTrue(ctx.profile().inclusive("shrink_node") > 0);
        assertTrue(ctx.profile().get("__alloc_pages_nodemask;__alloc_pages_slowpath;__alloc_pages_direct_reclaim;__perform_reclaim;try_to_free_pages") > 0);
        // kswapd reclaims clean pages from the LRU tail until a zone meets its high watermark
        SimpleExecContext kswapd = new SimpleExecContext(1, 99, ctx.costs());
        long r = pa.kswapd(kswapd, 0);
        assertTrue(r > 0);
        assertFalse(pa.kswapdPending(0));
        assertTrue(pa.vmscan().pgdatBalanced(0, 0, ZONE_NORMAL));
        assertEquals(0, z.writebackPages());
        // with nothing clean left, kswapd starts writeback on the dirty pages (direct reclaim only rotated
        // them); it frees nothing until the I/O completes 10 ms later
        pa.vmscan().dirtyPages(z, (int) z.filePages());
        for (Zone zz : pa.zones()) pa.vmscan().dirtyPages(zz, (int) zz.filePages());
        while (pa.allocPages(kswapd, 0, FILL_MOVABLE) >= 0) { }
        pa.drainAllPages(kswapd);
        assertFalse(pa.vmscan().pgdatBalanced(0, 0, ZONE_NORMAL));
        pa.wakeupKswapd(kswapd, pa.costs(kswapd), z, Gfp.GFP_KERNEL, 0, ZONE_NORMAL);
        assertEquals(0, pa.kswapd(kswapd, 0));
        long wb = 0;
        for (Zone zz : pa.zones()) wb += zz.writebackPages();
        assertTrue(wb > 0, "kswapd started no writeback");
        assertEquals(0, pa.vmscan().completeWriteback(kswapd));
        kswapd.advance(10_000_000L);
        assertEquals(wb, pa.vmscan().completeWriteback(kswapd));
        assertTrue(pa.kswapd(kswapd, 0) > 0, "written-back pages are clean and reclaimable");
        pa.checkInvariants();
    }

    @Test
    void shrinkersRunDuringReclaimAndTheirFreedPagesCount() {
        PageAllocator pa = machine(KernelEra.ENOW, 32L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        // a "slab cache" holding every page; its shrinker frees them when asked, only with __GFP_FS.
        // Slab is not in zone_reclaimable_pages(), so should_reclaim_retry() cannot count on it: the test
        // leaves DMA32 20 pages short of its min watermark, so that one reclaim round is enough.
        List<Long> cache = new ArrayList<>();
        long p;
        while ((p = pa.allocPages(ctx, 0, FILL_KERNEL | Gfp.RECLAIMABLE)) >= 0) cache.add(p);
        Zone dma32 = pa.zone(0, ZONE_DMA32);
        for (long i = 0; i < dma32.minWmark() - 20; i++) pa.freePages(ctx, cache.remove(0), 0);
        pa.drainAllPages(ctx);
        assertEquals(dma32.minWmark() - 20, dma32.freePages());
        long[] scans = {0};
        pa.registerShrinker(new Shrinker() {
            public String name() { return "test_cache"; }
            public long countObjects(ExecContext c, int node, long gfp) { return cache.size(); }
            public long scanObjects(ExecContext c, int node, long gfp, long nr) {
                scans[0]++;
                if ((gfp & Gfp.FS) == 0) return SHRINK_STOP;
                long freed = 0;
                while (freed < nr && !cache.isEmpty()) { pa.freePages(c, cache.remove(0), 0); freed++; }
                return freed;
            }
        });
        // GFP_NOFS: the shrinker refuses, nothing reclaimable, the allocation fails without OOM (no FS)
        int sizeBefore = cache.size();
        AllocOutcome out = new AllocOutcome();
        assertEquals(-1, pa.alloc(new SimpleExecContext().scope(Gfp.FS), 0, Gfp.GFP_KERNEL | Gfp.NORETRY, out));
        assertEquals(FailReason.NORETRY, out.reason);
        assertEquals(sizeBefore, cache.size());
        assertTrue(scans[0] > 0);
        // GFP_KERNEL: do_shrink_slab scans (count >> priority) * 4 / DEFAULT_SEEKS objects per priority
        // pass until try_to_free_pages has SWAP_CLUSTER_MAX; the pages sit on the pcp until the drain after
        // the first post-reclaim pass, then the allocation succeeds
        long expectFreed = 0, count = sizeBefore;
        for (int prio = 12; expectFreed < 32; prio--) {
            long scan = (count >> prio) * 4 / 2;
            expectFreed += scan;
            count -= scan;
        }
        out = new AllocOutcome();
        assertTrue(pa.alloc(ctx, 0, Gfp.GFP_KERNEL, out) >= 0, out.toString());
        assertEquals(sizeBefore - expectFreed, cache.size());
        assertEquals(expectFreed, out.reclaimed);
        assertTrue(out.took(AllocOutcome.PATH_DRAIN));
        assertTrue(ctx.profile().inclusive("shrink_slab") > 0);
    }

    @Test
    void allocationsFromInsideReclaimUseTheMemallocReserves() {
        PageAllocator pa = machine(KernelEra.ENOW, 32L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        // fill down to the min watermark: ordinary allocations now fail, the reserves below min remain
        while (pa.allocPages(ctx, 0, (Gfp.GFP_KERNEL & ~Gfp.RECLAIM) | Gfp.NOWARN) >= 0) { }
        long[] nested = {-2};
        int[] nestedFlags = {0};
        pa.registerShrinker(new Shrinker() {
            public String name() { return "allocating_shrinker"; }
            public long countObjects(ExecContext c, int node, long gfp) { return 1L << 20; }
            public long scanObjects(ExecContext c, int node, long gfp, long nr) {
                if (nested[0] == -2) {
                    // PF_MEMALLOC is set in __perform_reclaim: the nested request gets ALLOC_NO_WATERMARKS
                    nested[0] = pa.allocPages(c, 0, Gfp.GFP_KERNEL);
                    nestedFlags[0] = pa.lastOutcome().path;
                }
                return 0;
            }
        });
        AllocOutcome out = new AllocOutcome();
        assertEquals(-1, pa.alloc(ctx, 0, Gfp.GFP_KERNEL, out));
        assertTrue(nested[0] >= 0, "the nested allocation failed");
        assertTrue((nestedFlags[0] & AllocOutcome.PATH_NO_WATERMARKS) != 0);
        assertEquals(0, nestedFlags[0] & AllocOutcome.PATH_RECLAIM, "no reclaim recursion");
        // the outer outcome is its own: reclaim made no progress, OOM found nothing to kill
        assertEquals(FailReason.OOM, out.reason);
        assertTrue(out.took(AllocOutcome.PATH_RECLAIM));
        pa.checkInvariants();
    }

    @Test
    void smallNofsAllocationsLoopInsteadOfFailing() {
        // out_of_memory() does nothing for !__GFP_FS but reports progress, so a small GFP_NOFS request keeps
        // retrying ("too small to fail"), sleeping a jiffy per OOM attempt; the model stops at its cap
        PageAllocator pa = machine(KernelEra.E2020, 32L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        while (pa.allocPages(ctx, 0, FILL_KERNEL) >= 0) { }
        int[] ooms = {0};
        pa.setOomHandler((c, order, gfp) -> { ooms[0]++; return false; });
        long t0 = ctx.now();
        AllocOutcome out = new AllocOutcome();
        assertEquals(-1, pa.alloc(ctx, 0, Gfp.GFP_NOFS, out));
        assertEquals(FailReason.NOFAIL_LIVELOCK, out.reason);
        assertEquals(0, ooms[0], "the OOM killer is never invoked for !__GFP_FS");
        assertEquals(PageAllocator.SLOWPATH_LOOP_CAP - 1, out.slowpathRetries);
        assertTrue(ctx.now() - t0 >= (PageAllocator.SLOWPATH_LOOP_CAP - 17) * ctx.costs().get(PageCosts.JIFFY));
        // the same with __GFP_FS reaches the OOM killer, which finds nothing to kill: the request fails
        out = new AllocOutcome();
        assertEquals(-1, pa.alloc(ctx, 0, Gfp.GFP_KERNEL, out));
        assertEquals(FailReason.OOM, out.reason);
        assertEquals(1, ooms[0]);
    }

    @Test
    void nowaitFailsAfterOnePassWithoutReclaim() {
        PageAllocator pa = machine(KernelEra.ENOW, 32L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        while (pa.allocPages(ctx, 0, FILL_KERNEL) >= 0) { }
        AllocOutcome out = new AllocOutcome();
        assertEquals(-1, pa.alloc(ctx, 0, Gfp.GFP_NOWAIT, out));
        assertEquals(FailReason.NO_DIRECT_RECLAIM, out.reason);
        assertFalse(out.took(AllocOutcome.PATH_RECLAIM));
        assertTrue(out.took(AllocOutcome.PATH_KSWAPD_WOKEN));
        // fast path pass + slow path MIN pass + retry pass
        assertEquals(3, out.freelistPasses);
    }

    /**
     * §B.4 "consequence for P2": a costly (order-4) GFP_KERNEL|__GFP_NORETRY allocation on a machine where
     * neither compaction nor reclaim can make an order-4 block: wake kswapd twice, compaction twice (steps 5
     * and 9), one try_to_free_pages, one drain_all_pages, five freelist passes, then fail with NORETRY.
     * DMA32 is anonymous memory with every other page free (async direct compaction for an unmovable request
     * only migrates out of unmovable blocks, and there are none); ZONE_DMA alternates page cache and kernel
     * pages, so reclaiming its page cache frees only isolated pages.
     */
    @Test
    void costlyNoretryTakesTheP2Path() {
        for (KernelEra era : new KernelEra[]{KernelEra.E2022, KernelEra.ENOW}) {
            PageAllocator pa = machine(era, 64L << 20);
            SimpleExecContext ctx = new SimpleExecContext();
            Zone dma = pa.zone(0, ZONE_DMA), dma32 = pa.zone(0, ZONE_DMA32);
            pa.vmscan().addPageCache(ctx, 1 << 20, 0, FILL_MOVABLE | Gfp.DMA);
            pa.vmscan().addAnon(ctx, 1 << 20, FILL_MOVABLE | Gfp.DMA32);
            for (int p = dma.startPfn; p < dma.endPfn; p += 2)
                if (pa.mem().state(p) == S_ALLOC && pa.mem().kind(p) == K_PAGECACHE) pa.vmscan().releaseOwned(ctx, p);
            pa.drainAllPages(ctx);
            while (pa.allocPages(ctx, 0, FILL_KERNEL | Gfp.DMA) >= 0) { }
            for (int p = dma32.startPfn; p < dma32.endPfn; p += 2)
                if (pa.mem().state(p) == S_ALLOC && pa.mem().kind(p) == K_ANON) pa.vmscan().releaseOwned(ctx, p);
            pa.drainAllPages(ctx);
            assertEquals(0, dma.freePages());
            assertTrue(dma.filePages() > 1000);
            int[] kswapdWakes = {0};
            pa.setEvents(new PageEvents() {
                @Override public void wakeupKswapd(int node, int zoneType, int order, long gfp) { kswapdWakes[0]++; }
            });
            long drainsBefore = pa.drainAllPages;
            // try_to_free_pages: priority 12 down, each pass scans file_lru >> priority pages (all clean
            // here) in batches of SWAP_CLUSTER_MAX, stopping once SWAP_CLUSTER_MAX were reclaimed
            long expectReclaim = 0, files = dma.filePages();
            for (int prio = DEF_PRIORITY; expectReclaim < SWAP_CLUSTER_MAX; prio--) {
                long scan = files >> prio;
                expectReclaim += scan;
                files -= scan;
            }
            AllocOutcome out = new AllocOutcome();
            long pfn = pa.alloc(ctx, 4, Gfp.GFP_KERNEL | Gfp.NORETRY | Gfp.NOWARN, out);
            assertEquals(-1, pfn, era + " " + out);
            assertEquals(FailReason.NORETRY, out.reason, era.toString());
            assertEquals(2, kswapdWakes[0], era.toString());
            assertEquals(2, out.compactions, era.toString());
            assertTrue(out.took(AllocOutcome.PATH_RECLAIM));
            assertEquals(expectReclaim, out.reclaimed);
            assertEquals(1, pa.drainAllPages - drainsBefore);
            // fast path, slow path MIN pass, after compaction #1 (COMPLETE is not SKIPPED, so
            // __alloc_pages_direct_compact tries the freelist), retry pass, after reclaim, after drain,
            // after compaction #2 (the spec's "~4" undercounts the two post-compaction passes)
            assertEquals(7, out.freelistPasses, era + " " + out);
            String slow = (era.atLeast(KernelEra.ENOW) ? "__alloc_pages" : "__alloc_pages_nodemask") + ";__alloc_pages_slowpath";
            assertTrue(ctx.profile().get(slow + ";__alloc_pages_direct_compact;try_to_compact_pages;compact_zone_order;compact_zone") > 0);
            pa.checkInvariants();
            // without __GFP_DIRECT_RECLAIM: one wake, the MIN pass, fail at step 7
            out = new AllocOutcome();
            kswapdWakes[0] = 0;
            assertEquals(-1, pa.alloc(ctx, 4, Gfp.GFP_NOWAIT, out));
            assertEquals(FailReason.NO_DIRECT_RECLAIM, out.reason);
            assertEquals(0, out.compactions);
        }
    }

    @Test
    void gfpNoioNeverCompacts() {
        PageAllocator pa = machine(KernelEra.E2020, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        checkerboard(pa, ctx);
        long migratedBefore = pa.compaction().totalMigrated;
        AllocOutcome out = new AllocOutcome();
        pa.alloc(ctx, 4, Gfp.GFP_NOIO | Gfp.NORETRY | Gfp.NOWARN, out);
        assertEquals(migratedBefore, pa.compaction().totalMigrated);
        assertEquals(CompactResult.SKIPPED, out.lastCompactResult);
        // and the same request with IO allowed does compact
        pa.alloc(ctx, 4, Gfp.GFP_NOFS | Gfp.NORETRY | Gfp.NOWARN, out);
        assertTrue(pa.compaction().totalMigrated > migratedBefore || out.ok());
    }

    @Test
    void oomHandlerIsAskedForNonCostlyFsAllocationsAndItsFreeingLetsThemSucceed() {
        PageAllocator pa = machine(KernelEra.ENOW, 32L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        List<Long> victim = new ArrayList<>();
        long p;
        while ((p = pa.allocPages(ctx, 0, FILL_MOVABLE)) >= 0) victim.add(p);
        int[] calls = {0};
        pa.setOomHandler((c, order, gfp) -> {
            calls[0]++;
            for (long v : victim) pa.freePages(c, v, 0);
            victim.clear();
            return true;
        });
        AllocOutcome out = new AllocOutcome();
        assertTrue(pa.alloc(ctx, 0, Gfp.GFP_KERNEL, out) >= 0, out.toString());
        assertEquals(1, calls[0]);
        assertTrue(out.took(AllocOutcome.PATH_OOM));
        // without a victim the same allocation fails with OOM after the retries
        PageAllocator full = machine(KernelEra.ENOW, 32L << 20);
        while (full.allocPages(ctx, 0, FILL_MOVABLE) >= 0) { }
        out = new AllocOutcome();
        assertEquals(-1, full.alloc(ctx, 0, Gfp.GFP_KERNEL, out));
        assertEquals(FailReason.OOM, out.reason);
        // RETRY_MAYFAIL never OOM-kills
        out = new AllocOutcome();
        assertEquals(-1, full.alloc(ctx, 0, Gfp.GFP_KERNEL | Gfp.RETRY_MAYFAIL, out));
        assertFalse(out.took(AllocOutcome.PATH_OOM));
        assertEquals(FailReason.RETRIES_EXHAUSTED, out.reason);
    }

    @Test
    void highOrderAtomicAllocationsReserveAHighatomicPageblock() {
        for (KernelEra era : new KernelEra[]{KernelEra.E2020, KernelEra.ENOW}) {
            PageAllocator pa = machine(era, 64L << 20);
            SimpleExecContext ctx = new SimpleExecContext();
            // only the slow path grants ALLOC_HARDER / ALLOC_HIGHATOMIC: fill to the min watermark first
            while (pa.allocPages(ctx, 0, (Gfp.GFP_KERNEL & ~Gfp.RECLAIM) | Gfp.NOWARN) >= 0) { }
            long gfp = era == KernelEra.E2020 ? Gfp.GFP_ATOMIC | Gfp.ATOMIC : Gfp.GFP_ATOMIC;
            long pfn = pa.allocPages(ctx, 2, gfp);
            assertTrue(pfn >= 0);
            Zone z = pa.mem().zoneOf(pfn);
            // reserve_highatomic_pageblock: the pageblock of the page becomes HighAtomic, its free pages move
            assertEquals(MT_HIGHATOMIC, pa.mem().pageblockMigratetype(pfn), era.toString());
            assertEquals(PAGEBLOCK_PAGES, z.reservedHighatomic());
            assertTrue(z.nrFree(2, MT_HIGHATOMIC) + z.nrFree(3, MT_HIGHATOMIC) + z.nrFree(4, MT_HIGHATOMIC) > 0);
            // the reserve is unusable for ordinary watermark checks: free - 512
            long mark = z.freePages() - PAGEBLOCK_PAGES;
            assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, 0, era == KernelEra.ENOW));
            assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark - 1, ZONE_NORMAL, 0, era == KernelEra.ENOW));
            pa.checkInvariants();
        }
    }

    @Test
    void noioScopeOfTheTaskDisablesCompaction() {
        PageAllocator pa = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        checkerboard(pa, ctx);
        // memalloc_noio_save(): the task's scope strips __GFP_IO|__GFP_FS from GFP_KERNEL
        SimpleExecContext noio = new SimpleExecContext(0, 7, ctx.costs()).scope(Gfp.IO | Gfp.FS);
        AllocOutcome out = new AllocOutcome();
        pa.alloc(noio, 4, Gfp.GFP_KERNEL | Gfp.NORETRY | Gfp.NOWARN, out);
        assertTrue(out.took(AllocOutcome.PATH_SLOWPATH));
        assertEquals(0, out.compactions, "current kernels do not even enter __alloc_pages_direct_compact");
        assertEquals(0, noio.profile().inclusive("compact_zone"));
        // without the scope the same request on an identical machine runs compact_zone first
        PageAllocator twin = machine(KernelEra.ENOW, 64L << 20);
        SimpleExecContext ctx2 = new SimpleExecContext();
        checkerboard(twin, ctx2);
        out = new AllocOutcome();
        twin.alloc(ctx2, 4, Gfp.GFP_KERNEL | Gfp.NORETRY | Gfp.NOWARN, out);
        assertTrue(out.compactions > 0);
        assertTrue(ctx2.profile().inclusive("compact_zone") > 0);
    }

    @Test
    void currentEraCachesOrder2OnPcpListsButFiveTenDoesNot() {
        PageAllocator now = machine(KernelEra.ENOW, 512L << 20), old = machine(KernelEra.E2020, 512L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        AllocOutcome out = new AllocOutcome();
        assertTrue(now.alloc(ctx, 2, Gfp.GFP_KERNEL, out) >= 0);
        assertTrue(out.took(AllocOutcome.PATH_PCP_REFILL));
        Zone z = out.zone;
        // nr_pcp_alloc for order 2: batch 31 >> 2 = 7 blocks of 4 pages; one handed out
        assertEquals(6 * 4, z.pcp(0).listPages(MT_UNMOVABLE, 2));
        out = new AllocOutcome();
        assertTrue(old.alloc(ctx, 2, Gfp.GFP_KERNEL, out) >= 0);
        assertTrue(out.took(AllocOutcome.PATH_BUDDY));
        assertFalse(out.took(AllocOutcome.PATH_PCP));
    }

    @Test
    void fragmentationParameterIsReachedBySeededAging() {
        MachineBuilder.Params prm = new MachineBuilder.Params().totalBytes(64L << 20).cpus(2).fragmentation(0.5).seed(7);
        PageAllocator a = MachineBuilder.fromParams(prm);
        a.checkInvariants();
        assertTrue(MachineBuilder.unusableFreeIndex(a, PAGEBLOCK_ORDER) >= 0.5);
        // same seed, same machine
        PageAllocator b = MachineBuilder.fromParams(prm);
        assertEquals(ProcFormat.pagetypeinfo(a), ProcFormat.pagetypeinfo(b));
        PageAllocator fresh = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(64L << 20));
        assertTrue(MachineBuilder.unusableFreeIndex(fresh, PAGEBLOCK_ORDER) < 0.05);
    }

    @Test
    void costsAreChargedUnderKernelFramesAndOverridable() {
        PageAllocator pa = machine(KernelEra.ENOW, 512L << 20); // batch 31, so the second allocation is a pcp hit
        CostTable t = new CostTable().set(PageCosts.PCP_OP, 7);
        SimpleExecContext ctx = new SimpleExecContext(0, 1, t);
        pa.allocPages(ctx, 0, Gfp.GFP_KERNEL); // refill
        long before = ctx.now();
        pa.allocPages(ctx, 0, Gfp.GFP_KERNEL); // pure pcp hit
        long entry = t.get(PageCosts.ALLOC_ENTRY), check = t.get(PageCosts.ZONE_CHECK), prep = t.get(PageCosts.PREP_NEW_PAGE);
        assertEquals(entry + check + 7 + prep, ctx.now() - before);
        assertEquals(2 * 7, ctx.profile().get("__alloc_pages;get_page_from_freelist;rmqueue"));
        assertTrue(CostTable.describe().contains(PageCosts.COMPACT_MIGRATE));
    }
}
