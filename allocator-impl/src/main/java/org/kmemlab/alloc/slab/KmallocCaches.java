package org.kmemlab.alloc.slab;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;

/**
 * The kmalloc size classes ({@code kmalloc_caches[type][index]}, {@code kmalloc_info[]} in
 * {@code mm/slab_common.c}; {@code kmalloc_index()}, {@code kmalloc_type()} in
 * {@code include/linux/slab.h}) and {@code __do_kmalloc_node()} of {@code mm/slub.c}.
 *
 * <p>Types: kmalloc-*, kmalloc-rcl-* ({@code __GFP_RECLAIMABLE}), kmalloc-cg-* ({@code __GFP_ACCOUNT})
 * and dma-kmalloc-* ({@code __GFP_DMA}); all have the same sizes, so {@link #bytesAlloc} does not
 * depend on the type. No CONFIG_RANDOM_KMALLOC_CACHES (the recorded machine has no kmalloc-rnd-*).
 */
public final class KmallocCaches {
    public static final int NORMAL = 0, RECLAIM = 1, CGROUP = 2, DMA = 3;
    private static final String[] PREFIX = {"kmalloc-", "kmalloc-rcl-", "kmalloc-cg-", "dma-kmalloc-"};
    private static final int[] TYPE_FLAGS = {0, SlabFlags.RECLAIM_ACCOUNT, SlabFlags.ACCOUNT, SlabFlags.CACHE_DMA};

    private final SlubAllocator owner;
    private final SlubCache[][] caches = new SlubCache[4][SlabLayout.KMALLOC_SIZES.length];

    KmallocCaches(SlubAllocator owner) {
        this.owner = owner;
        for (int t = 0; t < 4; t++) {
            for (int i = 0; i < SlabLayout.KMALLOC_SIZES.length; i++) {
                int size = SlabLayout.KMALLOC_SIZES[i];
                SlubCache c = owner.newCache(cacheName(t, size), size, 8, TYPE_FLAGS[t]);
                owner.register(c);
                caches[t][i] = c;
            }
        }
    }

    /** kmalloc-8 … kmalloc-8k, as {@code kmalloc_info[]} names them. */
    public static String cacheName(int type, int size) {
        String s = size >= 1024 ? (size / 1024) + "k" : Integer.toString(size);
        return PREFIX[type] + s;
    }

    /** {@code kmalloc_type()}. */
    public static int type(long gfp) {
        if ((gfp & (Gfp.RECLAIMABLE | Gfp.DMA | Gfp.ACCOUNT)) == 0) return NORMAL;
        if ((gfp & Gfp.DMA) != 0) return DMA;
        if ((gfp & Gfp.RECLAIMABLE) != 0) return RECLAIM;
        return CGROUP;
    }

    /** {@code kmalloc_slab()}: the cache serving {@code size} (≤ 8 KiB) with {@code gfp}. */
    public SlubCache cacheFor(long size, long gfp) {
        int idx = SlabLayout.kmallocIndex(size);
        if (idx < 0) throw new IllegalArgumentException("no kmalloc cache for size " + size);
        return caches[type(gfp)][idx];
    }

    /** The {@code bytes_alloc} of the kmalloc tracepoint for (bytes_req, gfp_flags). */
    public static long bytesAlloc(long bytesReq, long gfp) { return SlabLayout.kmallocBytesAlloc(bytesReq, gfp); }

    long kmalloc(ExecContext ctx, long size, long gfp, boolean node) {
        if (size == 0) return SlubAllocator.ZERO_SIZE_PTR;
        ctx.enter(node ? "__kmalloc_node" : "__kmalloc");
        long obj;
        if (size > SlabLayout.KMALLOC_MAX_CACHE_SIZE) {
            obj = owner.allocLarge(ctx, size, gfp, node);
        } else {
            obj = caches[type(gfp)][SlabLayout.kmallocIndex(size)].allocNoFrame(ctx, gfp);
        }
        ctx.exit();
        return obj;
    }
}
