package org.kmemlab.alloc.kvmalloc;

/** The kvmalloc variants of allocator-model.md §B.11 (knob {@code kvmalloc.policy}). */
public enum KvmallocPolicy {
    /** {@code kvmalloc_node()} of mm/util.c, 4.12–5.15: costly kmalloc may direct-reclaim and compact. */
    KV2017,
    /** 5.16+ (Hocko, "mm: allow !GFP_KERNEL allocations for kvmalloc"): NOFS/NOIO fall back too, no NOFAIL. */
    KV2022,
    /** {@code kmalloc_gfp_adjust()} (current mm/slub.c): the kmalloc attempt never direct-reclaims. */
    KVNOW,
    /** {@code xlog_cil_kvmalloc()} (XFS, 8dc9384b7d75): fail-fast kmalloc, then vmalloc, loop until success. */
    XFS_FAILFAST
}
