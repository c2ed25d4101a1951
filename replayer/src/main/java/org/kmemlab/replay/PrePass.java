package org.kmemlab.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

import com.carrotsearch.hppc.LongHashSet;

/**
 * One pass over the trace before the replay: its start time and CPUs; the objects and pages that the
 * trace frees but never allocated (they existed before the recording and are created at time zero, so
 * that every free has an object); and which page events the kernel derived from slab allocations.
 *
 * <p>A page allocation is a slab's (or kmalloc_large's) when its call chain passes through
 * {@code allocate_slab}/{@code new_slab}/{@code __kmalloc_large_node}, or, without chains, when it is a
 * compound, non-movable allocation that the same task's slab allocation on the same CPU follows within 20 µs
 * (the slab tracepoint fires after the page allocation it needed). Memory here grows with live objects
 * and derived pages, not with the number of events.
 */
final class PrePass {
    record Obj(long ptr, String cache, long bytes) {}

    long t0 = Long.MAX_VALUE;
    int maxCpu = -1;
    final List<Obj> objects = new ArrayList<>();
    /** {trace pfn, order, 1 if a batched (page cache) free}. */
    final List<long[]> pages = new ArrayList<>();
    final LongHashSet derivedRows = new LongHashSet();
    /** Slab frees of objects that kvfree_call_rcu queued: kfree_rcu_work's, derived (the model frees them itself). */
    final LongHashSet rcuFreeRows = new LongHashSet();
    /** Pages of the slab allocations that the trace's slab events needed, per cache (for the fidelity report). */
    final java.util.Map<String, Long> slabPagesByCache = new java.util.TreeMap<>();
    long zoneLocked, pcpuDrain, pcpRefills;
    final java.util.Map<String, Long> pageAllocsByOrderMt = new java.util.TreeMap<>();

    private static final long WINDOW_NS = 20_000;
    private static final String[] SLAB_FRAMES = {"allocate_slab", "new_slab", "___slab_alloc", "__kmalloc_large_node",
        "__kmalloc_large_node_noprof", "kmalloc_large", "___kmalloc_large_node", "alloc_slab_page"};

    static PrePass scan(Path trace) throws IOException {
        PrePass p = new PrePass();
        TraceInfo info = TraceReader.readInfo(trace);
        LongHashSet liveObj = new LongHashSet();
        LongHashSet livePages = new LongHashSet();
        LongHashSet derivedPfns = new LongHashSet();
        LongHashSet rcuQueued = new LongHashSet();
        long[] pendRow = new long[256], pendPfn = new long[256], pendTs = new long[256];
        int[] pendPid = new int[256], pendOrder = new int[256];
        java.util.Arrays.fill(pendRow, -1);
        TraceEvent e = new TraceEvent();
        try (TraceReader r = new TraceReader(trace)) {
            long row = 0;
            while (r.next()) {
                TraceBatch b = r.batch();
                for (int i = 0, n = b.size(); i < n; i++, row++) {
                    b.read(i, e);
                    p.t0 = Math.min(p.t0, e.tsNs);
                    int cpu = e.cpu & 0xff;
                    p.maxCpu = Math.max(p.maxCpu, e.cpu);
                    String ev = e.event;
                    if (EventNames.isSlabAlloc(ev)) {
                        if (pendRow[cpu] >= 0 && pendPid[cpu] == e.pid && e.tsNs - pendTs[cpu] <= WINDOW_NS) {
                            p.derivedRows.add(pendRow[cpu]);
                            livePages.remove(pendPfn[cpu]);
                            derivedPfns.add(pendPfn[cpu]);
                            String cache = e.cache != null ? e.cache : "kmalloc";
                            p.slabPagesByCache.merge(cache, 1L << pendOrder[cpu], Long::sum);
                        }
                        liveObj.add(e.ptr);
                        rcuQueued.remove(e.ptr);
                    } else if (EventNames.isSlabFree(ev)) {
                        if (e.ptr != 0 && rcuQueued.remove(e.ptr)) {
                            p.rcuFreeRows.add(row);
                        } else if (e.ptr != 0 && !liveObj.remove(e.ptr)) {
                            p.objects.add(new Obj(e.ptr, EventNames.KMEM_CACHE_FREE.equals(ev) ? e.cache : null, 64));
                        }
                    } else if (EventNames.RCU_KVFREE_CALLBACK.equals(ev)) {
                        // kvfree_call_rcu takes the object: like a free here, but its later kfree is the kernel's own.
                        long ptr = SeedRequests.rcuObject(e);
                        if (ptr != 0) {
                            if (!liveObj.remove(ptr)) p.objects.add(new Obj(ptr, null, 64));
                            rcuQueued.add(ptr);
                        }
                    } else if (EventNames.MM_PAGE_ALLOC_ZONE_LOCKED.equals(ev)) {
                        p.zoneLocked++;
                        if (e.extra != null && e.extra.contains("percpu_refill=1")) p.pcpRefills++;
                    } else if (EventNames.MM_PAGE_PCPU_DRAIN.equals(ev)) {
                        p.pcpuDrain++;
                    } else if (EventNames.MM_PAGE_ALLOC.equals(ev)) {
                        p.pageAllocsByOrderMt.merge(e.order + "/" + e.migratetype, 1L, Long::sum);
                        boolean slabChain = e.has(TraceEvent.F_STACK_ID) && chainHasSlab(info, e.stackId);
                        if (slabChain) {
                            p.derivedRows.add(row);
                            derivedPfns.add(e.pfn);
                        } else {
                            livePages.add(e.pfn);
                            // Slab pages are compound and never movable: page-cache folios (movable, also
                            // compound) followed by a buffer_head allocation are not a slab's.
                            if (e.gfp != null && e.gfp.contains("__GFP_COMP") && e.migratetype != 1) {
                                pendRow[cpu] = row;
                                pendPfn[cpu] = e.pfn;
                                pendPid[cpu] = e.pid;
                                pendTs[cpu] = e.tsNs;
                                pendOrder[cpu] = Math.max(0, e.order);
                                continue;
                            }
                        }
                    } else if (EventNames.MM_PAGE_FREE.equals(ev)) {
                        if (derivedPfns.remove(e.pfn)) {
                            p.derivedRows.add(row);
                        } else if (!livePages.remove(e.pfn)) {
                            p.pages.add(new long[] {e.pfn, Math.max(0, e.order), 0});
                        }
                    }
                    pendRow[cpu] = -1;
                }
            }
        }
        if (p.t0 == Long.MAX_VALUE) p.t0 = 0;
        return p;
    }

    private static boolean chainHasSlab(TraceInfo info, int stackId) {
        List<String> frames = info.stacks.get(stackId);
        if (frames == null) return false;
        for (String f : frames) for (String s : SLAB_FRAMES) if (f.equals(s)) return true;
        return false;
    }
}
