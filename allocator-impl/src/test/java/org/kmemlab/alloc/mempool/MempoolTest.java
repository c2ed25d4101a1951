package org.kmemlab.alloc.mempool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.alloc.policy.UpperModel;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.slab.SlubCache;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

class MempoolTest {
    /** A backing allocator that fails on demand and records the masks it was asked with. */
    static final class Backing implements Mempool.Backing {
        boolean failAll;
        boolean failWithoutReclaim;
        final List<Long> masks = new ArrayList<>();
        long next = 0x1000;
        int live;

        @Override public long alloc(org.kmemlab.alloc.core.ExecContext ctx, long gfp) {
            masks.add(gfp);
            if (failAll || (failWithoutReclaim && (gfp & Gfp.DIRECT_RECLAIM) == 0)) return 0;
            live++;
            return next += 64;
        }

        @Override public void free(org.kmemlab.alloc.core.ExecContext ctx, long e) { live--; }
    }

    static final SlabCosts COSTS = SlabCosts.resolve(new CostTable());

    @Test
    void firstPassMaskStripsDirectReclaimAndIo() {
        // allocator-model.md §A.2: GFP_NOFS (0xc40) → 0x92800 in the 5.10 layout
        assertEquals(0x92800L, Mempool.firstPassGfp(Gfp.GFP_NOFS));
    }

    @Test
    void reserveIsUsedBeforeAnyReclaimIsAttempted() {
        TestPageProvider pages = new TestPageProvider(64, 1);
        SlubAllocator slab = new SlubAllocator(pages, 1, new CostTable());
        TestCtx ctx = new TestCtx();
        SlubCache cache = slab.kmemCacheCreate(ctx, "extent_state", 72, 0, 0);
        Mempool pool = new Mempool(ctx, "extent_state_pool", 4, Mempool.slabBacking(cache), MempoolSemantics.MP2012, COSTS,
                Gfp.GFP_KERNEL);
        // exhaust the machine: the slab cache can no longer grow
        List<Long> hog = new ArrayList<>();
        while (true) {
            long p = slab.kmalloc(ctx, 4096, Gfp.GFP_NOWAIT);
            if (p == 0) break;
            hog.add(p);
        }
        while (cache.alloc(ctx, Gfp.GFP_NOWAIT) != 0) { /* drain the cache's free objects */ }
        long reclaimBefore = pages.statDirectReclaim;
        long compactBefore = pages.statDirectCompact;
        ctx.resetRecording();
        long e = pool.alloc(ctx, Gfp.GFP_NOFS);
        assertNotEquals(0, e);
        assertEquals(3, pool.reserve());
        assertEquals(1, pool.statReserveTaken);
        assertEquals(reclaimBefore, pages.statDirectReclaim, "no direct reclaim before the reserve");
        assertEquals(compactBefore, pages.statDirectCompact);
        assertTrue(!ctx.entered("__alloc_pages_direct_reclaim"));
    }

    @Test
    void mp2012RetriesWithReclaimImmediatelyMp2011SleepsFirst() {
        Backing b12 = new Backing();
        TestCtx c12 = new TestCtx();
        Mempool p12 = new Mempool(c12, "p", 0, b12, MempoolSemantics.MP2012, COSTS, Gfp.GFP_KERNEL);
        b12.failWithoutReclaim = true;
        long t0 = c12.now();
        assertNotEquals(0, p12.alloc(c12, Gfp.GFP_NOFS));
        assertTrue(c12.now() - t0 < Mempool.WAIT_NS, "no 5 s sleep");
        assertEquals(0, c12.waits);
        assertEquals(2, b12.masks.size());
        assertTrue((b12.masks.get(1) & Gfp.DIRECT_RECLAIM) != 0);

        Backing b11 = new Backing();
        TestCtx c11 = new TestCtx();
        Mempool p11 = new Mempool(c11, "p", 0, b11, MempoolSemantics.MP2011, COSTS, Gfp.GFP_KERNEL);
        b11.failWithoutReclaim = true;
        t0 = c11.now();
        assertNotEquals(0, p11.alloc(c11, Gfp.GFP_NOFS));
        assertTrue(c11.now() - t0 >= Mempool.WAIT_NS, "MP2011 slept io_schedule_timeout(5*HZ) before reclaiming");
    }

    @Test
    void atomicCallersStillGetNullWhenTheReserveIsEmpty() {
        Backing b = new Backing();
        TestCtx ctx = new TestCtx();
        Mempool p = new Mempool(ctx, "p", 1, b, MempoolSemantics.MPNOW, COSTS, Gfp.GFP_KERNEL);
        b.failAll = true;
        assertNotEquals(0, p.alloc(ctx, Gfp.GFP_ATOMIC));
        assertEquals(0, p.alloc(ctx, Gfp.GFP_ATOMIC));
        assertEquals(0, ctx.waits);
    }

    @Test
    void sleepingCallersWaitInFiveSecondLoops() {
        Backing b = new Backing();
        TestCtx ctx = new TestCtx();
        Mempool p = new Mempool(ctx, "p", 1, b, MempoolSemantics.MP2012, COSTS, Gfp.GFP_KERNEL).maxWaits(3);
        b.failAll = true;
        p.alloc(ctx, Gfp.GFP_NOFS);
        long t0 = ctx.now();
        assertEquals(0, p.alloc(ctx, Gfp.GFP_NOFS), "model bound reached: would wait forever");
        assertEquals(3, p.statWaits);
        assertTrue(ctx.now() - t0 >= 3 * Mempool.WAIT_NS);
    }

    @Test
    void btrfsPresetRoutesExtentStateThroughAMempool() {
        TestPageProvider pages = new TestPageProvider(1 << 12, 1);
        UpperModel m = UpperModel.build(PolicyRegistry.configure("btrfs-extent-mempool", java.util.Map.of("mempool.minNr", "8")),
                pages, 1, new CostTable());
        TestCtx ctx = new TestCtx();
        long e = m.allocExtentState(ctx, Gfp.GFP_NOFS);
        assertNotEquals(0, e);
        assertTrue(ctx.entered("mempool_alloc"));
        assertEquals(8, m.extentStatePool().minNr);
        assertEquals(KernelEra.E2011, m.config.era());
        m.freeExtentState(ctx, e);
    }

    @Property(tries = 50, seed = "11")
    void aPoolNeverHoldsMoreThanMinNrReserveElements(
            @ForAll @IntRange(min = 0, max = 12) int minNr,
            @ForAll @Size(min = 1, max = 200) List<@IntRange(min = 0, max = 99) Integer> steps) {
        Backing b = new Backing();
        TestCtx ctx = new TestCtx();
        Mempool p = new Mempool(ctx, "p", minNr, b, MempoolSemantics.MP2012, COSTS, Gfp.GFP_KERNEL).maxWaits(0);
        List<Long> held = new ArrayList<>();
        for (int s : steps) {
            if (s < 15) b.failAll = !b.failAll;
            else if (s < 60) {
                long e = p.alloc(ctx, s % 2 == 0 ? Gfp.GFP_NOFS : Gfp.GFP_ATOMIC);
                if (e != 0) held.add(e);
            } else if (!held.isEmpty()) {
                p.free(ctx, held.remove(s % held.size()));
            }
            assertTrue(p.reserve() <= minNr, "reserve " + p.reserve() + " > min_nr " + minNr);
            assertTrue(p.reserve() >= 0);
            assertEquals(0, ctx.depth());
            assertEquals(held.size() + p.reserve(), b.live, "every element is held or reserved or back in the allocator");
        }
    }
}
