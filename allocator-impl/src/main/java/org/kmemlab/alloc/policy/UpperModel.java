package org.kmemlab.alloc.policy;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.PageProvider;
import org.kmemlab.alloc.kvmalloc.Kvmalloc;
import org.kmemlab.alloc.mempool.Mempool;
import org.kmemlab.alloc.rcu.KfreeRcu;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.slab.SlubCache;
import org.kmemlab.alloc.spl.SplCache;
import org.kmemlab.alloc.vmalloc.Vmalloc;

/**
 * The upper half of the allocator model wired for one {@link UpperConfig}: SLUB with kmalloc,
 * vmalloc, kvmalloc, kfree_rcu, and factories for SPL caches and mempools, all on one
 * {@link PageProvider}. This is what the replayer builds once per run.
 */
public final class UpperModel {
    public final UpperConfig config;
    public final SlubAllocator slab;
    public final Vmalloc vmalloc;
    public final Kvmalloc kvmalloc;
    public final KfreeRcu kfreeRcu;
    /** {@code cgroup_mutex}: held around cache destruction when {@code slab.destroyCaller=MEMCG_OFFLINE}. */
    public final org.kmemlab.alloc.core.KLock cgroupMutex =
            new org.kmemlab.alloc.core.KLock("cgroup_mutex", org.kmemlab.alloc.core.KLock.Kind.MUTEX);
    private final java.util.List<SplCache> splCaches = new java.util.ArrayList<>();
    private SlubCache extentStateCache;
    private Mempool extentStatePool;

    private UpperModel(UpperConfig cfg, PageProvider pages, int nrCpus, CostTable costs) {
        this.config = cfg;
        this.slab = new SlubAllocator(pages, nrCpus, costs).rcuDestroy(cfg.rcuDestroy());
        this.vmalloc = new Vmalloc(cfg.era(), pages, slab).honoursGfpForPageTables(cfg.vmallocHonoursGfpForPageTables());
        this.kvmalloc = new Kvmalloc(slab, vmalloc, cfg.kvmalloc());
        this.kfreeRcu = new KfreeRcu(slab, vmalloc, cfg.kfreeRcuBnodeAlloc()).preemptRt(cfg.kfreeRcuPreemptRt())
                .minCachedObjs(cfg.kfreeRcuMinCachedObjs());
        slab.kvfreeRcuBarrier(kfreeRcu::kvfreeRcuBarrier);
    }

    public static UpperModel build(UpperConfig cfg, PageProvider pages, int nrCpus, CostTable costs) {
        return new UpperModel(cfg, pages, nrCpus, costs);
    }

    /** {@code spl_kmem_cache_create()} with the configured SPL knobs. */
    public SplCache createSplCache(String name, int objSize, int kmcFlags) {
        SplCache c = new SplCache(name, objSize, kmcFlags, config.spl(), slab, vmalloc);
        splCaches.add(c);
        return c;
    }

    /**
     * Pages the upper half holds from the page allocator: slabs (incl. those waiting for RCU), large
     * kmallocs, vmalloc data pages and page tables, kfree_rcu blocks and cached blocks, SPL pages taken
     * directly. Equals the provider's allocated pages when nothing else allocates pages.
     */
    public long pagesHeld() {
        long n = slab.slabPages() + slab.largeKmallocPages() + vmalloc.mappedPages() + vmalloc.pageTablePages()
                + kfreeRcu.bnodePages();
        for (SplCache c : splCaches) n += c.directPages();
        return n;
    }

    /** A mempool over a SLUB cache with the configured semantics and {@code mempool.minNr}. */
    public Mempool createMempool(ExecContext ctx, String name, SlubCache cache) {
        return new Mempool(ctx, name, config.mempoolMinNr(), Mempool.slabBacking(cache), config.mempoolSemantics(),
                slab.costs(), Gfp.GFP_KERNEL);
    }

    /**
     * Destroys caches as the configured caller does (seed 004): memcg offline
     * ({@code memcg_destroy_kmem_caches()} in 4.10) holds {@code cgroup_mutex} across every
     * {@code kmem_cache_destroy()}, so with SYNC_PER_CACHE the mutex is held for N grace periods;
     * MODULE_EXIT holds nothing. Returns how many caches were destroyed.
     */
    public int destroyCaches(ExecContext ctx, java.util.List<SlubCache> caches) {
        return destroyCaches(ctx, caches, config.destroyCaller());
    }

    /** {@link #destroyCaches(ExecContext, java.util.List)} for an explicit caller, whatever the knob says. */
    public int destroyCaches(ExecContext ctx, java.util.List<SlubCache> caches, UpperConfig.DestroyCaller caller) {
        boolean memcg = caller == UpperConfig.DestroyCaller.MEMCG_OFFLINE;
        if (!memcg) {
            ctx.enter("kmem_cache_destroy_all");
            int n = 0;
            for (SlubCache c : caches) if (slab.kmemCacheDestroy(ctx, c)) n++;
            ctx.exit();
            return n;
        }
        ctx.lock(cgroupMutex);
        int n = memcgDestroyKmemCaches(ctx, caches);
        ctx.unlock(cgroupMutex);
        return n;
    }

    /**
     * {@code memcg_destroy_kmem_caches()} of 4.10 {@code mm/slab_common.c}: {@code kmem_cache_destroy()} of every
     * per-memcg cache of a dying cgroup, for a caller that already holds {@code cgroup_mutex} (the cgroup
     * offline/release path, seed 004). Caches that still hold objects stay ("Objects remaining").
     */
    public int memcgDestroyKmemCaches(ExecContext ctx, java.util.List<SlubCache> caches) {
        ctx.enter("memcg_destroy_kmem_caches");
        int n = 0;
        for (SlubCache c : caches) if (slab.kmemCacheDestroy(ctx, c)) n++;
        ctx.exit();
        return n;
    }

    /** The scope XFS's kvmalloc caller runs under: bits to strip (memalloc_nofs_save strips __GFP_FS). */
    public long kvmallocScopeClearMask() {
        return config.kvmallocCallerScope() == UpperConfig.CallerScope.NOFS ? Gfp.FS : 0;
    }

    /**
     * btrfs {@code alloc_extent_state(mask)} per {@code btrfs.extentStateAlloc}: {@code kmem_cache_alloc}
     * (0 = the BUG_ON of the time) or {@code mempool_alloc} over the same cache.
     */
    public long allocExtentState(ExecContext ctx, long gfp) {
        ensureExtentState(ctx);
        ctx.enter("alloc_extent_state");
        long p = extentStatePool != null ? extentStatePool.alloc(ctx, gfp) : extentStateCache.alloc(ctx, gfp);
        ctx.exit();
        return p;
    }

    public void freeExtentState(ExecContext ctx, long p) {
        ensureExtentState(ctx);
        ctx.enter("free_extent_state");
        if (extentStatePool != null) extentStatePool.free(ctx, p); else extentStateCache.free(ctx, p);
        ctx.exit();
    }

    public Mempool extentStatePool() { return extentStatePool; }

    private void ensureExtentState(ExecContext ctx) {
        if (extentStateCache != null) return;
        extentStateCache = slab.cache("extent_state");
        if (extentStateCache == null) {
            // struct extent_state of 2011 kernels: ~72 bytes, SLAB_MEM_SPREAD only.
            extentStateCache = slab.kmemCacheCreate(ctx, "extent_state", 72, 0, 0);
        }
        if (config.btrfsExtentStateAlloc() == UpperConfig.ExtentStateAlloc.MEMPOOL) {
            extentStatePool = createMempool(ctx, "btrfs_extent_state_pool", extentStateCache);
        }
    }
}
