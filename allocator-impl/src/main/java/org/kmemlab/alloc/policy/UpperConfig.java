package org.kmemlab.alloc.policy;

import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.kvmalloc.KvmallocPolicy;
import org.kmemlab.alloc.mempool.MempoolSemantics;
import org.kmemlab.alloc.rcu.BnodeAlloc;
import org.kmemlab.alloc.slab.RcuDestroy;
import org.kmemlab.alloc.spl.SplConfig;

/**
 * Every switch of allocator-model.md §C that the upper half of the model reads, resolved. Built by
 * {@link PolicyRegistry#configure} from a preset plus knob overrides; read by {@link UpperModel}.
 */
public record UpperConfig(
        String policy,
        KernelEra era,
        SplConfig spl,
        KvmallocPolicy kvmalloc,
        CallerScope kvmallocCallerScope,
        ExtentStateAlloc btrfsExtentStateAlloc,
        MempoolSemantics mempoolSemantics,
        int mempoolMinNr,
        BnodeAlloc kfreeRcuBnodeAlloc,
        boolean kfreeRcuPreemptRt,
        int kfreeRcuMinCachedObjs,
        RcuDestroy rcuDestroy,
        DestroyCaller destroyCaller,
        boolean vmallocHonoursGfpForPageTables) {

    /** {@code kvmalloc.callerScope}: XFS runs its kvmalloc under memalloc_nofs_save(). */
    public enum CallerScope { NONE, NOFS }

    /** {@code btrfs.extentStateAlloc}: kmem_cache_alloc (may fail → BUG_ON) or mempool_alloc (seed 002). */
    public enum ExtentStateAlloc { SLAB, MEMPOOL }

    /** {@code slab.destroyCaller}: memcg offline holds cgroup_mutex around the destruction. */
    public enum DestroyCaller { MEMCG_OFFLINE, MODULE_EXIT }
}
