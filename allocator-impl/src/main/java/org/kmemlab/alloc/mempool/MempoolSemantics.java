package org.kmemlab.alloc.mempool;

/** The {@code mempool_alloc()} variants of allocator-model.md §B.12 (knob {@code mempool.semantics}). */
public enum MempoolSemantics {
    /** ≤3.2: after the reserve is empty, sleep up to 5 s before the first reclaiming attempt. */
    MP2011,
    /** 3.3+: retry at once with the full gfp, then sleep 5 s on pool->wait and retry. */
    MP2012,
    /** Current mm/mempool.c: as MP2012 (mempool_adjust_gfp, mempool_alloc_from_pool). */
    MPNOW
}
