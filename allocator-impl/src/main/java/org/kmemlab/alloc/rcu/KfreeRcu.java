package org.kmemlab.alloc.rcu;

import com.carrotsearch.hppc.LongArrayList;
import java.util.ArrayList;
import java.util.List;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.PageProvider;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.vmalloc.VmapAreas;
import org.kmemlab.alloc.vmalloc.Vmalloc;

/**
 * {@code kvfree_rcu()} batching of {@code kernel/rcu/tree.c} (5.8–6.x) and current
 * {@code mm/slab_common.c}: per-cpu {@code struct kfree_rcu_cpu} with a raw {@code krcp->lock}, two
 * bulk channels of page-sized pointer blocks (slab and vmalloc pointers), the {@code rcu_head}
 * channel, a per-cpu cache of block pages ({@code get_cached_bnode}/{@code put_cached_bnode}, at most
 * {@code rcu_min_cached_objs}), {@code kfree_rcu_monitor} detaching everything into a batch that is
 * freed after a grace period by {@code kfree_rcu_work} with {@code kfree_bulk()}.
 *
 * <p>The block page comes from {@link BnodeAlloc}; when none can be had, two-argument callers fall
 * back to the {@code rcu_head} channel and one-argument callers to {@code synchronize_rcu()} +
 * {@code kvfree()} inline.
 */
public final class KfreeRcu {
    /** {@code KVFREE_BULK_MAX_ENTR} of 5.10: (PAGE_SIZE - two header words) / sizeof(void *). */
    public static final int DEFAULT_BLOCK_ENTRIES = 510;

    private static final class Block {
        final long pfn;
        final long[] records;
        int n;
        Block(long pfn, int cap) { this.pfn = pfn; this.records = new long[cap]; }
    }

    private final class Krc {
        final int cpu;
        final KLock lock;
        final Block[] cur = new Block[2];
        final List<Block> full = new ArrayList<>();
        final LongArrayList head = new LongArrayList();
        final LongArrayList cache = new LongArrayList();
        boolean monitorPending, pageWorkInProgress;
        Krc(int cpu) {
            this.cpu = cpu;
            this.lock = new KLock("krcp[" + cpu + "]->lock", KLock.Kind.RAW_SPIN);
        }
    }

    private final SlubAllocator slab;
    private final Vmalloc vmalloc;
    private final PageProvider pages;
    private final SlabCosts costs;
    private final BnodeAlloc bnodeAlloc;
    private final Krc[] krcs;
    private int minCachedObjs = 5;
    private int blockEntries = DEFAULT_BLOCK_ENTRIES;
    private boolean preemptRt;
    private long bnodePages;
    private long pendingObjects;

    public long statBulk, statHeadFallback, statSyncFallback, statBnodeAllocOk, statBnodeAllocFail, statCacheHit,
            statBatches, statFreed;

    public KfreeRcu(SlubAllocator slab, Vmalloc vmalloc, BnodeAlloc bnodeAlloc) {
        this.slab = slab;
        this.vmalloc = vmalloc;
        this.pages = slab.pageProvider();
        this.costs = slab.costs();
        this.bnodeAlloc = bnodeAlloc;
        this.krcs = new Krc[slab.nrCpus()];
        for (int i = 0; i < krcs.length; i++) krcs[i] = new Krc(i);
    }

    public KfreeRcu minCachedObjs(int n) { minCachedObjs = n; return this; }
    public KfreeRcu preemptRt(boolean v) { preemptRt = v; return this; }
    public KfreeRcu blockEntries(int n) { blockEntries = n; return this; }
    public BnodeAlloc bnodeAlloc() { return bnodeAlloc; }

    /**
     * {@code kvfree_call_rcu(head, ptr)}: {@code hasHead} is the two-argument form (the object embeds an
     * rcu_head); without it the caller must be able to sleep for the synchronize_rcu() fallback.
     */
    public void kvfreeCallRcu(ExecContext ctx, long ptr, boolean hasHead) {
        if (ptr == 0) return;
        ctx.enter("kvfree_call_rcu");
        Krc krc = krcs[ctx.cpu()];
        ctx.enter("krc_this_cpu_lock");
        ctx.lock(krc.lock);
        ctx.exit();
        boolean ok = addPtrToBulk(ctx, krc, ptr, hasHead);
        if (!ok) {
            if (hasHead) {
                krc.head.add(ptr);
                ctx.charge(costs.krcHeadLink);
                statHeadFallback++;
            } else {
                ctx.unlock(krc.lock);
                statSyncFallback++;
                ctx.enter("synchronize_rcu");
                ctx.blocker().synchronizeRcu(ctx);
                ctx.exit();
                kvfree(ctx, ptr);
                statFreed++;
                ctx.exit();
                return;
            }
        } else {
            statBulk++;
        }
        pendingObjects++;
        scheduleMonitor(ctx, krc);
        ctx.unlock(krc.lock);
        ctx.exit();
    }

    /** {@code kvfree_call_rcu_add_ptr_to_bulk()} / {@code add_ptr_to_bulk_krc_lock()}. */
    private boolean addPtrToBulk(ExecContext ctx, Krc krc, long ptr, boolean hasHead) {
        int idx = VmapAreas.isVmallocAddr(ptr) ? 1 : 0;
        Block b = krc.cur[idx];
        if (b == null || b.n == blockEntries) {
            long pfn = -1;
            if (!krc.cache.isEmpty()) {
                pfn = krc.cache.removeAt(krc.cache.size() - 1);
                ctx.charge(costs.krcCachePage);
                statCacheHit++;
            } else {
                pfn = allocBnode(ctx, krc, hasHead);
            }
            if (pfn < 0) return false;
            if (b != null) krc.full.add(b);
            b = new Block(pfn, blockEntries);
            krc.cur[idx] = b;
        }
        b.records[b.n++] = ptr;
        ctx.charge(costs.krcInsert);
        return true;
    }

    private long allocBnode(ExecContext ctx, Krc krc, boolean hasHead) {
        long pfn;
        switch (bnodeAlloc) {
            case NOWAIT_UNDER_LOCK:
                // "NOTE: For one argument of kvfree_rcu() we can drop the lock and get the page in
                // sleepable context" came later; 5.8 allocates here, and not at all on RT (sleeping locks).
                if (preemptRt) return countBnode(-1);
                ctx.enter("__get_free_pages");
                pfn = pages.allocPages(ctx, 0, Gfp.GFP_NOWAIT | Gfp.NOWARN);
                ctx.exit();
                return countBnode(pfn);
            case FAST_TRY:
                ctx.enter("__get_free_pages");
                pfn = pages.allocPages(ctx, 0, Gfp.FAST_TRY | Gfp.NOWARN);
                ctx.exit();
                return countBnode(pfn);
            case NOLOCK:
                ctx.enter("alloc_pages_nolock");
                pfn = pages.allocPages(ctx, 0, Gfp.NOLOCK | Gfp.NOWARN | Gfp.ZERO | Gfp.NOMEMALLOC);
                ctx.exit();
                return countBnode(pfn);
            case PRECACHE_WORKER:
                if (!hasHead && !ctx.atomicContext()) {
                    // One-argument callers may sleep: drop the raw lock and allocate sleepably.
                    ctx.unlock(krc.lock);
                    ctx.enter("__get_free_pages");
                    pfn = pages.allocPages(ctx, 0, Gfp.GFP_KERNEL | Gfp.NORETRY | Gfp.NOMEMALLOC | Gfp.NOWARN);
                    ctx.exit();
                    ctx.lock(krc.lock);
                    return countBnode(pfn);
                }
                runPageCacheWorker(ctx, krc);
                return countBnode(-1);
            default:
                throw new AssertionError(bnodeAlloc);
        }
    }

    private long countBnode(long pfn) {
        if (pfn >= 0) { statBnodeAllocOk++; bnodePages++; } else statBnodeAllocFail++;
        return pfn;
    }

    /** {@code run_page_cache_worker()} → {@code fill_page_cache_func()} on a kworker. */
    private void runPageCacheWorker(ExecContext ctx, Krc krc) {
        if (krc.pageWorkInProgress) return;
        krc.pageWorkInProgress = true;
        ctx.blocker().queueWork(ctx, "fill_page_cache_func", w -> {
            int want = minCachedObjs - krc.cache.size();
            for (int i = 0; i < want; i++) {
                w.enter("__get_free_pages");
                long pfn = pages.allocPages(w, 0, Gfp.GFP_KERNEL | Gfp.NORETRY | Gfp.NOMEMALLOC | Gfp.NOWARN);
                w.exit();
                if (pfn < 0) break;
                statBnodeAllocOk++;
                bnodePages++;
                w.lock(krc.lock);
                krc.cache.add(pfn);
                w.unlock(krc.lock);
            }
            krc.pageWorkInProgress = false;
        });
    }

    private void scheduleMonitor(ExecContext ctx, Krc krc) {
        if (krc.monitorPending) return;
        krc.monitorPending = true;
        ctx.blocker().queueWork(ctx, "kfree_rcu_monitor", w -> monitor(w, krc));
    }

    /** {@code kfree_rcu_monitor()}: detach all channels into one batch freed after a grace period. */
    private void monitor(ExecContext ctx, Krc krc) {
        ctx.lock(krc.lock);
        krc.monitorPending = false;
        List<Block> blocks = new ArrayList<>(krc.full);
        krc.full.clear();
        for (int i = 0; i < 2; i++) {
            if (krc.cur[i] != null && krc.cur[i].n > 0) blocks.add(krc.cur[i]);
            krc.cur[i] = null;
        }
        long[] head = krc.head.toArray();
        krc.head.clear();
        ctx.unlock(krc.lock);
        if (blocks.isEmpty() && head.length == 0) return;
        statBatches++;
        ctx.enter("queue_rcu_work");
        ctx.blocker().callRcu(ctx, c -> {
            c.enter("kfree_rcu_work");
            freeBatch(c, krc, blocks, head);
            c.exit();
        });
        ctx.exit();
    }

    private void freeBatch(ExecContext ctx, Krc krc, List<Block> blocks, long[] head) {
        for (Block b : blocks) {
            boolean vm = b.n > 0 && VmapAreas.isVmallocAddr(b.records[0]);
            ctx.enter(vm ? "vfree" : "kfree_bulk");
            for (int i = 0; i < b.n; i++) {
                ctx.charge(costs.krcBulkPerObj);
                kvfree(ctx, b.records[i]);
            }
            ctx.exit();
            statFreed += b.n;
            pendingObjects -= b.n;
            ctx.lock(krc.lock);
            if (krc.cache.size() < minCachedObjs) {
                krc.cache.add(b.pfn);
                ctx.charge(costs.krcCachePage);
                ctx.unlock(krc.lock);
            } else {
                ctx.unlock(krc.lock);
                pages.freePages(ctx, b.pfn, 0);
                bnodePages--;
            }
        }
        for (long p : head) {
            ctx.charge(costs.krcHeadFreePerObj);
            kvfree(ctx, p);
            statFreed++;
            pendingObjects--;
        }
    }

    private void kvfree(ExecContext ctx, long p) {
        if (VmapAreas.isVmallocAddr(p)) {
            if (vmalloc == null) throw new IllegalStateException("vmalloc pointer without a vmalloc model");
            vmalloc.vfree(ctx, p);
        } else {
            slab.kfree(ctx, p);
        }
    }

    /** {@code kvfree_rcu_barrier()}: flush every CPU's batches and wait until they are freed. */
    public void kvfreeRcuBarrier(ExecContext ctx) {
        for (Krc krc : krcs) monitor(ctx, krc);
        ctx.enter("rcu_barrier");
        ctx.blocker().rcuBarrier(ctx);
        ctx.exit();
    }

    /** Pages held as pointer blocks or in the per-cpu caches. */
    public long bnodePages() { return bnodePages; }
    /** Objects queued and not yet freed. */
    public long pendingObjects() { return pendingObjects; }
    public int cachedPages(int cpu) { return krcs[cpu].cache.size(); }
}
