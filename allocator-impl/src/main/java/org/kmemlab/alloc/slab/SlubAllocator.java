package org.kmemlab.alloc.slab;

import com.carrotsearch.hppc.LongIntHashMap;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.PageProvider;

/**
 * The slab layer as a whole: the cache list under {@code slab_mutex}, the kmalloc caches and
 * {@code kmalloc()}/{@code kfree()}/{@code ksize()}, {@code kmalloc_large} straight to the page
 * allocator, and the cache lifecycle {@code kmem_cache_create()} / {@code kmem_cache_destroy()} with
 * the three {@link RcuDestroy} variants. Follows {@code mm/slab_common.c} ({@code __kmem_cache_create},
 * {@code kmem_cache_destroy}, {@code shutdown_cache}, {@code slab_caches_to_rcu_destroy_workfn},
 * {@code kmalloc_slab}, {@code kfree}, {@code ksize}) and {@code mm/slub.c}
 * ({@code __do_kmalloc_node}, {@code ___kmalloc_large_node}, {@code free_large_kmalloc}).
 */
public final class SlubAllocator {
    /** {@code ZERO_SIZE_PTR}: what kmalloc(0) returns; kfree ignores it. */
    public static final long ZERO_SIZE_PTR = 16;

    /** NULL or ZERO_SIZE_PTR ({@code ZERO_OR_NULL_PTR}); kernel addresses are "negative" as Java longs. */
    public static boolean isNullOrZero(long addr) { return addr >= 0 && addr <= ZERO_SIZE_PTR; }

    final PageProvider pages;
    final int nrCpus;
    final SlabCosts costs;
    final SlabPageMap pageMap = new SlabPageMap();
    private final KmallocCaches kmalloc;
    private final Map<String, SlubCache> caches = new LinkedHashMap<>();
    /** pfn → order of live kmalloc_large allocations. */
    private final LongIntHashMap large = new LongIntHashMap();
    public final KLock slabMutex = new KLock("slab_mutex", KLock.Kind.MUTEX);

    private RcuDestroy rcuDestroy = RcuDestroy.SYNC_PER_CACHE;
    private Consumer<ExecContext> kvfreeRcuBarrier = c -> {};
    private final List<SlubCache> toRcuDestroy = new ArrayList<>();
    private boolean destroyWorkPending, destroyWorkRunning, destroyWorkRerun;

    long slabPages, largePages, largePagesAllocated;
    int rcuPendingSlabs;
    public long statRcuBarriers, statCachesReleased;

    public SlubAllocator(PageProvider pages, int nrCpus, CostTable costTable) {
        SlabCosts.init();
        this.pages = pages;
        this.nrCpus = nrCpus;
        this.costs = SlabCosts.resolve(costTable);
        this.kmalloc = new KmallocCaches(this);
    }

    public SlubAllocator rcuDestroy(RcuDestroy mode) { this.rcuDestroy = mode; return this; }
    public RcuDestroy rcuDestroy() { return rcuDestroy; }

    /** What {@link RcuDestroy#SYNC_NEW} flushes first (the kfree_rcu model's barrier). */
    public SlubAllocator kvfreeRcuBarrier(Consumer<ExecContext> barrier) { this.kvfreeRcuBarrier = barrier; return this; }

    public PageProvider pageProvider() { return pages; }
    public int nrCpus() { return nrCpus; }
    public SlabCosts costs() { return costs; }
    public KmallocCaches kmallocCaches() { return kmalloc; }

    // ------------------------------------------------------------------ caches

    /**
     * Creates (boot-time, no frames) a cache whose {@code s->size} is known, e.g. from /proc/slabinfo.
     * The object size is taken to equal the size (the snapshot does not tell them apart).
     */
    public SlubCache createCacheWithSize(String name, int size, int flags) {
        int order = SlabLayout.calculateOrder(size, nrCpus);
        SlubCache c = new SlubCache(this, name, size, size, 8, flags, order);
        register(c);
        return c;
    }

    /** {@code kmem_cache_create(name, size, align, flags, ctor)}: computes s->size like calculate_sizes(). */
    public SlubCache kmemCacheCreate(ExecContext ctx, String name, int objectSize, int align, int flags) {
        ctx.enter("kmem_cache_create");
        ctx.lock(slabMutex);
        SlubCache c = newCache(name, objectSize, align, flags);
        ctx.charge(costs.cacheCreate);
        register(c);
        ctx.unlock(slabMutex);
        ctx.exit();
        return c;
    }

    SlubCache newCache(String name, int objectSize, int align, int flags) {
        int a = SlabLayout.calculateAlignment((flags & SlabFlags.HWCACHE_ALIGN) != 0, align, objectSize);
        boolean fpOutside = (flags & (SlabFlags.TYPESAFE_BY_RCU | SlabFlags.HAS_CTOR)) != 0;
        int size = SlabLayout.sizeOf(objectSize, a, fpOutside);
        int order = SlabLayout.calculateOrder(size, nrCpus);
        return new SlubCache(this, name, objectSize, size, a, flags, order);
    }

    void register(SlubCache c) {
        if (caches.containsKey(c.name)) throw new IllegalArgumentException("cache exists: " + c.name);
        caches.put(c.name, c);
        generation++;
    }

    private int generation;

    /** Changes whenever a cache is created or destroyed: lets a caller keep its own view of {@link #caches()}. */
    public int generation() { return generation; }

    public SlubCache cache(String name) { return caches.get(name); }
    public Map<String, SlubCache> caches() { return Collections.unmodifiableMap(caches); }

    /**
     * {@code kmem_cache_destroy()}. Returns false (and keeps the cache) when objects remain, as the
     * kernel does after its "Objects remaining" report.
     */
    public boolean kmemCacheDestroy(ExecContext ctx, SlubCache s) {
        ctx.enter("kmem_cache_destroy");
        if (rcuDestroy == RcuDestroy.SYNC_NEW) {
            ctx.enter("kvfree_rcu_barrier");
            kvfreeRcuBarrier.accept(ctx);
            ctx.exit();
        }
        ctx.lock(slabMutex);
        boolean ok = s.shutdown(ctx);
        if (!ok) {
            ctx.unlock(slabMutex);
            ctx.exit();
            return false;
        }
        caches.remove(s.name);
        generation++;
        s.destroyed = true;
        boolean typesafe = (s.flags & SlabFlags.TYPESAFE_BY_RCU) != 0;
        boolean release = true;
        if (typesafe && rcuDestroy == RcuDestroy.BATCHED_ASYNC) {
            toRcuDestroy.add(s);
            release = false;
            if (!destroyWorkPending) {
                destroyWorkPending = true;
                ctx.blocker().queueWork(ctx, "slab_caches_to_rcu_destroy_workfn", this::rcuDestroyWork);
            }
        }
        ctx.unlock(slabMutex);
        if (release) {
            if (typesafe) rcuBarrier(ctx);
            releaseCache(ctx, s);
        }
        ctx.exit();
        return true;
    }

    /**
     * {@code slab_caches_to_rcu_destroy_workfn()}: one rcu_barrier() for every cache queued so far.
     *
     * <p>The kworker sleeps in rcu_barrier() until the callbacks queued before it have run. rcu_barrier()
     * itself is a call_rcu() of {@code rcu_barrier_callback} on every CPU and a wait for them, so the rest of
     * the work runs as that callback: the destructions that arrive meanwhile then find the work still busy,
     * as in the kernel, instead of a work item that a model running it to completion at once would have
     * finished already. A work item never runs concurrently with itself (workqueue non-reentrancy): a run
     * that starts while the previous one waits goes again when that one is done.
     */
    private void rcuDestroyWork(ExecContext ctx) {
        destroyWorkPending = false;
        if (destroyWorkRunning) {
            destroyWorkRerun = true;
            return;
        }
        ctx.lock(slabMutex);
        List<SlubCache> batch = new ArrayList<>(toRcuDestroy);
        toRcuDestroy.clear();
        ctx.unlock(slabMutex);
        if (batch.isEmpty()) return;
        destroyWorkRunning = true;
        ctx.enter("rcu_barrier");
        statRcuBarriers++;
        ctx.blocker().callRcu(ctx, w -> {
            for (SlubCache s : batch) releaseCache(w, s);
            destroyWorkRunning = false;
            if (destroyWorkRerun) {
                destroyWorkRerun = false;
                rcuDestroyWork(w);
            }
        });
        ctx.exit();
    }

    private void rcuBarrier(ExecContext ctx) {
        ctx.enter("rcu_barrier");
        statRcuBarriers++;
        ctx.blocker().rcuBarrier(ctx);
        ctx.exit();
    }

    private void releaseCache(ExecContext ctx, SlubCache s) {
        ctx.enter("slab_kmem_cache_release");
        ctx.charge(costs.cacheRelease);
        statCachesReleased++;
        ctx.exit();
    }

    /** Caches destroyed but waiting for the batched rcu_barrier(). */
    public int pendingRcuDestroy() { return toRcuDestroy.size(); }

    // ------------------------------------------------------------------ kmalloc

    /** {@code kmalloc(size, gfp)} ({@code __kmalloc} frames); 0 on failure, ZERO_SIZE_PTR for size 0. */
    public long kmalloc(ExecContext ctx, long size, long gfp) { return kmalloc.kmalloc(ctx, size, gfp, false); }

    /** {@code kmalloc_node()} ({@code __kmalloc_node} → {@code kmalloc_large_node} frames). */
    public long kmallocNode(ExecContext ctx, long size, long gfp) { return kmalloc.kmalloc(ctx, size, gfp, true); }

    /** {@code kfree()}: slab objects to their own cache, large kmallocs to the page allocator. */
    public void kfree(ExecContext ctx, long addr) {
        if (isNullOrZero(addr)) return;
        ctx.enter("kfree");
        long pfn = SlabPageMap.pfnOf(addr);
        Slab slab = pageMap.get(pfn);
        if (slab != null) {
            slab.cache.freeToSlab(ctx, slab, addr);
        } else {
            int order = large.getOrDefault(pfn, -1);
            if (order < 0 || (addr & (SlabLayout.PAGE_SIZE - 1)) != 0) {
                ctx.exit();
                throw new IllegalArgumentException("kfree of unknown pointer 0x" + Long.toHexString(addr));
            }
            ctx.enter("free_large_kmalloc");
            large.remove(pfn);
            largePages -= 1L << order;
            pages.freePages(ctx, pfn, order);
            ctx.exit();
        }
        ctx.exit();
    }

    long allocLarge(ExecContext ctx, long size, long gfp, boolean node) {
        int order = SlabLayout.getOrder(size);
        if (order > SlabLayout.MAX_PAGE_ORDER) return 0; // beyond KMALLOC_MAX_SIZE: the page allocator warns and fails
        if (node) {
            ctx.enter("kmalloc_large_node");
        } else {
            ctx.enter("kmalloc_order_trace");
            ctx.enter("kmalloc_order");
        }
        ctx.charge(costs.kmallocLarge);
        long pfn = pages.allocPages(ctx, order, gfp | Gfp.COMP);
        long addr = 0;
        if (pfn >= 0) {
            large.put(pfn, order);
            largePages += 1L << order;
            largePagesAllocated += 1L << order;
            addr = SlabLayout.PAGE_OFFSET + (pfn << SlabLayout.PAGE_SHIFT);
        }
        if (!node) ctx.exit();
        ctx.exit();
        return addr;
    }

    /** {@code ksize()}: usable size of a live allocation, 0 when unknown. */
    public long ksize(long addr) {
        if (isNullOrZero(addr)) return 0;
        long pfn = SlabPageMap.pfnOf(addr);
        Slab slab = pageMap.get(pfn);
        if (slab != null) return slab.isAllocated(addr) ? slab.cache.size : 0;
        int order = large.getOrDefault(pfn, -1);
        return order < 0 ? 0 : (long) SlabLayout.PAGE_SIZE << order;
    }

    /** The cache an address belongs to ({@code virt_to_cache()}), or null for pages and unknown pointers. */
    public SlubCache cacheOf(long addr) {
        Slab s = pageMap.get(SlabPageMap.pfnOf(addr));
        return s == null ? null : s.cache;
    }

    /** The slab an address lies in, or null. */
    public Slab slabOf(long addr) { return pageMap.get(SlabPageMap.pfnOf(addr)); }

    void releaseSlabPages(ExecContext ctx, Slab s) {
        pageMap.clear(s.pfn, s.order);
        slabPages -= 1L << s.order;
        pages.freePages(ctx, s.pfn, s.order);
    }

    // ------------------------------------------------------------------ accounting

    /** Pages held by slabs, including those waiting for an RCU grace period. */
    public long slabPages() { return slabPages; }
    public long largeKmallocPages() { return largePages; }
    /** Pages kmalloc_large has allocated so far, freed or not. */
    public long largeKmallocPagesAllocated() { return largePagesAllocated; }
    public int rcuPendingSlabs() { return rcuPendingSlabs; }

    /** {@code /proc/slabinfo} of the current state. */
    public String slabinfo() {
        StringBuilder sb = new StringBuilder("slabinfo - version: 2.1\n");
        sb.append("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables "
                + "<limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
        for (SlubCache c : caches.values()) sb.append(c.slabinfoLine()).append('\n');
        return sb.toString();
    }
}
