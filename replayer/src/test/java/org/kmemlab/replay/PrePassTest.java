package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrePassTest {
    @TempDir Path tmp;

    /**
     * The blocks each CPU's pcp lists held when the trace began, by (cpu, migratetype, order): a page's first
     * event tells. Expected values counted by hand from the events below.
     */
    @Test
    void pcpListsAtStartFromEachPagesFirstEvent() throws IOException {
        Path t = tmp.resolve("pcp.arrow");
        try (Traces w = new Traces(t)) {
            w.pageAllocMt(1_000, 1, 10, 100, 0, 1)   // first seen allocated: was on CPU 1's movable order-0 list
             .pageAllocMt(2_000, 1, 10, 101, 0, 1)   // the same
             .zoneLocked(3_000, 1, 200, 0, 1, true)   // refilled from the buddy ...
             .pageAllocMt(3_500, 1, 10, 200, 0, 1)   // ... so this allocation does not count
             .pageFree(4_000, 1, 10, 100, 0)
             .pageAllocMt(5_000, 1, 10, 100, 0, 1)   // seen before: not counted again
             .pcpuDrain(6_000, 0, 300, 1, 0)          // first seen drained from CPU 0: unmovable order 1
             .pageFree(7_000, 0, 11, 400, 0)          // allocated before the trace, not on a list
             .pageAllocMt(8_000, 0, 11, 400, 0, 0)   // seen (freed) before: not counted
             .pageAllocMt(9_000, 1, 10, 500, 5, 1)   // order 5: no pcp list holds it
             .pageAllocMt(10_000, 0, 11, 600, 2, 2)  // CPU 0's reclaimable order-2 list
             .pageAllocMt(11_000, 0, 11, 700, 0, 20); // a migratetype no pcp list has (and beyond the count table)
        }
        PrePass p = PrePass.scan(t);
        assertTrue(p.pcpEvidence());
        Map<String, Long> got = new java.util.TreeMap<>();
        for (int cpu = 0; cpu < 4; cpu++)
            for (int mt = 0; mt < PrePass.PCP_TYPES; mt++)
                for (int o = 0; o < PrePass.PCP_ORDERS; o++)
                    if (p.pcpBlocksAtStart(cpu, mt, o) != 0) got.put(cpu + "/" + mt + "/" + o, p.pcpBlocksAtStart(cpu, mt, o));
        assertEquals(Map.of("1/1/0", 2L, "0/0/1", 1L, "0/2/2", 1L), got);
        assertEquals(0, p.pcpBlocksAtStart(300, 0, 0));
        // every allocation is counted by order/migratetype for the fidelity report, the odd one included
        assertEquals(Map.of("0/1", 4L, "0/0", 1L, "5/1", 1L, "2/2", 1L, "0/20", 1L), p.pageAllocsByOrderMt);
    }

    @Test
    void aTraceWithoutBothSidesSaysNothingOfThePcpLists() throws IOException {
        Path slab = tmp.resolve("slab.arrow");
        try (Traces w = new Traces(slab)) {
            w.kmalloc(1_000, 0, 10, 0x1000, 64, "site").kfree(2_000, 0, 10, 0x1000);
        }
        assertFalse(PrePass.scan(slab).pcpEvidence());
        // page allocations without mm_page_alloc_zone_locked: a first allocation may have come from the buddy
        Path pages = tmp.resolve("pages.arrow");
        try (Traces w = new Traces(pages)) {
            w.pageAllocMt(1_000, 0, 10, 100, 0, 1).pageFree(2_000, 0, 10, 100, 0);
        }
        assertFalse(PrePass.scan(pages).pcpEvidence());
    }
}
