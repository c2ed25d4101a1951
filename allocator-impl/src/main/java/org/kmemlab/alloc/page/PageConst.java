package org.kmemlab.alloc.page;

/**
 * Constants of the page allocator, as in {@code include/linux/mmzone.h} ({@code MAX_ORDER},
 * {@code enum migratetype}, {@code PAGE_ALLOC_COSTLY_ORDER}, {@code enum zone_type}),
 * {@code include/linux/pageblock-flags.h} ({@code pageblock_order}) and {@code mm/internal.h}
 * ({@code ALLOC_*} flags). Migratetypes and zones are plain ints so the hot paths index arrays without
 * boxing.
 */
public final class PageConst {
    private PageConst() {}

    /** Orders 0..10: {@code MAX_ORDER} 11 in 5.10, {@code NR_PAGE_ORDERS} in the current tree. */
    public static final int NR_ORDERS = 11;
    public static final int MAX_ORDER_IDX = NR_ORDERS - 1;
    public static final int PAGEBLOCK_ORDER = 9;
    public static final int PAGEBLOCK_PAGES = 1 << PAGEBLOCK_ORDER;
    public static final int PAGE_ALLOC_COSTLY_ORDER = 3;
    public static final long PAGE_SIZE = 4096;

    // enum migratetype (no CONFIG_CMA: the snapshot machine prints no CMA row)
    public static final int MT_UNMOVABLE = 0, MT_MOVABLE = 1, MT_RECLAIMABLE = 2, MT_HIGHATOMIC = 3, MT_ISOLATE = 4;
    /** {@code MIGRATE_PCPTYPES}: the types that have pcp lists and count for watermark order checks. */
    public static final int MT_PCPTYPES = 3;
    public static final int NR_MT = 5;
    /** {@code migratetype_names[]} in mm/page_alloc.c (mm/vmstat.c prints them). */
    public static final String[] MT_NAMES = {"Unmovable", "Movable", "Reclaimable", "HighAtomic", "Isolate"};

    // enum zone_type (x86-64 without HIGHMEM); ZONE_DEVICE has no buddy pages and is not modeled.
    public static final int ZONE_DMA = 0, ZONE_DMA32 = 1, ZONE_NORMAL = 2, ZONE_MOVABLE = 3;
    public static final int NR_ZONES = 4;
    public static final String[] ZONE_NAMES = {"DMA", "DMA32", "Normal", "Movable"};
    /** {@code sysctl_lowmem_reserve_ratio[]} defaults (DMA 256, DMA32 256, Normal 32, Movable 0). */
    public static final int[] LOWMEM_RESERVE_RATIO = {256, 256, 32, 0};

    public static final int WMARK_MIN = 0, WMARK_LOW = 1, WMARK_HIGH = 2;

    // ALLOC_* (mm/internal.h). Values are shared by both eras where the bit is the same; ALLOC_HARDER
    // (5.10) and ALLOC_NON_BLOCK (current) occupy 0x10, ALLOC_HIGH / ALLOC_MIN_RESERVE occupy 0x20
    // (equal to __GFP_HIGH so gfp_to_alloc_flags can copy the bit).
    public static final int ALLOC_WMARK_MIN = WMARK_MIN, ALLOC_WMARK_LOW = WMARK_LOW, ALLOC_WMARK_HIGH = WMARK_HIGH;
    public static final int ALLOC_NO_WATERMARKS = 0x04;
    public static final int ALLOC_WMARK_MASK = ALLOC_NO_WATERMARKS - 1;
    public static final int ALLOC_OOM = 0x08;
    public static final int ALLOC_HARDER = 0x10;      // 5.10 name
    public static final int ALLOC_NON_BLOCK = 0x10;   // current name
    public static final int ALLOC_HIGH = 0x20;        // 5.10 name
    public static final int ALLOC_MIN_RESERVE = 0x20; // current name
    public static final int ALLOC_CPUSET = 0x40;
    public static final int ALLOC_CMA = 0x80;
    public static final int ALLOC_NOFRAGMENT = 0x100;
    public static final int ALLOC_HIGHATOMIC = 0x200; // current only
    /**
     * {@code ALLOC_NOLOCK} (current mm/internal.h; named ALLOC_TRYLOCK when alloc_pages_nolock() came in):
     * zone->lock only through spin_trylock, no kswapd wakeup.
     */
    public static final int ALLOC_NOLOCK = 0x400;
    public static final int ALLOC_KSWAPD = 0x800;
    /** {@code ALLOC_RESERVES} (current): any of these lets the caller dip into reserves. */
    public static final int ALLOC_RESERVES = ALLOC_NON_BLOCK | ALLOC_MIN_RESERVE | ALLOC_HIGHATOMIC | ALLOC_OOM;

    // include/linux/compaction.h
    public static final int COMPACT_PRIO_SYNC_FULL = 0, COMPACT_PRIO_SYNC_LIGHT = 1, COMPACT_PRIO_ASYNC = 2;
    public static final int MIN_COMPACT_PRIORITY = COMPACT_PRIO_SYNC_FULL;
    public static final int MIN_COMPACT_COSTLY_PRIORITY = COMPACT_PRIO_SYNC_LIGHT;
    public static final int INIT_COMPACT_PRIORITY = COMPACT_PRIO_ASYNC;
    public static final int COMPACT_MAX_DEFER_SHIFT = 6;
    public static final int COMPACT_CLUSTER_MAX = 32;
    public static final int MAX_COMPACT_RETRIES = 16;
    public static final int MAX_RECLAIM_RETRIES = 16;
    public static final int SWAP_CLUSTER_MAX = 32;
    public static final int DEF_PRIORITY = 12;
    /** {@code sysctl_extfrag_threshold} default. */
    public static final int EXTFRAG_THRESHOLD = 500;

    public static String mtName(int mt) { return MT_NAMES[mt]; }

    /** The 5.10 fallback table {@code fallbacks[MIGRATE_TYPES][3]} (terminated by -1 here). */
    static final int[][] FALLBACKS = {
            {MT_RECLAIMABLE, MT_MOVABLE},   // UNMOVABLE
            {MT_RECLAIMABLE, MT_UNMOVABLE}, // MOVABLE
            {MT_UNMOVABLE, MT_MOVABLE},     // RECLAIMABLE
    };
}
