package org.kmemlab.alloc.core;

/**
 * The page allocator as the upper half of the model (slab, vmalloc, kfree_rcu, mempool backing) sees
 * it: {@code alloc_pages()} and {@code __free_pages()}. Implemented by the buddy/zone model in
 * {@code org.kmemlab.alloc.page}; tests of the upper half may use a simple implementation.
 *
 * <p>{@link Gfp#FAST_TRY} asks for the 2020 RFC behaviour: take a page from this CPU's pcp list or
 * fail, never touching {@code zone->lock} and never entering the slow path.
 */
public interface PageProvider {
    /** Allocates 2^order contiguous pages; returns the first pfn, or -1 when the allocation fails. */
    long allocPages(ExecContext ctx, int order, long gfp);

    void freePages(ExecContext ctx, long pfn, int order);

    /**
     * {@code __alloc_pages_bulk()}: up to {@code n} order-0 pages into {@code out}; returns how many were
     * allocated (possibly fewer than asked). The default takes them one by one; a page model with pcp
     * lists overrides it to refill through {@code rmqueue_bulk} once. Added for vmalloc.
     */
    default int allocPagesBulk(ExecContext ctx, int n, long gfp, long[] out) {
        int got = 0;
        while (got < n) {
            long pfn = allocPages(ctx, 0, gfp);
            if (pfn < 0) break;
            out[got++] = pfn;
        }
        return got;
    }

    /** Pages currently free in the whole model (for accounting checks). */
    long freePageCount();
}
