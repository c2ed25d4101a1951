package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;

/**
 * A slab shrinker ({@code struct shrinker}, {@code include/linux/shrinker.h}) as {@code mm/vmscan.c
 * do_shrink_slab()} calls it. The slab layer (SPL, XFS inode caches, kfree_rcu) registers one with
 * {@link PageAllocator#registerShrinker}. Pages the shrinker frees through {@link PageAllocator#freePages}
 * while it runs count as reclaim progress, as {@code reclaim_state->reclaimed_slab} does in the kernel.
 *
 * <p>{@code gfp} is the reclaim context's mask: like {@code super_cache_scan()}, a shrinker that needs the
 * filesystem must return {@link #SHRINK_STOP} when {@code gfp} lacks {@code __GFP_FS}.
 */
public interface Shrinker {
    long SHRINK_STOP = -1;
    /** {@code DEFAULT_SEEKS}. */
    int DEFAULT_SEEKS = 2;

    String name();

    /** {@code count_objects}: freeable objects. */
    long countObjects(ExecContext ctx, int node, long gfp);

    /** {@code scan_objects}: frees up to {@code nrToScan} objects; returns the number freed or {@link #SHRINK_STOP}. */
    long scanObjects(ExecContext ctx, int node, long gfp, long nrToScan);

    default int seeks() { return DEFAULT_SEEKS; }
}
