package org.kmemlab.alloc.slab;

/** The {@code SLAB_*} cache creation flags the model distinguishes ({@code include/linux/slab.h}). */
public final class SlabFlags {
    private SlabFlags() {}

    public static final int HWCACHE_ALIGN = 1;
    /** Slab pages are freed through call_rcu(); objects may be reused, the memory stays typed. */
    public static final int TYPESAFE_BY_RCU = 1 << 1;
    /** Pages come from MIGRATE_RECLAIMABLE ({@code __GFP_RECLAIMABLE} in s->allocflags). */
    public static final int RECLAIM_ACCOUNT = 1 << 2;
    public static final int CACHE_DMA = 1 << 3;
    public static final int ACCOUNT = 1 << 4;
    /** The cache has a constructor: the free pointer may not overlay the object. */
    public static final int HAS_CTOR = 1 << 5;
}
