package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.kmemlab.alloc.snapshot.MachineSnapshot;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * Builds a {@link PageAllocator} in an initial state: from a machine snapshot (the free lists reproduce
 * buddyinfo/pagetypeinfo exactly; zoneinfo supplies zone spans, watermarks, protection and pcp sizes),
 * or from parameters (memory size, CPUs, and a fragmentation level reached by a seeded aging workload),
 * the way {@code mm/mm_init.c memmap_init_zone()} / {@code memblock_free_all()} and then a workload would.
 */
public final class MachineBuilder {
    private MachineBuilder() {}

    // =================================================================== from a snapshot

    /** The machine of a snapshot, with as many CPUs as its zoneinfo shows pagesets for. */
    public static PageAllocator fromSnapshot(MachineSnapshot snap, KernelEra era) {
        return fromSnapshot(snap, era, Math.max(1, snap.cpus()));
    }

    /**
     * The machine of a snapshot with {@code cpus} CPUs (the replayer's vCPU count). CPUs the snapshot has
     * pagesets for start with its pcp counts and (current era) high/batch; the others start empty with the
     * era's computed sizes.
     */
    public static PageAllocator fromSnapshot(MachineSnapshot snap, KernelEra era, int cpus) {
        int nrNodes = 0;
        for (MachineSnapshot.ZoneInfo zi : snap.zones) nrNodes = Math.max(nrNodes, zi.node + 1);
        if (cpus < 1) throw new IllegalArgumentException("cpus must be >= 1");
        // zones that have pages, in pfn order
        List<MachineSnapshot.ZoneInfo> zis = new ArrayList<>();
        for (MachineSnapshot.ZoneInfo zi : snap.zones) if (zoneType(zi.name) >= 0) zis.add(zi);
        zis.sort(Comparator.comparingLong((MachineSnapshot.ZoneInfo z) -> z.startPfn < 0 ? Long.MAX_VALUE : z.startPfn)
                .thenComparingInt(z -> z.node).thenComparingInt(z -> zoneType(z.name)));
        int[] base = new int[zis.size()], nblocks = new int[zis.size()];
        long end = 0;
        for (int i = 0; i < zis.size(); i++) {
            MachineSnapshot.ZoneInfo zi = zis.get(i);
            long blocks;
            if (zi.blocksByType != null) { blocks = 0; for (long b : zi.blocksByType) blocks += b; }
            else if (zi.present >= 0) blocks = (zi.present + PAGEBLOCK_PAGES - 1) / PAGEBLOCK_PAGES;
            else if (zi.nrFree != null) {
                // buddyinfo alone: room for the free blocks plus an allocated buddy for each small one
                long f = 0;
                for (int o = 0; o < zi.nrFree.length; o++) f += zi.nrFree[o] << o;
                blocks = 2 * ((f + PAGEBLOCK_PAGES - 1) / PAGEBLOCK_PAGES) + 2;
            }
            else blocks = 0;
            long start = zi.startPfn >= 0 ? zi.startPfn & ~(PAGEBLOCK_PAGES - 1L) : end;
            start = Math.max(start, end);
            base[i] = (int) start;
            nblocks[i] = (int) blocks;
            end = start + blocks * PAGEBLOCK_PAGES;
        }
        long pfns = (end + 1023) & ~1023L;
        PhysMem.checkPfnSpace(pfns);
        int nrPfns = (int) pfns;
        PhysMem mem = new PhysMem(Math.max(nrPfns, 1024));
        List<Zone> zones = new ArrayList<>();
        for (int i = 0; i < zis.size(); i++) {
            if (nblocks[i] == 0) continue;
            MachineSnapshot.ZoneInfo zi = zis.get(i);
            Zone z = new Zone(zi.node, zoneType(zi.name), zones.size(), base[i], base[i] + nblocks[i] * PAGEBLOCK_PAGES);
            zones.add(z);
        }
        mem.zones = zones.toArray(new Zone[0]);
        for (Zone z : mem.zones) {
            for (int b = z.startPfn >>> PAGEBLOCK_ORDER; b < z.endPfn >>> PAGEBLOCK_ORDER; b++) mem.blockZone[b] = (short) z.gidx;
        }
        PageAllocator pa = new PageAllocator(era, mem, nrNodes, cpus);
        for (Zone z : mem.zones) {
            MachineSnapshot.ZoneInfo zi = snap.zone(z.node, z.name());
            long modelPages = z.endPfn - z.startPfn;
            z.spanned = zi.spanned >= 0 ? zi.spanned : modelPages;
            z.present = zi.present >= 0 ? zi.present : modelPages;
            z.managed = zi.managed >= 0 ? zi.managed : modelPages;
            layoutZone(pa, z, zi);
        }
        // watermarks: as printed, or recomputed when zoneinfo is absent
        boolean haveWmarks = true;
        for (Zone z : mem.zones) if (snap.zone(z.node, z.name()).min < 0) haveWmarks = false;
        if (haveWmarks) {
            for (Zone z : mem.zones) {
                MachineSnapshot.ZoneInfo zi = snap.zone(z.node, z.name());
                z.setWatermarks(zi.min, zi.low, zi.high);
                z.setWatermarkBoost(zi.boost);
                if (zi.protection != null)
                    for (int j = 0; j < NR_ZONES && j < zi.protection.length; j++) z.setLowmemReserve(j, zi.protection[j]);
            }
            pa.setupPcp();
        } else {
            long lowmem = 0;
            int populated = 0;
            for (Zone z : mem.zones) { lowmem += z.managed; if (z.managed > 0) populated++; }
            pa.setupWatermarksAndPcp(Watermarks.minFreeKbytes(lowmem, populated, true), 10);
        }
        // the snapshot's pcp sizing wins for the current era (it was taken on a current kernel)
        if (pa.eraNow) {
            for (Zone z : mem.zones) {
                MachineSnapshot.ZoneInfo zi = snap.zone(z.node, z.name());
                for (int c = 0; c < cpus && c < zi.pagesets.size(); c++) {
                    long[] ps = zi.pagesets.get(c);
                    PerCpuPages p = z.pcp[c];
                    if (ps[1] >= 0 && ps[2] >= 0)
                        p.setHighBatch((int) ps[1], (int) ps[2], (int) (ps[3] >= 0 ? ps[3] : ps[1]), (int) (ps[4] >= 0 ? ps[4] : ps[1]));
                }
            }
        }
        fillPcpFromSnapshot(pa, snap);
        pa.buildZonelists();
        return pa;
    }

    static int zoneType(String name) {
        for (int i = 0; i < NR_ZONES; i++) if (ZONE_NAMES[i].equals(name)) return i;
        return -1;
    }

    /** A candidate aligned range while laying out free blocks. */
    private static final class Slot {
        final int pfn, order, type;
        boolean noWhole, used;
        Slot sibling;

        Slot(int pfn, int order, int type) { this.pfn = pfn; this.order = order; this.type = type; }
    }

    /**
     * Places the zone's free blocks so that the free lists equal the snapshot's counts per order and type:
     * pageblock types are assigned in contiguous runs (trying every order of the types until each type has
     * enough aligned pairs for its order-10 blocks), then free blocks are placed from the largest order down
     * into aligned slots of their type. Whenever a block is placed, its buddy is marked "never wholly
     * free", which is exactly the condition for __free_one_page not to have merged them.
     */
    static void layoutZone(PageAllocator pa, Zone z, MachineSnapshot.ZoneInfo zi) {
        PhysMem mem = pa.mem;
        int nb = (z.endPfn - z.startPfn) >>> PAGEBLOCK_ORDER;
        long[][] want = new long[NR_MT][NR_ORDERS];
        if (zi.freeByType != null) {
            for (int mt = 0; mt < NR_MT; mt++) for (int o = 0; o < NR_ORDERS && o < zi.freeByType[mt].length; o++) want[mt][o] = zi.freeByType[mt][o];
        } else if (zi.nrFree != null) {
            for (int o = 0; o < NR_ORDERS && o < zi.nrFree.length; o++) want[MT_MOVABLE][o] = zi.nrFree[o];
        }
        long[] blocks = new long[NR_MT];
        if (zi.blocksByType != null) System.arraycopy(zi.blocksByType, 0, blocks, 0, NR_MT);
        else blocks[MT_MOVABLE] = nb;
        int[] perm = {MT_UNMOVABLE, MT_RECLAIMABLE, MT_HIGHATOMIC, MT_ISOLATE, MT_MOVABLE};
        List<int[]> perms = new ArrayList<>();
        permute(perm, 0, perms);
        RuntimeException last = null;
        for (int[] order : perms) {
            byte[] types = new byte[nb];
            int k = 0;
            for (int t : order) for (long i = 0; i < blocks[t]; i++) types[k++] = (byte) t;
            try {
                List<Slot> free = place(z, types, want);
                apply(pa, z, types, free);
                return;
            } catch (IllegalStateException e) {
                last = e;
            }
        }
        throw new IllegalStateException("cannot lay out " + z + " from the snapshot: " + (last == null ? "" : last.getMessage()));
    }

    private static void permute(int[] a, int k, List<int[]> out) {
        if (k == a.length) { out.add(a.clone()); return; }
        for (int i = k; i < a.length; i++) {
            int t = a[k]; a[k] = a[i]; a[i] = t;
            permute(a, k + 1, out);
            t = a[k]; a[k] = a[i]; a[i] = t;
        }
    }

    private static List<Slot> place(Zone z, byte[] types, long[][] want) {
        int nb = types.length;
        List<Slot> cur = new ArrayList<>();
        // top-level slots: pair-aligned 1024-page ranges, or lone pageblocks
        for (int b = 0; b < nb; ) {
            int pfn = z.startPfn + b * PAGEBLOCK_PAGES;
            boolean pairStart = (pfn & ((1 << MAX_ORDER_IDX) - 1)) == 0;
            if (pairStart && b + 1 < nb && types[b] == types[b + 1]) {
                cur.add(new Slot(pfn, MAX_ORDER_IDX, types[b]));
                b += 2;
            } else if (pairStart && b + 1 < nb) {
                Slot a = new Slot(pfn, PAGEBLOCK_ORDER, types[b]);
                Slot c = new Slot(pfn + PAGEBLOCK_PAGES, PAGEBLOCK_ORDER, types[b + 1]);
                a.sibling = c; c.sibling = a;
                cur.add(a); cur.add(c);
                b += 2;
            } else {
                cur.add(new Slot(pfn, PAGEBLOCK_ORDER, types[b]));
                b++;
            }
        }
        List<Slot> placed = new ArrayList<>();
        List<Slot> pending9 = new ArrayList<>();
        for (int o = MAX_ORDER_IDX; o >= 0; o--) {
            List<Slot> atOrder = new ArrayList<>();
            List<Slot> next = new ArrayList<>();
            for (Slot s : cur) (s.order == o ? atOrder : next).add(s);
            for (int mt = 0; mt < NR_MT; mt++) {
                long need = want[mt][o];
                if (need == 0) continue;
                final int type = mt;
                List<Slot> cand = new ArrayList<>();
                for (Slot s : atOrder) if (s.type == type && !s.used && !s.noWhole) cand.add(s);
                // slots whose buddy is already committed cost nothing extra
                cand.sort(Comparator.comparingInt((Slot s) -> s.sibling == null || s.sibling.noWhole ? 0 : 1).thenComparingInt(s -> s.pfn));
                for (Slot s : cand) {
                    if (need == 0) break;
                    if (s.noWhole) continue;
                    s.used = true;
                    if (s.sibling != null) s.sibling.noWhole = true;
                    placed.add(s);
                    need--;
                }
                if (need > 0) throw new IllegalStateException("no room for " + need + " free blocks of order " + o + " " + MT_NAMES[mt]);
            }
            if (o == 0) break;
            // split what is left at this order only as far as lower orders need slots
            long[] lowerNeed = new long[NR_MT];
            for (int mt = 0; mt < NR_MT; mt++) {
                long n = 0;
                for (int j = 0; j < o; j++) n = 2 * want[mt][j] + (n + 1) / 2;
                lowerNeed[mt] = n + 2;
            }
            long[] have = new long[NR_MT];
            for (Slot s : next) if (s.order == o - 1) have[s.type]++;
            List<Slot> rest = new ArrayList<>();
            for (Slot s : atOrder) if (!s.used) rest.add(s);
            rest.sort(Comparator.comparingInt((Slot s) -> s.noWhole ? 0 : 1).thenComparingInt(s -> s.pfn));
            for (Slot s : rest) {
                if (have[s.type] >= lowerNeed[s.type]) continue;
                Slot a = new Slot(s.pfn, o - 1, s.type), c = new Slot(s.pfn + (1 << (o - 1)), o - 1, s.type);
                a.sibling = c; c.sibling = a;
                next.add(a); next.add(c);
                have[s.type] += 2;
            }
            cur = next;
        }
        return placed;
    }

    /** Writes the layout into the model: free blocks on their lists, everything else allocated. */
    private static void apply(PageAllocator pa, Zone z, byte[] types, List<Slot> free) {
        PhysMem mem = pa.mem;
        for (int b = 0; b < types.length; b++) mem.blockMt[(z.startPfn >>> PAGEBLOCK_ORDER) + b] = types[b];
        // everything allocated first, then the free blocks
        for (int p = z.startPfn; p < z.endPfn; p++) {
            mem.setState(p, S_ALLOC);
            mem.setOrder(p, 0);
            mem.setKind(p, K_KERNEL);
            mem.setFlags(p, 0);
            mem.unlink(p);
        }
        free.sort(Comparator.comparingInt(s -> s.pfn));
        for (Slot s : free) {
            mem.markTails(s.pfn, s.order);
            pa.buddy.addToFreeList(z, s.pfn, s.order, s.type, true);
        }
    }

    /**
     * Takes the snapshot's pcp counts from allocated pages (the kernel does not count pcp pages as free),
     * marks non-managed pages reserved, and turns allocated pages of movable blocks into page cache (with
     * the zone's write-pending pages dirty) and anonymous pages per the zone's LRU counters.
     */
    private static void fillPcpFromSnapshot(PageAllocator pa, MachineSnapshot snap) {
        PhysMem mem = pa.mem;
        for (Zone z : mem.zones) {
            MachineSnapshot.ZoneInfo zi = snap.zone(z.node, z.name());
            long modelPages = z.endPfn - z.startPfn;
            long reserved = Math.max(0, modelPages - z.managed);
            // reserved: lowest non-free pfns (memblock reservations sit low)
            for (int p = z.startPfn; p < z.endPfn && reserved > 0; p++) {
                if (mem.state(p) == S_ALLOC) { mem.setState(p, S_RESERVED); reserved--; }
            }
            // pcp pages: highest allocated pfns of movable blocks, order 0, on the movable list
            for (int c = 0; c < z.pcp.length && c < zi.pagesets.size(); c++) {
                long want = Math.max(0, zi.pagesets.get(c)[0]);
                PerCpuPages pcp = z.pcp[c];
                int li = PerCpuPages.pindex(MT_MOVABLE, 0);
                for (int p = z.endPfn - 1; p >= z.startPfn && want > 0; p--) {
                    if (mem.state(p) != S_ALLOC || mem.kind(p) != K_KERNEL || mem.pageblockMigratetype(p) != MT_MOVABLE) continue;
                    pcp.addTail(mem, li, p, 0, MT_MOVABLE);
                    want--;
                }
            }
            long file = zi.stat("nr_zone_inactive_file", 0) + zi.stat("nr_zone_active_file", 0);
            long dirty = zi.stat("nr_zone_write_pending", 0);
            long anon = zi.stat("nr_zone_inactive_anon", 0) + zi.stat("nr_zone_active_anon", 0);
            for (int p = z.startPfn; p < z.endPfn && (file > 0 || anon > 0); p++) {
                if (mem.state(p) != S_ALLOC || mem.kind(p) != K_KERNEL || mem.pageblockMigratetype(p) != MT_MOVABLE) continue;
                if (file > 0) {
                    pa.vmscan.lruAdd(z, p, dirty > 0);
                    if (dirty > 0) dirty--;
                    file--;
                } else {
                    mem.setKind(p, K_ANON);
                    z.nrAnon++;
                    anon--;
                }
            }
        }
    }

    // =================================================================== blank (for tests and small scenarios)

    /**
     * One node, one ZONE_NORMAL of {@code pageblocks} pageblocks starting at pfn 0, every page allocated
     * to the kernel (K_KERNEL) and every block UNMOVABLE, watermarks 0. Scenarios then free exactly the
     * pages they want into the buddy with {@link #freeInto}.
     */
    public static PageAllocator blank(KernelEra era, int pageblocks, int cpus) {
        int pages = pageblocks * PAGEBLOCK_PAGES;
        PhysMem mem = new PhysMem((pages + 1023) & ~1023);
        Zone z = new Zone(0, ZONE_NORMAL, 0, 0, pages);
        mem.zones = new Zone[]{z};
        for (int b = 0; b < pageblocks; b++) { mem.blockZone[b] = 0; mem.blockMt[b] = MT_UNMOVABLE; }
        for (int p = 0; p < pages; p++) { mem.setState(p, S_ALLOC); mem.setKind(p, K_KERNEL); mem.unlink(p); }
        z.spanned = z.present = z.managed = pages;
        PageAllocator pa = new PageAllocator(era, mem, 1, cpus);
        pa.buildZonelists();
        pa.setupPcp();
        return pa;
    }

    /** Frees {@code [pfn, pfn + 2^order)} of a scenario machine straight into the buddy (as memblock_free_all does). */
    public static void freeInto(PageAllocator pa, int pfn, int order) {
        Zone z = pa.mem.zoneOf(pfn);
        pa.mem.setKind(pfn, K_EXTERNAL);
        pa.mem.markTails(pfn, order);
        pa.buddy.freeOnePage(z, pfn, order, pa.mem.pageblockMigratetype(pfn));
    }

    /** Sets a pageblock's migratetype in a scenario machine. */
    public static void setPageblockType(PageAllocator pa, int pfn, int mt) { pa.mem.setBlockMt(pfn, mt); }

    /** Marks an allocated order-0 page of a scenario machine as anonymous (movable, migratable). */
    public static void makeAnon(PageAllocator pa, int pfn) {
        pa.mem.setKind(pfn, K_ANON);
        pa.mem.zoneOf(pfn).nrAnon++;
    }

    // =================================================================== from parameters

    /** Parameters of a synthetic machine. */
    public static final class Params {
        public long totalBytes = 1L << 30;
        public int cpus = 2;
        public KernelEra era = KernelEra.ENOW;
        /** Target unusable free space index at pageblock order, 0..1 (0: freshly booted). */
        public double fragmentation = 0;
        public long seed = 1;
        /**
         * Memory in use at the start (a fraction of managed memory when at most 1, bytes above): when aging left
         * more in use, clean page cache is reclaimed at random until it is reached ({@link #reclaimTo}); when
         * less, clean page cache is added ({@link #fillUsed}); negative (the default) leaves memory as built.
         */
        public double used = -1;

        public Params totalBytes(long v) { totalBytes = v; return this; }
        public Params cpus(int v) { cpus = v; return this; }
        public Params era(KernelEra v) { era = v; return this; }
        public Params fragmentation(double v) { fragmentation = v; return this; }
        public Params seed(long v) { seed = v; return this; }
        public Params used(double v) { used = v; return this; }
    }

    /**
     * A single-node machine of {@code totalBytes}: ZONE_DMA (16 MiB, pfn 0 and 255 more pages reserved),
     * ZONE_DMA32 up to 4 GiB, ZONE_Normal above; all pageblocks start MOVABLE (memmap_init_zone) and all
     * managed pages are freed into the buddy (memblock_free_all). Watermarks use the THP-raised
     * min_free_kbytes and watermark_scale_factor 10. Then {@link #age} runs to the fragmentation level.
     */
    public static PageAllocator fromParams(Params prm) {
        long pages = prm.totalBytes / PAGE_SIZE;
        pages = Math.max(pages, 4096 + 2L * 1024) & ~1023L;
        PhysMem.checkPfnSpace(pages);
        PhysMem mem = new PhysMem((int) pages);
        List<Zone> zones = new ArrayList<>();
        int dmaEnd = 4096;
        int dma32End = (int) Math.min(pages, 1L << 20);
        zones.add(new Zone(0, ZONE_DMA, 0, 0, dmaEnd));
        zones.add(new Zone(0, ZONE_DMA32, 1, dmaEnd, dma32End));
        if (pages > dma32End) zones.add(new Zone(0, ZONE_NORMAL, 2, dma32End, (int) pages));
        mem.zones = zones.toArray(new Zone[0]);
        for (Zone z : mem.zones)
            for (int b = z.startPfn >>> PAGEBLOCK_ORDER; b < z.endPfn >>> PAGEBLOCK_ORDER; b++) {
                mem.blockZone[b] = (short) z.gidx;
                mem.blockMt[b] = MT_MOVABLE;
            }
        PageAllocator pa = new PageAllocator(prm.era, mem, 1, Math.max(1, prm.cpus));
        long lowmem = 0;
        for (Zone z : mem.zones) {
            int span = z.endPfn - z.startPfn;
            int reserved = z.type == ZONE_DMA ? 256 : span / 200;
            z.spanned = span;
            z.present = span;
            z.managed = span - reserved;
            lowmem += z.managed;
            for (int p = z.startPfn; p < z.endPfn; p++) { mem.unlink(p); mem.setState(p, S_TAIL); }
            for (int p = z.startPfn; p < z.startPfn + reserved; p++) mem.setState(p, S_RESERVED);
            // __free_pages_core: the largest aligned blocks that fit
            int p = z.startPfn + reserved;
            while (p < z.endPfn) {
                int o = MAX_ORDER_IDX;
                while (o > 0 && ((p & ((1 << o) - 1)) != 0 || p + (1 << o) > z.endPfn)) o--;
                mem.setState(p, S_ISOLATED);
                pa.buddy.freeOnePage(z, p, o, MT_MOVABLE);
                p += 1 << o;
            }
        }
        pa.buildZonelists();
        pa.setupWatermarksAndPcp(Watermarks.minFreeKbytes(lowmem, mem.zones.length, true), 10);
        if (prm.fragmentation > 0) age(pa, prm);
        if (prm.used >= 0) fillUsed(pa, prm.used);
        return pa;
    }

    /**
     * Brings the memory in use up to {@code used} (a fraction of managed pages when at most 1, bytes above)
     * with clean page cache on the LRU lists: what most of a running machine's used memory is, and what
     * kswapd and direct reclaim take back, so the replay's allocations meet the watermarks and the slow
     * path as they would there. Memory already in use counts (a snapshot's, the aging workload's); free
     * pages on pcp lists count as free. The pages are read in without reclaim (__GFP_RECLAIM cleared,
     * as a filling that must not evict itself), so filling stops at the zones' watermarks whatever the
     * target. Returns the pages added.
     */
    public static long fillUsed(PageAllocator pa, double used) {
        if (!(used >= 0)) throw new IllegalArgumentException("used must be a fraction of memory (0..1) or bytes (> 1), not " + used);
        long managed = 0;
        for (Zone z : pa.zones) managed += z.managed;
        long target = used <= 1 ? (long) Math.floor(managed * used) : Math.min(managed, (long) (used / PAGE_SIZE));
        long gfp = Gfp.GFP_HIGHUSER_MOVABLE & ~Gfp.RECLAIM | Gfp.NOWARN;
        SimpleExecContext ctx = new SimpleExecContext(0, 1, new CostTable());
        long added = 0;
        while (managed - pa.freeAndPcpPageCount() < target) {
            int want = (int) Math.min(1 << 16, target - (managed - pa.freeAndPcpPageCount()));
            int n = pa.vmscan.addPageCache(ctx, want, 0, gfp);
            added += n;
            if (n < want) break;
        }
        return added;
    }

    /** Pages of an aging workload, so it can free them again. */
    private static final class Held {
        int[] pfn = new int[1024];
        byte[] ord = new byte[1024];
        int n;

        void add(long p, int o) {
            if (n == pfn.length) { pfn = java.util.Arrays.copyOf(pfn, n * 2); ord = java.util.Arrays.copyOf(ord, n * 2); }
            pfn[n] = (int) p; ord[n] = (byte) o; n++;
        }

        void removeAt(int i) { n--; pfn[i] = pfn[n]; ord[i] = ord[n]; }
    }

    /**
     * The seeded aging workload: rounds that each allocate a tenth of managed memory (page cache with 1 in 5
     * pages dirty, anonymous memory, and unmovable/reclaimable kernel allocations of orders 0-3 in the
     * proportion 52:40:8) and then free every movable page with probability 1/2 and every kernel allocation
     * with probability 1/4 (a page that was written is kept: the workload keeps the files it wrote; the
     * flusher has cleaned all but the last round's by the end, {@link #writebackExpired}). Long-lived kernel
     * allocations landing between movable pages pin pageblocks and
     * random frees leave scattered holes, which is how a real machine fragments. Stops when the unusable
     * free space index at pageblock order (free pages not in blocks of order >= 9, as a fraction of free
     * pages) reaches the target, or after 200 rounds. Allocations do not reclaim, so aging takes no slow-path
     * detours and is deterministic for a seed.
     */
    public static int age(PageAllocator pa, Params prm) {
        SplittableRandom rnd = new SplittableRandom(prm.seed);
        CostTable costs = new CostTable();
        long total = 0;
        for (Zone z : pa.zones) total += z.managed;
        long chunk = Math.max(1, total / 10);
        long kernelGfp = Gfp.GFP_KERNEL & ~Gfp.RECLAIM | Gfp.NOWARN;
        long movableGfp = Gfp.GFP_HIGHUSER_MOVABLE & ~Gfp.RECLAIM | Gfp.NOWARN;
        Held anon = new Held(), kernel = new Held();
        Held dirtiedThisRound = new Held();
        int rounds = 0;
        while (rounds < 200 && unusableFreeIndex(pa, PAGEBLOCK_ORDER) < prm.fragmentation) {
            rounds++;
            SimpleExecContext ctx = new SimpleExecContext(rnd.nextInt(pa.nrCpus), 1, costs);
            dirtiedThisRound.n = 0;
            for (long done = 0; done < chunk; ) {
                int r = rnd.nextInt(100);
                if (r < 8) {
                    int o = rnd.nextInt(4);
                    long p = pa.allocPages(ctx, o, rnd.nextInt(3) == 0 ? kernelGfp | Gfp.RECLAIMABLE : kernelGfp);
                    if (p < 0) break;
                    pa.mem.setKind((int) p, K_KERNEL);
                    kernel.add(p, o);
                    done += 1L << o;
                } else if (r < 60) {
                    boolean dirty = rnd.nextInt(5) == 0;
                    long p = pa.allocPages(ctx, 0, movableGfp);
                    if (p < 0) break;
                    pa.vmscan.lruAdd(pa.mem.zoneOf(p), (int) p, dirty);
                    if (dirty) dirtiedThisRound.add(p, 0);
                    done++;
                } else {
                    long p = pa.allocPages(ctx, 0, movableGfp);
                    if (p < 0) break;
                    pa.mem.setKind((int) p, K_ANON);
                    pa.mem.zoneOf(p).nrAnon++;
                    anon.add(p, 0);
                    done++;
                }
            }
            for (int i = anon.n - 1; i >= 0; i--) {
                if (rnd.nextBoolean()) { pa.vmscan.releaseOwned(ctx, anon.pfn[i]); anon.removeAt(i); }
            }
            for (Zone z : pa.zones) {
                for (int p = z.lruHead[0]; p >= 0; ) {
                    int nx = pa.mem.next(p);
                    if ((pa.mem.flags(p) & (F_DIRTY | F_WRITEBACK)) == 0 && rnd.nextBoolean()) pa.vmscan.releaseOwned(ctx, p);
                    p = nx;
                }
            }
            for (int i = kernel.n - 1; i >= 0; i--) {
                if (rnd.nextInt(4) == 0) {
                    pa.mem.setKind(kernel.pfn[i], K_EXTERNAL);
                    pa.freePages(ctx, kernel.pfn[i], kernel.ord[i]);
                    kernel.removeAt(i);
                }
            }
            pa.drainAllPages(ctx);
        }
        writebackExpired(pa, dirtiedThisRound);
        if (prm.used >= 0) reclaimTo(pa, prm.used, rnd);
        return rounds;
    }

    /**
     * The flusher at the end of aging: pages dirtied before the last round are clean again (still cached),
     * those of the last round stay dirty. A round stands for far more than {@code dirty_expire_interval}
     * (30 s, mm/page-writeback.c), the longest data may stay dirty before the periodic writeback
     * ({@code wb_check_old_data_flush()}, fs/fs-writeback.c) writes it out. Which pages aging keeps does
     * not change: a written page is never freed by it (the workload keeps the files it wrote), so the layout
     * is the one aging always made; what changes is that its page cache is no longer nearly all dirty,
     * which no kernel allows (vm.dirty_ratio caps dirty pages at 20% of dirtyable memory) and which left
     * direct reclaim nothing to free but dirty pages it can only rotate.
     */
    private static void writebackExpired(PageAllocator pa, Held recent) {
        PhysMem mem = pa.mem;
        for (Zone z : pa.zones) {
            if (z.nrDirty == 0) continue;
            for (int p = z.lruHead[0]; p >= 0; p = mem.next(p)) {
                if ((mem.flags(p) & F_DIRTY) != 0) {
                    mem.clearFlags(p, F_DIRTY);
                    z.nrDirty -= 1 << mem.order(p);
                }
            }
        }
        for (int i = 0; i < recent.n; i++) {
            int p = recent.pfn[i];
            if (mem.state(p) == S_ALLOC && mem.kind(p) == K_PAGECACHE && (mem.flags(p) & F_DIRTY) == 0) {
                mem.orFlags(p, F_DIRTY);
                mem.zoneOf(p).nrDirty += 1 << mem.order(p);
            }
        }
    }

    /**
     * Reclaims clean page cache until the memory in use is down to {@code used} (a fraction of managed pages
     * when at most 1, bytes above), each clean page with the same probability: what kswapd's LRU-order
     * reclaim does on a machine that has run for long, where a page's place on the LRU says nothing about
     * its physical address (the reason lumpy reclaim once existed and compaction now does: reclaim alone
     * frees scattered pages, not contiguous ranges). So the memory freed is plentiful but in small blocks,
     * the machine of seed 001 ("We've got memory there", and still no order-4 block). Dirty, writeback and
     * anonymous pages stay. Returns the pages freed.
     */
    static long reclaimTo(PageAllocator pa, double used, SplittableRandom rnd) {
        long managed = 0;
        for (Zone z : pa.zones) managed += z.managed;
        long target = used <= 1 ? (long) Math.floor(managed * used) : Math.min(managed, (long) (used / PAGE_SIZE));
        long excess = managed - pa.freeAndPcpPageCount() - target;
        long clean = 0;
        for (Zone z : pa.zones) clean += z.nrFile - z.nrDirty - z.nrWriteback;
        if (excess <= 0 || clean == 0) return 0;
        // selection sampling (Knuth's Algorithm S): exactly `excess` of the clean pages, each equally likely
        long need = Math.min(excess, clean), left = clean;
        SimpleExecContext ctx = new SimpleExecContext(0, 1, new CostTable());
        long freed = 0;
        for (Zone z : pa.zones) {
            for (int pfn = z.lruTail[0]; pfn >= 0 && need > 0; ) {
                int prev = pa.mem.prev(pfn);
                if ((pa.mem.flags(pfn) & (F_DIRTY | F_WRITEBACK)) == 0) {
                    if (rnd.nextLong(left) < need) {
                        pa.vmscan.releaseOwned(ctx, pfn);
                        freed++;
                        need--;
                    }
                    left--;
                }
                pfn = prev;
            }
        }
        pa.drainAllPages(ctx);
        return freed;
    }

    /** Unusable free space index Fu(order) of the whole machine (Mel Gorman's metric, 0..1). */
    public static double unusableFreeIndex(PageAllocator pa, int order) {
        long free = 0, usable = 0;
        for (Zone z : pa.zones) {
            for (int o = 0; o < NR_ORDERS; o++) {
                free += z.nrFree[o] << o;
                if (o >= order) usable += z.nrFree[o] << o;
            }
        }
        return free == 0 ? 0 : (double) (free - usable) / free;
    }
}
