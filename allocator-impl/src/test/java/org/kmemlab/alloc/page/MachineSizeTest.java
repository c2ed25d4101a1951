package org.kmemlab.alloc.page;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** Machines the model cannot hold fail before anything is allocated, with the sizes in the message. */
class MachineSizeTest {
    @Test
    void thePfnSpaceEndsWhereTheLinkArrayWouldPassAJavaArraysLength() {
        // two ints of links per pfn in one array: 2 * MAX_PFNS must stay a valid array length
        assertTrue(2L * PhysMem.MAX_PFNS <= Integer.MAX_VALUE - 8);
        assertTrue(2L * (PhysMem.MAX_PFNS + PageConst.PAGEBLOCK_PAGES) > Integer.MAX_VALUE - 8);
        assertEquals(0, PhysMem.MAX_PFNS % PageConst.PAGEBLOCK_PAGES);
        assertDoesNotThrow(() -> PhysMem.checkPfnSpace(PhysMem.MAX_PFNS));
        MachineTooLargeException e = assertThrows(MachineTooLargeException.class,
                () -> PhysMem.checkPfnSpace(PhysMem.MAX_PFNS + (long) PageConst.PAGEBLOCK_PAGES));
        assertEquals("a machine of 4.0 TiB (1,073,741,824 pages) is more than the model's pfn space holds"
                + " (1,073,741,312 pages of 4 KiB)", e.getMessage());
        assertTrue(!e.heapBound(), "no heap extends the pfn space");
    }

    @Test
    void fiveTebibytesFailBeforeAnyArrayIsAllocated() {
        // 5 TiB of pages would need 15 GiB of arrays: the check runs on the long, before the int cast wraps
        MachineTooLargeException e = assertThrows(MachineTooLargeException.class,
                () -> MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(5L << 40).cpus(2)));
        assertTrue(e.getMessage().contains("5.0 TiB (1,342,177,280 pages)"), e.getMessage());
    }

    @Test
    void pageArraysLargerThanTheHeapLeftFailAfterOneCollection() {
        long max = 1L << 30, used = 600L << 20;
        AtomicInteger gcs = new AtomicInteger();
        // 40M pfns: 480 MB of links and flags plus 234 KB of pageblock bytes, more than the 424 MiB left
        long pfns = 40L << 20;
        assertEquals(pfns * 12 + (pfns / 512) * 3, PhysMem.bytesFor(pfns));
        MachineTooLargeException e = assertThrows(MachineTooLargeException.class,
                () -> PhysMem.checkFits(pfns, max, () -> used, gcs::incrementAndGet));
        assertEquals(1, gcs.get());
        assertEquals("a machine of 160.0 GiB (41,943,040 pages) needs 0.5 GiB of heap for its page arrays,"
                + " and the JVM has 0.4 GiB left of 1.0 GiB", e.getMessage());
        assertTrue(e.heapBound());
    }

    @Test
    void aCollectionThatFreesEnoughLetsTheMachineThrough() {
        long[] used = {900L << 20};
        AtomicInteger gcs = new AtomicInteger();
        assertDoesNotThrow(() -> PhysMem.checkFits(40L << 20, 1L << 30, () -> used[0], () -> { gcs.incrementAndGet(); used[0] = 100L << 20; }));
        assertEquals(1, gcs.get());
    }

    @Test
    void smallMachinesAreNotChecked() {
        // a fiftieth of the heap or less: no collection asked for, even when the heap looks full
        AtomicInteger gcs = new AtomicInteger();
        long max = 1L << 30;
        assertDoesNotThrow(() -> PhysMem.checkFits(1 << 20, max, () -> max, gcs::incrementAndGet));
        assertEquals(0, gcs.get());
    }
}
