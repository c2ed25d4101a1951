package org.kmemlab.trace;

import java.util.HashMap;
import java.util.Map;

/**
 * Canonical event names in perf's {@code subsystem:name} form. Kernels renamed events over time
 * ({@code kmalloc_node} and {@code kmem_cache_alloc_node} folded into {@code kmalloc} and
 * {@code kmem_cache_alloc} in 6.1; {@code mm_page_free_direct} and {@code mm_pagevec_free} became
 * {@code mm_page_free} and {@code mm_page_free_batched} in 3.3); ftrace text prints names without the
 * subsystem. Everything maps to the one current name here.
 */
public final class EventNames {
    private EventNames() {}

    public static final String KMALLOC = "kmem:kmalloc";
    public static final String KFREE = "kmem:kfree";
    public static final String KMEM_CACHE_ALLOC = "kmem:kmem_cache_alloc";
    public static final String KMEM_CACHE_FREE = "kmem:kmem_cache_free";
    public static final String MM_PAGE_ALLOC = "kmem:mm_page_alloc";
    public static final String MM_PAGE_FREE = "kmem:mm_page_free";
    public static final String MM_PAGE_FREE_BATCHED = "kmem:mm_page_free_batched";
    public static final String MM_PAGE_ALLOC_ZONE_LOCKED = "kmem:mm_page_alloc_zone_locked";
    public static final String MM_PAGE_PCPU_DRAIN = "kmem:mm_page_pcpu_drain";
    public static final String MM_PAGE_ALLOC_EXTFRAG = "kmem:mm_page_alloc_extfrag";
    /** {@code include/trace/events/rcu.h}; {@code rcu_kfree_callback} until the 2020 kvfree rename. */
    public static final String RCU_KVFREE_CALLBACK = "rcu:rcu_kvfree_callback";
    /** {@code include/trace/events/cgroup.h}. */
    public static final String CGROUP_MKDIR = "cgroup:cgroup_mkdir", CGROUP_RMDIR = "cgroup:cgroup_rmdir";
    /** {@code perf probe} on the functions: there are no tracepoints for the cache lifecycle. */
    public static final String PROBE_KMEM_CACHE_CREATE = "probe:kmem_cache_create",
            PROBE_KMEM_CACHE_DESTROY = "probe:kmem_cache_destroy";
    /** {@code include/trace/events/vmscan.h}, around {@code do_try_to_free_pages()} in {@code try_to_free_pages()}. */
    public static final String VMSCAN_DIRECT_RECLAIM_BEGIN = "vmscan:mm_vmscan_direct_reclaim_begin",
            VMSCAN_DIRECT_RECLAIM_END = "vmscan:mm_vmscan_direct_reclaim_end";
    /**
     * {@code include/trace/events/vmscan.h}: {@code wakeup_kswapd()} waking a sleeping kswapd (nid, zid, order,
     * gfp_flags); kswapd starting a pass (nid, zid, order) and going to sleep until woken (nid).
     */
    public static final String VMSCAN_WAKEUP_KSWAPD = "vmscan:mm_vmscan_wakeup_kswapd",
            VMSCAN_KSWAPD_WAKE = "vmscan:mm_vmscan_kswapd_wake", VMSCAN_KSWAPD_SLEEP = "vmscan:mm_vmscan_kswapd_sleep";
    /**
     * Compaction's tracepoints that kmemlab record enables and the model emits: {@code try_to_compact_pages()}'s
     * entry (a direct compaction), the start of {@code kcompactd_do_work()}, and {@code wakeup_kcompactd()} waking
     * a sleeping kcompactd.
     */
    public static final String COMPACTION_TRY_TO_COMPACT_PAGES = "compaction:mm_compaction_try_to_compact_pages",
            COMPACTION_KCOMPACTD_WAKE = "compaction:mm_compaction_kcompactd_wake",
            COMPACTION_WAKEUP_KCOMPACTD = "compaction:mm_compaction_wakeup_kcompactd";
    /** Generators only: CPU work an allocation is made for (SCHEMA.md, "Events beyond kmem.h"). */
    public static final String KMEMLAB_CPU_WORK = "kmemlab:cpu_work";

    private static final Map<String, String> CANON = new HashMap<>();
    private static final Map<String, String> SUBSYSTEM = new HashMap<>();

    static {
        for (String n : new String[] {"kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free", "mm_page_alloc",
            "mm_page_free", "mm_page_free_batched", "mm_page_alloc_zone_locked", "mm_page_pcpu_drain",
            "mm_page_alloc_extfrag", "rss_stat", "mm_alloc_contig_migrate_range_info", "mem_connect",
            "mem_disconnect", "mem_return_failed"}) {
            SUBSYSTEM.put(n, "kmem");
        }
        for (String n : new String[] {"percpu_alloc_percpu", "percpu_free_percpu", "percpu_alloc_percpu_fail",
            "percpu_create_chunk", "percpu_destroy_chunk"}) {
            SUBSYSTEM.put(n, "percpu");
        }
        SUBSYSTEM.put("rcu_kvfree_callback", "rcu");
        SUBSYSTEM.put("cgroup_mkdir", "cgroup");
        SUBSYSTEM.put("cgroup_rmdir", "cgroup");
        CANON.put("rcu_kfree_callback", RCU_KVFREE_CALLBACK);
        CANON.put("kmalloc_node", KMALLOC);
        CANON.put("kmem_cache_alloc_node", KMEM_CACHE_ALLOC);
        CANON.put("mm_page_free_direct", MM_PAGE_FREE);
        CANON.put("mm_pagevec_free", MM_PAGE_FREE_BATCHED);
        // renamed in 5.8 (kvfree_call_rcu); same fields (SCHEMA.md, "Events beyond kmem.h")
        CANON.put("rcu_kfree_callback", "rcu:rcu_kvfree_callback");
    }

    /** The canonical {@code subsystem:name} of a raw name, with or without its subsystem. */
    public static String canonical(String raw) {
        int colon = raw.indexOf(':');
        String sub = colon < 0 ? null : raw.substring(0, colon);
        String name = colon < 0 ? raw : raw.substring(colon + 1);
        String c = CANON.get(name);
        if (c != null) return c;
        if (sub != null) return raw;
        String s = SUBSYSTEM.get(name);
        if (s != null) return s + ":" + name;
        if (name.startsWith("mm_vmscan_")) return "vmscan:" + name;
        if (name.startsWith("mm_compaction_")) return "compaction:" + name;
        return name;
    }

    /** True for the events kmemlab gives meaning to; others are kept with their fields and counted. */
    public static boolean known(String canonical) {
        int colon = canonical.indexOf(':');
        if (colon < 0) return false;
        String sub = canonical.substring(0, colon);
        String name = canonical.substring(colon + 1);
        return switch (sub) {
            case "kmem" -> SUBSYSTEM.containsKey(name);
            case "percpu", "vmscan", "compaction" -> true;
            case "rcu", "cgroup" -> sub.equals(SUBSYSTEM.get(name));
            case "probe" -> canonical.equals(PROBE_KMEM_CACHE_CREATE) || canonical.equals(PROBE_KMEM_CACHE_DESTROY);
            case "kmemlab" -> canonical.equals(KMEMLAB_CPU_WORK);
            default -> false;
        };
    }

    public static boolean isSlabAlloc(String e) { return KMALLOC.equals(e) || KMEM_CACHE_ALLOC.equals(e); }

    public static boolean isSlabFree(String e) { return KFREE.equals(e) || KMEM_CACHE_FREE.equals(e); }
}
