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

    /** Whether the current call set {@link #zone} (see {@link #reset}). */
    private boolean zoneSet;

    /**
     * Starts a call. The allocator reuses one outcome, which soon lives in the old generation, and G1's
     * write barrier fences (StoreLoad) every reference store into an old object that points to another
     * region: several per call on the fast path. So reference fields are written only when they change,
     * and {@link #zone} is not cleared here but by {@link #settleZone} at the end of a call that did not set
     * it; nobody reads it in between.
     */
    void reset(int order, long gfp, long now) {
        pfn = -1;
        this.order = order;
        this.gfp = gfp;
        zoneSet = false;
        if (reason != FailReason.NONE) reason = FailReason.NONE;
        path = 0;
        startNs = now;
        endNs = now;
        freelistPasses = 0;
        if (slowDirty) resetSlowpath();
    }

    /**
     * Only {@code __alloc_pages_slowpath()} writes the retry, compaction and reclaim counters, so a call
     * that stayed on the fast path has nothing of its own to clear there: they are cleared once, at the
     * start of the first call after one that entered the slow path.
     */
    private boolean slowDirty;

    private void resetSlowpath() {
        slowpathRetries = 0;
        compactions = 0;
        lastCompactResult = null;
        reclaimed = 0;
        slowDirty = false;
    }

    /** The call enters {@code __alloc_pages_slowpath()}: the next {@link #reset} clears its counters. */
    void enteringSlowpath() { slowDirty = true; }

    /** The zone the pages came from. */
    void setZone(Zone z) {
        if (zone != z) zone = z;
        zoneSet = true;
    }

    /** Ends a call: a zone left from an earlier call is cleared (what {@link #reset} would have done). */
    void settleZone() {
        if (!zoneSet && zone != null) zone = null;
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
