package org.kmemlab.alloc.page;

/**
 * Tracepoints of the page allocator ({@code include/trace/events/kmem.h}, {@code compaction.h},
 * {@code vmscan.h}). The replayer implements what it records; every method has an empty default so the
 * model pays nothing when nobody listens. Arguments are primitives so firing allocates nothing.
 */
public interface PageEvents {
    PageEvents NONE = new PageEvents() {};

    /** {@code mm_page_alloc}: pfn -1 on failure. */
    default void pageAlloc(Zone z, long pfn, int order, long gfp, int migratetype) {}

    /** {@code mm_page_free}. */
    default void pageFree(long pfn, int order) {}

    /**
     * {@code mm_filemap_delete_from_page_cache} ({@code include/trace/events/filemap.h}): reclaim took a
     * clean page cache folio off the LRU ({@code __remove_mapping()}) and frees it next. Whoever put the
     * page there (the replayer, for the trace's page cache) learns that it is gone.
     */
    default void pageCacheDelete(long pfn, int order) {}

    /**
     * Compaction moved an allocated page from {@code from} to {@code to} ({@code migrate_pages()}); what
     * page_owner's {@code __folio_copy_owner()} does in the kernel: whoever tracks the page by pfn follows it.
     */
    default void pageMigrated(long from, long to, int order) {}

    /** {@code mm_page_alloc_zone_locked}: a block taken from the buddy lists under zone->lock. */
    default void allocZoneLocked(Zone z, long pfn, int order, int migratetype, boolean percpuRefill) {}

    /** {@code mm_page_pcpu_drain}: a page sent from a pcp list back to the buddy. */
    default void pcpuDrain(Zone z, long pfn, int order, int migratetype) {}

    /**
     * {@code mm_page_alloc_extfrag}: an allocation fell back to another migratetype. Fragmenting when
     * {@code fallbackOrder < pageblock_order}; {@code changeOwnership} when the block now has the
     * allocation's type.
     */
    default void extfrag(Zone z, long pfn, int allocOrder, int fallbackOrder, int allocMt, int fallbackMt,
                         boolean changeOwnership) {}

    /** {@code mm_compaction_end}-like summary: result is a {@link CompactResult} ordinal. */
    default void compactionEnd(Zone z, int order, int priority, int result, long migrated, long scanned) {}

    /**
     * {@code mm_vmscan_direct_reclaim_begin}: fired by {@code try_to_free_pages()} just before
     * {@code do_try_to_free_pages()}, with the order and the (scoped) gfp mask of the allocation.
     */
    default void reclaimBegin(int node, int order, long gfp) {}

    /** {@code mm_vmscan_direct_reclaim_end} / {@code mm_vmscan_kswapd_sleep}-like summary. */
    default void reclaimEnd(int node, boolean kswapd, long reclaimed) {}

    /** {@code mm_vmscan_wakeup_kswapd}: only when a sleeping kswapd is woken. */
    default void wakeupKswapd(int node, int zoneType, int order, long gfp) {}

    /** {@code mm_vmscan_kswapd_wake}: the top of kswapd's loop, before balance_pgdat(). */
    default void kswapdWake(int node, int zoneType, int order) {}

    /** {@code mm_vmscan_kswapd_sleep}: kswapd goes to sleep until wakeup_kswapd(). */
    default void kswapdSleep(int node) {}

    /** {@code mm_compaction_try_to_compact_pages}: a direct compaction, past the check that the gfp allows I/O. */
    default void tryToCompactPages(int order, long gfp, int prio) {}

    /** {@code mm_compaction_wakeup_kcompactd}: a sleeping kcompactd woken for a suitable node. */
    default void wakeupKcompactd(int node, int order, int highestZone) {}

    /** {@code mm_compaction_kcompactd_wake}: {@code kcompactd_do_work()} starts (not fired by proactive runs). */
    default void kcompactdWake(int node, int order, int highestZone) {}

    /** The OOM killer would run (the model cannot kill; see {@link PageAllocator#setOomHandler}). */
    default void oom(int order, long gfp) {}

    /** {@code warn_alloc}: "page allocation failure: order:%u". */
    default void allocFailure(int order, long gfp, FailReason reason) {}
}
