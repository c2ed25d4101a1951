package org.kmemlab.alloc.slab;

import java.util.Map;

/**
 * Creation flags of kernel caches that matter to the model and that a trace does not carry unless it
 * recorded {@code kmem_cache_create()}: which root caches are {@code SLAB_TYPESAFE_BY_RCU}
 * ({@code SLAB_DESTROY_BY_RCU} before 4.12). Read from the kernel sources: {@code proc_caches_init()} in
 * {@code kernel/fork.c} ({@code sighand_cache}: HWCACHE_ALIGN|PANIC|TYPESAFE_BY_RCU|ACCOUNT),
 * {@code anon_vma_init()} in {@code mm/rmap.c} ({@code anon_vma}: TYPESAFE_BY_RCU|PANIC|ACCOUNT), and the
 * {@code .slab_flags = SLAB_TYPESAFE_BY_RCU} of {@code tcp_prot} / {@code tcpv6_prot}
 * ({@code net/ipv4/tcp_ipv4.c}, {@code net/ipv6/tcp_ipv6.c}), whose caches are named after the proto.
 * ({@code filp} became TYPESAFE_BY_RCU only in 6.7, after per-memcg caches were gone, so it is not listed.)
 *
 * <p>And which take their pages from MIGRATE_RECLAIMABLE ({@code SLAB_RECLAIM_ACCOUNT}, or
 * {@code SLAB_TEMPORARY}, its alias): {@code radix_tree_node} ({@code lib/radix-tree.c radix_tree_init()},
 * PANIC|RECLAIM_ACCOUNT with a ctor), {@code buffer_head} ({@code fs/buffer.c buffer_init()}), {@code dentry}
 * ({@code fs/dcache.c dcache_init()}, RECLAIM_ACCOUNT|PANIC|ACCOUNT), {@code inode_cache}
 * ({@code fs/inode.c inode_init()}, RECLAIM_ACCOUNT|PANIC|ACCOUNT with a ctor), {@code ext4_inode_cache}
 * ({@code fs/ext4/super.c init_inodecache()}, RECLAIM_ACCOUNT|ACCOUNT with a ctor), {@code extent_status}
 * ({@code fs/ext4/extents_status.c ext4_init_es()}), {@code jbd2_journal_head} ({@code fs/jbd2/journal.c},
 * TEMPORARY|TYPESAFE_BY_RCU), {@code proc_inode_cache} ({@code fs/proc/inode.c}, RECLAIM_ACCOUNT|ACCOUNT|PANIC
 * with a ctor) and {@code sock_inode_cache} ({@code net/socket.c}, HWCACHE_ALIGN|RECLAIM_ACCOUNT|ACCOUNT with a
 * ctor). {@code lsm_inode_cache} ({@code security/security.c}) is SLAB_PANIC only. A cache the replay only
 * knows from slabinfo would otherwise put its slabs among the unmovable pages.
 */
public final class KernelCacheFlags {
    private KernelCacheFlags() {}

    private static final int RCL = SlabFlags.RECLAIM_ACCOUNT;

    private static final Map<String, Integer> FLAGS = Map.ofEntries(
            Map.entry("sighand_cache", SlabFlags.HWCACHE_ALIGN | SlabFlags.TYPESAFE_BY_RCU | SlabFlags.ACCOUNT | SlabFlags.HAS_CTOR),
            Map.entry("anon_vma", SlabFlags.TYPESAFE_BY_RCU | SlabFlags.ACCOUNT | SlabFlags.HAS_CTOR),
            Map.entry("TCP", SlabFlags.HWCACHE_ALIGN | SlabFlags.TYPESAFE_BY_RCU),
            Map.entry("TCPv6", SlabFlags.HWCACHE_ALIGN | SlabFlags.TYPESAFE_BY_RCU),
            Map.entry("radix_tree_node", RCL | SlabFlags.HAS_CTOR),
            Map.entry("buffer_head", RCL),
            Map.entry("dentry", RCL | SlabFlags.ACCOUNT),
            Map.entry("inode_cache", RCL | SlabFlags.ACCOUNT | SlabFlags.HAS_CTOR),
            Map.entry("ext4_inode_cache", RCL | SlabFlags.ACCOUNT | SlabFlags.HAS_CTOR),
            Map.entry("extent_status", RCL),
            Map.entry("jbd2_journal_head", RCL | SlabFlags.TYPESAFE_BY_RCU),
            Map.entry("proc_inode_cache", RCL | SlabFlags.ACCOUNT | SlabFlags.HAS_CTOR),
            Map.entry("sock_inode_cache", SlabFlags.HWCACHE_ALIGN | RCL | SlabFlags.ACCOUNT | SlabFlags.HAS_CTOR));

    /** The {@link SlabFlags} of a root cache the kernel creates with known flags, else 0. */
    public static int of(String rootCache) { return FLAGS.getOrDefault(rootCache, 0); }

    /**
     * The root cache of a per-memcg cache named as 4.x kernels named them, {@code <root>(<serial>:<cgroup>)}
     * ({@code memcg_create_kmem_cache()}: {@code "%s(%llu:%s)", root_cache->name, css->serial_nr, name}), or
     * null for a root cache.
     */
    public static String memcgRoot(String name) {
        if (name == null || !name.endsWith(")")) return null;
        int open = name.lastIndexOf('(');
        if (open <= 0) return null;
        int colon = name.indexOf(':', open);
        if (colon < 0) return null;
        for (int i = open + 1; i < colon; i++) if (!Character.isDigit(name.charAt(i))) return null;
        return colon > open + 1 ? name.substring(0, open) : null;
    }

    /** Parses {@code flags=SLAB_TYPESAFE_BY_RCU|SLAB_HWCACHE_ALIGN} text (either spelling of the RCU flag). */
    public static int parse(String text) {
        int f = 0;
        if (text == null) return 0;
        for (String t : text.split("[|,\\s]+")) {
            switch (t.trim()) {
                case "SLAB_TYPESAFE_BY_RCU", "SLAB_DESTROY_BY_RCU" -> f |= SlabFlags.TYPESAFE_BY_RCU;
                case "SLAB_HWCACHE_ALIGN" -> f |= SlabFlags.HWCACHE_ALIGN;
                case "SLAB_RECLAIM_ACCOUNT" -> f |= SlabFlags.RECLAIM_ACCOUNT;
                case "SLAB_CACHE_DMA" -> f |= SlabFlags.CACHE_DMA;
                case "SLAB_ACCOUNT" -> f |= SlabFlags.ACCOUNT;
                default -> { }
            }
        }
        return f;
    }
}
