package org.kmemlab.alloc.testing;

import com.carrotsearch.hppc.LongArrayList;
import com.carrotsearch.hppc.LongIntHashMap;
import java.util.ArrayDeque;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.PageProvider;

/**
 * A small deterministic page allocator for the upper-half tests (not the buddy model): a fixed number
 * of pages, per-order free lists without merging, order-0 pcp lists per CPU refilled in batches under
 * {@code zone->lock} ({@code rmqueue_bulk}), and a pretend slow path that enters the kernel's frames:
 * {@code __alloc_pages_slowpath} → {@code wake_all_kswapds}; with {@code __GFP_DIRECT_RECLAIM} and IO,
 * for order &gt; 0, {@code __alloc_pages_direct_compact} → {@code try_to_compact_pages} →
 * {@code compact_zone}; then {@code __alloc_pages_direct_reclaim} → {@code try_to_free_pages}.
 *
 * <p>{@link Gfp#FAST_TRY} takes from this CPU's pcp list or fails: no zone->lock, no slow path.
 * High orders fail in the fast path once {@link #fragmentedFromOrder} is reached (a fragmented zone),
 * and compaction only helps when {@link #compactionSucceeds} is set.
 */
public final class TestPageProvider implements PageProvider {
    public final KLock zoneLock = new KLock("zone->lock", KLock.Kind.SPIN);
    private final long totalPages;
    private long nextPfn;
    private long allocatedPages;
    private final java.util.List<ArrayDeque<Long>> freeLists = new java.util.ArrayList<>();
    private final LongArrayList[] pcp;
    private final LongIntHashMap live = new LongIntHashMap();
    private int pcpBatch = 63;
    private int pcpHigh = 378;
    private boolean pcpRefill = true;
    /** Orders ≥ this fail without compaction (fragmentation). */
    public int fragmentedFromOrder = Integer.MAX_VALUE;
    public boolean compactionSucceeds;
    public long compactCostNs = 50_000, reclaimCostNs = 20_000;

    public long statAllocs, statFails, statFastTryFails, statDirectCompact, statDirectReclaim, statKswapdWakes,
            statRmqueueBulk, statSlowpath;
    public final LongArrayList gfpLog = new LongArrayList();
    public final com.carrotsearch.hppc.IntArrayList orderLog = new com.carrotsearch.hppc.IntArrayList();

    public TestPageProvider(long totalPages, int nrCpus) {
        this.totalPages = totalPages;
        for (int i = 0; i < 11; i++) freeLists.add(new ArrayDeque<>());
        this.pcp = new LongArrayList[nrCpus];
        for (int i = 0; i < nrCpus; i++) pcp[i] = new LongArrayList();
    }

    public TestPageProvider pcpBatch(int b) { pcpBatch = b; return this; }
    public TestPageProvider pcpRefill(boolean v) { pcpRefill = v; return this; }

    /** Pages on this CPU's pcp list. */
    public int pcpCount(int cpu) { return pcp[cpu].size(); }

    private long zoneFree() {
        long onPcp = 0;
        for (LongArrayList l : pcp) onPcp += l.size();
        return totalPages - allocatedPages - onPcp;
    }

    /** Takes 2^order pages from the zone's free lists; the caller holds zone->lock. */
    private long takeFromZone(int order) {
        if (zoneFree() < (1L << order)) return -1;
        Long p = freeLists.get(order).poll();
        if (p != null) return p;
        long pfn = (nextPfn + (1L << order) - 1) & -(1L << order);
        nextPfn = pfn + (1L << order);
        return pfn;
    }

    @Override
    public long allocPages(ExecContext ctx, int order, long gfp) {
        gfpLog.add(gfp);
        orderLog.add(order);
        ctx.enter("__alloc_pages");
        long pfn = fastPath(ctx, order, gfp);
        if (pfn < 0 && (gfp & (Gfp.FAST_TRY | Gfp.NOLOCK)) == 0) pfn = slowPath(ctx, order, gfp);
        ctx.exit();
        if (pfn < 0) {
            statFails++;
            if ((gfp & Gfp.FAST_TRY) != 0) statFastTryFails++;
            return -1;
        }
        live.put(pfn, order);
        allocatedPages += 1L << order;
        statAllocs++;
        return pfn;
    }

    private long fastPath(ExecContext ctx, int order, long gfp) {
        ctx.enter("get_page_from_freelist");
        try {
            if (order == 0) {
                LongArrayList l = pcp[ctx.cpu()];
                if (l.isEmpty()) {
                    // FAST_TRY: "does not call rmqueue_bulk() when the list is empty"
                    if ((gfp & Gfp.FAST_TRY) != 0 || !pcpRefill) return -1;
                    ctx.enter("rmqueue_bulk");
                    ctx.lock(zoneLock);
                    statRmqueueBulk++;
                    for (int i = 0; i < pcpBatch; i++) {
                        long p = takeFromZone(0);
                        if (p < 0) break;
                        l.add(p);
                    }
                    ctx.unlock(zoneLock);
                    ctx.exit();
                }
                if (l.isEmpty()) return -1;
                return l.removeAt(l.size() - 1);
            }
            if ((gfp & Gfp.FAST_TRY) != 0) return -1;
            if (order >= fragmentedFromOrder) return -1;
            ctx.lock(zoneLock);
            long p = takeFromZone(order);
            ctx.unlock(zoneLock);
            return p;
        } finally {
            ctx.exit();
        }
    }

    private long slowPath(ExecContext ctx, int order, long gfp) {
        ctx.enter("__alloc_pages_slowpath.constprop.0");
        statSlowpath++;
        try {
            if ((gfp & Gfp.KSWAPD_RECLAIM) != 0) {
                statKswapdWakes++;
                ctx.leaf("wake_all_kswapds", 500);
            }
            if ((gfp & Gfp.DIRECT_RECLAIM) == 0) return -1;
            // compaction needs __GFP_IO ("GFP_NOIO is really tricky context") and order > 0
            if (order > 0 && (gfp & Gfp.IO) != 0) {
                ctx.enter("__alloc_pages_direct_compact");
                ctx.enter("try_to_compact_pages");
                ctx.enter("compact_zone");
                ctx.charge(compactCostNs);
                statDirectCompact++;
                ctx.exit();
                ctx.exit();
                ctx.exit();
                if (compactionSucceeds) {
                    ctx.lock(zoneLock);
                    long p = takeFromZone(order);
                    ctx.unlock(zoneLock);
                    if (p >= 0) return p;
                }
            }
            ctx.enter("__alloc_pages_direct_reclaim");
            ctx.enter("try_to_free_pages");
            ctx.charge(reclaimCostNs);
            statDirectReclaim++;
            ctx.exit();
            ctx.exit();
            if (order < fragmentedFromOrder) {
                ctx.lock(zoneLock);
                long p = takeFromZone(order);
                ctx.unlock(zoneLock);
                if (p >= 0) return p;
            }
            return -1;
        } finally {
            ctx.exit();
        }
    }

    @Override
    public void freePages(ExecContext ctx, long pfn, int order) {
        int o = live.getOrDefault(pfn, -1);
        if (o != order) throw new IllegalStateException("bad free: pfn " + pfn + " order " + order + " (live order " + o + ")");
        live.remove(pfn);
        allocatedPages -= 1L << order;
        if (order == 0) {
            LongArrayList l = pcp[ctx.cpu()];
            l.add(pfn);
            if (l.size() >= pcpHigh) {
                ctx.lock(zoneLock);
                for (int i = 0; i < pcpBatch; i++) freeLists.get(0).add(l.removeAt(0));
                ctx.unlock(zoneLock);
            }
        } else {
            ctx.lock(zoneLock);
            freeLists.get(order).add(pfn);
            ctx.unlock(zoneLock);
        }
    }

    @Override
    public long freePageCount() { return totalPages - allocatedPages; }

    public long allocatedPages() { return allocatedPages; }
    public boolean isLive(long pfn) { return live.containsKey(pfn); }

    /** Empties this CPU's pcp list into the zone (a drain). */
    public void drainPcp(int cpu) {
        LongArrayList l = pcp[cpu];
        for (int i = 0; i < l.size(); i++) freeLists.get(0).add(l.get(i));
        l.clear();
    }
}
