package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Slab pages told from other page allocations by where the objects lie, and untraced frees. */
class SlabPagesTest {
    @TempDir Path tmp;

    /** x86_64's direct map without KASLR; the rows below put objects at base + (pfn << 12) + offset. */
    private static final long BASE = 0xffff888000000000L;

    private static long at(long pfn, long offset) { return BASE + (pfn << 12) + offset; }

    @Test
    void aPageIsASlabWhenAnObjectIsAllocatedInsideIt() throws IOException {
        Path t = tmp.resolve("slabs.arrow");
        long p1 = 0x1000, p2 = 0x2002, p3 = 0x3000, pageTable = 0x4000, large = 0x6000;
        try (Traces w = new Traces(t)) {
            w.pageAllocMt(1_000, 0, 10, p1, 0, 0)                                                    // row 0: a slab
             .cacheAlloc(2_000, 0, 10, "dentry", at(p1, 192), 192, 0xcc0, "GFP_KERNEL")             // row 1
             .pageAllocMt(3_000, 0, 10, p2, 1, 0)                                                    // row 2: an order-1 slab
             .cacheAlloc(4_000, 0, 10, "dentry", at(p2, 5000), 192, 0xcc0, "GFP_KERNEL")            // row 3: in its second page
             .pageAllocMt(5_000, 1, 11, pageTable, 0, 0)                                             // row 4: no slab ...
             .cacheAlloc(6_000, 1, 11, "vm_area_struct", at(p1, 384), 192, 0xcc0, "GFP_KERNEL")     // row 5: ... though this follows
             .pageAllocMt(7_000, 0, 10, p3, 0, 0)                                                    // row 6: a slab ...
             .kmalloc(8_000, 0, 10, at(0x9000, 64), 32, "alloc_slab_obj_exts")                      // row 7: ... with another allocation between
             .cacheAlloc(1_008_000, 0, 10, "buffer_head", at(p3, 104), 104, 0xcc0, "GFP_KERNEL")    // row 8: 1 ms later
             .pageFree(2_000_000, 0, 10, p3, 0)                                                      // row 9: the slab's free
             .pageFree(2_100_000, 1, 11, pageTable, 0)                                               // row 10: the page table's
             .pageAllocMt(3_000_000, 0, 10, large, 4, 0)                                             // row 11: kmalloc_large
             .kmalloc(3_001_000, 0, 10, at(large, 0), 65536, "big");                                // row 12
        }
        PrePass p = PrePass.scan(t);
        assertEquals("by address (direct map at 0xffff888000000000)", p.slabPageAttribution);
        for (long row = 0; row <= 12; row++) {
            boolean slab = row == 0 || row == 2 || row == 6 || row == 9 || row == 11;
            assertEquals(slab, p.derivedRows.contains(row), "row " + row);
        }
        assertEquals(Map.of("dentry", 3L, "buffer_head", 1L, "kmalloc_large", 16L), p.slabPagesByCache);
        assertTrue(p.pages.isEmpty(), "the page table's free is of a page the trace allocated");
    }

    /** ftrace's hashed pointers say nothing of addresses: a compound page the task's slab allocation follows is a slab. */
    @Test
    void hashedPointersFallBackToTime() throws IOException {
        Path t = tmp.resolve("hashed.arrow");
        try (Traces w = new Traces(t)) {
            w.pageAlloc(1_000, 0, 10, 0x1000, 1, 0xd40, "GFP_KERNEL|__GFP_COMP")                     // row 0
             .cacheAlloc(2_000, 0, 10, "dentry", 0x5a17c0deL, 192, 0xcc0, "GFP_KERNEL")             // row 1
             .pageAlloc(3_000, 0, 10, 0x2000, 1, 0xd40, "GFP_KERNEL|__GFP_COMP")                     // row 2
             .cacheAlloc(1_003_000, 0, 10, "dentry", 0x0badf00dL, 192, 0xcc0, "GFP_KERNEL");        // row 3: too late
        }
        PrePass p = PrePass.scan(t);
        assertTrue(p.slabPageAttribution.startsWith("by time"), p.slabPageAttribution);
        assertTrue(p.derivedRows.contains(0));
        assertEquals(false, p.derivedRows.contains(2));
        assertEquals(Map.of("dentry", 2L), p.slabPagesByCache);
    }

    /**
     * 6.18 frees kfree_rcu()'d maple nodes in bulk from a sheaf, with no kmem_cache_free tracepoint: the trace
     * allocates the same two addresses 200 times each. The model frees each before its address is allocated
     * again, so it holds two objects, not 400 (one 4 KiB slab of 256-byte objects, not 25).
     */
    @Test
    void anAddressAllocatedAgainWasFreedUntraced() throws IOException {
        Path t = tmp.resolve("maple.arrow");
        try (Traces w = new Traces(t)) {
            for (int i = 0; i < 400; i++) {
                w.cacheAlloc(1_000 + 1_000L * i, 0, 10, "maple_node", at(0x7000, 256L * (i % 2)), 256, 0xcc0, "GFP_KERNEL");
            }
            w.cacheFree(1_000_000, 0, 10, "maple_node", at(0x7000, 0));
        }
        Path out = tmp.resolve("out");
        new Replayer(t, "baseline", Map.of()).run(out);
        Map<String, Object> s = ReplayerTest.summary(out);
        assertEquals(398, ((Number) s.get("untraced_frees")).intValue());
        assertEquals(0, ((Number) s.get("frees_without_object")).intValue());
        assertEquals(0, ((Number) s.get("untraced_allocations")).intValue());
        assertEquals(Map.of("maple_node", 1), s.get("slab_pages_allocated_by_cache"));
        List<Map<String, Object>> req = ReplayerTest.rows(out.resolve("requests.arrow"));
        assertEquals(401, req.size());
        assertTrue(req.stream().allMatch(r -> "ok".equals(r.get("outcome"))));
    }

    /**
     * kmalloc events name no cache: their slab pages go to the cache kmalloc_slab() picks from bytes_alloc and the gfp
     * flags (__GFP_RECLAIMABLE, 0x10 in every era, picks kmalloc-rcl-), on the trace's side as on the model's.
     */
    @Test
    void kmallocSlabPagesAreToldApartByCache() throws IOException {
        Path t = tmp.resolve("kmalloc.arrow");
        try (Traces w = new Traces(t)) {
            w.pageAllocMt(1_000, 0, 10, 0x1000, 0, 0).kmalloc(2_000, 0, 10, at(0x1000, 0), 64, "site");
            w.pageAllocMt(3_000, 0, 10, 0x2000, 0, 0).kmalloc(4_000, 0, 10, at(0x2000, 0), 128, "site", 0xcd0, "GFP_KERNEL|__GFP_RECLAIMABLE");
            w.kmalloc(5_000, 0, 10, at(0x1000, 64), 64, "site").kfree(6_000, 0, 10, at(0x1000, 64));
            w.cacheAlloc(7_000, 1, 11, "dentry", at(0x3000, 192), 192, 0xcc0, "GFP_KERNEL");
            // beyond KMALLOC_MAX_SIZE (order 11): the model's kmalloc fails, so only the trace holds it
            w.kmalloc(8_000, 0, 10, at(0x100000, 0), 8L << 20, "huge");
        }
        Path out = tmp.resolve("out");
        new Replayer(t, "baseline", Map.of()).run(out);
        Map<String, Object> s = ReplayerTest.summary(out);
        assertEquals(Map.of("kmalloc-64", 1, "kmalloc-rcl-128", 1), s.get("trace_slab_pages_by_cache"));
        assertEquals(Map.of("kmalloc-64", 1, "kmalloc-rcl-128", 1, "dentry", 1), s.get("slab_pages_allocated_by_cache"));
        // the objects not freed, as the trace counts them and where the model holds them
        assertEquals(Map.of("kmalloc-64", 1, "kmalloc-rcl-128", 1, "dentry", 1, "kmalloc_large", 1), s.get("trace_live_objects_by_cache"));
        assertEquals(Map.of("kmalloc-64", 1, "kmalloc-rcl-128", 1, "dentry", 1), s.get("live_objects_by_cache"));
        assertEquals(1, ((Number) s.get("failures")).intValue());
    }
}
