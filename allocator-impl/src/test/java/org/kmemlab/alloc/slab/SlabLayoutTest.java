package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.testing.TestPageProvider;

class SlabLayoutTest {
    static final String SLABINFO = "/org/kmemlab/alloc/slab/slabinfo-6.18-2cpu.txt";

    @Test
    void kmallocIndexMatchesTheKernelTable() {
        // include/linux/slab.h kmalloc_index(): 1..8 → 8, 9..16 → 16, 65..96 → 96, 129..192 → 192, then powers of two
        long[][] cases = {{1, 8}, {8, 8}, {9, 16}, {17, 32}, {33, 64}, {64, 64}, {65, 96}, {96, 96}, {97, 128},
                {129, 192}, {192, 192}, {193, 256}, {257, 512}, {513, 1024}, {1025, 2048}, {2049, 4096},
                {4097, 8192}, {8192, 8192}};
        for (long[] c : cases) assertEquals(c[1], KmallocCaches.bytesAlloc(c[0], Gfp.GFP_KERNEL), "size " + c[0]);
    }

    @Test
    void largeKmallocIsPageSizeShiftedByGetOrder() {
        assertEquals(16384, KmallocCaches.bytesAlloc(8193, Gfp.GFP_KERNEL));   // order 2
        assertEquals(16384, KmallocCaches.bytesAlloc(16384, Gfp.GFP_KERNEL));
        assertEquals(32768, KmallocCaches.bytesAlloc(16385, Gfp.GFP_KERNEL));  // order 3
        assertEquals(65536, KmallocCaches.bytesAlloc(65536, Gfp.GFP_KERNEL));  // order 4
        assertEquals(0, KmallocCaches.bytesAlloc(0, Gfp.GFP_KERNEL));          // ZERO_SIZE_PTR, no event
        assertEquals(3, SlabLayout.getOrder(32768));
        assertEquals(4, SlabLayout.getOrder(32769));
    }

    @Test
    void calculateOrderByHand() {
        // 2 CPUs: min_objects = 4 * (fls(2) + 1) = 12.
        assertEquals(12, SlabLayout.defaultMinObjects(2));
        // size 1016: min_order = get_order(12*1016=12192) = 2; 16384 % 1016 = 128 <= 16384/16 → order 2, 16 objs
        assertEquals(2, SlabLayout.calculateOrder(1016, 2));
        // size 192: get_order(12*192=2304) = 0; 4096 % 192 = 64 <= 256 → order 0, 21 objs
        assertEquals(0, SlabLayout.calculateOrder(192, 2));
        // size 8192: max_objects = 32768/8192 = 4, min_objects = 4, get_order(32768) = 3 → order 3, 4 objs
        assertEquals(3, SlabLayout.calculateOrder(8192, 2));
        // size 2496 (TCPv6): get_order(12*2496=29952) = 3; 32768 % 2496 = 320 <= 2048 → order 3, 13 objs
        assertEquals(3, SlabLayout.calculateOrder(2496, 2));
        assertEquals(13, SlabLayout.orderObjects(3, 2496));
    }

    static List<SlabInfo.Line> bundledSlabinfo() throws Exception {
        try (Reader r = new InputStreamReader(SlabLayoutTest.class.getResourceAsStream(SLABINFO), StandardCharsets.UTF_8)) {
            return SlabInfo.parse(r);
        }
    }

    static List<String> mismatches(List<SlabInfo.Line> lines) {
        List<String> bad = new ArrayList<>();
        for (SlabInfo.Line l : lines) {
            int order = SlabLayout.calculateOrder(l.objSize(), 2);
            int objs = SlabLayout.orderObjects(order, l.objSize());
            if (objs != l.objPerSlab() || (1 << order) != l.pagesPerSlab()) {
                bad.add(l.name() + " size " + l.objSize() + ": model " + objs + "/" + (1 << order) + ", snapshot "
                        + l.objPerSlab() + "/" + l.pagesPerSlab());
            }
        }
        return bad;
    }

    @Test
    void everyCacheOfTheBundledSnapshotHasTheSnapshotsGeometry() throws Exception {
        List<SlabInfo.Line> lines = bundledSlabinfo();
        assertEquals(235, lines.size());
        List<String> bad = mismatches(lines);
        System.out.printf("slabinfo geometry (bundled): %d/%d caches match%n", lines.size() - bad.size(), lines.size());
        assertEquals(List.of(), bad);
    }

    @Test
    void everyCacheOfTheSharedSnapshotHasTheSnapshotsGeometry() throws Exception {
        Path p = Path.of(System.getProperty("kmemlab.shared", "../shared"), "traces/machine/slabinfo.txt");
        Assumptions.assumeTrue(Files.exists(p), "no ../shared: skipped");
        List<SlabInfo.Line> lines;
        try (Reader r = Files.newBufferedReader(p)) { lines = SlabInfo.parse(r); }
        List<String> bad = mismatches(lines);
        System.out.printf("slabinfo geometry (../shared): %d/%d caches match%n", lines.size() - bad.size(), lines.size());
        assertEquals(List.of(), bad);
    }

    @Test
    void cachesCreatedFromTheSnapshotReportTheSnapshotGeometry() throws Exception {
        SlubAllocator a = new SlubAllocator(new TestPageProvider(1 << 16, 2), 2, new CostTable());
        List<SlabInfo.Line> lines = bundledSlabinfo();
        SlabInfo.createCaches(a, lines);
        for (SlabInfo.Line l : lines) {
            SlubCache c = a.cache(l.name());
            assertTrue(c != null, l.name());
            assertEquals(l.objSize(), c.size, l.name());
            assertEquals(l.objPerSlab(), c.objsPerSlab, l.name());
            assertEquals(l.pagesPerSlab(), c.pagesPerSlab(), l.name());
        }
    }

    @Test
    void calculateSizesReproducesTheTracesBytesAllocOfNamedCaches() {
        // kmem_cache_alloc events of ../shared/traces (6.18): bytes_req = s->object_size, bytes_alloc = s->size.
        // Creation flags from the kernel sources that create these caches.
        SlubAllocator a = new SlubAllocator(new TestPageProvider(1 << 12, 2), 2, new CostTable());
        int rcuCtor = SlabFlags.TYPESAFE_BY_RCU | SlabFlags.HAS_CTOR;
        Object[][] cases = {
            {"anon_vma", 96, 0, rcuCtor, 104},                         // anon_vma_init: TYPESAFE_BY_RCU + ctor
            {"sighand_cache", 2080, 0, rcuCtor | SlabFlags.HWCACHE_ALIGN, 2112},
            {"sock_inode_cache", 768, 0, SlabFlags.HAS_CTOR | SlabFlags.HWCACHE_ALIGN, 832},
            {"radix_tree_node", 576, 0, SlabFlags.HAS_CTOR, 584},
            {"inode_cache", 616, 0, SlabFlags.HAS_CTOR, 624},
            {"mm_struct", 1568, 0, SlabFlags.HWCACHE_ALIGN, 1600},
            {"task_struct", 5840, 64, 0, 5888},                        // align = L1_CACHE_BYTES
            {"skbuff_head_cache", 224, 0, SlabFlags.HWCACHE_ALIGN, 256},
            {"pid", 184, 0, SlabFlags.HWCACHE_ALIGN, 192},
            {"vmap_area", 72, 0, 0, 72},
            {"lsm_file_cache", 24, 0, 0, 24},
        };
        for (Object[] c : cases) {
            SlubCache k = a.newCache((String) c[0] + "-t", (int) c[1], (int) c[2], (int) c[3]);
            assertEquals((int) c[4], k.size, (String) c[0]);
        }
    }

    @Test
    void calculateSizesForNamedCaches() {
        SlubAllocator a = new SlubAllocator(new TestPageProvider(1 << 12, 2), 2, new CostTable());
        // filp: object 184 (trace bytes_req), SLAB_HWCACHE_ALIGN → align 64 → size 192 (trace bytes_alloc)
        SlubCache filp = a.newCache("filp-test", 184, 0, SlabFlags.HWCACHE_ALIGN);
        assertEquals(192, filp.size);
        // 24-byte object, hwcache align: 64 → 32 (24 <= 32) → size 32
        assertEquals(32, a.newCache("t24", 24, 0, SlabFlags.HWCACHE_ALIGN).size);
        // TYPESAFE_BY_RCU moves the free pointer behind the object: 72 + 8 = 80
        assertEquals(80, a.newCache("rcu72", 72, 0, SlabFlags.TYPESAFE_BY_RCU).size);
        // names_cache: 4096, no extra → order 3 with 8 objects (12*4096 → order 4 > max → back off)
        SlubCache names = a.newCache("names", 4096, 0, 0);
        assertEquals(8, names.objsPerSlab);
        assertEquals(8, names.pagesPerSlab());
    }
}
