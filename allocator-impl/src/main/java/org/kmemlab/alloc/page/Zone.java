package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.KLock;

import static org.kmemlab.alloc.page.PageConst.*;

/**
 * One {@code struct zone} ({@code include/linux/mmzone.h}): free areas per order and migratetype,
 * watermarks, {@code lowmem_reserve}, the highatomic reserve, compaction deferral state, the per-cpu page
 * sets, and the file LRU of the node's page cache that lives in this zone (the kernel keeps LRUs per node
 * since 4.8; per-zone lists here keep zone accounting of {@code zone_reclaimable_pages()} exact).
 */
public final class Zone {
    public final int node;
    /** ZONE_DMA .. ZONE_MOVABLE. */
    public final int type;
    /** Index in {@link PhysMem#zones}. */
    final int gidx;
    public final int startPfn;
    /** Exclusive end of the modeled pfn range. */
    public final int endPfn;
    public long spanned, present, managed;
    public final KLock lock;

    // free_area[order].free_list[mt]
    final int[] freeHead = new int[NR_ORDERS * NR_MT];
    final int[] freeTail = new int[NR_ORDERS * NR_MT];
    final int[] nrFreeList = new int[NR_ORDERS * NR_MT];
    /** free_area[order].nr_free. */
    final long[] nrFree = new long[NR_ORDERS];
    /** NR_FREE_PAGES. */
    long freePages;

    /** Written only through {@link #setWatermarks} or followed by {@link #marksChanged}. */
    final long[] watermark = new long[3];
    /** Written only through {@link #setWatermarkBoost}. */
    long watermarkBoost;
    /**
     * Only the slots above this zone's index are meaningful, as in the kernel. Written only through
     * {@link #setLowmemReserve} or followed by {@link #marksChanged}.
     */
    final long[] lowmemReserve = new long[NR_ZONES];
    /**
     * {@code watermark[w] + watermark_boost + lowmem_reserve[highest_zoneidx]} per {@code w * NR_ZONES +
     * highest_zoneidx}: what zone_watermark_fast()'s order-0 shortcut compares the free pages with. It changes
     * only with its three inputs, far less often than get_page_from_freelist() runs, so it is kept here
     * ({@link #marksChanged}) instead of summed per call. A negative sum is stored as Long.MAX_VALUE, which
     * sends the caller to the full test (see {@link Watermarks#zoneWatermarkFastCached}).
     */
    final long[] fastMark = new long[3 * NR_ZONES];
    long nrReservedHighatomic;
    boolean boostedWatermark;
    /** ZONE_BELOW_HIGH (current kernels): free pages fell below the high watermark; pcp high shrinks. */
    boolean belowHigh;

    // compaction (mm/compaction.c)
    int compactConsidered, compactDeferShift, compactOrderFailed;
    /** compact_cached_migrate_pfn[async, sync] and compact_cached_free_pfn: where the scanners resume. */
    final int[] cachedMigratePfn = new int[2];
    int cachedFreePfn;

    // per-cpu page sets, indexed by cpu
    PerCpuPages[] pcp = new PerCpuPages[0];
    /** The heads and page counts of all CPUs' pcp lists, CPU {@code c}'s at {@code c * pcpStride} (see {@link PerCpuPages#lists}). */
    int[] pcpLists = new int[0];
    int pcpStride;

    /** The slot of CPU {@code cpu}'s list {@code li} head in {@link #pcpLists}; its page count follows it. */
    int pcpHead(int cpu, int li) { return cpu * pcpStride + 2 * li; }

    // file LRU (page cache pages of this zone), head = most recently added
    final int[] lruHead = {-1}, lruTail = {-1};
    long nrFile, nrDirty, nrWriteback, nrAnon;

    // vmstat-style counters
    public long statAllocs, statFrees, statRefills, statExtfrag;

    Zone(int node, int type, int gidx, int startPfn, int endPfn) {
        this.node = node;
        this.type = type;
        this.gidx = gidx;
        this.startPfn = startPfn;
        this.endPfn = endPfn;
        this.lock = new KLock("zone->lock[" + node + ":" + ZONE_NAMES[type] + "]", KLock.Kind.SPIN);
        java.util.Arrays.fill(freeHead, -1);
        java.util.Arrays.fill(freeTail, -1);
        compactOrderFailed = NR_ORDERS; // the kernel starts compact_order_failed at MAX_ORDER
        resetCachedPositions();
    }

    /** {@code reset_cached_positions()}. */
    void resetCachedPositions() {
        cachedMigratePfn[0] = cachedMigratePfn[1] = startPfn;
        cachedFreePfn = (endPfn - 1) & ~(PAGEBLOCK_PAGES - 1);
    }

    public int cachedMigratePfn(boolean sync) { return cachedMigratePfn[sync ? 1 : 0]; }
    public int cachedFreePfn() { return cachedFreePfn; }

    public String name() { return ZONE_NAMES[type]; }
    public long freePages() { return freePages; }
    public long nrFree(int order) { return nrFree[order]; }
    public int nrFree(int order, int mt) { return nrFreeList[order * NR_MT + mt]; }
    public long watermark(int which) { return watermark[which] + watermarkBoost; }
    public long minWmark() { return watermark(WMARK_MIN); }
    public long lowWmark() { return watermark(WMARK_LOW); }
    public long highWmark() { return watermark(WMARK_HIGH); }
    public long rawWatermark(int which) { return watermark[which]; }
    public long lowmemReserve(int highestZoneIdx) { return lowmemReserve[highestZoneIdx]; }
    public long reservedHighatomic() { return nrReservedHighatomic; }
    public long filePages() { return nrFile; }
    public long dirtyPages() { return nrDirty; }
    public long writebackPages() { return nrWriteback; }
    public long anonPages() { return nrAnon; }
    public int compactDeferShift() { return compactDeferShift; }
    public int compactConsidered() { return compactConsidered; }
    public int compactOrderFailed() { return compactOrderFailed; }
    public PerCpuPages pcp(int cpu) { return pcp[cpu]; }
    public int nrCpus() { return pcp.length; }
    public boolean populated() { return managed > 0; }

    /** Pages on all pcp lists of this zone. */
    public long pcpPages() {
        long n = 0;
        for (PerCpuPages p : pcp) n += p.count;
        return n;
    }

    /** {@code zone_reclaimable_pages()}: file LRU pages (no swap is modeled, so anon does not count). */
    public long reclaimablePages() { return nrFile; }

    public void setWatermarks(long min, long low, long high) {
        watermark[WMARK_MIN] = min;
        watermark[WMARK_LOW] = low;
        watermark[WMARK_HIGH] = high;
        marksChanged();
    }

    public void setLowmemReserve(int zoneIdx, long pages) {
        lowmemReserve[zoneIdx] = pages;
        marksChanged();
    }

    public void setWatermarkBoost(long pages) {
        watermarkBoost = pages;
        marksChanged();
    }

    /** Recomputes {@link #fastMark} after a write to the watermarks, the boost or lowmem_reserve. */
    void marksChanged() {
        for (int w = 0; w < 3; w++)
            for (int hi = 0; hi < NR_ZONES; hi++) {
                long t = watermark[w] + watermarkBoost + lowmemReserve[hi];
                fastMark[w * NR_ZONES + hi] = t >= 0 ? t : Long.MAX_VALUE;
            }
    }

    public boolean contains(long pfn) { return pfn >= startPfn && pfn < endPfn; }

    @Override
    public String toString() { return "Node " + node + " " + name(); }
}
