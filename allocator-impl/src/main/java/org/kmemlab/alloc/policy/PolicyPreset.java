package org.kmemlab.alloc.policy;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The named policies, one per seed plus {@code baseline}. Each preset is nothing but the knob values
 * that differ from the baseline, so adding a policy means adding one constant here (the registry,
 * {@code kmemlab policies} and validation pick it up).
 *
 * <p>{@code baseline} is the "before" side of every seed on a 5.10-like kernel (E2020): SPL grows
 * slabs inline, kvmalloc is the 2017 one, btrfs uses the plain slab, kfree_rcu allocates its block
 * under the raw lock with GFP_NOWAIT, and every TYPESAFE_BY_RCU cache is destroyed with its own
 * rcu_barrier(). Each seed preset switches its own mechanism to the "after" side and sets the era the
 * seed was written against.
 */
public enum PolicyPreset {
    BASELINE("baseline", "the 'before' of every seed on a 5.10-like kernel: inline SPL growth, kvmalloc 2017, "
            + "slab extent_state, GFP_NOWAIT kfree_rcu blocks, rcu_barrier per destroyed cache"),
    SPL_EMERGENCY("spl-emergency", "seed 000: SPL slab growth on a work queue; callers wait one tick, then "
            + "kmalloc an emergency object (spl.emergencyIndex=list|rbtree, spl.growWaitTicks, spl.emergencyTrigger)",
            "era", "E2012", "spl.growMode", "ASYNC_WQ_EMERGENCY"),
    XFS_KVMALLOC_FAILFAST("xfs-kvmalloc-failfast", "seed 001: XFS CIL kvmalloc without direct reclaim/compaction, "
            + "then vmalloc, looping until success (kvmalloc.policy=KV2017|KV2022|XFS_FAILFAST|KVNOW)",
            "era", "E2022", "kvmalloc.policy", "XFS_FAILFAST", "kvmalloc.callerScope", "NOFS"),
    BTRFS_EXTENT_MEMPOOL("btrfs-extent-mempool", "seed 002: btrfs extent_state from a mempool; sleeping callers "
            + "never fail but may wait 5 s loops (mempool.minNr, mempool.semantics=MP2011|MP2012|MPNOW)",
            "era", "E2011", "btrfs.extentStateAlloc", "MEMPOOL", "mempool.semantics", "MP2011"),
    GFP_FAST_TRY("gfp-fast-try", "seed 003: kfree_rcu pointer-block pages with __GFP_FAST_TRY: pcp lists only, "
            + "no zone->lock, no slow path; falls back when the pcp list is empty (kfreeRcu.bnodeAlloc)",
            "era", "E2020", "kfreeRcu.bnodeAlloc", "FAST_TRY"),
    RCU_DESTROY_BATCHED("rcu-destroy-batched", "seed 004: SLAB_TYPESAFE_BY_RCU caches released by one global "
            + "work item with a single rcu_barrier() per batch (slab.rcuDestroy=SYNC_PER_CACHE|BATCHED_ASYNC|SYNC_NEW)",
            "era", "E2017", "slab.rcuDestroy", "BATCHED_ASYNC");

    public final String id;
    public final String description;
    private final Map<String, String> knobs = new LinkedHashMap<>();

    PolicyPreset(String id, String description, String... kv) {
        this.id = id;
        this.description = description;
        for (int i = 0; i < kv.length; i += 2) knobs.put(kv[i], kv[i + 1]);
    }

    /** The knob values this preset sets on top of the baseline defaults. */
    public Map<String, String> knobs() { return Map.copyOf(knobs); }

    Map<String, String> orderedKnobs() { return knobs; }
}
