package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.page.MachineBuilder;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.Zone;
import org.kmemlab.alloc.policy.PolicyRegistry;
import org.kmemlab.alloc.policy.UpperModel;

/**
 * spin_trylock in virtual time: a lock another CPU took earlier and releases later is held now, so a trylock
 * fails at once, where spin_lock spins until the release. alloc_pages_nolock (Gfp.NOLOCK) relies on it.
 */
class ReplayTrylockTest {
    private static Engine engine(PageAllocator pages) {
        CostTable costs = new CostTable();
        UpperModel upper = UpperModel.build(PolicyRegistry.configure("baseline", Map.of()), pages, 2, costs);
        return new Engine(pages, upper, costs, 2, new String[] {"native_queued_spin_lock_slowpath"}, 20_000_000L, 50_000L);
    }

    /** CPU 0 holds every zone->lock from 1000 to 10000 ns. */
    private static void holdZoneLocks(Engine e, PageAllocator pages) {
        ReplayContext c0 = e.context(0);
        c0.begin(1, 1_000, e.profile.root);
        for (Zone z : pages.zones()) c0.lock(z.lock);
        c0.now = 10_000;
        for (Zone z : pages.zones()) c0.unlock(z.lock);
    }

    @Test
    void nolockFailsWhereSpinLockWaits() {
        PageAllocator pages = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(64L << 20).cpus(2));
        Engine e = engine(pages);
        holdZoneLocks(e, pages);
        ReplayContext c1 = e.context(1);
        c1.begin(2, 2_000, e.profile.root);
        assertEquals(-1, pages.allocPages(c1, 0, Gfp.NOLOCK | Gfp.NOWARN | Gfp.ZERO | Gfp.NOMEMALLOC),
                "CPU 1's pcp list is empty and zone->lock is held until 10000");
        assertEquals(0, c1.spinNs, "a trylock never spins");
        assertFalse(e.trylockFailures.isEmpty());
        assertTrue(c1.now - 2_000 < 8_000, "it did not wait for the release: " + (c1.now - 2_000));

        c1.begin(2, 2_000, e.profile.root);
        assertTrue(pages.allocPages(c1, 0, Gfp.GFP_NOWAIT | Gfp.NOWARN) >= 0);
        assertTrue(c1.spinNs > 7_000 && c1.spinNs <= 8_000,
                "spin_lock waits from 2000 (plus the entry costs before the lock) to CPU 0's release at 10000: " + c1.spinNs);
    }

    @Test
    void afterTheReleaseTheTrylockSucceeds() {
        PageAllocator pages = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(64L << 20).cpus(2));
        Engine e = engine(pages);
        holdZoneLocks(e, pages);
        ReplayContext c1 = e.context(1);
        c1.begin(2, 10_000, e.profile.root);
        assertTrue(pages.allocPages(c1, 0, Gfp.NOLOCK | Gfp.NOWARN | Gfp.ZERO | Gfp.NOMEMALLOC) >= 0);
        assertEquals(0, c1.spinNs);
        assertTrue(e.trylockFailures.isEmpty(), e.trylockFailures.keySet().toString());
        // The same CPU that last released a lock is never told it is held (it cannot race itself).
        ReplayContext c0 = e.context(0);
        c0.begin(1, 3_000, e.profile.root);
        assertTrue(c0.tryLock(pages.zones().get(0).lock), "ZONE_DMA, which only CPU 0 took");
    }
}
