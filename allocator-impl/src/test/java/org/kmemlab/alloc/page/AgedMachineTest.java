package org.kmemlab.alloc.page;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.PhysMem.*;

/** The aged machine of {@link MachineBuilder#age}: how dirty its page cache is, and {@code used} below what aging left. */
class AgedMachineTest {
    private static MachineBuilder.Params params(double used) {
        return new MachineBuilder.Params().totalBytes(64L << 20).cpus(4).fragmentation(0.95).seed(11).used(used);
    }

    private static long managed(PageAllocator pa) {
        long m = 0;
        for (Zone z : pa.zones) m += z.managed;
        return m;
    }

    /** Dirty pages counted by walking the LRU, independent of the zones' counters. */
    private static long dirtyOnLru(PageAllocator pa) {
        long n = 0;
        for (Zone z : pa.zones)
            for (int p = z.lruHead[0]; p >= 0; p = pa.mem.next(p)) if ((pa.mem.flags(p) & F_DIRTY) != 0) n++;
        return n;
    }

    private static long freeAtOrAbove(PageAllocator pa, int order) {
        long n = 0;
        for (Zone z : pa.zones) for (int o = order; o < NR_ORDERS; o++) n += z.nrFree[o] << o;
        return n;
    }

    @Test
    void agedPageCacheIsMostlyCleanAsTheFlusherLeavesIt() {
        PageAllocator pa = MachineBuilder.fromParams(params(-1));
        pa.checkInvariants();
        long file = 0, dirty = 0;
        for (Zone z : pa.zones) { file += z.filePages(); dirty += z.dirtyPages(); }
        assertTrue(file > managed(pa) / 2, "aging to 0.95 leaves memory full of page cache: " + file);
        assertEquals(dirtyOnLru(pa), dirty);
        // only the last round's writes (a tenth of memory, 52% page cache, 1 in 5 dirty) are still dirty:
        // far below vm.dirty_ratio's 20% of the page cache
        assertTrue(dirty > 0 && dirty <= managed(pa) / 10 * 52 / 100 / 5 * 3 / 2, "dirty " + dirty);
        assertTrue(dirty < file / 5);
    }

    @Test
    void usedBelowWhatAgingLeftReclaimsScatteredCleanPages() {
        PageAllocator aged = MachineBuilder.fromParams(params(-1));
        PageAllocator pa = MachineBuilder.fromParams(params(0.5));
        pa.checkInvariants();
        long managed = managed(pa);
        assertEquals((long) Math.floor(managed * 0.5), managed - pa.freeAndPcpPageCount());
        long freed = pa.freeAndPcpPageCount() - aged.freeAndPcpPageCount();
        assertTrue(freed > managed / 5, "freed " + freed);
        // reclaim in LRU order frees scattered pages: had they been contiguous, every 16 would be an
        // order-4 block; far fewer than that appear
        long newOrder4Pages = freeAtOrAbove(pa, 4) - freeAtOrAbove(aged, 4);
        assertTrue(newOrder4Pages < freed / 4, "order>=4 pages gained " + newOrder4Pages + " of " + freed);
        // dirty pages are never dropped
        assertEquals(dirtyOnLru(aged), dirtyOnLru(pa));
        // same seed, same machine
        assertEquals(ProcFormat.pagetypeinfo(pa), ProcFormat.pagetypeinfo(MachineBuilder.fromParams(params(0.5))));
    }

    @Test
    void usedAboveWhatAgingLeftIsFilledWithCleanPageCacheUpToTheWatermarks() {
        PageAllocator aged = MachineBuilder.fromParams(params(-1));
        PageAllocator full = MachineBuilder.fromParams(params(1.0));
        long added = aged.freeAndPcpPageCount() - full.freeAndPcpPageCount();
        // MachineBuilder.fillUsed reads clean page cache in without reclaim, so the zones stop at their
        // watermarks: what is left free is what fillUsed's own count of the added pages says was not taken
        assertTrue(added > 0, "aging left memory free, and used=1.0 fills it: added " + added);
        assertEquals(dirtyOnLru(aged), dirtyOnLru(full), "the filling is clean page cache");
        assertTrue(full.freeAndPcpPageCount() > 0, "filling stops at the watermarks, it never empties the zones");
    }
}
