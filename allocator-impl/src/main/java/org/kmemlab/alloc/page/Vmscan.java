package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;

import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * Reclaim, after {@code mm/vmscan.c}: {@code try_to_free_pages()} → {@code do_try_to_free_pages()} →
 * {@code shrink_zones()} → {@code shrink_node()} → {@code shrink_lruvec()}/{@code shrink_page_list()} and
 * {@code shrink_slab()} → {@code do_shrink_slab()}; kswapd's {@code balance_pgdat()}.
 *
 * <p>The reclaimable population is a file LRU per zone of order-0 page cache pages, some dirty, some under
 * writeback; anonymous memory is not reclaimable (no swap is modeled). Each priority pass scans
 * {@code lru_size >> priority} pages from the LRU tail: clean pages are freed, dirty pages are rotated (direct
 * reclaim never writes file pages; kswapd starts writeback when the gfp allows IO), pages under writeback are
 * skipped. Writeback completes {@code page.writeback_latency} after it started, checked whenever reclaim runs.
 */
public final class Vmscan {
    final PageAllocator pa;
    final PhysMem mem;
    // writeback completion queue (pfn, done-at), FIFO: all writebacks take the same latency
    private int[] wbPfn = new int[1024];
    private long[] wbDone = new long[1024];
    private int wbHead, wbTail;
    public long pagesWrittenBack;

    Vmscan(PageAllocator pa) {
        this.pa = pa;
        this.mem = pa.mem;
        pfmemallocWait = new Object[pa.nrNodes];
        pfmemallocWaiters = new boolean[pa.nrNodes];
        for (int n = 0; n < pa.nrNodes; n++) {
            String name = "pfmemalloc_wait (node " + n + ")";
            pfmemallocWait[n] = new Object() {
                @Override public String toString() { return name; }
            };
        }
    }

    // ------------------------------------------------------------------ throttle_direct_reclaim

    /** {@code pgdat->pfmemalloc_wait}, per node: where {@code throttle_direct_reclaim()} puts direct reclaimers to sleep. */
    final Object[] pfmemallocWait;
    /**
     * {@code waitqueue_active(&pgdat->pfmemalloc_wait)}: a task was throttled on the node since the last
     * {@code wake_up_all()}. A GFP_NOFS sleeper that times out leaves it set, and the next wake-up finds nobody,
     * as the kernel's would once the sleeper had left.
     */
    private final boolean[] pfmemallocWaiters;
    /** {@code PGSCAN_DIRECT_THROTTLE}: direct reclaimers that {@code throttle_direct_reclaim()} put to sleep. */
    public long pgscanDirectThrottle;
    /** The GFP_NOFS sleeper's timeout, {@code HZ}: one second. */
    static final long THROTTLE_NOFS_TIMEOUT_NS = 1_000_000_000L;

    /**
     * {@code zone_reclaimable_pages()}: the file LRU (no swap, so no anon). Since 6.13 (commit 6aaced5abd32) a zone
     * with nothing reclaimable counts its free pages instead, so that {@code allow_direct_reclaim()} does not skip a
     * DMA32 that could still help; {@code should_reclaim_retry()} then adds them to the free pages once more. 5.10
     * has no fallback.
     */
    long zoneReclaimablePages(Zone z) {
        long nr = z.reclaimablePages();
        return nr == 0 && pa.eraNow ? z.freePages() : nr;
    }

    /**
     * {@code allow_direct_reclaim()}: direct reclaim may go on while the free pages of the node's zones up to
     * ZONE_NORMAL (those with reclaimable pages) are above half of their min watermarks, the PFMEMALLOC reserve.
     * Below it, a sleeping kswapd is woken for ZONE_NORMAL and below. A hopeless node (kswapd failed
     * MAX_RECLAIM_RETRIES times) never throttles.
     */
    boolean allowDirectReclaim(ExecContext ctx, int node) {
        Kswapd k = pa.kswapds[node];
        if (k.hopeless()) return true;
        long reserve = 0, free = 0;
        for (Zone z : pa.zones) {
            if (z.node != node || z.type > ZONE_NORMAL || !z.populated() || zoneReclaimablePages(z) == 0) continue;
            reserve += z.minWmark();
            free += z.freePages();
        }
        // "If there are no reserves (unexpected config) then do not throttle"
        if (reserve == 0) return true;
        boolean ok = free > reserve / 2;
        // "kswapd must be awake if processes are being throttled"
        if (!ok && k.waitqueueActive()) k.wakeForThrottled(ctx.now(), ctx.cpu());
        return ok;
    }

    /**
     * {@code throttle_direct_reclaim()}: before it reclaims, a task that is not a kernel thread sleeps on the
     * first usable node's {@code pfmemalloc_wait} while {@link #allowDirectReclaim} says no, until kswapd wakes it
     * (GFP_FS callers), or for at most a second (the others: they may hold the filesystem lock kswapd needs).
     * Kernel threads are never throttled: they may be the ones that clean pages for reclaim. Modeled only where
     * kswapd runs as a thread of its own ({@link PageAllocator#kswapdDriven}): without it nothing would wake the
     * sleepers.
     */
    void throttleDirectReclaim(ExecContext ctx, long gfp, Zone[] zl, int highest) {
        if (!pa.kswapdDriven || ctx.kthread()) return;
        int node = -1;
        for (Zone z : zl) {
            // for_each_zone_zonelist_nodemask() up to gfp_zone(), skipping what lies above ZONE_NORMAL
            if (z.type > highest || z.type > ZONE_NORMAL) continue;
            node = z.node;
            break;
        }
        if (node < 0 || allowDirectReclaim(ctx, node)) return;
        pgscanDirectThrottle++;
        pfmemallocWaiters[node] = true;
        int n = node;
        ctx.enter("throttle_direct_reclaim");
        try {
            long timeout = (gfp & Gfp.FS) == 0 ? THROTTLE_NOFS_TIMEOUT_NS : -1;
            ctx.blocker().waitEvent(ctx, pfmemallocWait[n], () -> allowDirectReclaim(ctx, n), timeout);
        } finally {
            ctx.exit();
        }
    }

    /**
     * {@code wake_up_all(&pgdat->pfmemalloc_wait)} if anyone sleeps there: from balance_pgdat() after each
     * priority round once {@link #allowDirectReclaim} holds ({@code onlyIfAllowed}), and unconditionally from
     * prepare_kswapd_sleep(), so that no throttled task outlives kswapd's going to sleep.
     */
    void wakeThrottled(ExecContext ctx, int node, boolean onlyIfAllowed) {
        if (!pfmemallocWaiters[node]) return;
        if (onlyIfAllowed && !allowDirectReclaim(ctx, node)) return;
        pfmemallocWaiters[node] = false;
        ctx.blocker().wakeUp(ctx, pfmemallocWait[node]);
    }

    // ------------------------------------------------------------------ page cache population

    // The LRU holds folios of any order (the trace's page cache has large folios); the counters are in pages,
    // as NR_FILE_PAGES, NR_FILE_DIRTY and NR_WRITEBACK are.
    void lruAdd(Zone z, int pfn, boolean dirty) {
        int n = 1 << mem.order(pfn);
        mem.setKind(pfn, K_PAGECACHE);
        mem.setFlags(pfn, dirty ? F_DIRTY : 0);
        mem.listAddHead(z.lruHead, z.lruTail, 0, pfn);
        z.nrFile += n;
        if (dirty) z.nrDirty += n;
    }

    void lruDel(Zone z, int pfn) {
        int n = 1 << mem.order(pfn);
        mem.listDel(z.lruHead, z.lruTail, 0, pfn);
        z.nrFile -= n;
        if ((mem.flags(pfn) & F_DIRTY) != 0) z.nrDirty -= n;
        if ((mem.flags(pfn) & F_WRITEBACK) != 0) z.nrWriteback -= n;
        mem.setKind(pfn, K_EXTERNAL);
        mem.setFlags(pfn, 0);
    }

    /**
     * Makes a block that {@link PageAllocator#allocPages} handed out a page cache folio on the file LRU
     * ({@code filemap_add_folio()}, then {@code folio_add_lru()}): from now on reclaim may free it, firing
     * {@link PageEvents#pageCacheDelete}, and compaction may move an order-0 one ({@link PageEvents#pageMigrated}).
     * {@code dirty}: written (e.g. allocated with __GFP_WRITE), so reclaim must wait for its writeback.
     */
    public void adoptPageCache(long pfn, boolean dirty) {
        int p = checkAdoptable(pfn);
        lruAdd(mem.zoneOf(p), p, dirty);
    }

    /** Makes an allocated block anonymous memory: movable by compaction, never reclaimed (no swap). */
    public void adoptAnon(long pfn) {
        int p = checkAdoptable(pfn);
        mem.setKind(p, K_ANON);
        mem.zoneOf(p).nrAnon += 1 << mem.order(p);
    }

    private int checkAdoptable(long pfn) {
        int p = (int) pfn;
        if (pfn < 0 || pfn >= mem.nrPfns || mem.state(p) != S_ALLOC || mem.kind(p) != K_EXTERNAL)
            throw new IllegalArgumentException("pfn " + pfn + " is not an allocated block of its caller's");
        return p;
    }

    /** Moves LRU membership and flags from {@code from} to {@code to} (migration keeps the LRU position). */
    void lruReplace(Zone z, int from, int to) {
        int p = mem.prev(from), n = mem.next(from);
        mem.setPrev(to, p);
        mem.setNext(to, n);
        if (p >= 0) mem.setNext(p, to); else z.lruHead[0] = to;
        if (n >= 0) mem.setPrev(n, to); else z.lruTail[0] = to;
        mem.unlink(from);
    }

    /**
     * Reads {@code nrPages} file pages into the page cache (e.g. a workload's reads; {@code nrDirty} of them
     * dirtied by writes). Pages come from the normal allocator path with {@code gfp}. Returns pages added.
     */
    public int addPageCache(ExecContext ctx, int nrPages, int nrDirty, long gfp) {
        int added = 0;
        for (int i = 0; i < nrPages; i++) {
            long pfn = pa.allocPages(ctx, 0, gfp);
            if (pfn < 0) break;
            Zone z = mem.zoneOf(pfn);
            lruAdd(z, (int) pfn, i < nrDirty);
            added++;
        }
        return added;
    }

    /** Dirties up to {@code n} clean page cache pages of the zone (writes to cached files). */
    public int dirtyPages(Zone z, int n) {
        int done = 0;
        for (int p = z.lruHead[0]; p >= 0 && done < n; p = mem.next(p)) {
            if ((mem.flags(p) & (F_DIRTY | F_WRITEBACK)) == 0) {
                mem.orFlags(p, F_DIRTY);
                z.nrDirty += 1 << mem.order(p);
                done += 1 << mem.order(p);
            }
        }
        return done;
    }

    /** Allocates {@code nrPages} anonymous (movable, unreclaimable) pages. Returns pages added. */
    public int addAnon(ExecContext ctx, int nrPages) { return addAnon(ctx, nrPages, Gfp.GFP_HIGHUSER_MOVABLE); }

    /** Allocates {@code nrPages} anonymous pages with {@code gfp}. Returns pages added. */
    public int addAnon(ExecContext ctx, int nrPages, long gfp) {
        int added = 0;
        for (int i = 0; i < nrPages; i++) {
            long pfn = pa.allocPages(ctx, 0, gfp);
            if (pfn < 0) break;
            mem.setKind((int) pfn, K_ANON);
            mem.zoneOf(pfn).nrAnon++; // order 0
            added++;
        }
        return added;
    }

    /** Frees a model-owned page (anon or page cache), e.g. when the replayer ends a simulated task. */
    public void releaseOwned(ExecContext ctx, long pfn) {
        int p = (int) pfn;
        if (mem.state(p) != S_ALLOC) throw new IllegalArgumentException("pfn " + pfn + " not allocated");
        byte k = mem.kind(p);
        if (k != K_PAGECACHE && k != K_ANON) throw new IllegalArgumentException("pfn " + pfn + " is not model-owned");
        if (k == K_PAGECACHE && (mem.flags(p) & F_WRITEBACK) != 0) throw new IllegalStateException("page under writeback");
        dropOwner(p);
        pa.freePagesInternal(ctx, p, mem.order(p));
    }

    /**
     * The owner's part of freeing an allocated block ({@code __folio_put()} of a page cache or anonymous
     * folio): off the LRU and out of the counters. Other kinds have no owner state.
     */
    void dropOwner(int p) {
        byte k = mem.kind(p);
        if (k == K_PAGECACHE) lruDel(mem.zoneOf(p), p);
        else if (k == K_ANON) {
            mem.zoneOf(p).nrAnon -= 1 << mem.order(p);
            mem.setKind(p, K_EXTERNAL);
        }
    }

    /** end_page_writeback() for every writeback whose I/O finished by {@code ctx.now()}. */
    public int completeWriteback(ExecContext ctx) {
        int n = 0;
        long now = ctx.now();
        while (wbHead != wbTail && wbDone[wbHead] <= now) {
            int p = wbPfn[wbHead];
            wbHead = (wbHead + 1) & (wbPfn.length - 1);
            if (mem.state(p) == S_ALLOC && mem.kind(p) == K_PAGECACHE && (mem.flags(p) & F_WRITEBACK) != 0) {
                int pages = 1 << mem.order(p);
                mem.clearFlags(p, F_WRITEBACK);
                mem.zoneOf(p).nrWriteback -= pages;
                pagesWrittenBack += pages;
                n += pages;
            }
        }
        return n;
    }

    private void startWriteback(Zone z, int p, long doneAt) {
        int pages = 1 << mem.order(p);
        mem.setFlags(p, (byte) ((mem.flags(p) & ~F_DIRTY) | F_WRITEBACK));
        z.nrDirty -= pages;
        z.nrWriteback += pages;
        if (((wbTail + 1) & (wbPfn.length - 1)) == wbHead) {
            int len = wbPfn.length;
            int[] np = new int[len * 2];
            long[] nd = new long[len * 2];
            int k = 0;
            for (int i = wbHead; i != wbTail; i = (i + 1) & (len - 1), k++) { np[k] = wbPfn[i]; nd[k] = wbDone[i]; }
            wbPfn = np; wbDone = nd; wbHead = 0; wbTail = k;
        }
        wbPfn[wbTail] = p;
        wbDone[wbTail] = doneAt;
        wbTail = (wbTail + 1) & (wbPfn.length - 1);
    }

    // ------------------------------------------------------------------ reclaim

    /** {@code try_to_free_pages()}: SWAP_CLUSTER_MAX pages, priority DEF_PRIORITY down to 0. */
    long tryToFreePages(ExecContext ctx, PageCosts c, long gfp, int order, Zone[] zl, int highest) {
        ctx.enter("try_to_free_pages");
        ctx.charge(c.reclaimSetup);
        throttleDirectReclaim(ctx, gfp, zl, highest);
        pa.events.reclaimBegin(zl.length > 0 ? zl[0].node : 0, order, gfp);
        long reclaimed = 0;
        for (int prio = DEF_PRIORITY; prio >= 0 && reclaimed < SWAP_CLUSTER_MAX; prio--) {
            int lastNode = -1;
            for (Zone z : zl) {
                if (z.node == lastNode) continue; // shrink_zones(): one shrink_node per node
                lastNode = z.node;
                reclaimed += shrinkNode(ctx, c, z.node, highest, prio, gfp, false, SWAP_CLUSTER_MAX - reclaimed);
                if (reclaimed >= SWAP_CLUSTER_MAX) break;
            }
        }
        pa.events.reclaimEnd(zl.length > 0 ? zl[0].node : 0, false, reclaimed);
        ctx.exit();
        return reclaimed;
    }

    /** {@code shrink_node()}: the zones' file LRUs up to {@code reclaimIdx}, then the shrinkers. */
    long shrinkNode(ExecContext ctx, PageCosts c, int node, int reclaimIdx, int prio, long gfp, boolean kswapd, long nrToReclaim) {
        ctx.enter("shrink_node");
        completeWriteback(ctx);
        long reclaimed = 0;
        ctx.enter("shrink_lruvec");
        for (Zone z : pa.zones) {
            if (z.node != node || z.type > reclaimIdx || z.nrFile == 0) continue;
            long scan = z.nrFile >> prio;
            if (scan == 0 && prio == 0) scan = z.nrFile;
            if (scan == 0) continue;
            reclaimed += shrinkPageList(ctx, c, z, scan, gfp, kswapd, nrToReclaim - reclaimed);
        }
        ctx.exit();
        reclaimed += shrinkSlab(ctx, c, node, gfp, prio);
        // "On reclaim progress, reset the failure counter. A successful direct reclaim run will revive a dormant kswapd."
        if (reclaimed > 0) pa.kswapds[node].failures = 0;
        ctx.exit();
        return reclaimed;
    }

    private final int[] batch = new int[SWAP_CLUSTER_MAX];

    /**
     * {@code shrink_inactive_list()}: isolates up to SWAP_CLUSTER_MAX pages from the LRU tail under the
     * lru_lock (dirty and writeback pages are put back at the head), then frees the clean ones in
     * {@code shrink_page_list()} after dropping the lock, as the kernel does, so zone->lock is never
     * taken inside lru_lock.
     */
    long shrinkPageList(ExecContext ctx, PageCosts c, Zone z, long scan, long gfp, boolean kswapd, long want) {
        ctx.enter("shrink_inactive_list");
        long freed = 0, scanned = 0;
        long doneAt = ctx.now() + c.writeback;
        while (scanned < scan && z.lruTail[0] >= 0 && freed < Math.max(want, 1)) {
            KLockHelper.lock(ctx, pa.lruLock[z.node]);
            int n = 0, taken = 0, unqueuedDirty = 0;
            long batchScanned = 0;
            while (n < batch.length && scanned + batchScanned < scan && z.lruTail[0] >= 0) {
                int p = z.lruTail[0];
                batchScanned += 1 << mem.order(p);
                taken++;
                byte f = mem.flags(p);
                if ((f & F_WRITEBACK) != 0) {
                    rotate(z, p);
                } else if ((f & F_DIRTY) != 0) {
                    if ((f & F_FSOWNED) == 0 && !(kswapd && (gfp & Gfp.IO) != 0)) unqueuedDirty++;
                    // Only kswapd writes file pages from reclaim (direct reclaim would risk stack overflow in
                    // the filesystem); direct reclaimers mark the page for immediate reclaim and move on.
                    // A page of a filesystem whose writeback only its own threads do (FsWriteback) waits for them.
                    if (kswapd && (gfp & Gfp.IO) != 0 && (f & F_FSOWNED) == 0) startWriteback(z, p, doneAt);
                    else mem.orFlags(p, F_RECLAIM);
                    rotate(z, p);
                } else {
                    lruDel(z, p);
                    batch[n++] = p;
                }
            }
            ctx.unlock(pa.lruLock[z.node]);
            if (unqueuedDirty > 0 && unqueuedDirty == taken) wakeupFlusherThreads(ctx, c, z.node, doneAt);
            scanned += batchScanned;
            ctx.enter("shrink_page_list");
            long pages = 0;
            for (int i = 0; i < n; i++) {
                int o = mem.order(batch[i]);
                pa.events.pageCacheDelete(batch[i], o);
                pa.freePagesInternal(ctx, batch[i], o);
                pages += 1 << o;
            }
            ctx.charge(c.reclaimScan * batchScanned + c.reclaimFree * pages);
            ctx.exit();
            freed += pages;
            if (batchScanned == 0) break;
        }
        pa.pgscan += scanned;
        pa.pgsteal += freed;
        ctx.exit();
        return freed;
    }

    /**
     * shrink_inactive_list(): "If dirty folios are scanned that are not queued for IO, it implies that
     * flushers are not doing their job" — when every folio it took was dirty and unqueued it calls
     * {@code wakeup_flusher_threads(WB_REASON_VMSCAN)}, and the flusher ({@code wb_workfn()}) starts
     * writeback of all the node's dirty page cache. The model starts it at once; the pages become
     * reclaimable when their I/O completes. Pages of a filesystem that does its own writeback
     * ({@link FsWriteback}) are left to it.
     */
    private void wakeupFlusherThreads(ExecContext ctx, PageCosts c, int node, long doneAt) {
        ctx.enter("wakeup_flusher_threads");
        ctx.charge(c.wakeKswapd); // a work item queued and a kthread woken, as for kswapd
        ctx.exit();
        for (Zone z : pa.zones) {
            if (z.node != node || z.nrDirty == 0) continue;
            for (int p = z.lruHead[0]; p >= 0; p = mem.next(p))
                if ((mem.flags(p) & (F_DIRTY | F_WRITEBACK | F_FSOWNED)) == F_DIRTY) startWriteback(z, p, doneAt);
        }
    }

    private void rotate(Zone z, int p) {
        mem.listDel(z.lruHead, z.lruTail, 0, p);
        mem.listAddHead(z.lruHead, z.lruTail, 0, p);
    }

    /** {@code shrink_slab()} → {@code do_shrink_slab()}: scan (count >> priority) * 4 / seeks objects per shrinker. */
    long shrinkSlab(ExecContext ctx, PageCosts c, int node, long gfp, int prio) {
        if (pa.shrinkers.isEmpty()) return 0;
        ctx.enter("shrink_slab");
        long before = pa.reclaimedSlab;
        pa.shrinkerDepth++;
        try {
            for (int i = 0; i < pa.shrinkers.size(); i++) {
                Shrinker s = pa.shrinkers.get(i);
                ctx.enter("do_shrink_slab");
                ctx.charge(c.shrinkerCall);
                long count = s.countObjects(ctx, node, gfp);
                if (count > 0) {
                    long delta = (count >> prio) * 4 / Math.max(1, s.seeks());
                    if (delta == 0 && prio == 0) delta = count;
                    if (delta > 0) s.scanObjects(ctx, node, gfp, Math.min(delta, count * 2));
                }
                ctx.exit();
            }
        } finally {
            pa.shrinkerDepth--; // a shrinker that waits (a filesystem's) may park the request
        }
        ctx.exit();
        return pa.reclaimedSlab - before;
    }

    /** {@code pgdat_balanced()}: any eligible zone meeting the high watermark is enough. */
    boolean pgdatBalanced(int node, int order, int highest) {
        for (Zone z : pa.zones) {
            if (z.node != node || z.type > highest || !z.populated()) continue;
            if (Watermarks.zoneWatermarkOk(z, order, z.highWmark(), highest, 0, pa.eraNow)) return true;
        }
        return false;
    }
}
