package org.kmemlab.alloc.slab;

/**
 * How {@code kmem_cache_destroy()} waits for the RCU-freed slab pages of a SLAB_TYPESAFE_BY_RCU cache
 * before the {@code kmem_cache} itself may go: {@code kmem_cache_destroy()}, {@code shutdown_cache()},
 * {@code slab_caches_to_rcu_destroy_workfn()} of {@code mm/slab_common.c} (allocator-model.md §B.14, knob
 * {@code slab.rcuDestroy}).
 */
public enum RcuDestroy {
    /** ≤4.10 {@code release_caches()}: one {@code rcu_barrier()} per destroyed cache, in the caller. */
    SYNC_PER_CACHE,
    /**
     * 4.11–6.11 ({@code 657dc2f97220}): the cache goes on {@code slab_caches_to_rcu_destroy} and one
     * {@code slab_caches_to_rcu_destroy_work} runs a single {@code rcu_barrier()} for the whole batch.
     */
    BATCHED_ASYNC,
    /** 6.12+: {@code kvfree_rcu_barrier()} first, then a synchronous {@code rcu_barrier()} per cache. */
    SYNC_NEW
}
