package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.testing.NullCtx;

/**
 * {@link PageAllocator#allocPages} reuses one {@link AllocOutcome} and writes its reference fields only when
 * they change (a G1 fence per store otherwise): each call's outcome must still read as if freshly reset,
 * whatever the call before it left behind.
 */
class AllocOutcomeReuseTest {
    private static PageAllocator machine() {
        return MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(256L << 20).cpus(2));
    }

    @Test
    void aFailureAfterASuccessHasNoZoneAndItsOwnReason() {
        PageAllocator pa = machine();
        NullCtx ctx = new NullCtx();
        long pfn = pa.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        AllocOutcome ok = pa.lastOutcome();
        assertSame(pa.mem().zoneOf(pfn), ok.zone, "the zone the page belongs to");
        assertEquals(FailReason.NONE, ok.reason);

        // an order the buddy does not have fails at once (__alloc_pages: order > MAX_PAGE_ORDER)
        assertEquals(-1, pa.allocPages(ctx, PageConst.NR_ORDERS, Gfp.GFP_KERNEL));
        AllocOutcome bad = pa.lastOutcome();
        assertSame(ok, bad, "the outcome is reused");
        assertNull(bad.zone, "the previous call's zone must not survive a failure");
        assertEquals(FailReason.INVALID, bad.reason);
        assertEquals(-1, bad.pfn);

        // and the next success starts from a clean reason again
        long again = pa.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        assertSame(pa.mem().zoneOf(again), pa.lastOutcome().zone);
        assertEquals(FailReason.NONE, pa.lastOutcome().reason);
    }

    @Test
    void aFastTryMissAfterASuccessHasNoZone() {
        PageAllocator pa = machine();
        NullCtx ctx = new NullCtx();
        pa.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        // __GFP_FAST_TRY never refills: the reclaimable pcp list of this CPU is still empty
        assertEquals(-1, pa.allocPages(ctx, 0, Gfp.GFP_NOWAIT | Gfp.RECLAIMABLE | Gfp.FAST_TRY));
        assertNull(pa.lastOutcome().zone);
        assertEquals(FailReason.PCP_EMPTY, pa.lastOutcome().reason);
    }
}
