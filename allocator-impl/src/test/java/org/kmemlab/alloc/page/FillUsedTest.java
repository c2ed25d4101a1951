package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.SimpleExecContext;

/** {@code replay.used}: memory in use at the start, as clean page cache ({@link MachineBuilder#fillUsed}). */
class FillUsedTest {
    /*
     * 64 MiB = 16384 pages: ZONE_DMA pfn 0..4095 with 256 reserved (3840 managed), ZONE_DMA32 4096..16383
     * with 12288 / 200 = 61 reserved (12227 managed): 16067 managed pages.
     */
    private static final long MANAGED_64M = 3840 + 12227;

    private static MachineBuilder.Params machine() { return new MachineBuilder.Params().totalBytes(64L << 20).cpus(2); }

    private static long inUse(PageAllocator pa) {
        long managed = 0;
        for (Zone z : pa.zones) managed += z.managed;
        assertEquals(MANAGED_64M, managed, "the hand-computed layout");
        return managed - pa.freeAndPcpPageCount();
    }

    private static long filePages(PageAllocator pa) {
        long n = 0;
        for (Zone z : pa.zones) n += z.filePages();
        return n;
    }

    @Test
    void withoutUsedNothingIsInUse() {
        PageAllocator pa = MachineBuilder.fromParams(machine());
        assertEquals(0, inUse(pa));
        assertEquals(0, filePages(pa));
    }

    @Test
    void aFractionOfManagedMemoryBecomesCleanPageCache() {
        PageAllocator pa = MachineBuilder.fromParams(machine().used(0.5));
        assertEquals(MANAGED_64M / 2, inUse(pa), "floor(16067 / 2)");
        assertEquals(MANAGED_64M / 2, filePages(pa), "all of it page cache on the LRU");
        long dirty = 0;
        for (Zone z : pa.zones) dirty += z.nrDirty;
        assertEquals(0, dirty, "clean: reclaim can drop it without writeback");
    }

    @Test
    void aValueAboveOneIsBytes() {
        PageAllocator pa = MachineBuilder.fromParams(machine().used(16 << 20));
        assertEquals(4096, inUse(pa), "16 MiB of 4 KiB pages");
    }

    @Test
    void fillingStopsAtTheWatermarksAndTheCacheIsReclaimable() {
        PageAllocator pa = MachineBuilder.fromParams(machine().used(1.0));
        long used = inUse(pa);
        assertTrue(used < MANAGED_64M && used > MANAGED_64M * 9 / 10, "filled down to the watermarks, not past them: " + used);
        long before = filePages(pa);
        // More than is free: GFP_KERNEL may reclaim, so it succeeds by taking page cache back.
        long want = pa.freeAndPcpPageCount() + 1000;
        SimpleExecContext ctx = new SimpleExecContext(1, 2, new CostTable());
        for (long i = 0; i < want; i++) assertTrue(pa.allocPages(ctx, 0, Gfp.GFP_KERNEL) >= 0, "allocation " + i + " of " + want);
        assertTrue(filePages(pa) <= before - 1000, "page cache reclaimed: " + before + " -> " + filePages(pa));
    }

    @Test
    void aNegativeTargetIsRefused() {
        PageAllocator pa = MachineBuilder.fromParams(machine());
        assertThrows(IllegalArgumentException.class, () -> MachineBuilder.fillUsed(pa, -0.5));
        assertThrows(IllegalArgumentException.class, () -> MachineBuilder.fillUsed(pa, Double.NaN));
    }
}
