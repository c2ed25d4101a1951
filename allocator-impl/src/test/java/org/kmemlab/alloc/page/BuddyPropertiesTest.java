package org.kmemlab.alloc.page;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/**
 * Acceptance 1: invariants after every operation of random (seeded, shrinkable) alloc/free/page-cache/
 * compact/reclaim/drain sequences on a 32 MiB, 2-CPU machine, in both eras.
 */
class BuddyPropertiesTest {
    static final long[] GFPS = {
            Gfp.GFP_KERNEL, Gfp.GFP_KERNEL | Gfp.RECLAIMABLE, Gfp.GFP_HIGHUSER_MOVABLE, Gfp.GFP_ATOMIC,
            Gfp.GFP_NOWAIT, Gfp.GFP_NOWAIT | Gfp.FAST_TRY, Gfp.GFP_NOIO | Gfp.NORETRY, Gfp.GFP_KERNEL | Gfp.NORETRY | Gfp.ZERO,
    };

    record Held(long pfn, int order, Zone zone) {}

    @Property(tries = 20, seed = "20260101", shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
    void invariantsHoldAfterEveryOperation(@ForAll @Size(min = 30, max = 100) List<@IntRange(min = 0, max = 9999) Integer> ops,
                                           @ForAll boolean eraNow, @ForAll boolean aged) {
        KernelEra era = eraNow ? KernelEra.ENOW : KernelEra.E2020;
        // aged machines have kernel pages, page cache and holes everywhere, so compaction has work to do
        PageAllocator pa = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(32L << 20).cpus(2).era(era)
                .fragmentation(aged ? 0.6 : 0).seed(ops.size()));
        CostTable costs = new CostTable();
        SimpleExecContext[] cpu = {new SimpleExecContext(0, 1, costs), new SimpleExecContext(1, 2, costs)};
        // pages outside the test's control: reserved, and the aging workload's kernel allocations (never freed)
        Map<Zone, Long> reserved = new HashMap<>();
        for (Zone z : pa.zones()) {
            long r = 0;
            for (int p = z.startPfn; p < z.endPfn; p++) {
                if (pa.mem().state(p) == S_RESERVED) r++;
                else if (pa.mem().state(p) == S_ALLOC && pa.mem().kind(p) == K_KERNEL) { r += 1L << pa.mem().order(p); p += (1 << pa.mem().order(p)) - 1; }
            }
            reserved.put(z, r);
        }
        List<Held> held = new ArrayList<>();
        pa.checkInvariants();
        for (int op : ops) {
            SimpleExecContext ctx = cpu[op & 1];
            int kind = (op >> 1) % 10;
            int arg = op / 20;
            switch (kind) {
                case 0, 1, 2, 3 -> {
                    int order = arg % 8 < 4 ? 0 : arg % 5;
                    long gfp = GFPS[(arg / 5) % GFPS.length];
                    for (int i = 1 + (arg / 40) % 16; i > 0; i--) {
                        long pfn = pa.allocPages(ctx, order, gfp);
                        if (pfn < 0) {
                            if ((gfp & Gfp.FAST_TRY) != 0) assertEquals(FailReason.PCP_EMPTY, pa.lastOutcome().reason);
                            break;
                        }
                        assertEquals(S_ALLOC, pa.mem().state(pfn));
                        assertEquals(order, pa.mem().order(pfn));
                        assertEquals(0, pfn & ((1L << order) - 1), "alignment");
                        Zone z = pa.mem().zoneOf(pfn);
                        assertTrue(z.type <= PageAllocator.gfpZone(gfp));
                        held.add(new Held(pfn, order, z));
                    }
                }
                case 4, 5 -> {
                    if (!held.isEmpty()) {
                        Held h = held.remove(arg % held.size());
                        pa.freePages(ctx, h.pfn, h.order);
                    }
                }
                case 6 -> pa.vmscan().addPageCache(ctx, 1 + arg % 64, arg % 7, Gfp.GFP_HIGHUSER_MOVABLE | Gfp.NORETRY | Gfp.NOWARN);
                case 7 -> compactAndCheck(pa, ctx, held);
                case 8 -> {
                    if (arg % 2 == 0) pa.kswapd(ctx, 0); else pa.kcompactd(ctx, 0);
                }
                default -> {
                    if (arg % 2 == 0) pa.drainAllPages(ctx); else { ctx.advance(20_000_000L); pa.vmscan().completeWriteback(ctx); }
                }
            }
            pa.checkInvariants();
            assertConserved(pa, held, reserved);
            assertCanonical(pa);
        }
        // give everything back: the zones must return to all-free (but for the aging's kernel pages), fully coalesced
        SimpleExecContext ctx = cpu[0];
        for (Held h : held) pa.freePages(ctx, h.pfn, h.order);
        for (Zone z : pa.zones()) {
            for (int p = z.startPfn; p < z.endPfn; p++) {
                if (pa.mem().state(p) == S_ALLOC && (pa.mem().kind(p) == K_PAGECACHE || pa.mem().kind(p) == K_ANON)) {
                    if ((pa.mem().flags(p) & F_WRITEBACK) != 0) { ctx.advance(1_000_000_000L); pa.vmscan().completeWriteback(ctx); }
                    pa.vmscan().releaseOwned(ctx, p);
                }
            }
        }
        pa.drainAllPages(ctx);
        pa.checkInvariants();
        for (Zone z : pa.zones()) assertEquals(z.endPfn - z.startPfn - reserved.get(z), z.freePages(), z + " not all free");
        assertCanonical(pa);
    }

    /** Free + pcp + held + model-owned + reserved = the zone's pages, counted independently of the model's totals. */
    static void assertConserved(PageAllocator pa, List<Held> held, Map<Zone, Long> reserved) {
        for (Zone z : pa.zones()) {
            long h = 0;
            for (Held x : held) if (x.zone == z) h += 1L << x.order;
            long sum = z.freePages() + z.pcpPages() + h + z.filePages() + z.anonPages() + reserved.get(z);
            assertEquals(z.endPfn - z.startPfn, sum, z + " pages not conserved");
        }
    }

    /**
     * The reference buddy: given only the set of pfns the model holds free in the buddy, the free blocks must be
     * exactly its canonical decomposition: the largest aligned fully-free blocks, merging across pageblocks at
     * order 9 -> 10 unless the era forbids it for the two blocks' migratetypes.
     */
    static void assertCanonical(PageAllocator pa) {
        PhysMem m = pa.mem();
        boolean now = pa.era().atLeast(KernelEra.ENOW);
        for (Zone z : pa.zones()) {
            int n = z.endPfn - z.startPfn;
            boolean[] free = new boolean[n];
            TreeMap<Integer, Integer> model = new TreeMap<>();
            // the set of free pfns: the extents of the free heads (tails carry no state of their own)
            for (int i = 0; i < n; i++) {
                if (m.state(z.startPfn + i) != S_FREE) continue;
                int o = m.order(z.startPfn + i);
                model.put(z.startPfn + i, o);
                for (int k = 0; k < (1 << o) && i + k < n; k++) free[i + k] = true;
            }
            TreeMap<Integer, Integer> ref = new TreeMap<>();
            int top = 1 << MAX_ORDER_IDX;
            for (int base = z.startPfn & ~(top - 1); base < z.endPfn; base += top) decompose(m, z, free, base, MAX_ORDER_IDX, now, ref);
            assertEquals(ref, model, z + " free blocks differ from the reference buddy");
        }
    }

    private static void decompose(PhysMem m, Zone z, boolean[] free, int pfn, int order, boolean now, TreeMap<Integer, Integer> out) {
        int size = 1 << order;
        if (pfn + size <= z.startPfn || pfn >= z.endPfn) return;
        boolean inside = pfn >= z.startPfn && pfn + size <= z.endPfn;
        boolean all = inside;
        for (int i = 0; all && i < size; i++) all = free[pfn + i - z.startPfn];
        if (all && order == MAX_ORDER_IDX) {
            int a = m.pageblockMigratetype(pfn), b = m.pageblockMigratetype(pfn + PAGEBLOCK_PAGES);
            boolean mergeable = a == b || (now ? a < MT_PCPTYPES && b < MT_PCPTYPES : a != MT_ISOLATE && b != MT_ISOLATE);
            if (!mergeable) all = false;
        }
        if (all) { out.put(pfn, order); return; }
        if (order == 0) return;
        decompose(m, z, free, pfn, order - 1, now, out);
        decompose(m, z, free, pfn + size / 2, order - 1, now, out);
    }

    /** Compaction moves only movable (model-owned anon / page cache) pages and keeps their number. */
    static void compactAndCheck(PageAllocator pa, SimpleExecContext ctx, List<Held> held) {
        PhysMem m = pa.mem();
        Map<Integer, Integer> pinned = new HashMap<>();
        long movable = 0;
        for (int p = 0; p < m.nrPfns; p++) {
            if (m.state(p) != S_ALLOC) continue;
            byte k = m.kind(p);
            if (k == K_ANON || k == K_PAGECACHE) movable++;
            else pinned.put(p, m.order(p) * 16 + k);
        }
        // whoever tracks a page by pfn (the replayer) follows it through pageMigrated: from the pfns that held
        // movable pages before, the reported moves must lead exactly to the pfns that hold them after
        java.util.Set<Integer> tracked = new java.util.HashSet<>();
        for (int p = 0; p < m.nrPfns; p++) if (m.state(p) == S_ALLOC && (m.kind(p) == K_ANON || m.kind(p) == K_PAGECACHE)) tracked.add(p);
        long[] moves = {0};
        pa.setEvents(new PageEvents() {
            @Override public void pageMigrated(long from, long to, int order) {
                assertTrue(tracked.remove((int) from), "moved from a pfn nobody held: " + from);
                assertTrue(tracked.add((int) to), "moved onto a held pfn: " + to);
                moves[0]++;
            }
        });
        long before = pa.compaction().totalMigrated;
        try {
            pa.compactAll(ctx);
        } finally {
            pa.setEvents(null);
        }
        assertEquals(pa.compaction().totalMigrated - before, moves[0], "every migration reported");
        long after = 0;
        for (int p = 0; p < m.nrPfns; p++) {
            if (m.state(p) != S_ALLOC) continue;
            byte k = m.kind(p);
            if (k == K_ANON || k == K_PAGECACHE) {
                after++;
                assertTrue(tracked.contains(p), "movable page at " + p + " that no reported move leads to");
            }
            else assertEquals(pinned.get(p), Integer.valueOf(m.order(p) * 16 + k), "non-movable page appeared or changed at " + p);
        }
        for (Map.Entry<Integer, Integer> e : pinned.entrySet())
            assertEquals(S_ALLOC, m.state(e.getKey()), "non-movable page moved from " + e.getKey());
        assertEquals(movable, after, "compaction lost or invented movable pages");
        for (Held h : held) assertEquals(S_ALLOC, m.state(h.pfn));
        assertTrue(pa.compaction().totalMigrated >= before);
    }
}
