package org.kmemlab.alloc.page;

/**
 * The outcome of one {@link PageAllocator#alloc} call: pages or the reason for failure, the path taken,
 * and the virtual time it took. It carries what {@code mm_page_alloc} ({@code include/trace/events/kmem.h})
 * and the ALLOCSTALL/COMPACTSTALL counters of {@code mm/page_alloc.c __alloc_pages_slowpath()} would show
 * for this one call. Mutable and reusable so that the fast path allocates nothing.
 */
public final class AllocOutcome {
    public static final int PATH_PCP = 1, PATH_PCP_REFILL = 2, PATH_BUDDY = 4, PATH_FALLBACK = 8, PATH_SLOWPATH = 16,
            PATH_KSWAPD_WOKEN = 32, PATH_COMPACT = 64, PATH_RECLAIM = 128, PATH_DRAIN = 256, PATH_OOM = 512,
            PATH_NOFAIL_RESERVES = 1024, PATH_NO_WATERMARKS = 2048;

    public long pfn = -1;
    public int order;
    public long gfp;
    public Zone zone;
    public FailReason reason = FailReason.NONE;
    public int path;
    public long startNs, endNs;
    /** Passes through {@code get_page_from_freelist}. */
    public int freelistPasses;
    public int slowpathRetries;
    public int compactions;
    public CompactResult lastCompactResult;
    public long reclaimed;

    void reset(int order, long gfp, long now) {
        pfn = -1;
        this.order = order;
        this.gfp = gfp;
        zone = null;
        reason = FailReason.NONE;
        path = 0;
        startNs = now;
        endNs = now;
        freelistPasses = 0;
        slowpathRetries = 0;
        compactions = 0;
        lastCompactResult = null;
        reclaimed = 0;
    }

    public boolean ok() { return pfn >= 0; }
    public long durationNs() { return endNs - startNs; }
    public boolean took(int pathBit) { return (path & pathBit) != 0; }

    @Override
    public String toString() {
        return (ok() ? "pfn=" + pfn : "FAIL(" + reason + ")") + " order=" + order + " path=0x" + Integer.toHexString(path)
                + " passes=" + freelistPasses + " retries=" + slowpathRetries + " ns=" + durationNs();
    }
}
