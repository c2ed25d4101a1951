package org.kmemlab.alloc.core;

/**
 * Which kernel the model behaves like (allocator-model.md §0.2). The era selects algorithm variants:
 * slow-path shape, kvmalloc gfp adjustment, mempool retry rules, vmap locking.
 */
public enum KernelEra {
    /** ≤3.2: pre-fix mempool_alloc. */
    E2011,
    /** 3.3–3.x: SPL emergency objects. */
    E2012,
    /** 4.11: batched rcu_barrier on cache destruction. */
    E2017,
    /** 5.8–5.10: the 5.10 page allocator, __GFP_FAST_TRY RFC. */
    E2020,
    /** 5.16–5.17: XFS CIL kvmalloc. Same page-allocator slow path as 5.10. */
    E2022,
    /** Current mm tree: kvmalloc without direct reclaim on the kmalloc attempt, per-node vmap locks. */
    ENOW;

    public boolean atLeast(KernelEra other) { return compareTo(other) >= 0; }
}
