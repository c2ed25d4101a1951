package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.PageProvider;

import java.util.ArrayList;
import java.util.List;

import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * The page allocator facade: {@code mm/page_alloc.c} {@code __alloc_pages()} (5.10:
 * {@code __alloc_pages_nodemask()}), {@code get_page_from_freelist()}, {@code rmqueue()},
 * {@code rmqueue_pcplist()}, {@code rmqueue_bulk()}, {@code free_unref_page()},
 * {@code free_pcppages_bulk()}, {@code drain_all_pages()}, {@code __alloc_pages_slowpath()} with
 * {@code gfp_to_alloc_flags()}, {@code __alloc_pages_direct_compact()}, {@code __alloc_pages_direct_reclaim()},
 * {@code should_reclaim_retry()}, {@code should_compact_retry()}, {@code __alloc_pages_may_oom()},
 * {@code wake_all_kswapds()}. Reclaim lives in {@link Vmscan}, compaction in {@link Compaction}.
 *
 * <p>It implements {@link PageProvider} for the slab/vmalloc layer. It owns no threads and no clock:
 * every cost is charged to the caller's {@link ExecContext} under kernel frame names, and every
 * {@code zone->lock} acquisition goes through {@link ExecContext#lock} so the replayer orders them.
 * kswapd is a state machine per node ({@link Kswapd}) that a driver with a clock runs when
 * {@link #kswapdPending} says it was woken; kcompactd is the callable step {@link #kcompactd}, run when
 * {@link #kcompactdPending} says so.
 *
 * <p>Not thread-safe: one replayer thread drives it.
 */
public final class PageAllocator implements PageProvider {
    /** The kernel loops forever for __GFP_NOFAIL and for !__GFP_FS OOM; the model gives up after this many passes. */
    public static final int SLOWPATH_LOOP_CAP = 200;

    final KernelEra era;
    final boolean eraNow;
    /** The entry frame of the era: 5.10's {@code __alloc_pages_nodemask()}, later {@code __alloc_pages()}. */
    private final String allocFrame;
    final PhysMem mem;
    final BuddyAllocator buddy;
    final Zone[] zones;
    final int nrNodes;
    final int nrCpus;
    final int[] cpuToNode;
    /** zonelists[node][highest_zoneidx]: local zones downwards, then the other nodes'. */
    Zone[][][] zonelists;
    /** alloc_flags_nofragment()'s ALLOC_NOFRAGMENT per [node][highest_zoneidx] (a property of the zonelist). */
    int[][] nofragment;
    /**
     * The fast path's view of the two tables above: per {@code cpu * NR_ZONES + highest_zoneidx}, the zonelist
     * of the CPU's node and the request's starting alloc_flags (ALLOC_WMARK_LOW and ALLOC_NOFRAGMENT), which
     * is what prepare_alloc_pages() and alloc_flags_nofragment() derive on every call from the node.
     */
    Zone[][] cpuZonelist;
    int[] cpuAllocFlags;
    final Vmscan vmscan;
    final Compaction compaction;
    final List<Shrinker> shrinkers = new ArrayList<>();
    final KLock[] lruLock;
    final KLock pcpuDrainMutex = new KLock("pcpu_drain_mutex", KLock.Kind.MUTEX);
    final KLock oomLock = new KLock("oom_lock", KLock.Kind.MUTEX);
    /** {@code pgdat->kswapd_wait}'s lock, a spinlock_t taken by {@code wake_up_interruptible()} in wakeup_kswapd(). */
    final KLock[] kswapdWaitLock;
    PageEvents events = PageEvents.NONE;
    OomHandler oomHandler = (ctx, order, gfp) -> false;

    /** Each node's kswapd thread; kcompactd's wake-ups per node (pgdat->kcompactd_max_order). */
    final Kswapd[] kswapds;
    /** Set by {@link #kswapdDriven(boolean)}. */
    boolean kswapdDriven;
    final boolean[] kcompactdWoken;
    final int[] kcompactdOrder;
    /** kcompactd's run in progress per node: the zone index it goes on with (-1 between runs), and the run's order. */
    private final int[] kcompactdNextZone, kcompactdRunOrder;
    /** Pages kcompactd migrated, all nodes. */
    public long kcompactdMigrated;

    /** PF_MEMALLOC depth: >0 while the model runs reclaim or compaction on behalf of an allocation. */
    int memallocDepth;
    /** Pages freed while a shrinker runs ({@code reclaim_state->reclaimed_slab}). */
    long reclaimedSlab;
    int shrinkerDepth;

    private PageCosts costs;
    private final AllocOutcome scratch = new AllocOutcome();
    private final AllocOutcome inner = new AllocOutcome();

    // vmstat event counters (/proc/vmstat names)
    public long allocstall, compactstall, compactsuccess, compactfail, oomKills, pgscan, pgsteal, allocFailures,
            drainAllPages;

    PageAllocator(KernelEra era, PhysMem mem, int nrNodes, int nrCpus) {
        this.era = era;
        this.eraNow = era.atLeast(KernelEra.ENOW);
        this.allocFrame = eraNow ? "__alloc_pages" : "__alloc_pages_nodemask";
        this.mem = mem;
        this.zones = mem.zones;
        this.nrNodes = nrNodes;
        this.nrCpus = nrCpus;
        this.buddy = new BuddyAllocator(mem, eraNow);
        cpuToNode = new int[nrCpus];
        for (int c = 0; c < nrCpus; c++) cpuToNode[c] = (int) ((long) c * nrNodes / nrCpus);
        zonelists = new Zone[nrNodes][NR_ZONES][];
        lruLock = new KLock[nrNodes];
        for (int n = 0; n < nrNodes; n++) lruLock[n] = new KLock("lruvec->lru_lock[" + n + "]", KLock.Kind.SPIN);
        kswapds = new Kswapd[nrNodes];
        for (int n = 0; n < nrNodes; n++) kswapds[n] = new Kswapd(this, n);
        kswapdWaitLock = new KLock[nrNodes];
        for (int n = 0; n < nrNodes; n++) kswapdWaitLock[n] = new KLock("pgdat->kswapd_wait.lock[" + n + "]", KLock.Kind.SPIN);
        kcompactdWoken = new boolean[nrNodes];
        kcompactdOrder = new int[nrNodes];
        kcompactdNextZone = new int[nrNodes];
        java.util.Arrays.fill(kcompactdNextZone, -1);
        kcompactdRunOrder = new int[nrNodes];
        proactiveNextZone = new int[nrNodes];
        java.util.Arrays.fill(proactiveNextZone, -1);
        for (Zone z : zones) {
            z.pcp = new PerCpuPages[nrCpus];
            z.pcpStride = PerCpuPages.stride(eraNow);
            z.pcpLists = new int[nrCpus * z.pcpStride];
            for (int c = 0; c < nrCpus; c++) z.pcp[c] = new PerCpuPages(c, eraNow, z.pcpLists, c * z.pcpStride);
        }
        vmscan = new Vmscan(this);
        compaction = new Compaction(this);
    }

    /** build_all_zonelists(): called by the builders once zone sizes are known (unpopulated zones are left out). */
    void buildZonelists() {
        for (int n = 0; n < nrNodes; n++) {
            for (int hi = 0; hi < NR_ZONES; hi++) {
                List<Zone> zl = new ArrayList<>();
                for (int k = 0; k < nrNodes; k++) {
                    int node = (n + k) % nrNodes;
                    for (int t = hi; t >= 0; t--) {
                        Zone z = zone(node, t);
                        if (z != null && z.populated()) zl.add(z);
                    }
                }
                zonelists[n][hi] = zl.toArray(new Zone[0]);
            }
        }
        nofragment = new int[nrNodes][NR_ZONES];
        for (int n = 0; n < nrNodes; n++)
            for (int hi = 0; hi < NR_ZONES; hi++) nofragment[n][hi] = allocFlagsNofragment(zonelists[n][hi], 0);
        cpuZonelist = new Zone[nrCpus * NR_ZONES][];
        cpuAllocFlags = new int[nrCpus * NR_ZONES];
        for (int c = 0; c < nrCpus; c++)
            for (int hi = 0; hi < NR_ZONES; hi++) {
                cpuZonelist[c * NR_ZONES + hi] = zonelists[cpuToNode[c]][hi];
                cpuAllocFlags[c * NR_ZONES + hi] = ALLOC_WMARK_LOW | nofragment[cpuToNode[c]][hi];
            }
    }

    // ================================================================ configuration and inspection

    public KernelEra era() { return era; }
    public PhysMem mem() { return mem; }
    public int nrNodes() { return nrNodes; }
    public int nrCpus() { return nrCpus; }
    public List<Zone> zones() { return List.of(zones); }
    public int nodeOfCpu(int cpu) { return cpuToNode[Math.floorMod(cpu, nrCpus)]; }

    public Zone zone(int node, int type) {
        for (Zone z : zones) if (z.node == node && z.type == type) return z;
        return null;
    }

    public void setEvents(PageEvents ev) { events = ev == null ? PageEvents.NONE : ev; buddy.events = events; }
    public void setOomHandler(OomHandler h) { oomHandler = h; }
    public void registerShrinker(Shrinker s) { shrinkers.add(s); }
    public void unregisterShrinker(Shrinker s) { shrinkers.remove(s); }
    public List<Shrinker> shrinkers() { return List.copyOf(shrinkers); }
    public boolean kswapdPending(int node) { return kswapds[node].woken(); }
    /** Node {@code node}'s kswapd, for a driver with a clock to run ({@link Kswapd#run}). */
    public Kswapd kswapdThread(int node) { return kswapds[node]; }

    /**
     * Tells the allocator that the caller runs each node's kswapd as a thread of its own ({@link Kswapd#run} on a
     * clock), as the replayer does. Direct reclaimers are then throttled ({@code throttle_direct_reclaim()}), since
     * kswapd is there to wake them; callers without a clock (and the unit tests) run reclaim without it.
     */
    public void kswapdDriven(boolean v) { kswapdDriven = v; }

    /** {@code pgscan_direct_throttle} of /proc/vmstat. */
    public long pgscanDirectThrottle() { return vmscan.pgscanDirectThrottle; }
    /** vmstat's kswapd wake-ups: a sleeping kswapd woken, on any node. */
    public long kswapdWakeups() {
        long n = 0;
        for (Kswapd k : kswapds) n += k.statWakeups;
        return n;
    }
    public boolean kcompactdPending(int node) { return kcompactdWoken[node]; }
    /** The outcome of the last {@link #allocPages} call (PageProvider callers get only the pfn). */
    public AllocOutcome lastOutcome() { return last; }
    public long extfragEvents() { long n = 0; for (Zone z : zones) n += z.statExtfrag; return n; }

    PageCosts costs(ExecContext ctx) {
        CostTable t = ctx.costs();
        PageCosts c = costs;
        if (c == null || c.table != t) costs = c = new PageCosts(t);
        return c;
    }

    /**
     * Recomputes min/low/high like {@code __setup_per_zone_wmarks()} for {@code min_free_kbytes} and
     * {@code watermark_scale_factor}, lowmem_reserve like {@code setup_per_zone_lowmem_reserve()}, and the
     * pcp batch/high for the era (5.10 {@code pageset_set_batch}, current {@code zone_set_pageset_high_and_batch}).
     */
    public void setupWatermarksAndPcp(long minFreeKbytes, int watermarkScaleFactor) {
        Watermarks.setupPerZoneWmarks(zones, minFreeKbytes, watermarkScaleFactor);
        Watermarks.setupLowmemReserve(zones, nrNodes);
        setupPcp();
    }

    void setupPcp() {
        for (Zone z : zones) {
            int batch = Math.max(1, PerCpuPages.zoneBatchsize(z.managed));
            int cpusOfNode = 0;
            for (int c = 0; c < nrCpus; c++) if (cpuToNode[c] == z.node) cpusOfNode++;
            int highMin, highMax, high;
            if (eraNow) {
                highMin = PerCpuPages.zoneHighsize(z.managed, z.watermark[WMARK_LOW], batch, cpusOfNode, 0, 0);
                highMax = PerCpuPages.zoneHighsize(z.managed, z.watermark[WMARK_LOW], batch, cpusOfNode, 0,
                        PerCpuPages.MIN_PERCPU_PAGELIST_HIGH_FRACTION);
                high = highMin;
            } else {
                high = highMin = highMax = PerCpuPages.highFor510(batch);
            }
            for (PerCpuPages p : z.pcp) p.setHighBatch(high, batch, highMin, highMax);
        }
    }

    // ================================================================ PageProvider

    @Override
    public long allocPages(ExecContext ctx, int order, long gfp) {
        // a shrinker or OOM handler may allocate while an outer allocation is in its slow path: give the
        // nested call its own outcome so the outer one is not overwritten
        AllocOutcome out = allocDepth > 0 ? new AllocOutcome() : scratch;
        long pfn = alloc(ctx, order, gfp, out);
        if (last != out) last = out; // a reference store into an old object costs G1 a fence (AllocOutcome.reset)
        return pfn;
    }

    private AllocOutcome last = scratch;

    private int allocDepth;

    @Override
    public void freePages(ExecContext ctx, long pfn, int order) {
        int p = (int) pfn;
        if (pfn < 0 || pfn >= mem.nrPfns || mem.state(p) != S_ALLOC || mem.order(p) != order)
            throw new IllegalArgumentException("bad free of pfn " + pfn + " order " + order + ": "
                    + (pfn >= 0 && pfn < mem.nrPfns ? STATE_NAMES[mem.state(p)] + "/" + mem.order(p) : "out of range"));
        if (mem.kind(p) != K_EXTERNAL) vmscan.dropOwner(p);
        freePagesInternal(ctx, costs(ctx), zones[mem.blockZone[p >>> PAGEBLOCK_ORDER]], p, order);
    }

    @Override
    public long freePageCount() {
        long n = 0;
        for (Zone z : zones) n += z.freePages;
        return n;
    }

    /** Free pages plus pages on pcp lists: what the buddy would hold after drain_all_pages. */
    public long freeAndPcpPageCount() {
        long n = 0;
        for (Zone z : zones) n += z.freePages + z.pcpPages();
        return n;
    }

    // ================================================================ allocation entry and fast path

    /** {@code gfp_zone()}: the highest zone the mask allows. */
    static int gfpZone(long gfp) {
        if ((gfp & Gfp.DMA) != 0) return ZONE_DMA;
        if ((gfp & Gfp.DMA32) != 0) return ZONE_DMA32;
        if ((gfp & (Gfp.MOVABLE | Gfp.HIGHMEM)) == (Gfp.MOVABLE | Gfp.HIGHMEM)) return ZONE_MOVABLE;
        return ZONE_NORMAL;
    }

    /**
     * {@code __alloc_pages()}: allocates 2^order pages and fills {@code out}. Returns the head pfn or -1.
     */
    public long alloc(ExecContext ctx, int order, long gfp, AllocOutcome out) {
        PageCosts c = costs(ctx);
        out.reset(order, gfp, ctx.now());
        return allocBody(ctx, c, order, gfp, out);
    }

    // The rare cases (invalid order, alloc_pages_nolock, __GFP_FAST_TRY, failure) live in methods of their
    // own so that this body and get_page_from_freelist() stay small enough for the JIT to inline the whole
    // pcp fast path into the caller (HotSpot refuses hot callees above FreqInlineSize, 325 bytecodes).
    private long allocBody(ExecContext ctx, PageCosts c, int order, long gfp, AllocOutcome out) {
        boolean nolock = (gfp & Gfp.NOLOCK) != 0;
        // alloc_pages_nolock() calls get_page_from_freelist() itself, not through __alloc_pages()
        if (!nolock) ctx.enter(allocFrame);
        ctx.charge(c.allocEntry);
        if (ctx.lockdep()) mightAlloc(ctx, gfp);
        long pfn;
        if (order < 0 || order >= NR_ORDERS) {
            out.reason = FailReason.INVALID;
            pfn = -1;
        } else {
            // prepare_alloc_pages(): the zonelist, highest zone and migratetype of this request
            int mt = Gfp.migratetype(gfp);
            int highest = gfpZone(gfp);
            int ci = ctx.cpu() * NR_ZONES + highest;
            Zone[] zl = cpuZonelist[ci];
            int allocFlags = cpuAllocFlags[ci] | (int) (gfp & Gfp.KSWAPD_RECLAIM);
            if ((gfp & (Gfp.NOLOCK | Gfp.FAST_TRY)) != 0) {
                pfn = allocNoSlowpath(ctx, c, gfp, order, mt, zl, highest, allocFlags, out);
            } else {
                pfn = getPageFromFreelist(ctx, c, gfp, order, allocFlags, zl, highest, mt, out);
                if (pfn < 0) pfn = enterSlowpath(ctx, c, gfp, order, zl, highest, mt, out);
            }
        }
        out.pfn = pfn;
        out.endNs = ctx.now();
        out.settleZone();
        if (pfn < 0) allocFailed(order, gfp, out);
        events.pageAlloc(out.zone, pfn, order, gfp, Gfp.migratetype(gfp));
        if (!nolock) ctx.exit();
        return pfn;
    }

    /**
     * From get_page_from_freelist()'s failure to {@code __alloc_pages_slowpath()}. Only the slow path calls
     * out of the model (shrinkers, the OOM handler, the blocker's waits), so only it can meet a nested
     * {@link #allocPages}; counting the depth here keeps that bookkeeping off the fast path. A parked
     * request leaves by an exception, hence the finally.
     */
    private long enterSlowpath(ExecContext ctx, PageCosts c, long gfp, int order, Zone[] zl, int highest, int mt, AllocOutcome out) {
        // current_gfp_context(): the task's NOFS/NOIO scope applies from here on
        long slowGfp = Gfp.applyScope(gfp, ctx.scopeClearMask());
        out.enteringSlowpath();
        allocDepth++;
        try {
            return slowpath(ctx, c, slowGfp, order, zl, highest, mt, out);
        } finally {
            allocDepth--;
        }
    }

    /** The failure bookkeeping of {@code __alloc_pages()}: the counter, the reason, and warn_alloc(). */
    private void allocFailed(int order, long gfp, AllocOutcome out) {
        allocFailures++;
        if (out.reason == FailReason.NONE) out.reason = FailReason.RETRIES_EXHAUSTED;
        if ((gfp & Gfp.NOWARN) == 0 && out.reason != FailReason.PCP_EMPTY) events.allocFailure(order, gfp, out.reason);
    }

    /** The two single-pass variants without {@code __alloc_pages_slowpath()}: alloc_pages_nolock() and __GFP_FAST_TRY. */
    private long allocNoSlowpath(ExecContext ctx, PageCosts c, long gfp, int order, int mt, Zone[] zl, int highest, int allocFlags,
                                 AllocOutcome out) {
        if ((gfp & Gfp.NOLOCK) != 0) return allocNolock(ctx, c, gfp, order, mt, zl, highest, out);
        return fastTry(ctx, c, gfp, order, mt, zl, highest, allocFlags, out);
    }

    /**
     * {@code alloc_frozen_pages_nolock_noprof()} (mm/page_alloc.c, behind {@code alloc_pages_nolock()}):
     * orders above {@code pcp_allowed_order()} fail at once; then one {@code get_page_from_freelist()} pass
     * with {@code alloc_flags = ALLOC_NOLOCK} alone, i.e. the MIN watermark, no ALLOC_KSWAPD, and zone->lock
     * only through {@code spin_trylock_irqsave()} in {@code rmqueue_bulk()} and {@code rmqueue_buddy()}, which
     * give up when another CPU holds it; no {@code __alloc_pages_slowpath()} ("Unlike regular alloc_pages()
     * there is no __alloc_pages_slowpath()"). The pcp side's {@code pcp_spin_trylock()} is not modeled: the
     * model's pcp lists have no lock of their own (allocator-model.md §B.2).
     */
    long allocNolock(ExecContext ctx, PageCosts c, long gfp, int order, int mt, Zone[] zl, int highest, AllocOutcome out) {
        if (zl.length == 0 || !zl[0].pcp[ctx.cpu()].allowedOrder(order)) {
            out.reason = FailReason.INVALID;
            return -1;
        }
        long pfn = getPageFromFreelist(ctx, c, gfp, order, ALLOC_WMARK_MIN | ALLOC_NOLOCK, zl, highest, mt, out);
        if (pfn < 0 && out.reason == FailReason.NONE) out.reason = FailReason.PCP_EMPTY;
        return pfn;
    }

    /**
     * {@code prepare_alloc_pages()} (5.10) / {@code might_alloc()} (later): {@code fs_reclaim_acquire(gfp);
     * fs_reclaim_release(gfp);} so that lockdep learns "this context may reclaim" even when it does not.
     */
    private void mightAlloc(ExecContext ctx, long gfp) {
        long g = Gfp.applyScope(gfp, ctx.scopeClearMask());
        if (!needReclaim(g)) return;
        ctx.fsReclaimAcquire(g, false);
        ctx.fsReclaimRelease(g);
    }

    /**
     * {@code __need_reclaim()}: may enter direct reclaim, and not already in it (PF_MEMALLOC, which the model
     * keeps as {@code memallocDepth}). __GFP_NOLOCKDEP is not modeled.
     */
    boolean needReclaim(long gfp) { return Gfp.allowBlocking(gfp) && memallocDepth == 0; }

    /** {@code alloc_flags_nofragment()}: ALLOC_KSWAPD from the gfp, ALLOC_NOFRAGMENT when a DMA32 zone sits below Normal. */
    int allocFlagsNofragment(Zone[] zl, long gfp) {
        int flags = (int) (gfp & Gfp.KSWAPD_RECLAIM); // == ALLOC_KSWAPD
        if (zl.length == 0) return flags;
        Zone pref = zl[0];
        if (pref.type != ZONE_NORMAL) return flags;
        Zone dma32 = zone(pref.node, ZONE_DMA32);
        if (nrNodes > 1 && (dma32 == null || !dma32.populated())) return flags;
        return flags | ALLOC_NOFRAGMENT;
    }

    /**
     * __GFP_FAST_TRY (2020 RFC, allocator-model.md §B.13 BN-FASTTRY): {@code get_page_from_freelist()} with the
     * usual LOW watermark check per zone, but {@code rmqueue_pcplist()} only scans this CPU's pcp lists from
     * the requested migratetype up to MIGRATE_PCPTYPES-1 and never calls {@code rmqueue_bulk()}, and there is
     * no slow path. In 5.10, {@code rmqueue()}'s exit still wakes kswapd on a boosted zone (a waitqueue
     * spinlock the RFC did not remove); current kernels need ALLOC_KSWAPD for that.
     */
    long fastTry(ExecContext ctx, PageCosts c, long gfp, int order, int mt, Zone[] zl, int highest, int allocFlags, AllocOutcome out) {
        ctx.enter("get_page_from_freelist");
        out.freelistPasses++;
        long pfn = -1;
        for (Zone z : zl) {
            ctx.charge(c.zoneCheck);
            if (!Watermarks.zoneWatermarkFastCached(z, order, WMARK_LOW, highest, allocFlags, gfp, eraNow)) continue;
            PerCpuPages pcp = z.pcp[ctx.cpu()];
            if (!pcp.allowedOrder(order)) continue;
            ctx.enter("rmqueue");
            for (int t = mt; t < MT_PCPTYPES && pfn < 0; t++) {
                int li = PerCpuPages.pindex(t, order);
                if (pcp.head(li) >= 0) pfn = pcpPop(ctx, c, z, pcp, li, order);
            }
            if (z.boostedWatermark && (!eraNow || (allocFlags & ALLOC_KSWAPD) != 0)) {
                z.boostedWatermark = false;
                wakeupKswapd(ctx, c, z, gfp, 0, z.type);
            }
            ctx.exit();
            if (pfn >= 0) {
                prepNewPage(ctx, c, (int) pfn, order, gfp);
                out.setZone(z);
                out.path |= AllocOutcome.PATH_PCP;
                break;
            }
        }
        if (pfn < 0) out.reason = FailReason.PCP_EMPTY;
        ctx.exit();
        return pfn;
    }

    /** {@code get_page_from_freelist()}. */
    long getPageFromFreelist(ExecContext ctx, PageCosts c, long gfp, int order, int allocFlags, Zone[] zl,
                             int highest, int mt, AllocOutcome out) {
        ctx.enter("get_page_from_freelist");
        out.freelistPasses++;
        while (true) {
            boolean noFallback = (allocFlags & ALLOC_NOFRAGMENT) != 0;
            for (Zone z : zl) {
                ctx.charge(c.zoneCheck);
                if ((allocFlags & ALLOC_NO_WATERMARKS) == 0 && !zoneWatermarkPasses(z, order, allocFlags, highest, gfp)) continue;
                // a remote node while NOFRAGMENT: prefer fragmenting locally over going remote
                if (noFallback && nrNodes > 1 && z.node != zl[0].node) break;
                long pfn = rmqueue(ctx, c, z, order, gfp, allocFlags, mt, out);
                if (pfn >= 0) {
                    prepNewPage(ctx, c, (int) pfn, order, gfp);
                    if (order > 0) reserveHighatomic(ctx, c, z, (int) pfn, allocFlags);
                    out.setZone(z);
                    ctx.exit();
                    return pfn;
                }
            }
            if (noFallback) { allocFlags &= ~ALLOC_NOFRAGMENT; continue; }
            ctx.exit();
            return -1;
        }
    }

    /**
     * get_page_from_freelist()'s watermark test for one zone. Current kernels detect ZONE_BELOW_HIGH here
     * (not in the hotter free path): the high watermark first, and the allocation's own mark only once
     * the zone is below high; 5.10 checks the allocation's mark alone.
     */
    private boolean zoneWatermarkPasses(Zone z, int order, int allocFlags, int highest, long gfp) {
        if (eraNow && !z.belowHigh) {
            if (Watermarks.zoneWatermarkFastCached(z, order, WMARK_HIGH, highest, allocFlags, gfp, true)) return true;
            z.belowHigh = true;
        }
        return Watermarks.zoneWatermarkFastCached(z, order, allocFlags & ALLOC_WMARK_MASK, highest, allocFlags, gfp, eraNow);
    }

    /** get_page_from_freelist(): a high-order ALLOC_HIGHATOMIC (5.10: ALLOC_HARDER) success may reserve its pageblock. */
    private void reserveHighatomic(ExecContext ctx, PageCosts c, Zone z, int pfn, int allocFlags) {
        boolean highatomic = eraNow ? (allocFlags & ALLOC_HIGHATOMIC) != 0 : (allocFlags & ALLOC_HARDER) != 0;
        if (!highatomic) return;
        lock(ctx, c, z);
        buddy.reserveHighatomicPageblock(z, pfn);
        unlock(ctx, z);
    }

    void prepNewPage(ExecContext ctx, PageCosts c, int pfn, int order, long gfp) {
        long ns = c.prepNewPage;
        if ((gfp & Gfp.ZERO) != 0) ns += c.zeroPage << order;
        ctx.charge(ns);
        mem.setFlags(pfn, (byte) Gfp.migratetype(gfp));
    }

    /** {@code rmqueue()}: pcp for pcp orders, else the buddy under zone->lock. */
    long rmqueue(ExecContext ctx, PageCosts c, Zone z, int order, long gfp, int allocFlags, int mt, AllocOutcome out) {
        ctx.enter("rmqueue");
        long pfn = -1;
        PerCpuPages pcp = z.pcp[ctx.cpu()];
        if (pcp.allowedOrder(order)) {
            pfn = rmqueuePcplist(ctx, c, z, pcp, order, mt, allocFlags, out);
            if (pfn < 0 && !eraNow) { ctx.exit(); return -1; } // 5.10 never falls back to the buddy for order 0
        }
        if (pfn < 0) pfn = rmqueueBuddy(ctx, c, z, order, allocFlags, mt, out);
        // wakeup_kswapd() takes a waitqueue lock: alloc_pages_nolock() never gets here (no ALLOC_KSWAPD)
        if (z.boostedWatermark && (allocFlags & ALLOC_NOLOCK) == 0 && (!eraNow || (allocFlags & ALLOC_KSWAPD) != 0)) {
            // 5.10 wakes kswapd unconditionally here (rmqueue out: label); current kernels need ALLOC_KSWAPD
            z.boostedWatermark = false;
            wakeupKswapd(ctx, c, z, 0, 0, z.type);
        }
        ctx.exit();
        return pfn;
    }

    long rmqueuePcplist(ExecContext ctx, PageCosts c, Zone z, PerCpuPages pcp, int order, int mt, int allocFlags, AllocOutcome out) {
        int li = PerCpuPages.pindex(mt, order);
        if (z.pcpLists[z.pcpHead(ctx.cpu(), li)] < 0) {
            int batch = pcp.nrPcpAlloc(order, eraNow, z.belowHigh);
            rmqueueBulk(ctx, c, z, order, batch, pcp, li, mt, allocFlags);
            out.path |= AllocOutcome.PATH_PCP_REFILL;
            if (pcp.head(li) < 0) return -1;
        }
        out.path |= AllocOutcome.PATH_PCP;
        if (eraNow) pcp.freeCount >>= 1;
        return pcpPop(ctx, c, z, pcp, li, order);
    }

    private long pcpPop(ExecContext ctx, PageCosts c, Zone z, PerCpuPages pcp, int li, int order) {
        // the list through the zone, not through pcp: one dependent load less before the pfn is known
        int[] lists = z.pcpLists;
        int hi = z.pcpHead(ctx.cpu(), li);
        int p = mem.listPopHead(lists, hi, pcp.tail, li);
        lists[hi + 1] -= 1 << order;
        pcp.count -= 1 << order;
        mem.setHead(p, order, S_ALLOC, K_EXTERNAL);
        ctx.charge(c.pcpOp);
        z.statAllocs++;
        return p;
    }

    /** {@code rmqueue_bulk()}: refills one pcp list under zone->lock. */
    int rmqueueBulk(ExecContext ctx, PageCosts c, Zone z, int order, int count, PerCpuPages pcp, int li, int mt, int allocFlags) {
        ctx.enter("rmqueue_bulk");
        if ((allocFlags & ALLOC_NOLOCK) != 0) {
            if (!tryLock(ctx, c, z.lock)) {
                ctx.exit();
                return 0;
            }
        } else {
            lock(ctx, c, z);
        }
        int n = 0;
        long extfragBefore = z.statExtfrag;
        for (; n < count; n++) {
            int p = buddy.rmqueue(z, order, mt, allocFlags);
            if (p < 0) break;
            pcp.addTail(mem, li, p, order, mt);
            events.allocZoneLocked(z, p, order, mt, true);
        }
        ctx.charge(c.buddyPage * n + c.fallback * (z.statExtfrag - extfragBefore));
        z.statRefills++;
        unlock(ctx, z);
        ctx.exit();
        return n;
    }

    /** {@code rmqueue_buddy()} (5.10: the order>0 branch of rmqueue). */
    long rmqueueBuddy(ExecContext ctx, PageCosts c, Zone z, int order, int allocFlags, int mt, AllocOutcome out) {
        if ((allocFlags & ALLOC_NOLOCK) != 0) {
            if (!tryLock(ctx, c, z.lock)) return -1;
        } else {
            lock(ctx, c, z);
        }
        ctx.enter("__rmqueue_smallest");
        long extfragBefore = z.statExtfrag;
        int p = -1;
        boolean highatomic = eraNow ? (allocFlags & ALLOC_HIGHATOMIC) != 0 : (order > 0 && (allocFlags & ALLOC_HARDER) != 0);
        if (highatomic) p = buddy.rmqueueSmallest(z, order, MT_HIGHATOMIC);
        if (p < 0) p = buddy.rmqueue(z, order, mt, allocFlags);
        if (p < 0 && eraNow && (allocFlags & (ALLOC_OOM | ALLOC_NON_BLOCK)) != 0) p = buddy.rmqueueSmallest(z, order, MT_HIGHATOMIC);
        long fb = z.statExtfrag - extfragBefore;
        if (fb > 0) out.path |= AllocOutcome.PATH_FALLBACK;
        ctx.charge(c.buddyPage + c.fallback * fb);
        ctx.exit();
        if (p >= 0) {
            mem.setHead(p, order, S_ALLOC, K_EXTERNAL);
            events.allocZoneLocked(z, p, order, mt, false);
            z.statAllocs++;
            out.path |= AllocOutcome.PATH_BUDDY;
        }
        unlock(ctx, z);
        return p;
    }

    void lock(ExecContext ctx, PageCosts c, Zone z) {
        ctx.enter(z.lock.acquireFrame());
        ctx.lock(z.lock);
        ctx.charge(c.spinLock);
        ctx.exit();
    }

    /** {@code spin_trylock_irqsave()} (zone->lock, or compaction's LRU lock): one atomic attempt, charged whether or not it succeeds. */
    boolean tryLock(ExecContext ctx, PageCosts c, org.kmemlab.alloc.core.KLock l) {
        ctx.enter("_raw_spin_trylock");
        boolean ok = ctx.tryLock(l);
        ctx.charge(c.spinLock);
        ctx.exit();
        return ok;
    }

    void unlock(ExecContext ctx, Zone z) { ctx.unlock(z.lock); }

    // ================================================================ free path

    /** Frees a block the model owns (already unlinked from any LRU). */
    void freePagesInternal(ExecContext ctx, int pfn, int order) {
        freePagesInternal(ctx, costs(ctx), mem.zoneOf(pfn), pfn, order);
    }

    /** {@code __free_pages()} → {@code free_unref_page()} for pcp orders, else {@code __free_pages_ok()}. */
    void freePagesInternal(ExecContext ctx, PageCosts c, Zone z, int pfn, int order) {
        if (shrinkerDepth > 0) reclaimedSlab += 1L << order;
        mem.setFlags(pfn, 0);
        ctx.enter("__free_pages");
        events.pageFree(pfn, order);
        z.statFrees++;
        PerCpuPages pcp = z.pcp[ctx.cpu()];
        int mt = mem.blockMt[pfn >>> PAGEBLOCK_ORDER];
        if (pcp.allowedOrder(order) && mt != MT_ISOLATE) freeUnrefPage(ctx, c, z, pcp, pfn, order, mt);
        else freePagesOk(ctx, c, z, pfn, order, mt);
        ctx.exit();
    }

    /** {@code free_unref_page()} with {@code free_unref_page_commit()}: onto this CPU's pcp list. */
    private void freeUnrefPage(ExecContext ctx, PageCosts c, Zone z, PerCpuPages pcp, int pfn, int order, int mt) {
        ctx.enter("free_unref_page");
        // highatomic pages are cached on the movable list but remember their type
        // (set_pcppage_migratetype), so free_pcppages_bulk returns them to the highatomic list
        int li = PerCpuPages.pindex(mt >= MT_PCPTYPES ? MT_MOVABLE : mt, order);
        mem.setHead(pfn, order, S_PCP, (byte) mt);
        // the list through the zone, not through pcp: one dependent load less before the store
        int[] lists = z.pcpLists;
        int hi = z.pcpHead(ctx.cpu(), li);
        mem.listAddHead(lists, hi, pcp.tail, li, pfn);
        lists[hi + 1] += 1 << order;
        pcp.count += 1 << order;
        ctx.charge(c.pcpOp);
        if (eraNow) {
            pcp.allocFactor >>= 1;
            // free_frozen_page_commit(): a run of high-order frees (orders 1..PAGE_ALLOC_COSTLY_ORDER) with
            // no allocation between them empties the list at once instead of holding the pages, which
            // would fragment the zone; the rest is left to vmstat's decay_pcp_high()
            boolean freeHigh = false;
            if (order > 0) {
                freeHigh = pcp.freeCount >= pcp.batch + pcp.highMin / 2 && pcp.prevFreeHighOrder
                        && (!pcp.freeHighBatch || pcp.count >= pcp.batch);
                pcp.prevFreeHighOrder = true;
            } else if (pcp.prevFreeHighOrder) {
                pcp.prevFreeHighOrder = false;
            }
            if (pcp.freeCount < pcp.batch << PerCpuPages.PCP_BATCH_SCALE_MAX) pcp.freeCount += 1 << order;
            if (freeHigh) {
                freeHighPcp(ctx, c, z, pcp, pcp.nrPcpFreeHigh(), li);
            } else if (z.belowHigh || pcp.count >= pcp.quietHigh) {
                // nr_pcp_high() is called on every free in the kernel; below quietHigh (and above the zone's
                // high watermark) it would neither change pcp->high nor trigger a bulk free
                int high = pcp.nrPcpHigh(z.belowHigh);
                if (pcp.count >= high) freeHighPcp(ctx, c, z, pcp, pcp.nrPcpFree(true, high), li);
            }
        } else if (pcp.count >= pcp.high) {
            freePcppagesBulk(ctx, c, z, pcp.nrPcpFree(false, pcp.high), pcp, li);
        }
        ctx.exit();
    }

    /**
     * free_frozen_page_commit() once the list reaches high (current kernels): free {@code count} pages starting
     * with the freed page's list, and clear ZONE_BELOW_HIGH when the zone is back above its high watermark.
     */
    private void freeHighPcp(ExecContext ctx, PageCosts c, Zone z, PerCpuPages pcp, int count, int li) {
        freePcppagesBulk(ctx, c, z, count, pcp, li);
        if (z.belowHigh && Watermarks.zoneWatermarkOk(z, 0, z.highWmark(), ZONE_MOVABLE, 0, true)) z.belowHigh = false;
    }

    /** {@code __free_pages_ok()}: orders the pcp lists do not take, and isolated pageblocks, straight to the buddy. */
    private void freePagesOk(ExecContext ctx, PageCosts c, Zone z, int pfn, int order, int mt) {
        ctx.enter("__free_pages_ok");
        lock(ctx, c, z);
        ctx.enter("free_one_page");
        buddy.freeOnePage(z, pfn, order, mt);
        ctx.charge(c.buddyFree);
        ctx.exit();
        unlock(ctx, z);
        ctx.exit();
    }

    /**
     * {@code free_pcppages_bulk()}: returns {@code count} pages from the pcp lists to the buddy, each from the
     * tail (the coldest page) of its list. Current kernels start with list {@code li} (the list just freed to;
     * 0 for drains and the vmstat decay) and empty each list before going round to the next non-empty one.
     * 5.10 goes round the three migratetype lists starting after list 0, taking {@code batch_free} pages from
     * each, where batch_free grows by one for every list visited, so that fuller lists give more; when only
     * one list is left it gives the rest.
     */
    void freePcppagesBulk(ExecContext ctx, PageCosts c, Zone z, int count, PerCpuPages pcp, int li) {
        count = Math.min(count, pcp.count);
        if (count <= 0) return;
        ctx.enter("free_pcppages_bulk");
        lock(ctx, c, z);
        int blocks = 0;
        if (eraNow) {
            li = li - 1;
            while (count > 0) {
                do {
                    if (++li > pcp.nLists - 1) li = 0;
                } while (pcp.tail[li] < 0);
                do {
                    count -= drainTail(z, pcp, li);
                    blocks++;
                } while (count > 0 && pcp.tail[li] >= 0);
            }
        } else {
            int mt = 0, batchFree = 0;
            while (count > 0) {
                do {
                    batchFree++;
                    if (++mt == pcp.nLists) mt = 0;
                } while (pcp.tail[mt] < 0);
                if (batchFree == pcp.nLists) batchFree = count;
                do {
                    count -= drainTail(z, pcp, mt);
                    blocks++;
                } while (count > 0 && --batchFree > 0 && pcp.tail[mt] >= 0);
            }
        }
        ctx.charge(c.buddyFree * blocks);
        unlock(ctx, z);
        ctx.exit();
    }

    /** Moves the last block of pcp list {@code li} to the buddy ({@code mm_page_pcpu_drain}); returns its pages. */
    private int drainTail(Zone z, PerCpuPages pcp, int li) {
        int p = pcp.tail[li];
        int order = mem.order(p);
        mem.listDel(pcp.lists, pcp.hi(li), pcp.tail, li, p);
        pcp.lists[pcp.hi(li) + 1] -= 1 << order;
        pcp.count -= 1 << order;
        // 5.10 uses the migratetype cached when the page entered the pcp; current kernels look it up again
        int mt = eraNow ? mem.pageblockMigratetype(p) : mem.kind(p);
        if (mem.pageblockMigratetype(p) == MT_ISOLATE) mt = MT_ISOLATE;
        events.pcpuDrain(z, p, order, mt);
        buddy.freeOnePage(z, p, order, mt);
        return 1 << order;
    }

    /** Blocks that pcp list (cpu, migratetype, order) holds at the start of a replay. */
    public interface PcpStart {
        long blocks(int cpu, int migratetype, int order);
    }

    /**
     * Replaces what the pcp lists hold: every list goes back to the buddy, then each list of each CPU's preferred
     * zone (the first of its GFP_KERNEL zonelist) gets {@code start}'s blocks from the buddy, as rmqueue_bulk()
     * would have put them there. For a replay whose trace shows what the lists held when it began (a machine
     * snapshot taken at another moment does not).
     */
    public void setPcpLists(ExecContext ctx, PcpStart start) {
        for (Zone z : zones) for (int cpu = 0; cpu < nrCpus; cpu++) drainPages(ctx, z, cpu);
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            Zone[] zl = cpuZonelist[cpu * NR_ZONES + ZONE_NORMAL];
            if (zl.length == 0) continue;
            Zone z = zl[0];
            PerCpuPages pcp = z.pcp[cpu];
            for (int mt = 0; mt < MT_PCPTYPES; mt++) {
                for (int order = 0; order <= pcp.maxOrder; order++) {
                    int li = PerCpuPages.pindex(mt, order);
                    for (long n = start.blocks(cpu, mt, order); n > 0; n--) {
                        int p = buddy.rmqueue(z, order, mt, 0);
                        if (p < 0) break;
                        pcp.addTail(mem, li, p, order, mt);
                    }
                }
            }
        }
    }

    /** Whether {@link #vmstatRefresh} does anything in this era: the replayer schedules it only then. */
    public boolean vmstatDecaysPcpHigh() { return eraNow; }

    /**
     * vmstat's periodic work on {@code cpu} ({@code mm/vmstat.c vmstat_update()} → {@code refresh_cpu_vm_stats()},
     * every {@code vm.stat_interval}, a second by default): current kernels call {@code decay_pcp_high()} for each
     * populated zone there. 5.10 only drained other nodes' pages from the pcp lists here (NUMA), which the model
     * leaves out. Returns whether a zone has more to do ({@code pcp->high} still above high_min, or pages drained).
     */
    public boolean vmstatRefresh(ExecContext ctx, int cpu) {
        if (!eraNow) return false;
        PageCosts c = costs(ctx);
        ctx.enter("refresh_cpu_vm_stats");
        boolean todo = false;
        for (Zone z : zones) if (z.populated() && decayPcpHigh(ctx, c, z, z.pcp[cpu])) todo = true;
        ctx.exit();
        return todo;
    }

    /**
     * {@code decay_pcp_high()}: pcp->high falls by an eighth (never below high_min, nor more than a scaled batch
     * under the pages held), and what the lists hold above it goes back to the buddy a batch at a time (6.18
     * batches this drain so that the pcp lock is not held for thousands of pages).
     */
    boolean decayPcpHigh(ExecContext ctx, PageCosts c, Zone z, PerCpuPages pcp) {
        boolean todo = false;
        if (pcp.high > pcp.highMin) {
            pcp.decayHigh();
            if (pcp.high > pcp.highMin) todo = true;
        }
        int toDrain = pcp.count - pcp.high;
        if (toDrain <= 0) return todo;
        ctx.enter("decay_pcp_high");
        while (toDrain > 0) {
            int n = Math.min(toDrain, pcp.batch);
            freePcppagesBulk(ctx, c, z, n, pcp, 0);
            toDrain -= n;
        }
        ctx.exit();
        return true;
    }

    /** {@code drain_local_pages()} for one CPU and zone. */
    public void drainPages(ExecContext ctx, Zone z, int cpu) {
        PerCpuPages pcp = z.pcp[cpu];
        if (pcp.count > 0) freePcppagesBulk(ctx, costs(ctx), z, pcp.count, pcp, 0);
    }

    /**
     * {@code drain_all_pages(NULL)}: the kernel queues {@code drain_local_pages_wq} on every CPU with pcp
     * pages and flushes the work under {@code pcpu_drain_mutex}; the model drains them inline and charges
     * the round trip per CPU.
     */
    public void drainAllPages(ExecContext ctx) {
        PageCosts c = costs(ctx);
        ctx.enter("drain_all_pages");
        drainAllPages++;
        ctx.enter(pcpuDrainMutex.acquireFrame());
        ctx.lock(pcpuDrainMutex);
        ctx.exit();
        for (int cpu = 0; cpu < nrCpus; cpu++) {
            boolean any = false;
            for (Zone z : zones) if (z.pcp[cpu].count > 0) any = true;
            if (!any) continue;
            ctx.charge(c.drainCpu);
            ctx.enter("drain_local_pages");
            for (Zone z : zones) drainPages(ctx, z, cpu);
            ctx.exit();
        }
        ctx.unlock(pcpuDrainMutex);
        ctx.exit();
    }

    // ================================================================ slow path

    /** 5.10 {@code gfp_to_alloc_flags()} / current {@code gfp_to_alloc_flags()} (alloc_flags_slowpath). */
    public int gfpToAllocFlags(long gfp, int order) {
        int flags = ALLOC_WMARK_MIN | ALLOC_CPUSET;
        flags |= (int) (gfp & (Gfp.HIGH | Gfp.KSWAPD_RECLAIM)); // ALLOC_HIGH/MIN_RESERVE, ALLOC_KSWAPD
        if (eraNow) {
            if ((gfp & Gfp.DIRECT_RECLAIM) == 0) {
                if ((gfp & Gfp.NOMEMALLOC) == 0) {
                    flags |= ALLOC_NON_BLOCK;
                    if (order > 0 && (flags & ALLOC_MIN_RESERVE) != 0) flags |= ALLOC_HIGHATOMIC;
                }
                flags &= ~ALLOC_CPUSET;
            }
        } else if ((gfp & Gfp.ATOMIC) != 0) {
            if ((gfp & Gfp.NOMEMALLOC) == 0) flags |= ALLOC_HARDER;
            flags &= ~ALLOC_CPUSET;
        }
        if (Gfp.migratetype(gfp) == MT_MOVABLE) flags |= ALLOC_CMA;
        return flags;
    }

    /** {@code __gfp_pfmemalloc_flags()}: reserves for __GFP_MEMALLOC and PF_MEMALLOC (the model's own reclaim). */
    int gfpPfmemallocFlags(ExecContext ctx, long gfp) {
        if ((gfp & Gfp.NOMEMALLOC) != 0) return 0;
        if ((gfp & Gfp.MEMALLOC) != 0) return ALLOC_NO_WATERMARKS;
        if (memallocDepth > 0 && !ctx.atomicContext()) return ALLOC_NO_WATERMARKS;
        return 0;
    }

    long slowpath(ExecContext ctx, PageCosts c, long gfp, int order, Zone[] zl, int highest, int mt, AllocOutcome out) {
        ctx.enter("__alloc_pages_slowpath");
        out.path |= AllocOutcome.PATH_SLOWPATH;
        boolean canDirectReclaim = Gfp.allowBlocking(gfp);
        boolean costly = order > PAGE_ALLOC_COSTLY_ORDER;
        // current kernels test gfp_compaction_allowed() up front and never enter compaction without
        // __GFP_IO; 5.10 enters try_to_compact_pages and returns COMPACT_SKIPPED there
        boolean canCompact = !eraNow || (gfp & Gfp.IO) != 0;
        int compactPriority = INIT_COMPACT_PRIORITY;
        CompactResult compactResult = CompactResult.SKIPPED;
        int[] compactionRetries = {0};
        int noProgressLoops = 0;
        int loops = 0;
        long pfn;

        ctx.charge(c.slowpath);
        int allocFlags = gfpToAllocFlags(gfp, order);
        if ((allocFlags & ALLOC_KSWAPD) != 0) wakeAllKswapds(ctx, c, order, gfp, zl, highest, out);

        pfn = getPageFromFreelist(ctx, c, gfp, order, allocFlags & ~ALLOC_NOFRAGMENT, zl, highest, mt, out);
        if (pfn >= 0) return gotPage(ctx, pfn);

        // Costly and unmovable high-order requests try compaction before reclaim: there are likely
        // enough base pages, they are just scattered.
        if (canDirectReclaim && canCompact && (costly || (order > 0 && mt != MT_MOVABLE)) && gfpPfmemallocFlags(ctx, gfp) == 0) {
            pfn = directCompact(ctx, c, gfp, order, allocFlags, zl, highest, mt, INIT_COMPACT_PRIORITY, out);
            compactResult = out.lastCompactResult;
            if (pfn >= 0) return gotPage(ctx, pfn);
            if (costly && (gfp & Gfp.NORETRY) != 0) {
                if (compactResult == CompactResult.SKIPPED || compactResult == CompactResult.DEFERRED)
                    return nopage(ctx, c, gfp, order, zl, highest, mt, out, FailReason.COSTLY_NORETRY_COMPACT_SKIPPED, canDirectReclaim);
                compactPriority = INIT_COMPACT_PRIORITY;
            }
        }

        while (true) { // retry:
            if (++loops > SLOWPATH_LOOP_CAP) return fail(ctx, out, FailReason.NOFAIL_LIVELOCK);
            out.slowpathRetries = loops - 1;
            ctx.charge(c.slowpath);
            if ((allocFlags & ALLOC_KSWAPD) != 0) wakeAllKswapds(ctx, c, order, gfp, zl, highest, out);
            int reserveFlags = gfpPfmemallocFlags(ctx, gfp);
            if (reserveFlags != 0) {
                // 5.10 current_alloc_flags(gfp, reserve_flags) drops ALLOC_KSWAPD; current kernels keep it
                allocFlags = reserveFlags | (allocFlags & ALLOC_CMA) | (eraNow ? allocFlags & ALLOC_KSWAPD : 0);
                out.path |= AllocOutcome.PATH_NO_WATERMARKS;
            }
            pfn = getPageFromFreelist(ctx, c, gfp, order, allocFlags, zl, highest, mt, out);
            if (pfn >= 0) return gotPage(ctx, pfn);

            if (!canDirectReclaim) return nopage(ctx, c, gfp, order, zl, highest, mt, out, FailReason.NO_DIRECT_RECLAIM, false);
            if (memallocDepth > 0) return nopage(ctx, c, gfp, order, zl, highest, mt, out, FailReason.RECLAIM_RECURSION, canDirectReclaim);

            long[] progress = {0};
            pfn = directReclaim(ctx, c, gfp, order, allocFlags, zl, highest, mt, out, progress);
            if (pfn >= 0) return gotPage(ctx, pfn);
            long didSomeProgress = progress[0];

            if (canCompact) {
                pfn = directCompact(ctx, c, gfp, order, allocFlags, zl, highest, mt, compactPriority, out);
                if (out.lastCompactResult != null) compactResult = out.lastCompactResult;
                if (pfn >= 0) return gotPage(ctx, pfn);
            } else {
                out.lastCompactResult = compactResult = CompactResult.SKIPPED;
            }

            if ((gfp & Gfp.NORETRY) != 0) return nopage(ctx, c, gfp, order, zl, highest, mt, out, FailReason.NORETRY, canDirectReclaim);
            if (costly && (!canCompact || (gfp & Gfp.RETRY_MAYFAIL) == 0))
                return nopage(ctx, c, gfp, order, zl, highest, mt, out, FailReason.COSTLY, canDirectReclaim);

            int[] npl = {noProgressLoops};
            boolean retryReclaim = shouldReclaimRetry(ctx, c, gfp, order, zl, highest, mt, allocFlags, didSomeProgress > 0, npl);
            noProgressLoops = npl[0];
            if (retryReclaim) continue;

            int[] prio = {compactPriority};
            if (didSomeProgress > 0 && canCompact && shouldCompactRetry(order, compactResult, prio, compactionRetries)) {
                compactPriority = prio[0];
                continue;
            }
            compactPriority = prio[0];

            long[] oomProgress = {0};
            pfn = mayOom(ctx, c, gfp, order, zl, highest, mt, out, oomProgress);
            if (pfn >= 0) return gotPage(ctx, pfn);
            if (oomProgress[0] > 0) { noProgressLoops = 0; continue; }
            return nopage(ctx, c, gfp, order, zl, highest, mt, out,
                    out.took(AllocOutcome.PATH_OOM) ? FailReason.OOM : FailReason.RETRIES_EXHAUSTED, canDirectReclaim);
        }
    }

    private long gotPage(ExecContext ctx, long pfn) {
        ctx.exit();
        return pfn;
    }

    private long fail(ExecContext ctx, AllocOutcome out, FailReason r) {
        out.reason = r;
        ctx.exit();
        return -1;
    }

    /** {@code nopage:} __GFP_NOFAIL keeps going with ALLOC_HARDER-level reserves; everything else fails. */
    private long nopage(ExecContext ctx, PageCosts c, long gfp, int order, Zone[] zl, int highest, int mt,
                        AllocOutcome out, FailReason r, boolean canDirectReclaim) {
        if ((gfp & Gfp.NOFAIL) != 0 && canDirectReclaim) {
            for (int i = 0; i < SLOWPATH_LOOP_CAP; i++) {
                int flags = (eraNow ? ALLOC_NON_BLOCK : ALLOC_HARDER) | ALLOC_WMARK_MIN;
                out.path |= AllocOutcome.PATH_NOFAIL_RESERVES;
                long pfn = getPageFromFreelist(ctx, c, gfp, order, flags, zl, highest, mt, out);
                if (pfn >= 0) return gotPage(ctx, pfn);
                // cond_resched() + goto retry: one more reclaim round keeps the loop honest
                long[] progress = {0};
                pfn = directReclaim(ctx, c, gfp, order, flags, zl, highest, mt, out, progress);
                if (pfn >= 0) return gotPage(ctx, pfn);
                if (progress[0] == 0) ctx.blocker().waitEvent(ctx, this, () -> false, c.jiffy);
            }
            return fail(ctx, out, FailReason.NOFAIL_LIVELOCK);
        }
        return fail(ctx, out, r);
    }

    /** {@code wake_all_kswapds()} → {@code wakeup_kswapd()} once per node. */
    void wakeAllKswapds(ExecContext ctx, PageCosts c, int order, long gfp, Zone[] zl, int highest, AllocOutcome out) {
        int lastNode = -1;
        for (Zone z : zl) {
            if (z.node == lastNode) continue;
            lastNode = z.node;
            wakeupKswapd(ctx, c, z, gfp, order, highest);
        }
        out.path |= AllocOutcome.PATH_KSWAPD_WOKEN;
    }

    /**
     * {@code wakeup_kswapd()}: records the order and zone for kswapd, then wakes it only when it sleeps
     * ({@code waitqueue_active()}: a running kswapd picks the request up when its pass ends). A hopeless
     * node, or one balanced for the request and not boosted, is left alone, and non-blocking requests
     * poke kcompactd instead. The wake-up takes the waitqueue's spinlock_t.
     */
    void wakeupKswapd(ExecContext ctx, PageCosts c, Zone z, long gfp, int order, int highest) {
        ctx.enter("wakeup_kswapd");
        int n = z.node;
        Kswapd k = kswapds[n];
        k.request(order, highest);
        if (!k.waitqueueActive()) {
            ctx.exit();
            return;
        }
        boolean boosted = false;
        for (Zone zz : zones) if (zz.node == n && zz.type <= highest && zz.watermarkBoost > 0) boosted = true;
        if (k.hopeless() || (!boosted && vmscan.pgdatBalanced(n, order, highest))) {
            // "There may be plenty of free memory available, but it's too fragmented for high-order allocations."
            if ((gfp & Gfp.DIRECT_RECLAIM) == 0) wakeupKcompactd(n, order);
            ctx.exit();
            return;
        }
        ctx.enter("__wake_up_common_lock");
        ctx.lock(kswapdWaitLock[n]);
        ctx.charge(c.wakeKswapd);
        ctx.unlock(kswapdWaitLock[n]);
        ctx.exit();
        k.wake(ctx.now(), ctx.cpu());
        events.wakeupKswapd(n, z.type, order, gfp);
        ctx.exit();
    }

    /**
     * {@code wakeup_kcompactd()}: only for a high order. It raises {@code kcompactd_max_order} first, then wakes
     * kcompactd only if it sleeps ({@code wq_has_sleeper()}: not running, not already woken) and the node is
     * suitable ({@code kcompactd_node_suitable()}). An order recorded without a wake-up is work requested all the
     * same: a running kcompactd goes round again for it, a sleeping one takes it up at its next timeout.
     */
    void wakeupKcompactd(int node, int order) {
        if (order == 0) return;
        kcompactdOrder[node] = Math.max(kcompactdOrder[node], order);
        if (kcompactdWoken[node] || kcompactdNextZone[node] >= 0 || proactiveNextZone[node] >= 0) return;
        if (!kcompactdNodeSuitable(node, kcompactdOrder[node])) return;
        kcompactdWoken[node] = true;
        events.wakeupKcompactd(node, order, kcompactdHighestZone(node));
    }

    /**
     * {@code kcompactd_node_suitable()}: some zone of the node misses the min watermark for the order and
     * compaction could help there ({@code compaction_suitable()}).
     */
    boolean kcompactdNodeSuitable(int node, int order) {
        for (Zone z : zones) {
            if (z.node != node || !z.populated()) continue;
            if (compaction.compactionSuitable(z, order, 0, z.type) == CompactResult.CONTINUE) return true;
        }
        return false;
    }

    /**
     * The {@code highest_zoneidx} kcompactd's tracepoints print: the model does not narrow it per request, so it is
     * the node's highest populated zone, {@code kcompactd_highest_zoneidx}'s value between requests.
     */
    private int kcompactdHighestZone(int node) {
        int highest = 0;
        for (Zone z : zones) if (z.node == node && z.populated()) highest = Math.max(highest, z.type);
        return highest;
    }

    /** {@code kcompactd_work_requested()}: an order recorded for kcompactd ({@code kcompactd_max_order > 0}). */
    public boolean kcompactdWorkRequested(int node) { return kcompactdOrder[node] > 0; }

    /** {@code __alloc_pages_direct_compact()}. */
    long directCompact(ExecContext ctx, PageCosts c, long gfp, int order, int allocFlags, Zone[] zl, int highest,
                       int mt, int prio, AllocOutcome out) {
        out.lastCompactResult = CompactResult.SKIPPED;
        if (order == 0) return -1;
        ctx.enter("__alloc_pages_direct_compact");
        memallocDepth++;
        CompactResult r;
        try {
            r = compaction.tryToCompactPages(ctx, c, gfp, order, allocFlags, zl, highest, mt, prio);
        } finally {
            memallocDepth--; // also when a wait inside parks the request (the replayer retries it from the top)
        }
        out.lastCompactResult = r;
        out.compactions++;
        out.path |= AllocOutcome.PATH_COMPACT;
        if (r.ordinal() <= CompactResult.SKIPPED.ordinal()) { ctx.exit(); return -1; }
        compactstall++;
        long pfn = getPageFromFreelist(ctx, c, gfp, order, allocFlags, zl, highest, mt, out);
        if (pfn >= 0) {
            Compaction.deferReset(mem.zoneOf(pfn), order, true);
            compactsuccess++;
        } else compactfail++;
        ctx.exit();
        return pfn;
    }

    /** {@code __alloc_pages_direct_reclaim()}: reclaim, one pass, then drain pcp and highatomic and retry once. */
    long directReclaim(ExecContext ctx, PageCosts c, long gfp, int order, int allocFlags, Zone[] zl, int highest,
                       int mt, AllocOutcome out, long[] progress) {
        ctx.enter("__alloc_pages_direct_reclaim");
        out.path |= AllocOutcome.PATH_RECLAIM;
        allocstall++;
        ctx.enter("__perform_reclaim");
        // fs_reclaim_acquire(gfp) comes before memalloc_noreclaim_save(): __need_reclaim() sees no PF_MEMALLOC yet
        boolean annotate = ctx.lockdep() && needReclaim(gfp);
        if (annotate) ctx.fsReclaimAcquire(gfp, true);
        memallocDepth++;
        long reclaimed;
        try {
            reclaimed = vmscan.tryToFreePages(ctx, c, gfp, order, zl, highest);
        } finally {
            // also when a wait inside reclaim parks the request: PF_MEMALLOC must not outlive it
            memallocDepth--;
            if (annotate) ctx.fsReclaimRelease(gfp);
        }
        ctx.exit();
        out.reclaimed += reclaimed;
        progress[0] = reclaimed;
        if (reclaimed == 0) { ctx.exit(); return -1; }
        long pfn = getPageFromFreelist(ctx, c, gfp, order, allocFlags, zl, highest, mt, out);
        if (pfn < 0) {
            for (Zone z : zl) {
                if (z.nrReservedHighatomic == 0) continue;
                lock(ctx, c, z);
                buddy.unreserveHighatomicPageblock(z, mt, false);
                unlock(ctx, z);
            }
            drainAllPages(ctx);
            out.path |= AllocOutcome.PATH_DRAIN;
            pfn = getPageFromFreelist(ctx, c, gfp, order, allocFlags, zl, highest, mt, out);
        }
        ctx.exit();
        return pfn;
    }

    /** {@code should_reclaim_retry()}. */
    boolean shouldReclaimRetry(ExecContext ctx, PageCosts c, long gfp, int order, Zone[] zl, int highest, int mt,
                               int allocFlags, boolean didSomeProgress, int[] noProgressLoops) {
        // Costly orders may have made progress without their order becoming available, so count them as no progress.
        if (didSomeProgress && order <= PAGE_ALLOC_COSTLY_ORDER) noProgressLoops[0] = 0;
        else noProgressLoops[0]++;
        if (noProgressLoops[0] > MAX_RECLAIM_RETRIES) {
            boolean r = false;
            for (Zone z : zl) {
                if (z.nrReservedHighatomic == 0) continue;
                lock(ctx, c, z);
                r |= buddy.unreserveHighatomicPageblock(z, mt, true);
                unlock(ctx, z);
            }
            return r;
        }
        boolean ret = false;
        for (Zone z : zl) {
            // Since 6.13 a zone with nothing reclaimable counts its free pages as reclaimable, so they count twice here.
            long reclaimable = vmscan.zoneReclaimablePages(z);
            long available = reclaimable + z.freePages;
            if (Watermarks.zoneWatermarkOk(z, order, z.minWmark(), highest, allocFlags, available, eraNow)) {
                if (!didSomeProgress && 2 * (z.nrDirty + z.nrWriteback) > reclaimable) {
                    // congestion_wait(BLK_RW_ASYNC, HZ/10): wait for writeback instead of going OOM early
                    ctx.enter("congestion_wait");
                    ctx.blocker().waitEvent(ctx, this, () -> false, c.congestionWait);
                    ctx.exit();
                    vmscan.completeWriteback(ctx);
                    return true;
                }
                ret = true;
                break;
            }
        }
        ctx.enter("_cond_resched");
        ctx.exit();
        return ret;
    }

    /** {@code should_compact_retry()}. */
    static boolean shouldCompactRetry(int order, CompactResult result, int[] prio, int[] retries) {
        if (order == 0) return false;
        if (result == CompactResult.SUCCESS) retries[0]++;
        if (result == CompactResult.COMPLETE) return checkPriority(order, prio, retries);
        if (result == CompactResult.SKIPPED || result == CompactResult.NOT_SUITABLE_ZONE) {
            // compaction_zonelist_suitable(): the model answers "reclaim could help" conservatively
            return false;
        }
        if (result == CompactResult.DEFERRED || result == CompactResult.CONTENDED || result == CompactResult.PARTIAL_SKIPPED)
            return checkPriority(order, prio, retries);
        int max = MAX_COMPACT_RETRIES;
        if (order > PAGE_ALLOC_COSTLY_ORDER) max /= 4;
        if (retries[0] <= max) return true;
        return checkPriority(order, prio, retries);
    }

    private static boolean checkPriority(int order, int[] prio, int[] retries) {
        int min = order > PAGE_ALLOC_COSTLY_ORDER ? MIN_COMPACT_COSTLY_PRIORITY : MIN_COMPACT_PRIORITY;
        if (prio[0] > min) {
            prio[0]--;
            retries[0] = 0;
            return true;
        }
        return false;
    }

    /** {@code __alloc_pages_may_oom()}. */
    long mayOom(ExecContext ctx, PageCosts c, long gfp, int order, Zone[] zl, int highest, int mt, AllocOutcome out, long[] progress) {
        ctx.enter("__alloc_pages_may_oom");
        ctx.enter(oomLock.acquireFrame());
        ctx.lock(oomLock); // mutex_trylock in the kernel; the replayer decides whether it was contended
        ctx.exit();
        long pfn = getPageFromFreelist(ctx, c, (gfp | Gfp.HARDWALL) & ~Gfp.DIRECT_RECLAIM, order,
                ALLOC_WMARK_HIGH | ALLOC_CPUSET, zl, highest, mt, out);
        if (pfn < 0 && order <= PAGE_ALLOC_COSTLY_ORDER && (gfp & (Gfp.RETRY_MAYFAIL | Gfp.THISNODE)) == 0
                && highest >= ZONE_NORMAL) {
            out.path |= AllocOutcome.PATH_OOM;
            boolean oomProgress;
            if ((gfp & Gfp.FS) == 0) {
                // out_of_memory() returns true without killing for !__GFP_FS: the caller loops, hoping
                // someone else frees memory (the "too small to fail" behaviour)
                oomProgress = true;
                ctx.blocker().waitEvent(ctx, this, () -> false, c.jiffy);
            } else {
                ctx.enter("out_of_memory");
                ctx.charge(c.oom);
                events.oom(order, gfp);
                oomKills++;
                oomProgress = oomHandler.outOfMemory(ctx, order, gfp);
                ctx.exit();
            }
            if (oomProgress || (gfp & Gfp.NOFAIL) != 0) {
                progress[0] = 1;
                if ((gfp & Gfp.NOFAIL) != 0)
                    pfn = getPageFromFreelist(ctx, c, gfp, order, ALLOC_NO_WATERMARKS, zl, highest, mt, out);
            }
        }
        ctx.unlock(oomLock);
        ctx.exit();
        return pfn;
    }

    // ================================================================ background agents

    /**
     * One whole {@code balance_pgdat()} of {@code node}'s kswapd now, for callers without a clock (a driver
     * with one runs {@link #kswapdThread} round by round). Returns pages reclaimed. {@code ctx} should be the
     * kswapd task's context.
     */
    public long kswapd(ExecContext ctx, int node) { return kswapds[node].balanceNow(ctx); }

    /** One whole run of kcompactd ({@code mm/compaction.c kcompactd_do_work()}). Returns pages migrated. */
    public long kcompactd(ExecContext ctx, int node) {
        long before = kcompactdMigrated;
        while (!kcompactdSlice(ctx, node, Long.MAX_VALUE)) { }
        return kcompactdMigrated - before;
    }

    /**
     * {@code kcompactd_do_work()} until the run ends or {@code ctx.now()} passes {@code yieldAt}, when it stops at
     * the next pageblock boundary with the zone's scanner positions cached, as compaction leaves them for the
     * next run, and the next slice goes on from there. Returns true when the run is over. A driver with a clock
     * gives kcompactd the CPU in slices, as the scheduler does with a thread that calls cond_resched().
     */
    public boolean kcompactdSlice(ExecContext ctx, int node, long yieldAt) {
        PageCosts c = costs(ctx);
        ctx.enter("kcompactd");
        ctx.enter("kcompactd_do_work");
        if (kcompactdNextZone[node] < 0) {
            kcompactdRunOrder[node] = Math.max(1, kcompactdOrder[node]);
            kcompactdWoken[node] = false;
            kcompactdNextZone[node] = 0;
            events.kcompactdWake(node, kcompactdRunOrder[node], kcompactdHighestZone(node));
        }
        int order = kcompactdRunOrder[node];
        boolean done = true;
        for (int i = kcompactdNextZone[node]; i < zones.length; i++) {
            Zone z = zones[i];
            if (z.node != node || !z.populated()) continue;
            if (Compaction.compactionDeferred(z, order)) continue;
            if (compaction.compactionSuitable(z, order, 0, z.type) != CompactResult.CONTINUE) continue;
            long before = compaction.totalMigrated;
            CompactResult r = kcompactdCompactZone(ctx, c, z, order, yieldAt, false);
            kcompactdMigrated += compaction.totalMigrated - before;
            if (r == CompactResult.CONTINUE) {
                kcompactdNextZone[node] = i;
                done = false;
                break;
            }
            if (r == CompactResult.SUCCESS) Compaction.deferReset(z, order, false);
            else if (r == CompactResult.COMPLETE) Compaction.deferCompaction(z, order);
        }
        if (done) {
            kcompactdNextZone[node] = -1;
            // "remember the requested order ... in case it was higher than our current one": it goes round again
            if (kcompactdOrder[node] <= kcompactdRunOrder[node]) kcompactdOrder[node] = 0;
            else kcompactdWoken[node] = true;
        }
        ctx.exit();
        ctx.exit();
        return done;
    }

    /**
     * kcompactd's {@code compact_zone()}: MIGRATE_SYNC_LIGHT, not direct, giving the CPU back once {@code yieldAt}
     * passes; {@code proactive} is {@code cc->proactive_compaction}. The run's modes live on {@link Compaction}
     * for this one call only.
     */
    private CompactResult kcompactdCompactZone(ExecContext ctx, PageCosts c, Zone z, int order, long yieldAt, boolean proactive) {
        compaction.yieldAt = yieldAt;
        compaction.proactive = proactive;
        try {
            return compaction.compactZone(ctx, c, z, order, COMPACT_PRIO_SYNC_LIGHT, false, MT_MOVABLE, 0, z.type);
        } finally {
            compaction.yieldAt = Long.MAX_VALUE;
            compaction.proactive = false;
        }
    }

    // ---------------------------------------------------------------- proactive compaction (5.9+)

    /**
     * {@code HPAGE_FRAG_CHECK_INTERVAL_MSEC}: how often kcompactd wakes on its own to look at its node's
     * fragmentation score.
     */
    public static final long HPAGE_FRAG_CHECK_INTERVAL_NS = 500_000_000L;
    /** {@code COMPACTION_HPAGE_ORDER}: the order the fragmentation score is taken at (HPAGE_PMD_ORDER on x86). */
    static final int COMPACTION_HPAGE_ORDER = 9;
    /** {@code vm.compaction_proactiveness}, 0..100; 0 turns proactive compaction off. */
    int compactionProactiveness = 20;
    /** Per node: the zone a proactive run goes on with (-1 between runs). */
    private final int[] proactiveNextZone;
    /** Proactive runs started and pages they migrated, all nodes. */
    public long proactiveRuns, proactiveMigrated;

    public int compactionProactiveness() { return compactionProactiveness; }

    /** Sets {@code vm.compaction_proactiveness} (0..100, as its sysctl handler bounds it). */
    public void setCompactionProactiveness(int v) {
        if (v < 0 || v > 100) throw new IllegalArgumentException("compaction_proactiveness is 0..100, not " + v);
        compactionProactiveness = v;
    }

    /** {@code fragmentation_score_zone()}: {@code extfrag_for_order()} at COMPACTION_HPAGE_ORDER, 0..100. */
    int fragmentationScoreZone(Zone z) { return Compaction.extfragForOrder(z, COMPACTION_HPAGE_ORDER); }

    /**
     * {@code fragmentation_score_node()}: the zones' scores weighted by their present pages over the node's
     * ({@code fragmentation_score_zone_weighted()}, with its + 1), so a small DMA32 zone barely counts.
     */
    public int fragmentationScoreNode(int node) {
        long nodePresent = 0;
        for (Zone z : zones) if (z.node == node) nodePresent += z.present;
        long score = 0;
        for (Zone z : zones) {
            if (z.node != node || !z.populated()) continue;
            score += z.present * fragmentationScoreZone(z) / (nodePresent + 1);
        }
        return (int) score;
    }

    /**
     * {@code fragmentation_score_wmark()}: low = max(100 - proactiveness, 5), high = min(low + 10, 100). A 2025
     * patch proposes a leeway of min(10, low / 2) for the high mark; at the default proactiveness of 20 both
     * give 80 and 90.
     */
    static int fragmentationScoreWmark(int proactiveness, boolean low) {
        int wmarkLow = Math.max(100 - proactiveness, 5);
        return low ? wmarkLow : Math.min(wmarkLow + 10, 100);
    }

    /**
     * {@code kswapd_is_running()}: {@code task_is_running(pgdat->kswapd)}. A woken kswapd is TASK_RUNNING before
     * it gets the CPU; one asleep, napping or blocked in a shrinker's wait is not.
     */
    boolean kswapdIsRunning(int node) {
        Kswapd k = kswapds[node];
        return k.woken() || k.state() == Kswapd.State.RUNNING;
    }

    /** {@code should_proactive_compact_node()}: proactiveness on, kswapd not running, score above the high mark. */
    public boolean shouldProactiveCompactNode(int node) {
        if (compactionProactiveness == 0 || kswapdIsRunning(node)) return false;
        return fragmentationScoreNode(node) > fragmentationScoreWmark(compactionProactiveness, false);
    }

    /**
     * kcompactd's proactive run of {@code node}: {@code compact_node(pgdat, true)} (5.10's
     * {@code proactive_compact_node()}): each populated zone compacted whole, MIGRATE_SYNC_LIGHT, until its score
     * is down to the low mark or kswapd runs. Like {@link #kcompactdSlice} it stops once {@code ctx.now()} passes
     * {@code yieldAt}, at a pageblock boundary, and the next call goes on from there. Returns true when the run
     * is over.
     */
    public boolean proactiveCompactSlice(ExecContext ctx, int node, long yieldAt) {
        PageCosts c = costs(ctx);
        ctx.enter("kcompactd");
        ctx.enter(eraNow ? "compact_node" : "proactive_compact_node");
        if (proactiveNextZone[node] < 0) {
            proactiveNextZone[node] = 0;
            proactiveRuns++;
        }
        boolean done = true;
        for (int i = proactiveNextZone[node]; i < zones.length; i++) {
            Zone z = zones[i];
            if (z.node != node || !z.populated()) continue;
            long before = compaction.totalMigrated;
            CompactResult r = kcompactdCompactZone(ctx, c, z, -1, yieldAt, true);
            proactiveMigrated += compaction.totalMigrated - before;
            if (r == CompactResult.CONTINUE) {
                proactiveNextZone[node] = i;
                done = false;
                break;
            }
        }
        if (done) proactiveNextZone[node] = -1;
        ctx.exit();
        ctx.exit();
        return done;
    }

    /** Runs a full compaction of every zone ({@code compact_node()}, as /proc/sys/vm/compact_memory does). */
    public long compactAll(ExecContext ctx) {
        PageCosts c = costs(ctx);
        long before = compaction.totalMigrated;
        ctx.enter("compact_node");
        for (Zone z : zones) {
            if (!z.populated()) continue;
            compaction.compactZone(ctx, c, z, -1, COMPACT_PRIO_SYNC_FULL, false, MT_MOVABLE, 0, z.type);
        }
        ctx.exit();
        return compaction.totalMigrated - before;
    }

    public Compaction compaction() { return compaction; }
    public Vmscan vmscan() { return vmscan; }

    // ================================================================ invariants

    /**
     * Checks the structural invariants (used by the tests after every step): every pfn in exactly one
     * state with consistent heads and tails, free lists and counters agree, no two free buddies that
     * {@code __free_one_page} would have merged, pcp and LRU counts agree. Throws on the first violation.
     */
    public void checkInvariants() {
        int n = mem.nrPfns;
        boolean[] seen = new boolean[n];
        for (Zone z : zones) {
            long free = 0;
            long[] perOrder = new long[NR_ORDERS];
            for (int o = 0; o < NR_ORDERS; o++) {
                for (int mt = 0; mt < NR_MT; mt++) {
                    int li = o * NR_MT + mt;
                    int cnt = 0, prev = -1;
                    for (int p = z.freeHead[li]; p >= 0; p = mem.next(p)) {
                        if (mem.prev(p) != prev) throw new IllegalStateException("broken prev link at " + p);
                        if (mem.state(p) != S_FREE || mem.order(p) != o || mem.kind(p) != mt)
                            throw new IllegalStateException("pfn " + p + " on free list " + o + "/" + mt + " is " + STATE_NAMES[mem.state(p)] + " order " + mem.order(p));
                        if (!z.contains(p) || (p & ((1 << o) - 1)) != 0) throw new IllegalStateException("misaligned/out-of-zone free block " + p);
                        if (seen[p]) throw new IllegalStateException("pfn " + p + " listed twice");
                        seen[p] = true;
                        cnt++;
                        prev = p;
                    }
                    if (z.freeTail[li] != prev) throw new IllegalStateException("tail mismatch list " + li);
                    if (cnt != z.nrFreeList[li]) throw new IllegalStateException(z + " list " + o + "/" + mt + " count " + cnt + " != " + z.nrFreeList[li]);
                    perOrder[o] += cnt;
                    free += (long) cnt << o;
                }
                if (perOrder[o] != z.nrFree[o]) throw new IllegalStateException(z + " nr_free[" + o + "] mismatch");
            }
            if (free != z.freePages) throw new IllegalStateException(z + " NR_FREE_PAGES " + z.freePages + " != " + free);
            for (PerCpuPages pcp : z.pcp) {
                int total = 0;
                for (int li = 0; li < pcp.nLists; li++) {
                    int pages = 0;
                    for (int p = pcp.head(li); p >= 0; p = mem.next(p)) {
                        if (mem.state(p) != S_PCP) throw new IllegalStateException("pcp list holds " + STATE_NAMES[mem.state(p)] + " pfn " + p);
                        if (!z.contains(p)) throw new IllegalStateException("pcp page of other zone " + p);
                        if (seen[p]) throw new IllegalStateException("pfn " + p + " listed twice");
                        seen[p] = true;
                        pages += 1 << mem.order(p);
                    }
                    if (pages != pcp.lists[pcp.hi(li) + 1]) throw new IllegalStateException("pcp list pages mismatch");
                    total += pages;
                }
                if (total != pcp.count) throw new IllegalStateException(z + " pcp count " + pcp.count + " != " + total);
            }
            long file = 0, dirty = 0, wb = 0;
            for (int p = z.lruHead[0]; p >= 0; p = mem.next(p)) {
                if (mem.state(p) != S_ALLOC || mem.kind(p) != K_PAGECACHE) throw new IllegalStateException("LRU holds non-pagecache pfn " + p);
                if (seen[p]) throw new IllegalStateException("pfn " + p + " listed twice");
                seen[p] = true;
                int pages = 1 << mem.order(p);
                file += pages;
                if ((mem.flags(p) & F_DIRTY) != 0) dirty += pages;
                if ((mem.flags(p) & F_WRITEBACK) != 0) wb += pages;
            }
            if (file != z.nrFile || dirty != z.nrDirty || wb != z.nrWriteback)
                throw new IllegalStateException(z + " LRU counts " + file + "/" + dirty + "/" + wb + " != " + z.nrFile + "/" + z.nrDirty + "/" + z.nrWriteback);
        }
        // heads and tails
        for (int p = 0; p < n; ) {
            byte s = mem.state(p);
            switch (s) {
                case S_HOLE, S_RESERVED -> p++;
                case S_FREE, S_ALLOC, S_PCP -> {
                    int o = mem.order(p);
                    byte tail = S_TAIL;
                    if ((p & ((1 << o) - 1)) != 0) throw new IllegalStateException("misaligned head " + p);
                    Zone z = mem.zoneOf(p);
                    if (z == null || !z.contains(p + (1 << o) - 1)) throw new IllegalStateException("block crosses zone at " + p);
                    if (s != S_ALLOC && !seen[p]) throw new IllegalStateException(STATE_NAMES[s] + " head " + p + " on no list");
                    if (s == S_ALLOC && mem.kind(p) == K_PAGECACHE && !seen[p]) throw new IllegalStateException("pagecache page " + p + " not on LRU");
                    for (int i = 1; i < (1 << o); i++)
                        if (mem.state(p + i) != tail) throw new IllegalStateException("pfn " + (p + i) + " should be tail of " + p + " but is " + STATE_NAMES[mem.state(p + i)]);
                    if (s == S_FREE && o < MAX_ORDER_IDX) {
                        int b = p ^ (1 << o);
                        if (z.contains(b) && mem.state(b) == S_FREE && mem.order(b) == o && mergeAllowed(p, b, o))
                            throw new IllegalStateException("unmerged free buddies " + p + " and " + b + " order " + o);
                    }
                    p += 1 << o;
                }
                default -> throw new IllegalStateException("pfn " + p + " in state " + STATE_NAMES[s] + " outside a block");
            }
        }
    }

    private boolean mergeAllowed(int p, int b, int o) {
        if (o < PAGEBLOCK_ORDER) return true;
        int a = mem.pageblockMigratetype(p), bm = mem.pageblockMigratetype(b);
        if (a == bm) return true;
        if (eraNow) return BuddyAllocator.mergeable(a) && BuddyAllocator.mergeable(bm);
        return a != MT_ISOLATE && bm != MT_ISOLATE;
    }
}
