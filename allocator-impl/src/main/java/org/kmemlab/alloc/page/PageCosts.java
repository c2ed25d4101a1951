package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.CostTable;

/**
 * The page allocator's entries in the {@link CostTable}: the one documented place for every number the
 * model charges (COSTS.md lists them). Defaults marked "spec B.0" are the modeling defaults of
 * allocator-model.md §B.0; the others are modeling assumptions of the same kind, chosen to be of the
 * order of magnitude a 2020-era x86 server shows in perf for the named function. They are meant to be
 * calibrated, not trusted.
 *
 * <p>An instance caches the values resolved from one CostTable so that the fast path reads plain
 * fields instead of looking names up.
 */
public final class PageCosts {
    public static final String ALLOC_ENTRY = "page.alloc_entry";
    public static final String ZONE_CHECK = "page.zone_watermark_check";
    public static final String PCP_OP = "page.pcp_list_op";
    public static final String SPIN_LOCK = "page.spin_lock_uncontended";
    public static final String BUDDY_PAGE = "page.rmqueue_per_block";
    public static final String BUDDY_FREE = "page.free_one_page";
    public static final String FALLBACK = "page.rmqueue_fallback";
    public static final String PREP_NEW_PAGE = "page.prep_new_page";
    public static final String ZERO_PAGE = "page.clear_page";
    public static final String SLOWPATH = "page.slowpath_entry";
    public static final String WAKE_KSWAPD = "page.wakeup_kswapd";
    public static final String DRAIN_CPU = "page.drain_pages_per_cpu";
    public static final String COMPACT_SCAN = "page.compact_scan_pfn";
    public static final String COMPACT_MIGRATE = "page.compact_migrate_page";
    public static final String COMPACT_SETUP = "page.compact_zone_setup";
    public static final String COMPACT_BLOCK = "page.compact_pageblock_check";
    public static final String RECLAIM_SCAN = "page.reclaim_scan_page";
    public static final String RECLAIM_FREE = "page.reclaim_free_page";
    public static final String SHRINKER_CALL = "page.shrink_slab_per_shrinker";
    public static final String RECLAIM_SETUP = "page.try_to_free_pages_setup";
    public static final String CONGESTION_WAIT = "page.congestion_wait_timeout";
    public static final String JIFFY = "page.one_jiffy";
    public static final String WRITEBACK = "page.writeback_latency";
    public static final String OOM = "page.out_of_memory";

    static {
        CostTable.define(ALLOC_ENTRY, 30, "modeling default: __alloc_pages/prepare_alloc_pages self time, a few dozen instructions");
        CostTable.define(ZONE_CHECK, 10, "modeling default: zone_watermark_fast() per zone visited in get_page_from_freelist");
        CostTable.define(PCP_OP, 50, "spec B.0: pcp list pop/push 50 ns (rmqueue_pcplist / free_unref_page_commit)");
        CostTable.define(SPIN_LOCK, 20, "modeling default: uncontended spin_lock_irqsave + unlock, one cache-line RMW pair");
        CostTable.define(BUDDY_PAGE, 80, "spec B.0: __rmqueue per page (block) under zone->lock 80 ns");
        CostTable.define(BUDDY_FREE, 60, "modeling default: __free_one_page per block incl. merge probes, close to rmqueue cost");
        CostTable.define(FALLBACK, 150, "modeling default: __rmqueue_fallback search over orders and fallback types");
        CostTable.define(PREP_NEW_PAGE, 20, "modeling default: prep_new_page/post_alloc_hook without zeroing");
        CostTable.define(ZERO_PAGE, 1000, "spec B.0: page zeroing 1 us per 4 KiB (__GFP_ZERO, clear_page_erms)");
        CostTable.define(SLOWPATH, 100, "modeling default: __alloc_pages_slowpath bookkeeping per pass (flags, cpuset seq, zonelist reset)");
        CostTable.define(WAKE_KSWAPD, 300, "modeling default: wakeup_kswapd -> __wake_up_common_lock incl. waitqueue spinlock (S-xfs 1.77% profile share)");
        CostTable.define(DRAIN_CPU, 2000, "modeling default: drain_all_pages per CPU with pages: queue_work_on + flush_work round trip");
        CostTable.define(COMPACT_SCAN, 20, "spec B.0: compaction scan 20 ns per pfn (isolate_*_block loop, __pageblock_pfn_to_page)");
        CostTable.define(COMPACT_MIGRATE, 2000, "spec B.0: migration 2 us per page (unmap, copy 4 KiB, remap)");
        CostTable.define(COMPACT_BLOCK, 60, "modeling default: __pageblock_pfn_to_page + suitability check per pageblock a scanner visits (5.29% of S-xfs's before-profile)");
        CostTable.define(COMPACT_SETUP, 500, "modeling default: compact_zone setup, compaction_suitable, fragmentation_index");
        CostTable.define(RECLAIM_SCAN, 100, "modeling default: shrink_page_list per page scanned (isolate, trylock, rmap checks)");
        CostTable.define(RECLAIM_FREE, 200, "modeling default: freeing a clean page cache page (remove_mapping + free_unref_page_list share)");
        CostTable.define(SHRINKER_CALL, 500, "modeling default: do_shrink_slab count+scan call overhead per shrinker");
        CostTable.define(RECLAIM_SETUP, 1000, "modeling default: try_to_free_pages setup: throttle check, fs_reclaim_acquire, psi, scan_control");
        CostTable.define(CONGESTION_WAIT, 100_000_000, "kernel: congestion_wait(BLK_RW_ASYNC, HZ/10) in should_reclaim_retry = 100 ms timeout");
        CostTable.define(JIFFY, 4_000_000, "kernel: schedule_timeout_uninterruptible(1) = one jiffy, HZ=250 (distribution server config)");
        CostTable.define(WRITEBACK, 10_000_000, "modeling default: submit to end_page_writeback of one dirty page, 10 ms disk latency");
        CostTable.define(OOM, 5_000_000, "modeling default: out_of_memory(): select_bad_process task scan + oom_kill_process");
    }

    final CostTable table;
    final long allocEntry, zoneCheck, pcpOp, spinLock, buddyPage, buddyFree, fallback, prepNewPage, zeroPage,
            slowpath, wakeKswapd, drainCpu, compactScan, compactMigrate, compactSetup, reclaimScan, reclaimFree,
            shrinkerCall, reclaimSetup, congestionWait, jiffy, writeback, oom, compactBlock;

    PageCosts(CostTable t) {
        table = t;
        allocEntry = t.get(ALLOC_ENTRY);
        zoneCheck = t.get(ZONE_CHECK);
        pcpOp = t.get(PCP_OP);
        spinLock = t.get(SPIN_LOCK);
        buddyPage = t.get(BUDDY_PAGE);
        buddyFree = t.get(BUDDY_FREE);
        fallback = t.get(FALLBACK);
        prepNewPage = t.get(PREP_NEW_PAGE);
        zeroPage = t.get(ZERO_PAGE);
        slowpath = t.get(SLOWPATH);
        wakeKswapd = t.get(WAKE_KSWAPD);
        drainCpu = t.get(DRAIN_CPU);
        compactScan = t.get(COMPACT_SCAN);
        compactMigrate = t.get(COMPACT_MIGRATE);
        compactSetup = t.get(COMPACT_SETUP);
        compactBlock = t.get(COMPACT_BLOCK);
        reclaimScan = t.get(RECLAIM_SCAN);
        reclaimFree = t.get(RECLAIM_FREE);
        shrinkerCall = t.get(SHRINKER_CALL);
        reclaimSetup = t.get(RECLAIM_SETUP);
        congestionWait = t.get(CONGESTION_WAIT);
        jiffy = t.get(JIFFY);
        writeback = t.get(WRITEBACK);
        oom = t.get(OOM);
    }

    /** Forces the static definitions to run (the CLI's cost listing calls this). */
    public static void register() {}
}
