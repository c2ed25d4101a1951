package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;

import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * Memory compaction after {@code mm/compaction.c}: {@code try_to_compact_pages()}, {@code compact_zone_order()},
 * {@code compact_zone()}, {@code compaction_suitable()}, {@code isolate_migratepages_block()} (the migrate
 * scanner, walking up from its cached position), {@code isolate_freepages_block()} (the free scanner, walking
 * down from its cached position), {@code migrate_pages()} with {@code compaction_alloc()}, {@code __compact_finished()},
 * deferral ({@code defer_compaction()}, {@code compaction_deferred()}, {@code compaction_defer_reset()}), and
 * {@code fragmentation_index()} from {@code mm/vmstat.c}.
 *
 * <p>Only model-owned movable pages move: page cache pages not under writeback and anonymous pages.
 * Pages allocated through {@link PageAllocator#allocPages} are never moved, because their owner holds the
 * pfn; see NOTES-page.md. Scanner positions are cached per zone between runs as in the kernel; pageblock skip
 * bits are not modeled.
 *
 * <p>Lock contention in async runs, from 5.1 on (E2020 and later eras): {@code compact_lock_irqsave()} tries
 * {@code zone->lock} and the LRU lock with {@code spin_trylock_irqsave()} while the run is MIGRATE_ASYNC and not
 * yet contended; a failed try sets {@code cc->contended} and then spins for the lock as usual, and
 * {@code __compact_finished()} ends the run with COMPACT_CONTENDED at the next pageblock boundary unless a
 * suitable free page already exists. Read in the current {@code mm/compaction.c}; 5.10's has the same
 * {@code compact_lock_irqsave()} and the same {@code out:} test in {@code __compact_finished()} (see
 * NOTES-page.md, "Async compaction and lock contention"). The page allocator does not fail a costly
 * {@code __GFP_NORETRY} allocation on CONTENDED (only on SKIPPED or DEFERRED, and that THP-only shortcut on
 * CONTENDED went in 4.7): the effect is shorter, less successful compaction runs. Eras before 5.1 gave up at
 * the failed trylock itself and are not modelled here.
 */
public final class Compaction {
    final PageAllocator pa;
    final PhysMem mem;
    public long totalMigrated, totalScanned;
    /**
     * When a run must give up the CPU ({@link PageAllocator#kcompactdSlice}): it stops at the first pageblock
     * boundary at or after this virtual time and returns CONTINUE, its scanner positions cached.
     */
    long yieldAt = Long.MAX_VALUE;
    /**
     * {@code cc->proactive_compaction} of the run in progress: kcompactd's proactive runs end when the zone's
     * fragmentation score is down to the low mark, or when kswapd runs ({@code __compact_finished()}).
     */
    boolean proactive;
    /**
     * Where a whole-zone run that gave up the CPU goes on ({@link #yieldAt}): its pageblocks, or -1. A whole-zone
     * run starts at the zone's ends, not at the cached positions, so a sliced one keeps its own.
     */
    int resumeMigrateBlock = -1, resumeFreeBlock = -1;

    // per-run scratch: isolated migrate sources and free targets (no per-run allocation)
    private final int[] src = new int[COMPACT_CLUSTER_MAX];
    private int[] freeList = new int[COMPACT_CLUSTER_MAX * 2];
    private int nFree;
    /** {@code cc->contended} and {@code cc->mode == MIGRATE_ASYNC} of the run in progress (5.1+ trylock). */
    private boolean contended, tryLocks;

    Compaction(PageAllocator pa) {
        this.pa = pa;
        this.mem = pa.mem;
    }

    // ------------------------------------------------------------------ deferral

    /** {@code defer_compaction()}: skip the next 1 &lt;&lt; shift attempts, shift at most COMPACT_MAX_DEFER_SHIFT. */
    static void deferCompaction(Zone z, int order) {
        z.compactConsidered = 0;
        z.compactDeferShift++;
        if (order < z.compactOrderFailed) z.compactOrderFailed = order;
        if (z.compactDeferShift > COMPACT_MAX_DEFER_SHIFT) z.compactDeferShift = COMPACT_MAX_DEFER_SHIFT;
    }

    /** {@code compaction_deferred()}. */
    static boolean compactionDeferred(Zone z, int order) {
        long deferLimit = 1L << z.compactDeferShift;
        if (order < z.compactOrderFailed) return false;
        if (++z.compactConsidered >= deferLimit) {
            z.compactConsidered = (int) deferLimit;
            return false;
        }
        return true;
    }

    /** {@code compaction_defer_reset()}. */
    static void deferReset(Zone z, int order, boolean allocSuccess) {
        if (z == null) return;
        if (allocSuccess) {
            z.compactConsidered = 0;
            z.compactDeferShift = 0;
        }
        if (order >= z.compactOrderFailed) z.compactOrderFailed = order + 1;
    }

    // ------------------------------------------------------------------ suitability

    /**
     * {@code fragmentation_index()} ({@code mm/vmstat.c __fragmentation_index}): -1000 when a block of the
     * order is free, 0 when no memory is free; otherwise 1000 - (1000 + free_pages*1000/2^order) / free_blocks,
     * towards 0 for lack of memory and towards 1000 for fragmentation.
     */
    public static int fragmentationIndex(Zone z, int order) {
        ContigPageInfo i = fillContigPageInfo(z, order);
        return fragmentationIndex(order, i.freeBlocksTotal(), i.freePages(), i.freeBlocksSuitable());
    }

    /**
     * {@code fill_contig_page_info()} ({@code mm/vmstat.c}), which fragmentation_index() and extfrag_for_order()
     * share: the free blocks, the free pages, and how many blocks of {@code order} the free blocks of that order
     * or larger make.
     */
    private record ContigPageInfo(long freeBlocksTotal, long freePages, long freeBlocksSuitable) {}

    private static ContigPageInfo fillContigPageInfo(Zone z, int order) {
        long freeBlocksTotal = 0, freePages = 0, freeBlocksSuitable = 0;
        for (int o = 0; o < NR_ORDERS; o++) {
            long blocks = z.nrFree[o];
            freeBlocksTotal += blocks;
            freePages += blocks << o;
            if (o >= order) freeBlocksSuitable += blocks << (o - order);
        }
        return new ContigPageInfo(freeBlocksTotal, freePages, freeBlocksSuitable);
    }

    /**
     * {@code extfrag_for_order()} ({@code mm/vmstat.c}): the percentage of free pages not in free blocks of
     * {@code order} or larger, 0 when nothing is free. Pages on the pcp lists are not in the free area and do
     * not count.
     */
    static int extfragForOrder(Zone z, int order) {
        ContigPageInfo i = fillContigPageInfo(z, order);
        if (i.freePages() == 0) return 0;
        return (int) ((i.freePages() - (i.freeBlocksSuitable() << order)) * 100 / i.freePages());
    }

    static int fragmentationIndex(int order, long freeBlocksTotal, long freePages, long freeBlocksSuitable) {
        long requested = 1L << order;
        if (freeBlocksTotal == 0) return 0;
        if (freeBlocksSuitable > 0) return -1000;
        return (int) (1000 - (1000 + freePages * 1000 / requested) / freeBlocksTotal);
    }

    /**
     * {@code compaction_suitable()} (5.10 shape): SUCCESS when the watermark for the order is already met,
     * SKIPPED when order-0 pages are short of (low or min) + compact_gap(order) = 2 &lt;&lt; order, and for
     * costly orders SKIPPED (NOT_SUITABLE_ZONE mapped to SKIPPED as 5.10 does) when the fragmentation index is
     * in [0, extfrag_threshold], i.e. the failure is due to lack of memory rather than fragmentation.
     */
    public CompactResult compactionSuitable(Zone z, int order, int allocFlags, int highest) {
        if (order < 0) return CompactResult.CONTINUE;
        long mark = z.watermark(allocFlags & ALLOC_WMARK_MASK);
        if (Watermarks.zoneWatermarkOk(z, order, mark, highest, allocFlags, pa.eraNow)) return CompactResult.SUCCESS;
        long wm = (order > PAGE_ALLOC_COSTLY_ORDER ? z.lowWmark() : z.minWmark()) + (2L << order);
        if (!Watermarks.zoneWatermarkOk(z, 0, wm, highest, ALLOC_CMA, pa.eraNow)) return CompactResult.SKIPPED;
        if (order > PAGE_ALLOC_COSTLY_ORDER) {
            int fi = fragmentationIndex(z, order);
            if (fi >= 0 && fi <= EXTFRAG_THRESHOLD) return CompactResult.SKIPPED;
        }
        return CompactResult.CONTINUE;
    }

    // ------------------------------------------------------------------ direct compaction

    /** {@code try_to_compact_pages()}. */
    CompactResult tryToCompactPages(ExecContext ctx, PageCosts c, long gfp, int order, int allocFlags, Zone[] zl,
                                    int highest, int mt, int prio) {
        ctx.enter("try_to_compact_pages");
        // GFP_NOIO: migration may need I/O (5.10 may_perform_io, current gfp_compaction_allowed)
        if ((gfp & Gfp.IO) == 0) { ctx.exit(); return CompactResult.SKIPPED; }
        pa.events.tryToCompactPages(order, gfp, prio);
        CompactResult rc = CompactResult.SKIPPED;
        for (Zone z : zl) {
            if (prio > MIN_COMPACT_PRIORITY && compactionDeferred(z, order)) {
                rc = CompactResult.max(CompactResult.DEFERRED, rc);
                continue;
            }
            ctx.enter("compact_zone_order");
            CompactResult status = compactZone(ctx, c, z, order, prio, true, mt, allocFlags, highest);
            ctx.exit();
            rc = CompactResult.max(status, rc);
            if (status == CompactResult.SUCCESS) {
                deferReset(z, order, false);
                break;
            }
            if (prio != COMPACT_PRIO_ASYNC && (status == CompactResult.COMPLETE || status == CompactResult.PARTIAL_SKIPPED))
                deferCompaction(z, order);
        }
        ctx.exit();
        return rc;
    }

    /**
     * {@code compact_zone()}. {@code order} -1 means compact the whole zone (compact_memory). Returns the
     * result; pages migrated are added to {@link #totalMigrated}.
     */
    public CompactResult compactZone(ExecContext ctx, PageCosts c, Zone z, int order, int prio, boolean direct,
                                     int mt, int allocFlags, int highest) {
        ctx.enter("compact_zone");
        ctx.charge(c.compactSetup);
        CompactResult ret = compactionSuitable(z, order, allocFlags, highest);
        if (ret == CompactResult.SUCCESS || ret == CompactResult.SKIPPED) {
            ctx.exit();
            pa.events.compactionEnd(z, order, prio, ret.ordinal(), 0, 0);
            return ret;
        }
        boolean async = prio == COMPACT_PRIO_ASYNC;
        int sync = async ? 0 : 1;
        contended = false;
        tryLocks = async && pa.era.atLeast(org.kmemlab.alloc.core.KernelEra.E2020);
        int firstBlock = z.startPfn & ~(PAGEBLOCK_PAGES - 1);
        int lastBlock = (z.endPfn - 1) & ~(PAGEBLOCK_PAGES - 1);
        // whole-zone runs (compact_memory, MIN_COMPACT_PRIORITY) start at the zone ends; the others resume
        // where the previous run of the same mode left the scanners (compact_cached_*_pfn)
        boolean wholeZone = order < 0 || prio == MIN_COMPACT_PRIORITY;
        int migrateBlock = firstBlock, freeBlock = lastBlock;
        if (wholeZone && resumeMigrateBlock >= firstBlock && resumeFreeBlock <= lastBlock) {
            migrateBlock = resumeMigrateBlock;
            freeBlock = resumeFreeBlock;
        }
        resumeMigrateBlock = resumeFreeBlock = -1;
        if (!wholeZone) {
            if (z.cachedFreePfn < z.startPfn || z.cachedFreePfn >= z.endPfn) z.cachedFreePfn = lastBlock;
            if (z.cachedMigratePfn[sync] < z.startPfn || z.cachedMigratePfn[sync] >= z.endPfn) {
                z.cachedMigratePfn[0] = z.cachedMigratePfn[1] = z.startPfn;
            }
            migrateBlock = z.cachedMigratePfn[sync] & ~(PAGEBLOCK_PAGES - 1);
            freeBlock = z.cachedFreePfn & ~(PAGEBLOCK_PAGES - 1);
            if (migrateBlock <= firstBlock) wholeZone = true;
        }
        long migrated = 0, scanned = 0;
        nFree = 0;
        ret = CompactResult.CONTINUE;
        while (ret == CompactResult.CONTINUE) {
            if (migrateBlock >= freeBlock) { ret = scannersMet(z, wholeZone); break; }
            // isolate_migratepages(): next suitable source pageblock
            ctx.leaf("__pageblock_pfn_to_page", c.compactBlock);
            if (!suitableMigrationSource(migrateBlock, async, direct, mt)) {
                migrateBlock += PAGEBLOCK_PAGES;
                updateCachedMigrate(z, migrateBlock, async);
                continue;
            }
            int pos = migrateBlock;
            int blockEnd = migrateBlock + PAGEBLOCK_PAGES;
            while (pos < blockEnd) {
                ctx.enter("isolate_migratepages_block");
                lruLock(ctx, c, pa.lruLock[z.node]);
                int nSrc = 0;
                int start = pos;
                while (pos < blockEnd && nSrc < COMPACT_CLUSTER_MAX) {
                    byte s = mem.state(pos);
                    if (s == S_ALLOC) {
                        if (migratable(pos)) src[nSrc++] = pos;
                        pos += 1 << mem.order(pos);
                    } else if (s == S_FREE || s == S_PCP) pos += 1 << mem.order(pos);
                    else pos++;
                }
                ctx.unlock(pa.lruLock[z.node]);
                ctx.charge(c.compactScan * (pos - start));
                scanned += pos - start;
                ctx.exit();
                if (nSrc == 0) continue;
                // migrate_pages() with compaction_alloc() feeding targets from the free scanner
                ctx.enter("migrate_pages");
                int done = 0;
                for (int i = 0; i < nSrc; i++) {
                    if (nFree == 0) {
                        // migrate_pages() asks compaction_alloc() for targets, which runs the free scanner
                        ctx.enter("compaction_alloc");
                        ctx.enter("isolate_freepages");
                        freeBlock = isolateFreepages(ctx, c, z, freeBlock, migrateBlock, nSrc - i);
                        if (freeBlock < z.cachedFreePfn) z.cachedFreePfn = freeBlock;
                        ctx.exit();
                        ctx.exit();
                        if (nFree == 0) break;
                    }
                    int target = freeList[--nFree];
                    migrateOne(z, src[i], target);
                    done++;
                }
                ctx.charge(c.compactMigrate * done);
                migrated += done;
                ctx.exit();
                if (done < nSrc) break; // no more free targets: the scanners met
            }
            migrateBlock += PAGEBLOCK_PAGES;
            updateCachedMigrate(z, migrateBlock, async);
            ret = migrateBlock >= freeBlock ? scannersMet(z, wholeZone) : compactFinished(z, order, mt, async);
            if (ret == CompactResult.CONTINUE && ctx.now() >= yieldAt) {
                if (wholeZone) {
                    resumeMigrateBlock = migrateBlock;
                    resumeFreeBlock = freeBlock;
                }
                break;
            }
        }
        releaseFreepages(ctx, c, z);
        totalMigrated += migrated;
        totalScanned += scanned;
        pa.events.compactionEnd(z, order, prio, ret.ordinal(), migrated, scanned);
        ctx.exit();
        return ret;
    }

    /** {@code compact_lock_irqsave(&cc->zone->lock)}: a try first while async and not yet contended. */
    private void zoneLock(ExecContext ctx, PageCosts c, Zone z) {
        if (!triedLock(ctx, c, z.lock)) pa.lock(ctx, c, z);
    }

    /** {@code compact_lock_irqsave()} of the LRU lock (isolate_migratepages_block). */
    private void lruLock(ExecContext ctx, PageCosts c, org.kmemlab.alloc.core.KLock l) {
        if (!triedLock(ctx, c, l)) KLockHelper.lock(ctx, l);
    }

    /** compact_lock_irqsave()'s trylock: whether it took the lock; a failed try marks the run contended. */
    private boolean triedLock(ExecContext ctx, PageCosts c, org.kmemlab.alloc.core.KLock l) {
        if (!tryLocks || contended) return false;
        if (pa.tryLock(ctx, c, l)) return true;
        contended = true;
        return false;
    }

    /** {@code suitable_migration_source()}. */
    private boolean suitableMigrationSource(int block, boolean async, boolean direct, int mt) {
        if (!async || !direct) return true;
        int bm = mem.pageblockMigratetype(block);
        if (mt == MT_MOVABLE) return bm == MT_MOVABLE;
        return bm == mt;
    }

    /** {@code suitable_migration_target()}: movable blocks that are not already free as a whole. */
    private boolean suitableMigrationTarget(int block) {
        if (mem.state(block) == S_FREE && mem.order(block) >= PAGEBLOCK_ORDER) return false;
        return mem.pageblockMigratetype(block) == MT_MOVABLE;
    }

    private boolean migratable(int p) {
        if (mem.order(p) != 0) return false;
        byte k = mem.kind(p);
        if (k == K_ANON) return true;
        return k == K_PAGECACHE && (mem.flags(p) & F_WRITEBACK) == 0;
    }

    /** isolate_freepages(): walks pageblocks down from {@code freeBlock}; returns the new free scanner block. */
    private int isolateFreepages(ExecContext ctx, PageCosts c, Zone z, int freeBlock, int migrateBlock, int want) {
        while (nFree < want && freeBlock > migrateBlock) {
            ctx.leaf("__pageblock_pfn_to_page", c.compactBlock);
            if (freeBlock >= z.startPfn && suitableMigrationTarget(freeBlock)) {
                ctx.enter("isolate_freepages_block");
                zoneLock(ctx, c, z); // compact_lock_irqsave(&cc->zone->lock)
                int end = Math.min(freeBlock + PAGEBLOCK_PAGES, z.endPfn);
                for (int p = freeBlock; p < end; ) {
                    if (mem.state(p) == S_FREE) {
                        int o = mem.order(p);
                        pa.buddy.delFromFreeList(z, p); // __isolate_free_page
                        for (int i = 0; i < (1 << o); i++) {
                            mem.setState(p + i, S_ISOLATED);
                            mem.setOrder(p + i, 0);
                            if (nFree == freeList.length) freeList = java.util.Arrays.copyOf(freeList, nFree * 2);
                            freeList[nFree++] = p + (1 << o) - 1 - i; // lowest pfn used last
                        }
                        p += 1 << o;
                    } else if (mem.state(p) == S_ALLOC || mem.state(p) == S_PCP) p += 1 << mem.order(p);
                    else p++;
                }
                ctx.charge(c.compactScan * (end - freeBlock));
                totalScanned += end - freeBlock;
                pa.unlock(ctx, z);
                ctx.exit();
            }
            if (nFree >= want) break;
            freeBlock -= PAGEBLOCK_PAGES;
        }
        return freeBlock;
    }

    /** Moves one order-0 model-owned page to {@code target} and frees the source. */
    private void migrateOne(Zone z, int from, int target) {
        byte k = mem.kind(from);
        mem.setState(target, S_ALLOC);
        mem.setOrder(target, 0);
        mem.setKind(target, k);
        mem.setFlags(target, mem.flags(from));
        if (k == K_PAGECACHE) pa.vmscan.lruReplace(z, from, target);
        mem.setKind(from, K_EXTERNAL);
        mem.setFlags(from, 0);
        mem.setState(from, S_ISOLATED);
        // putback of the old page: straight to the buddy, merging with its now-free neighbours
        pa.buddy.freeOnePage(z, from, 0, mem.pageblockMigratetype(from));
        pa.events.pageMigrated(from, target, 0);
    }

    /** release_freepages(): unused isolated free pages go back to the buddy. */
    private void releaseFreepages(ExecContext ctx, PageCosts c, Zone z) {
        if (nFree == 0) return;
        pa.lock(ctx, c, z);
        for (int i = 0; i < nFree; i++) {
            int p = freeList[i];
            pa.buddy.freeOnePage(z, p, 0, mem.pageblockMigratetype(p));
        }
        ctx.charge(c.buddyFree * nFree);
        nFree = 0;
        pa.unlock(ctx, z);
    }

    /** {@code update_cached_migrate()}: async runs advance only the async position, sync runs both. */
    private static void updateCachedMigrate(Zone z, int pfn, boolean async) {
        if (pfn > z.cachedMigratePfn[0]) z.cachedMigratePfn[0] = pfn;
        if (!async && pfn > z.cachedMigratePfn[1]) z.cachedMigratePfn[1] = pfn;
    }

    /**
     * The scanners met: positions start over next time; a run that covered the whole zone is
     * COMPLETE, one that resumed mid-zone only PARTIAL_SKIPPED (which makes should_compact_retry()
     * raise the priority rather than give up).
     */
    private static CompactResult scannersMet(Zone z, boolean wholeZone) {
        z.resetCachedPositions();
        return wholeZone ? CompactResult.COMPLETE : CompactResult.PARTIAL_SKIPPED;
    }

    /** {@code __compact_finished()} checked at pageblock boundaries, scanners not met. */
    private CompactResult compactFinished(Zone z, int order, int mt, boolean async) {
        if (proactive) {
            if (pa.kswapdIsRunning(z.node)) return CompactResult.PARTIAL_SKIPPED;
            return pa.fragmentationScoreZone(z) > PageAllocator.fragmentationScoreWmark(pa.compactionProactiveness, true)
                    ? CompactResult.CONTINUE : CompactResult.SUCCESS;
        }
        if (order < 0) return CompactResult.CONTINUE;
        for (int o = order; o < NR_ORDERS; o++) {
            if (z.nrFreeList[o * NR_MT + mt] > 0) return CompactResult.SUCCESS;
            if (pa.buddy.findSuitableFallback(z, o, mt, true) != -1) return CompactResult.SUCCESS;
        }
        // out: a contended async run stops at this pageblock boundary
        return contended ? CompactResult.CONTENDED : CompactResult.CONTINUE;
    }
}
