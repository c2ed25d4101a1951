package org.kmemlab.alloc.rcu;

/**
 * Where kfree_rcu gets the page for a new pointer block: {@code kvfree_call_rcu_add_ptr_to_bulk()} of
 * {@code kernel/rcu/tree.c} (5.8–5.10, the 2020 FAST_TRY RFC), {@code fill_page_cache_func()} (5.11+),
 * {@code alloc_pages_nolock()} of {@code mm/page_alloc.c} (ENOW). allocator-model.md §B.13, knob
 * {@code kfreeRcu.bnodeAlloc}.
 */
public enum BnodeAlloc {
    /** 5.8–5.10: {@code __get_free_page(GFP_NOWAIT | __GFP_NOWARN)} under the raw krcp->lock; off on PREEMPT_RT. */
    NOWAIT_UNDER_LOCK,
    /** The 2020 RFC: {@code __GFP_FAST_TRY}, pcp lists only, no zone->lock, no slow path, no kswapd. */
    FAST_TRY,
    /** 5.11+: never under the lock; a worker refills a per-cpu page cache, one-arg callers may sleep. */
    PRECACHE_WORKER,
    /** ENOW's {@code alloc_pages_nolock()}: trylock only, one freelist pass. */
    NOLOCK
}
