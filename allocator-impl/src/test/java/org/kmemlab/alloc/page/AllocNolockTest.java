package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.LockDep;
import org.kmemlab.alloc.core.SimpleExecContext;

/**
 * {@link Gfp#NOLOCK}: {@code alloc_pages_nolock()} of current mm/page_alloc.c (allocator-model.md §B.13
 * BN-NOLOCK): zone->lock only through spin_trylock, which gives up when another CPU holds it; one freelist
 * pass at the MIN watermark; no slow path.
 */
class AllocNolockTest {
    /** kfree_rcu's block page under kfreeRcu.bnodeAlloc=NOLOCK (KfreeRcu). */
    private static final long NOLOCK = Gfp.NOLOCK | Gfp.NOWARN | Gfp.ZERO | Gfp.NOMEMALLOC;

    private static PageAllocator machine() {
        // 1 GiB: ZONE_DMA and a DMA32 zone big enough for a pcp batch of more than one page.
        return MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(1L << 30).cpus(2));
    }

    private static SimpleExecContext ctx(PageAllocator pa, boolean zoneLockHeldElsewhere) {
        SimpleExecContext c = new SimpleExecContext(0, 1, new CostTable()).recordFrames(true);
        if (zoneLockHeldElsewhere) for (Zone z : pa.zones) c.heldElsewhere.add(z.lock);
        return c;
    }

    private static boolean spunOnZoneLock(SimpleExecContext c) {
        return c.locksTaken.stream().anyMatch(n -> n.startsWith("zone->lock"));
    }

    @Test
    void anEmptyPcpListIsRefilledUnderATrylock() {
        PageAllocator pa = machine();
        SimpleExecContext c = ctx(pa, false);
        long pfn = pa.allocPages(c, 0, NOLOCK);
        assertTrue(pfn >= 0);
        assertFalse(spunOnZoneLock(c), "never spin_lock on zone->lock: " + c.locksTaken);
        assertEquals(1, c.trylocks.size(), "one trylock, in rmqueue_bulk: " + c.trylocks);
        assertTrue(c.trylocks.get(0).startsWith("zone->lock") && c.trylocks.get(0).endsWith(":ok"), c.trylocks.toString());
        assertTrue(c.framesEntered.contains("rmqueue_bulk") && c.framesEntered.contains("_raw_spin_trylock"), c.framesEntered.toString());
        assertFalse(c.framesEntered.contains("__alloc_pages"), "alloc_pages_nolock calls get_page_from_freelist itself");
    }

    @Test
    void aHeldZoneLockMakesItFailWithoutSpinningOrSlowPath() {
        PageAllocator pa = machine();
        long free = pa.freeAndPcpPageCount();
        SimpleExecContext c = ctx(pa, true);
        assertEquals(-1, pa.allocPages(c, 0, NOLOCK));
        assertFalse(spunOnZoneLock(c), c.locksTaken.toString());
        // Each zone of the zonelist (DMA32, then DMA): rmqueue_bulk's trylock, then rmqueue_buddy's.
        assertEquals(List.of("zone->lock[0:DMA32]:busy", "zone->lock[0:DMA32]:busy", "zone->lock[0:DMA]:busy", "zone->lock[0:DMA]:busy"),
                c.trylocks);
        assertEquals(free, pa.freeAndPcpPageCount(), "nothing taken");
        assertEquals(0, pa.allocstall);
        assertFalse(c.framesEntered.contains("__alloc_pages_slowpath"), c.framesEntered.toString());
        assertFalse(c.framesEntered.contains("wakeup_kswapd"), c.framesEntered.toString());
    }

    @Test
    void theSameAllocationWithoutNolockSpinsForTheLock() {
        PageAllocator pa = machine();
        SimpleExecContext c = ctx(pa, true);
        assertTrue(pa.allocPages(c, 0, Gfp.GFP_NOWAIT | Gfp.NOWARN) >= 0);
        assertTrue(spunOnZoneLock(c), "GFP_NOWAIT takes zone->lock with spin_lock: " + c.locksTaken);
        assertTrue(c.trylocks.isEmpty(), c.trylocks.toString());
    }

    @Test
    void aPcpHitNeedsNoZoneLock() {
        PageAllocator pa = machine();
        assertTrue(pa.allocPages(ctx(pa, false), 0, Gfp.GFP_KERNEL) >= 0, "fills CPU 0's pcp list");
        SimpleExecContext c = ctx(pa, true);
        assertTrue(pa.allocPages(c, 0, NOLOCK) >= 0, c.trylocks + " " + c.framesEntered + " " + pa.lastOutcome());
        assertTrue(c.trylocks.isEmpty() && !spunOnZoneLock(c), c.trylocks + " " + c.locksTaken);
    }

    @Test
    void ordersAbovePcpAllowedOrderFailAtOnce() {
        PageAllocator pa = machine();
        SimpleExecContext c = ctx(pa, false);
        assertTrue(pa.allocPages(c, PageConst.PAGE_ALLOC_COSTLY_ORDER, NOLOCK) >= 0, "order 3 is a pcp order (ENOW)");
        SimpleExecContext d = ctx(pa, false);
        assertEquals(-1, pa.allocPages(d, PageConst.PAGE_ALLOC_COSTLY_ORDER + 1, NOLOCK));
        assertTrue(d.trylocks.isEmpty() && !spunOnZoneLock(d));
    }

    @Test
    void aTrylockAddsNoLockOrderingButIsHeld() {
        LockDep ld = new LockDep(false);
        KLock outer = new KLock("krcp->lock", KLock.Kind.RAW_SPIN);
        KLock zone = new KLock("zone->lock[0:Normal]", KLock.Kind.SPIN);
        SimpleExecContext c = new SimpleExecContext(0, 1, new CostTable()).lockDep(ld);
        c.lock(outer);
        assertTrue(c.tryLock(zone));
        assertEquals(2, c.held().depth(), "both held");
        c.unlock(zone);
        c.unlock(outer);
        assertFalse(ld.hasDependency("krcp->lock", "zone->lock"), "no krcp->lock -> zone->lock dependency from a trylock");
        c.lock(outer);
        c.lock(zone);
        assertTrue(ld.hasDependency("krcp->lock", "zone->lock"), "spin_lock records it");
    }
}
