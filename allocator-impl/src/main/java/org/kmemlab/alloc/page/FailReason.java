package org.kmemlab.alloc.page;

/**
 * Why an allocation ended without pages: which {@code goto nopage} / {@code return NULL} of
 * {@code mm/page_alloc.c __alloc_pages_slowpath()} (or the fast-try path) it took.
 */
public enum FailReason {
    NONE,
    /** {@code __GFP_FAST_TRY}: no eligible zone had a page on this CPU's pcp lists (the RFC never takes zone->lock). */
    PCP_EMPTY,
    /** No direct reclaim allowed (GFP_NOWAIT/GFP_ATOMIC): failed after the MIN-watermark pass. */
    NO_DIRECT_RECLAIM,
    /** PF_MEMALLOC task: reclaim would recurse. */
    RECLAIM_RECURSION,
    /** Costly order with __GFP_NORETRY and compaction skipped or deferred (5.10 step 5). */
    COSTLY_NORETRY_COMPACT_SKIPPED,
    /** __GFP_NORETRY after one reclaim + compaction round. */
    NORETRY,
    /** Costly order without __GFP_RETRY_MAYFAIL after one round. */
    COSTLY,
    /** Retries exhausted and OOM not allowed (RETRY_MAYFAIL, costly, THISNODE, lowmem-only). */
    RETRIES_EXHAUSTED,
    /** OOM killer invoked and nothing freed. */
    OOM,
    /**
     * The slow path looped past the model's safety cap ({@link PageAllocator#SLOWPATH_LOOP_CAP}) where the
     * kernel would loop forever: __GFP_NOFAIL, or a !__GFP_FS request whose OOM "progress" never frees memory.
     */
    NOFAIL_LIVELOCK,
    /** The requested zone/order cannot be satisfied by any zone (e.g. order > MAX). */
    INVALID
}
