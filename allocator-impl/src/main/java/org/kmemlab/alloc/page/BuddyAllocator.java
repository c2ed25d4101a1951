package org.kmemlab.alloc.page;

import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * The buddy free lists of {@code mm/page_alloc.c}: {@code __add_to_free_list}/{@code del_page_from_free_list},
 * {@code expand()}, {@code __rmqueue_smallest()}, {@code __rmqueue()} with {@code __rmqueue_fallback()}
 * (5.10: {@code find_suitable_fallback}, {@code can_steal_fallback}, {@code steal_suitable_fallback},
 * {@code boost_watermark}) or the current {@code __rmqueue_claim()}/{@code __rmqueue_steal()} with
 * {@code try_to_claim_block()}, {@code move_freepages_block()}, {@code __free_one_page()}, and the
 * highatomic reserve ({@code reserve_highatomic_pageblock}, {@code unreserve_highatomic_pageblock}).
 *
 * <p>Callers hold {@code zone->lock}; this class neither locks nor charges time (the callers charge per
 * block handled), so it can be reused by compaction, pcp refill and the snapshot loader.
 */
public final class BuddyAllocator {
    final PhysMem mem;
    final boolean eraNow;
    PageEvents events = PageEvents.NONE;
    /** {@code watermark_boost_factor} default 15000 (150% of the high watermark). */
    int watermarkBoostFactor = 15000;

    // results of the last move_freepages_block (avoids a return object)
    int lastMovable;

    public BuddyAllocator(PhysMem mem, boolean eraNow) {
        this.mem = mem;
        this.eraNow = eraNow;
    }

    // ---------------------------------------------------------------- free list primitives

    void addToFreeList(Zone z, int pfn, int order, int mt, boolean tail) {
        mem.setHead(pfn, order, S_FREE, (byte) mt);
        int li = order * NR_MT + mt;
        if (tail) mem.listAddTail(z.freeHead, z.freeTail, li, pfn);
        else mem.listAddHead(z.freeHead, z.freeTail, li, pfn);
        z.nrFreeList[li]++;
        z.nrFree[order]++;
        z.freePages += 1L << order;
    }

    /** Unlinks a free head; its pfns keep the free state until the caller relabels them. */
    void delFromFreeList(Zone z, int pfn) {
        int order = mem.order(pfn), mt = mem.kind(pfn);
        int li = order * NR_MT + mt;
        mem.listDel(z.freeHead, z.freeTail, li, pfn);
        z.nrFreeList[li]--;
        z.nrFree[order]--;
        z.freePages -= 1L << order;
    }

    void moveToFreeList(Zone z, int pfn, int mt) {
        int order = mem.order(pfn);
        delFromFreeList(z, pfn);
        addToFreeList(z, pfn, order, mt, false);
    }

    /** {@code expand()}: puts the upper halves of a split block back, largest first. */
    void expand(Zone z, int pfn, int low, int high, int mt) {
        int size = 1 << high;
        while (high > low) {
            high--;
            size >>= 1;
            addToFreeList(z, pfn + size, high, mt, false);
        }
    }

    /** {@code __rmqueue_smallest()}: the smallest free block of exactly {@code mt}, split down to {@code order}. */
    int rmqueueSmallest(Zone z, int order, int mt) {
        for (int o = order; o < NR_ORDERS; o++) {
            int pfn = z.freeHead[o * NR_MT + mt];
            if (pfn < 0) continue;
            delFromFreeList(z, pfn);
            expand(z, pfn, order, o, mt);
            return pfn;
        }
        return -1;
    }

    /**
     * {@code __rmqueue()}: exact migratetype first, then fallback. Returns the head pfn, unlinked; the
     * caller marks it allocated or pcp.
     */
    int rmqueue(Zone z, int order, int mt, int allocFlags) {
        int pfn = rmqueueSmallest(z, order, mt);
        if (pfn >= 0) return pfn;
        if (mt >= MT_PCPTYPES) return -1;
        if (eraNow) {
            pfn = rmqueueClaim(z, order, mt, allocFlags);
            if (pfn < 0 && (allocFlags & ALLOC_NOFRAGMENT) == 0) pfn = rmqueueSteal(z, order, mt);
            return pfn;
        }
        while (rmqueueFallback510(z, order, mt, allocFlags)) {
            pfn = rmqueueSmallest(z, order, mt);
            if (pfn >= 0) return pfn;
        }
        return -1;
    }

    /** 5.10 {@code can_steal_fallback()}, current {@code should_try_claim_block()}. */
    static boolean canStealFallback(int order, int startMt) {
        if (order >= PAGEBLOCK_ORDER) return true;
        return order >= PAGEBLOCK_ORDER / 2 || startMt == MT_RECLAIMABLE || startMt == MT_UNMOVABLE;
    }

    // result of findSuitableFallback's can_steal out-parameter
    boolean lastCanSteal;

    /** 5.10 {@code find_suitable_fallback(area, order, mt, only_stealable, &can_steal)}. */
    int findSuitableFallback(Zone z, int order, int mt, boolean onlyStealable) {
        lastCanSteal = false;
        if (z.nrFree[order] == 0) return -1;
        for (int fb : FALLBACKS[mt]) {
            if (z.nrFreeList[order * NR_MT + fb] == 0) continue;
            lastCanSteal = canStealFallback(order, mt);
            if (lastCanSteal) return fb;
            if (!onlyStealable) return fb;
        }
        return -1;
    }

    /** 5.10 {@code __rmqueue_fallback()}: steals and returns true; the caller retries __rmqueue_smallest. */
    boolean rmqueueFallback510(Zone z, int order, int startMt, int allocFlags) {
        int minOrder = (allocFlags & ALLOC_NOFRAGMENT) != 0 ? PAGEBLOCK_ORDER : order;
        int cur, fb = -1;
        boolean canSteal = false;
        boolean found = false;
        for (cur = MAX_ORDER_IDX; cur >= minOrder; cur--) {
            fb = findSuitableFallback(z, cur, startMt, false);
            if (fb == -1) continue;
            canSteal = lastCanSteal;
            // Movable requests that cannot take the whole block split the smallest page instead, so the
            // next movable allocation does not fragment another block (comment in the kernel).
            if (!canSteal && startMt == MT_MOVABLE && cur > order) {
                for (cur = order; cur < NR_ORDERS; cur++) {
                    fb = findSuitableFallback(z, cur, startMt, false);
                    if (fb != -1) break;
                }
                canSteal = lastCanSteal;
            }
            found = true;
            break;
        }
        if (!found || fb == -1) return false;
        int pfn = z.freeHead[cur * NR_MT + fb];
        stealSuitableFallback(z, pfn, allocFlags, startMt, canSteal);
        z.statExtfrag++;
        events.extfrag(z, pfn, order, cur, startMt, fb, mem.pageblockMigratetype(pfn) == startMt);
        return true;
    }

    /** 5.10 {@code steal_suitable_fallback()}. */
    void stealSuitableFallback(Zone z, int pfn, int allocFlags, int startType, boolean wholeBlock) {
        int curOrder = mem.order(pfn);
        int oldBlockType = mem.pageblockMigratetype(pfn);
        if (oldBlockType == MT_HIGHATOMIC) { moveToFreeList(z, pfn, startType); return; }
        if (curOrder >= PAGEBLOCK_ORDER) {
            changePageblockRange(pfn, curOrder, startType);
            moveToFreeList(z, pfn, startType);
            return;
        }
        if (boostWatermark(z) && (allocFlags & ALLOC_KSWAPD) != 0) z.boostedWatermark = true;
        if (!wholeBlock) { moveToFreeList(z, pfn, startType); return; }
        int freePages = moveFreepagesBlock(z, pfn, startType);
        int movable = lastMovable;
        if (freePages == 0) { moveToFreeList(z, pfn, startType); return; }
        int alike;
        if (startType == MT_MOVABLE) alike = movable;
        else alike = oldBlockType == MT_MOVABLE ? PAGEBLOCK_PAGES - (freePages + movable) : 0;
        if (freePages + alike >= (1 << (PAGEBLOCK_ORDER - 1))) mem.setBlockMt(pfn, startType);
    }

    /** Current {@code __rmqueue_claim()}. */
    int rmqueueClaim(Zone z, int order, int startMt, int allocFlags) {
        int minOrder = (allocFlags & ALLOC_NOFRAGMENT) != 0 ? PAGEBLOCK_ORDER : order;
        for (int cur = MAX_ORDER_IDX; cur >= minOrder; cur--) {
            // find_suitable_fallback(..., claimable=true) returns -2 once orders are too low to claim
            if (!canStealFallback(cur, startMt)) break;
            int fb = findSuitableFallback(z, cur, startMt, true);
            if (fb == -1) continue;
            int pfn = z.freeHead[cur * NR_MT + fb];
            int got = tryToClaimBlock(z, pfn, cur, order, startMt, fb, allocFlags);
            if (got >= 0) {
                z.statExtfrag++;
                events.extfrag(z, got, order, cur, startMt, fb, mem.pageblockMigratetype(got) == startMt);
                return got;
            }
        }
        return -1;
    }

    /** Current {@code try_to_claim_block()}. */
    int tryToClaimBlock(Zone z, int pfn, int curOrder, int order, int startType, int blockType, int allocFlags) {
        if (curOrder >= PAGEBLOCK_ORDER) {
            delFromFreeList(z, pfn);
            changePageblockRange(pfn, curOrder, startType);
            expand(z, pfn, order, curOrder, startType);
            return pfn;
        }
        if (boostWatermark(z) && (allocFlags & ALLOC_KSWAPD) != 0) z.boostedWatermark = true;
        int start = pfn & ~(PAGEBLOCK_PAGES - 1);
        if (start < z.startPfn || start + PAGEBLOCK_PAGES > z.endPfn) return -1;
        int freePages = countBlock(start);
        int movable = lastMovable;
        int alike;
        if (startType == MT_MOVABLE) alike = movable;
        else alike = blockType == MT_MOVABLE ? PAGEBLOCK_PAGES - (freePages + movable) : 0;
        if (freePages + alike >= (1 << (PAGEBLOCK_ORDER - 1))) {
            moveFreepagesBlock(z, start, startType);
            mem.setBlockMt(start, startType);
            return rmqueueSmallest(z, order, startType);
        }
        return -1;
    }

    /** Current {@code __rmqueue_steal()}: the smallest fallback page, left on its block's type. */
    int rmqueueSteal(Zone z, int order, int startMt) {
        for (int cur = order; cur < NR_ORDERS; cur++) {
            int fb = findSuitableFallback(z, cur, startMt, false);
            if (fb == -1) continue;
            int pfn = z.freeHead[cur * NR_MT + fb];
            delFromFreeList(z, pfn);
            expand(z, pfn, order, cur, fb);
            z.statExtfrag++;
            events.extfrag(z, pfn, order, cur, startMt, fb, mem.pageblockMigratetype(pfn) == startMt);
            return pfn;
        }
        return -1;
    }

    /** {@code boost_watermark()}. */
    boolean boostWatermark(Zone z) {
        if (watermarkBoostFactor == 0) return false;
        if ((long) PAGEBLOCK_PAGES * 4 > z.managed) return false;
        long maxBoost = z.watermark[WMARK_HIGH] * watermarkBoostFactor / 10000;
        if (maxBoost == 0) return false;
        maxBoost = Math.max(PAGEBLOCK_PAGES, maxBoost);
        z.setWatermarkBoost(Math.min(z.watermarkBoost + PAGEBLOCK_PAGES, maxBoost));
        return true;
    }

    void changePageblockRange(int pfn, int order, int mt) {
        int n = Math.max(1, (1 << order) >> PAGEBLOCK_ORDER);
        for (int i = 0; i < n; i++) mem.setBlockMt(pfn + i * PAGEBLOCK_PAGES, mt);
    }

    /** Counts free and movable pages of the pageblock at {@code start} (prep_move_freepages_block). */
    int countBlock(int start) {
        int free = 0, movable = 0;
        int end = start + PAGEBLOCK_PAGES;
        for (int p = start; p < end; ) {
            byte s = mem.state(p);
            if (s == S_FREE) { free += 1 << mem.order(p); p += 1 << mem.order(p); }
            else if (s == S_ALLOC) {
                int n = 1 << mem.order(p);
                if (isMovableAlloc(p)) movable += n;
                p += n;
            } else p++;
        }
        lastMovable = movable;
        return free;
    }

    /** PageLRU() || __PageMovable() of an allocated head. */
    boolean isMovableAlloc(int head) {
        byte k = mem.kind(head);
        return k == K_PAGECACHE || k == K_ANON || (k == K_EXTERNAL && mem.flags(head) == MT_MOVABLE);
    }

    /**
     * {@code move_freepages_block()}: moves every free block of the pageblock containing {@code pfn} to
     * {@code mt}'s lists; returns the free pages moved (0 when the block crosses the zone boundary) and
     * leaves the movable page count in {@link #lastMovable}.
     */
    int moveFreepagesBlock(Zone z, int pfn, int mt) {
        int start = pfn & ~(PAGEBLOCK_PAGES - 1);
        lastMovable = 0;
        if (start < z.startPfn || start + PAGEBLOCK_PAGES > z.endPfn) return 0;
        int end = start + PAGEBLOCK_PAGES;
        int moved = 0, movable = 0;
        for (int p = start; p < end; ) {
            byte s = mem.state(p);
            if (s == S_FREE) {
                int o = mem.order(p);
                if (mem.kind(p) != mt) moveToFreeList(z, p, mt);
                moved += 1 << o;
                p += 1 << o;
            } else if (s == S_ALLOC) {
                int n = 1 << mem.order(p);
                if (isMovableAlloc(p)) movable += n;
                p += n;
            } else p++;
        }
        lastMovable = movable;
        return moved;
    }

    /**
     * {@code __free_one_page()}: merges with free buddies and links the result. {@code pfn} must be a
     * block the caller owns (allocated, pcp or isolated); its pfns become free.
     */
    void freeOnePage(Zone z, int pfn, int order, int mt) {
        while (order < MAX_ORDER_IDX) {
            int buddy = pfn ^ (1 << order);
            if (buddy < z.startPfn || buddy >= z.endPfn) break;
            if (mem.state(buddy) != S_FREE || mem.order(buddy) != order) break;
            if (order >= PAGEBLOCK_ORDER) {
                int buddyMt = mem.pageblockMigratetype(buddy);
                int myMt = mem.pageblockMigratetype(pfn);
                if (eraNow) {
                    if (myMt != buddyMt && (!mergeable(myMt) || !mergeable(buddyMt))) break;
                } else if (myMt != buddyMt && (myMt == MT_ISOLATE || buddyMt == MT_ISOLATE)) break;
                if (eraNow && buddyMt != mt) mem.setBlockMt(buddy, mt);
            }
            delFromFreeList(z, buddy);
            // the higher of the two heads is absorbed into the merged block
            mem.setState(pfn | buddy, S_TAIL);
            mem.setOrder(pfn | buddy, 0);
            pfn &= buddy;
            order++;
        }
        addToFreeList(z, pfn, order, mt, false);
    }

    static boolean mergeable(int mt) { return mt < MT_PCPTYPES; }

    // ---------------------------------------------------------------- highatomic reserve

    /** {@code reserve_highatomic_pageblock()}. */
    void reserveHighatomicPageblock(Zone z, int pfn) {
        long maxManaged = z.managed / 100 + PAGEBLOCK_PAGES;
        if (z.nrReservedHighatomic >= maxManaged) return;
        int mt = mem.pageblockMigratetype(pfn);
        if (mt == MT_HIGHATOMIC || mt == MT_ISOLATE) return;
        int start = pfn & ~(PAGEBLOCK_PAGES - 1);
        if (start < z.startPfn || start + PAGEBLOCK_PAGES > z.endPfn) return;
        z.nrReservedHighatomic += PAGEBLOCK_PAGES;
        mem.setBlockMt(start, MT_HIGHATOMIC);
        moveFreepagesBlock(z, start, MT_HIGHATOMIC);
    }

    /** {@code unreserve_highatomic_pageblock()}: returns true if a block went back to {@code mt}. */
    boolean unreserveHighatomicPageblock(Zone z, int mt, boolean force) {
        if (!force && z.nrReservedHighatomic <= PAGEBLOCK_PAGES) return false;
        for (int o = 0; o < NR_ORDERS; o++) {
            int pfn = z.freeHead[o * NR_MT + MT_HIGHATOMIC];
            if (pfn < 0) continue;
            if (mem.pageblockMigratetype(pfn) == MT_HIGHATOMIC) {
                z.nrReservedHighatomic -= Math.min(PAGEBLOCK_PAGES, z.nrReservedHighatomic);
            }
            mem.setBlockMt(pfn & ~(PAGEBLOCK_PAGES - 1), mt);
            if (moveFreepagesBlock(z, pfn, mt) > 0) return true;
        }
        return false;
    }
}
