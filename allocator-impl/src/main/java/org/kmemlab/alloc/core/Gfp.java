package org.kmemlab.alloc.core;

/**
 * Semantic gfp bits used inside the model. They follow the current kernel's layout
 * ({@code include/linux/gfp_types.h}, default x86-64 config) so that printed masks read as kernel
 * engineers expect, but they are era-independent: a trace's raw bits are translated by name before they
 * reach the model (the replayer does that with trace-format's GFP codec). {@link #FAST_TRY} is the
 * proposed bit of the 2020 RFC and lives above the real bits so it never collides.
 */
public final class Gfp {
    private Gfp() {}

    public static final long DMA = 0x1, HIGHMEM = 0x2, DMA32 = 0x4, MOVABLE = 0x8, RECLAIMABLE = 0x10,
            HIGH = 0x20, IO = 0x40, FS = 0x80, ZERO = 0x100, ATOMIC = 0x200 /* 5.10 only */,
            DIRECT_RECLAIM = 0x400, KSWAPD_RECLAIM = 0x800, WRITE = 0x1000, NOWARN = 0x2000,
            RETRY_MAYFAIL = 0x4000, NOFAIL = 0x8000, NORETRY = 0x10000, MEMALLOC = 0x20000, COMP = 0x40000,
            NOMEMALLOC = 0x80000, HARDWALL = 0x100000, THISNODE = 0x200000, ACCOUNT = 0x400000,
            FAST_TRY = 1L << 40,
            /**
             * Model-only marker for {@code alloc_pages_nolock()} (ENOW, {@code ALLOC_NOLOCK}): only trylock on
             * pcp and zone->lock, one freelist pass, no reclaim. Above the real bits like FAST_TRY.
             */
            NOLOCK = 1L << 41;

    public static final long RECLAIM = DIRECT_RECLAIM | KSWAPD_RECLAIM;
    public static final long ZONEMASK = DMA | HIGHMEM | DMA32 | MOVABLE;
    public static final long MOVABLE_MASK = RECLAIMABLE | MOVABLE;
    /**
     * {@code GFP_RECLAIM_MASK} (mm/internal.h; ATOMIC is 5.10's, gone with the bit in 6.3) with the model-only
     * FAST_TRY and NOLOCK: what of a caller's gfp reaches the page allocator when a slab cache needs a page.
     */
    public static final long RECLAIM_MASK = RECLAIM | HIGH | IO | FS | NOWARN | RETRY_MAYFAIL | NOFAIL | NORETRY | MEMALLOC
            | NOMEMALLOC | ATOMIC | FAST_TRY | NOLOCK;
    /** {@code GFP_CONSTRAINT_MASK}: cpuset and node placement. */
    public static final long CONSTRAINT_MASK = HARDWALL | THISNODE;

    public static final long GFP_ATOMIC = HIGH | KSWAPD_RECLAIM;
    public static final long GFP_NOWAIT = KSWAPD_RECLAIM | NOWARN;
    public static final long GFP_NOIO = RECLAIM;
    public static final long GFP_NOFS = RECLAIM | IO;
    public static final long GFP_KERNEL = RECLAIM | IO | FS;
    public static final long GFP_KERNEL_ACCOUNT = GFP_KERNEL | ACCOUNT;
    public static final long GFP_USER = GFP_KERNEL | HARDWALL;
    public static final long GFP_HIGHUSER = GFP_USER | HIGHMEM;
    public static final long GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | MOVABLE;

    /** {@code gfpflags_allow_blocking()}. */
    public static boolean allowBlocking(long gfp) { return (gfp & DIRECT_RECLAIM) != 0; }

    /** {@code gfp_migratetype()}: 0 unmovable, 1 movable, 2 reclaimable. */
    public static int migratetype(long gfp) { return (int) ((gfp & MOVABLE_MASK) >>> 3); }

    /** {@code current_gfp_context()} applied with a task's scope: NOIO strips IO|FS, NOFS strips FS. */
    public static long applyScope(long gfp, long scopeClearMask) { return gfp & ~scopeClearMask; }
}
