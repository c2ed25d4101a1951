package org.kmemlab.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.kmemlab.alloc.slab.SlabInfo;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceSchema;

import com.carrotsearch.hppc.LongHashSet;

/**
 * One pass over the trace before the replay: its start time and CPUs; the objects and pages that the
 * trace frees but never allocated (they existed before the recording and are created at time zero, so
 * that every free has an object); and which page events the kernel derived from slab allocations.
 *
 * <p>A page allocation is a slab's (or kmalloc_large's) when its call chain passes through
 * {@code allocate_slab}/{@code new_slab}/{@code __kmalloc_large_node}, or, without chains, when a slab object
 * is later allocated inside it ({@link SlabPages}, where the pointers are real addresses), or, where they are
 * hashed, when it is a compound, non-movable allocation that the same task's slab allocation on the same CPU
 * follows within 20 µs (the slab tracepoint fires after the page allocation it needed). Memory here grows with live objects
 * and derived pages, not with the number of events.
 */
final class PrePass {
    /** An object the trace frees but never allocated: its cache, or else its kmalloc size and recorded gfp_flags (-1: none). */
    record Obj(long ptr, String cache, long bytes, long gfp) {
        Obj(long ptr, String cache, long bytes) { this(ptr, cache, bytes, -1); }
    }

    long t0 = Long.MAX_VALUE;
    int maxCpu = -1;
    final List<Obj> objects = new ArrayList<>();
    /** {trace pfn, order, 1 if a batched (page cache) free}. */
    final List<long[]> pages = new ArrayList<>();
    RowSet derivedRows;
    /** Slab frees of objects that kvfree_call_rcu queued: kfree_rcu_work's, derived (the model frees them itself). */
    RowSet rcuFreeRows;
    /**
     * Pages of the slab allocations that the trace's slab events needed, per cache (for the fidelity report):
     * kmalloc_large's pages under that name, and kmalloc's slabs in {@link #kmallocSlabPages}.
     */
    final java.util.Map<String, Long> slabPagesByCache = new java.util.TreeMap<>();
    /** kmalloc's slab pages by bytes_alloc and gfp_flags, which say the cache as {@code kmalloc_slab()} picks it. */
    final java.util.Map<SlabStart.Key, Long> kmallocSlabPages = new java.util.LinkedHashMap<>();

    /** Objects the trace allocated and did not free, per owner (the fidelity report's live objects at the end). */
    final Map<SlabStart.Key, Long> liveAtEnd = new java.util.LinkedHashMap<>();
    /** Owners of slab objects: a named cache, or kmalloc's bytes_alloc and gfp_flags; ids count from 1. */
    private final List<SlabStart.Key> owners = new ArrayList<>();
    private final Map<SlabStart.Key, Integer> ownerIds = new java.util.HashMap<>();
    private long lastBytes = -1, lastGfp;
    private int lastKmallocOwner;

    /** The owner id of the slab allocation at row {@code i}; {@code byCache} caches it per entry of the batch's cache dictionary. */
    private int ownerId(TraceBatch b, int i, int[] byCache) {
        int di = b.dictIndex(TraceSchema.CACHE, i);
        if (di >= 0 && di < byCache.length) {
            if (byCache[di] == 0) byCache[di] = owner(new SlabStart.Key(b.getString(TraceSchema.CACHE, i), 0, -1));
            return byCache[di];
        }
        long bytes = b.longOr(TraceSchema.BYTES_ALLOC, i, 0), g = b.longOr(TraceSchema.GFP_FLAGS, i, -1);
        if (bytes != lastBytes || g != lastGfp) {
            lastBytes = bytes;
            lastGfp = g;
            lastKmallocOwner = owner(new SlabStart.Key(null, bytes, g));
        }
        return lastKmallocOwner;
    }

    private int owner(SlabStart.Key k) {
        Integer id = ownerIds.get(k);
        if (id == null) {
            owners.add(k);
            id = owners.size();
            ownerIds.put(k, id);
        }
        return id;
    }

    private void slabPages(SlabStart.Key owner, long pages) {
        if (owner.cache() != null) slabPagesByCache.merge(owner.cache(), pages, Long::sum);
        else if (owner.large()) slabPagesByCache.merge("kmalloc_large", pages, Long::sum);
        else kmallocSlabPages.merge(owner, pages, Long::sum);
    }
    /** How slab pages were told from other page allocations: by address ({@link SlabPages}) or by time. */
    String slabPageAttribution = "";
    /** The free slots the caches' slabs held at the start as the trace proves them, when it can ({@link SlabStart}). */
    Map<SlabStart.Key, List<SlabStart.Slab>> slabFreeAtStart = Map.of();
    long zoneLocked, pcpuDrain, pcpRefills;
    /**
     * Reclaim as the trace's vmscan tracepoints show it (kmemlab record enables them): sleeping kswapds woken,
     * kswapd passes, direct reclaims; {@code vmscanEvents} says whether the trace has any vmscan event at all.
     */
    long wakeupKswapd, kswapdWake, directReclaims;
    boolean vmscanEvents;
    /**
     * Compaction as the trace's compaction tracepoints show it: direct compactions and kcompactd_do_work() runs;
     * {@code compactionEvents} says whether the trace has any compaction event at all.
     */
    long directCompactions, kcompactdWakes, wakeupKcompactd;
    boolean compactionEvents;
    final java.util.Map<String, Long> pageAllocsByOrderMt = new java.util.TreeMap<>();

    /**
     * Blocks on each CPU's pcp lists when the trace began, as far as the trace shows: a page whose first event
     * is an allocation was on the allocating CPU's list (migratetype, order), since one from the buddy would
     * have shown mm_page_alloc_zone_locked first, and a page first seen drained was on the draining CPU's.
     * Pages that sat on a list untouched are not seen; but every refill of a list shows it was empty then.
     */
    private final long[] pcpAtStart = new long[256 * PCP_TYPES * PCP_ORDERS];
    private boolean pageAllocEvents;

    /**
     * Whether {@link #pcpBlocksAtStart} means something: the trace records page allocations and also the
     * buddy's side (mm_page_alloc_zone_locked), without which a first allocation proves nothing.
     */
    boolean pcpEvidence() { return pageAllocEvents && zoneLocked > 0; }
    static final int PCP_TYPES = 3, PCP_ORDERS = 4;

    long pcpBlocksAtStart(int cpu, int mt, int order) {
        if (cpu < 0 || cpu >= 256 || mt < 0 || mt >= PCP_TYPES || order < 0 || order >= PCP_ORDERS) return 0;
        return pcpAtStart[(cpu * PCP_TYPES + mt) * PCP_ORDERS + order];
    }

    private void firstSight(LongHashSet seen, long pfn, int cpu, int mt, int order, boolean onPcp) {
        if (!seen.add(pfn) || !onPcp) return;
        if (mt >= 0 && mt < PCP_TYPES && order >= 0 && order < PCP_ORDERS) pcpAtStart[(cpu * PCP_TYPES + mt) * PCP_ORDERS + order]++;
    }

    static final long WINDOW_NS = 20_000;
    private static final String[] SLAB_FRAMES = {"allocate_slab", "new_slab", "___slab_alloc", "__kmalloc_large_node",
        "__kmalloc_large_node_noprof", "kmalloc_large", "___kmalloc_large_node", "alloc_slab_page"};

    /** What the pre-pass does with an event, decided once per dictionary entry of each batch. */
    static final int OTHER = 0, SLAB_ALLOC = 1, SLAB_FREE = 2, CACHE_FREE = 3, RCU_KVFREE = 4, ZONE_LOCKED = 5,
            PCPU_DRAIN = 6, PAGE_ALLOC = 7, PAGE_FREE = 8, WAKEUP_KSWAPD = 9, KSWAPD_WAKE = 10, DIRECT_RECLAIM = 11,
            VMSCAN_OTHER = 12, TRY_COMPACT = 13, KCOMPACTD_WAKE = 14, COMPACTION_OTHER = 15,
            WAKEUP_KCOMPACTD = 16;

    static int codeOf(String ev) {
        if (ev == null) return OTHER;
        if (EventNames.isSlabAlloc(ev)) return SLAB_ALLOC;
        if (EventNames.isSlabFree(ev)) return EventNames.KMEM_CACHE_FREE.equals(ev) ? CACHE_FREE : SLAB_FREE;
        if (EventNames.RCU_KVFREE_CALLBACK.equals(ev)) return RCU_KVFREE;
        if (EventNames.MM_PAGE_ALLOC_ZONE_LOCKED.equals(ev)) return ZONE_LOCKED;
        if (EventNames.MM_PAGE_PCPU_DRAIN.equals(ev)) return PCPU_DRAIN;
        if (EventNames.MM_PAGE_ALLOC.equals(ev)) return PAGE_ALLOC;
        if (EventNames.MM_PAGE_FREE.equals(ev)) return PAGE_FREE;
        if (EventNames.VMSCAN_WAKEUP_KSWAPD.equals(ev)) return WAKEUP_KSWAPD;
        if (EventNames.VMSCAN_KSWAPD_WAKE.equals(ev)) return KSWAPD_WAKE;
        if (EventNames.VMSCAN_DIRECT_RECLAIM_BEGIN.equals(ev)) return DIRECT_RECLAIM;
        if (ev.startsWith("vmscan:")) return VMSCAN_OTHER;
        if (EventNames.COMPACTION_TRY_TO_COMPACT_PAGES.equals(ev)) return TRY_COMPACT;
        if (EventNames.COMPACTION_KCOMPACTD_WAKE.equals(ev)) return KCOMPACTD_WAKE;
        if (EventNames.COMPACTION_WAKEUP_KCOMPACTD.equals(ev)) return WAKEUP_KCOMPACTD;
        if (ev.startsWith("compaction:")) return COMPACTION_OTHER;
        return OTHER;
    }

    static PrePass scan(Path trace) throws IOException {
        long base;
        try (TraceReader r = new TraceReader(trace)) {
            base = SlabPages.directMapBase(r);
        }
        try (TraceReader r = new TraceReader(trace)) {
            return scan(r, base);
        }
    }

    /**
     * Reads only the columns each event needs (the event, time and CPU of every row; pointers, pages and
     * cache names of the few kinds that have them): this pass sees every row of the trace before the
     * replay starts, so it must cost little more than the file's read.
     */
    static PrePass scan(TraceReader r, long directMapBase) {
        PrePass p = new PrePass();
        SlabPages slabPages = new SlabPages(directMapBase);
        p.slabPageAttribution = slabPages.known()
                ? "by address (direct map at 0x" + Long.toHexString(directMapBase) + ")"
                : "by time (a compound non-movable page that the task's slab allocation follows within 20 us)";
        TraceInfo info = r.info();
        SlabStart slabStart = new SlabStart(slabPages, slabinfo(info));
        boolean evidence = slabStart.enabled();
        // the trace's live objects, each with its owner's id (ownerId)
        com.carrotsearch.hppc.LongIntHashMap liveObj = new com.carrotsearch.hppc.LongIntHashMap();
        // Pointers already taken for pre-existing objects: a second free without an allocation between means one the
        // trace did not show (the replay creates it then), not a second object at the start.
        LongHashSet preexisting = new LongHashSet();
        LongHashSet livePages = new LongHashSet();
        LongHashSet derivedPfns = new LongHashSet();
        LongHashSet rcuQueued = new LongHashSet();
        LongHashSet seenPages = new LongHashSet();
        long[] pendRow = new long[256], pendPfn = new long[256], pendTs = new long[256];
        int[] pendPid = new int[256], pendOrder = new int[256];
        java.util.Arrays.fill(pendRow, -1);
        com.carrotsearch.hppc.LongArrayList derived = new com.carrotsearch.hppc.LongArrayList();
        com.carrotsearch.hppc.LongArrayList rcuFree = new com.carrotsearch.hppc.LongArrayList();
        TraceEvent e = new TraceEvent();
        // Page allocations by order and migratetype, counted in an array (a key string per event cost more).
        long[][] orderMt = new long[16][16];
        long row = 0;
        while (r.next()) {
            TraceBatch b = r.batch();
            String[] evNames = b.dictionary(TraceSchema.EVENT);
            int[] codes = new int[evNames.length];
            for (int k = 0; k < codes.length; k++) codes[k] = codeOf(evNames[k]);
            String[] gfps = null;
            boolean[] comp = null;
            int[] ownerByCache = null;
            for (int i = 0, n = b.size(); i < n; i++, row++) {
                long ts = b.ts(i);
                p.t0 = Math.min(p.t0, ts);
                int rawCpu = b.intOr(TraceSchema.CPU, i, 0);
                int cpu = rawCpu & 0xff;
                p.maxCpu = Math.max(p.maxCpu, rawCpu);
                int ei = b.dictIndex(TraceSchema.EVENT, i);
                switch (ei < 0 ? OTHER : codes[ei]) {
                    case SLAB_ALLOC -> {
                        int pid = b.intOr(TraceSchema.PID, i, 0);
                        if (ownerByCache == null) ownerByCache = new int[Math.max(1, b.dictionary(TraceSchema.CACHE).length)];
                        int ownerId = p.ownerId(b, i, ownerByCache);
                        SlabStart.Key owner = p.owners.get(ownerId - 1);
                        if (slabPages.known()) {
                            long claim = b.isNull(TraceSchema.PTR, i) ? -1 : slabPages.object(b.getLong(TraceSchema.PTR, i));
                            if (claim >= 0) {
                                derived.add(claim >>> 5);
                                livePages.remove(slabPages.claimed);
                                p.slabPages(owner, 1L << (claim & 31));
                            }
                        } else if (pendRow[cpu] >= 0 && pendPid[cpu] == pid && ts - pendTs[cpu] <= WINDOW_NS) {
                            derived.add(pendRow[cpu]);
                            livePages.remove(pendPfn[cpu]);
                            derivedPfns.add(pendPfn[cpu]);
                            p.slabPages(owner, 1L << pendOrder[cpu]);
                        }
                        long ptr = b.longOr(TraceSchema.PTR, i, 0);
                        boolean replaced = liveObj.put(ptr, ownerId) != 0;
                        rcuQueued.remove(ptr);
                        if (evidence && ptr != 0) slabStart.alloc(ptr, owner, replaced, rawCpu);
                    }
                    case SLAB_FREE, CACHE_FREE -> {
                        long ptr = b.longOr(TraceSchema.PTR, i, 0);
                        if (evidence && ptr != 0) slabStart.free(ptr);
                        if (ptr != 0 && rcuQueued.remove(ptr)) {
                            rcuFree.add(row);
                        } else if (ptr != 0 && liveObj.remove(ptr) == 0 && preexisting.add(ptr)) {
                            p.objects.add(new Obj(ptr, codes[ei] == CACHE_FREE ? b.getString(TraceSchema.CACHE, i) : null, 64));
                        }
                    }
                    case RCU_KVFREE -> {
                        // kvfree_call_rcu takes the object: like a free here, but its later kfree is the kernel's own.
                        b.read(i, e);
                        long ptr = SeedRequests.rcuObject(e);
                        if (ptr != 0) {
                            if (liveObj.remove(ptr) == 0 && preexisting.add(ptr)) p.objects.add(new Obj(ptr, null, 64));
                            rcuQueued.add(ptr);
                        }
                    }
                    case ZONE_LOCKED -> {
                        p.zoneLocked++;
                        if (!b.isNull(TraceSchema.PFN, i)) p.firstSight(seenPages, b.getLong(TraceSchema.PFN, i), cpu, 0, 0, false);
                        String extra = b.getString(TraceSchema.EXTRA, i);
                        if (extra != null && extra.contains("percpu_refill=1")) p.pcpRefills++;
                    }
                    case WAKEUP_KSWAPD -> { p.wakeupKswapd++; p.vmscanEvents = true; }
                    case KSWAPD_WAKE -> { p.kswapdWake++; p.vmscanEvents = true; }
                    case DIRECT_RECLAIM -> { p.directReclaims++; p.vmscanEvents = true; }
                    case VMSCAN_OTHER -> p.vmscanEvents = true;
                    case TRY_COMPACT -> { p.directCompactions++; p.compactionEvents = true; }
                    case KCOMPACTD_WAKE -> { p.kcompactdWakes++; p.compactionEvents = true; }
                    case WAKEUP_KCOMPACTD -> { p.wakeupKcompactd++; p.compactionEvents = true; }
                    case COMPACTION_OTHER -> p.compactionEvents = true;
                    case PCPU_DRAIN -> {
                        p.pcpuDrain++;
                        if (!b.isNull(TraceSchema.PFN, i)) p.firstSight(seenPages, b.getLong(TraceSchema.PFN, i), cpu,
                                b.intOr(TraceSchema.MIGRATETYPE, i, -1), b.intOr(TraceSchema.ORDER, i, -1), true);
                    }
                    case PAGE_ALLOC -> {
                        int order = b.intOr(TraceSchema.ORDER, i, 0);
                        int mt = b.intOr(TraceSchema.MIGRATETYPE, i, 0);
                        long pfn = b.longOr(TraceSchema.PFN, i, 0);
                        if (order >= 0 && order < 16 && mt >= 0 && mt < 16) orderMt[order][mt]++;
                        else p.pageAllocsByOrderMt.merge(order + "/" + mt, 1L, Long::sum);
                        p.pageAllocEvents = true;
                        if (!b.isNull(TraceSchema.PFN, i)) p.firstSight(seenPages, pfn, cpu, mt, order, true);
                        boolean slabChain = !b.isNull(TraceSchema.STACK_ID, i) && chainHasSlab(info, b.getInt(TraceSchema.STACK_ID, i));
                        if (slabChain) {
                            derived.add(row);
                            derivedPfns.add(pfn);
                        } else if (slabPages.known()) {
                            livePages.add(pfn);
                            if (mt != 1 && !b.isNull(TraceSchema.PFN, i)) slabPages.pageAlloc(row, pfn, Math.max(0, order));
                        } else {
                            livePages.add(pfn);
                            // Slab pages are compound and never movable: page-cache folios (movable, also
                            // compound) followed by a buffer_head allocation are not a slab's.
                            if (gfps == null) {
                                gfps = b.dictionary(TraceSchema.GFP);
                                comp = new boolean[gfps.length];
                                for (int k = 0; k < gfps.length; k++) comp[k] = gfps[k] != null && gfps[k].contains("__GFP_COMP");
                            }
                            int gi = b.dictIndex(TraceSchema.GFP, i);
                            if (gi >= 0 && comp[gi] && mt != 1) {
                                pendRow[cpu] = row;
                                pendPfn[cpu] = pfn;
                                pendPid[cpu] = b.intOr(TraceSchema.PID, i, 0);
                                pendTs[cpu] = ts;
                                pendOrder[cpu] = Math.max(0, order);
                                continue;
                            }
                        }
                    }
                    case PAGE_FREE -> {
                        long pfn = b.longOr(TraceSchema.PFN, i, 0);
                        if (!b.isNull(TraceSchema.PFN, i)) p.firstSight(seenPages, pfn, cpu, 0, 0, false);
                        if (slabPages.pageFree(pfn) || derivedPfns.remove(pfn)) {
                            derived.add(row);
                        } else if (!livePages.remove(pfn)) {
                            p.pages.add(new long[] {pfn, Math.max(0, b.intOr(TraceSchema.ORDER, i, 0)), 0});
                        }
                    }
                    default -> { }
                }
                pendRow[cpu] = -1;
            }
        }
        if (p.t0 == Long.MAX_VALUE) p.t0 = 0;
        for (int o = 0; o < 16; o++) {
            for (int mt = 0; mt < 16; mt++) if (orderMt[o][mt] > 0) p.pageAllocsByOrderMt.merge(o + "/" + mt, orderMt[o][mt], Long::sum);
        }
        long[] live = new long[p.owners.size()];
        for (var c : liveObj) if (c.key != 0) live[c.value - 1]++;
        for (int k = 0; k < live.length; k++) if (live[k] > 0) p.liveAtEnd.put(p.owners.get(k), live[k]);
        if (evidence) {
            // A pre-existing object lies in a slab whose allocations named its owner: a kfree'd one takes that owner.
            for (int k = 0; k < p.objects.size(); k++) {
                Obj o = p.objects.get(k);
                SlabStart.Key owner = slabStart.preexisting(o.ptr(), o.cache());
                if (owner != null && o.cache() == null) {
                    p.objects.set(k, new Obj(o.ptr(), owner.cache(), owner.cache() != null ? o.bytes() : owner.bytesAlloc(), owner.gfp()));
                }
            }
            p.slabFreeAtStart = slabStart.proofs();
        }
        p.derivedRows = new RowSet(derived);
        p.rcuFreeRows = new RowSet(rcuFree);
        return p;
    }

    private static List<SlabInfo.Line> slabinfo(TraceInfo info) {
        String text = info.snapshot.get("slabinfo");
        if (text == null) return List.of();
        try {
            return SlabInfo.parse(new java.io.StringReader(text));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static boolean chainHasSlab(TraceInfo info, int stackId) {
        List<String> frames = info.stacks.get(stackId);
        if (frames == null) return false;
        for (String f : frames) for (String s : SLAB_FRAMES) if (f.equals(s)) return true;
        return false;
    }
}
