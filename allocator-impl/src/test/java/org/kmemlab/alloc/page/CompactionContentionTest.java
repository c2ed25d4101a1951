package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;

/**
 * Async direct compaction under lock contention (mm/compaction.c, 5.1 and later): {@code compact_lock_irqsave()}
 * tries the lock while MIGRATE_ASYNC and not yet contended, records {@code cc->contended} when the try fails,
 * still takes the lock, and {@code __compact_finished()} ends the run with COMPACT_CONTENDED at the next
 * pageblock boundary that has no suitable free page.
 */
class CompactionContentionTest {

    record Run(CompactResult result, long scanned, java.util.List<String> trylocks) {}

    /** One async order-{@code order} run on a checkerboard DMA32, with the zone and LRU locks busy or not. */
    static Run run(KernelEra era, int order, boolean busy) {
        PageAllocator pa = SlowPathTest.machine(era, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        SlowPathTest.checkerboard(pa, ctx);
        Zone z = pa.zone(0, ZONE_DMA32);
        if (busy) {
            ctx.heldElsewhere.add(z.lock);
            for (var l : pa.lruLock) ctx.heldElsewhere.add(l);
        }
        ctx.trylocks.clear();
        long before = pa.compaction().totalScanned;
        CompactResult r = pa.compaction().compactZone(ctx, pa.costs(ctx), z, order, COMPACT_PRIO_ASYNC, true, MT_MOVABLE,
                ALLOC_WMARK_MIN, ZONE_NORMAL);
        pa.checkInvariants();
        return new Run(r, pa.compaction().totalScanned - before, java.util.List.copyOf(ctx.trylocks));
    }

    @Test
    void aContendedAsyncRunStopsAtThePageblockBoundary() {
        // uncontended, an order-9 run on the checkerboard needs more than one pageblock to free one
        Run free = run(KernelEra.E2020, 9, false);
        assertEquals(CompactResult.SUCCESS, free.result());
        assertTrue(free.trylocks().stream().allMatch(t -> t.endsWith(":ok")), free.trylocks().toString());
        assertTrue(free.scanned() > 2 * PAGEBLOCK_PAGES, "scanned " + free.scanned());
        // contended, the first try fails, the run takes the lock anyway, finishes that pageblock and stops
        Run busy = run(KernelEra.E2020, 9, true);
        assertEquals(CompactResult.CONTENDED, busy.result());
        assertEquals(1, busy.trylocks().size(), "one try per run: " + busy.trylocks());
        assertTrue(busy.trylocks().get(0).endsWith(":busy"));
        assertEquals(2 * PAGEBLOCK_PAGES, busy.scanned(), "one migrate-source and one free-target pageblock");
    }

    @Test
    void aSuitablePageWinsOverContention() {
        // order 4 forms within the first pageblock: __compact_finished() reports SUCCESS before it looks at contended
        assertEquals(CompactResult.SUCCESS, run(KernelEra.E2020, 4, true).result());
        assertEquals(CompactResult.SUCCESS, run(KernelEra.ENOW, 4, true).result());
    }

    @Test
    void erasBefore51AndSyncRunsDoNotTry() {
        Run old = run(KernelEra.E2017, 9, true);
        assertEquals(CompactResult.SUCCESS, old.result());
        assertEquals(java.util.List.of(), old.trylocks());
        PageAllocator pa = SlowPathTest.machine(KernelEra.E2020, 64L << 20);
        SimpleExecContext ctx = new SimpleExecContext();
        SlowPathTest.checkerboard(pa, ctx);
        Zone z = pa.zone(0, ZONE_DMA32);
        ctx.heldElsewhere.add(z.lock);
        ctx.trylocks.clear();
        CompactResult r = pa.compaction().compactZone(ctx, pa.costs(ctx), z, 9, COMPACT_PRIO_SYNC_LIGHT, true, MT_MOVABLE,
                ALLOC_WMARK_MIN, ZONE_NORMAL);
        assertEquals(CompactResult.SUCCESS, r);
        assertEquals(java.util.List.of(), ctx.trylocks, "MIGRATE_SYNC_LIGHT takes its locks");
    }
}
