package org.kmemlab.replay;

import org.kmemlab.trace.EventNames;

/**
 * How a trace event is replayed (replayer/README.md has the table and the reasons). Requests go through
 * the model; derived events are what the kernel produced from other requests (the model produces its
 * own, and the fidelity report compares them); observed events are kept for analysis only.
 */
enum RequestKind {
    KMALLOC, KFREE, CACHE_ALLOC, CACHE_FREE, PAGE_ALLOC, PAGE_FREE,
    /** {@code rcu:rcu_kvfree_callback}: {@code kvfree_call_rcu(ptr)}; the object is freed a grace period later. */
    KFREE_RCU,
    /** {@code cgroup:cgroup_mkdir} / {@code cgroup_rmdir}: under {@code cgroup_mutex}; rmdir destroys the memcg's caches. */
    CGROUP_MKDIR, CGROUP_RMDIR,
    /** {@code probe:kmem_cache_create} / {@code probe:kmem_cache_destroy} (caller MODULE_EXIT). */
    CACHE_CREATE, CACHE_DESTROY,
    /** {@code kmemlab:cpu_work}: the CPU work an allocation is made for, charged under its call chain. */
    CPU_WORK,
    /** A slab's or kmalloc_large's page allocation, or the free of such a page. */
    DERIVED_PAGE,
    /**
     * pcp refills under zone->lock, pcp drains, extfrag fallbacks; and the kmem:kfree that kfree_rcu_work
     * issues for an object queued by kvfree_call_rcu (the model frees it itself after its grace period).
     */
    DERIVED,
    /** percpu, vmscan, compaction tracepoints: observations of the real kernel. */
    OBSERVED,
    IGNORED;

    /** The name as written in requests.arrow and summary.json. */
    final String label = name().toLowerCase(java.util.Locale.ROOT);

    static RequestKind of(String event) {
        if (event == null) return IGNORED;
        return switch (event) {
            case EventNames.KMALLOC -> KMALLOC;
            case EventNames.KFREE -> KFREE;
            case EventNames.KMEM_CACHE_ALLOC -> CACHE_ALLOC;
            case EventNames.KMEM_CACHE_FREE -> CACHE_FREE;
            case EventNames.MM_PAGE_ALLOC -> PAGE_ALLOC;
            case EventNames.MM_PAGE_FREE -> PAGE_FREE;
            case EventNames.RCU_KVFREE_CALLBACK -> KFREE_RCU;
            case EventNames.CGROUP_MKDIR -> CGROUP_MKDIR;
            case EventNames.CGROUP_RMDIR -> CGROUP_RMDIR;
            case EventNames.PROBE_KMEM_CACHE_CREATE -> CACHE_CREATE;
            case EventNames.PROBE_KMEM_CACHE_DESTROY -> CACHE_DESTROY;
            case EventNames.KMEMLAB_CPU_WORK -> CPU_WORK;
            // free_unref_folios() emits mm_page_free (in free_pages_prepare) and then mm_page_free_batched for
            // the same page: the batched event is a second view of a free already replayed.
            case EventNames.MM_PAGE_FREE_BATCHED, EventNames.MM_PAGE_ALLOC_ZONE_LOCKED, EventNames.MM_PAGE_PCPU_DRAIN,
                 EventNames.MM_PAGE_ALLOC_EXTFRAG -> DERIVED;
            default -> event.startsWith("percpu:") || event.startsWith("vmscan:") || event.startsWith("compaction:")
                    ? OBSERVED : IGNORED;
        };
    }

    boolean isRequest() { return ordinal() <= CPU_WORK.ordinal(); }
}
