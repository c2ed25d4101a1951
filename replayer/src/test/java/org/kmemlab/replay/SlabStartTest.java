package org.kmemlab.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The slabs' free slots at the start as the trace proves them ({@code replay.slabStart=trace}). */
class SlabStartTest {
    @TempDir Path tmp;

    private static final long BASE = 0xffff888000000000L;

    private static long at(long pfn, long offset) { return BASE + (pfn << 12) + offset; }

    /** Replays under baseline into {@code dir} and returns the summary. */
    private static Map<String, Object> replay(Path trace, Path dir, Map<String, String> set) throws IOException {
        new Replayer(trace, "baseline", set).run(dir);
        return ReplayerTest.summary(dir);
    }

    private static List<String> show(List<SlabStart.Slab> p) {
        return p.stream().map(x -> x.first() + " free " + x.free() + " cpu " + x.cpu() + " "
                + java.util.Arrays.toString(x.preexisting())).toList();
    }

    /** slabinfo 2.1 lines: name active num objsize objperslab pagesperslab. */
    private static String slabinfo(String... lines) {
        StringBuilder sb = new StringBuilder("slabinfo - version: 2.1\n");
        for (String l : lines) sb.append(l).append(" : tunables 0 0 0 : slabdata 1 1 0\n");
        return sb.toString();
    }

    /** Two slabs the trace allocates (pfn 0x1000 and 0x2000, for dentry): they also show where the direct map lies. */
    private static Traces traceSlabs(Traces w, long ts) {
        w.pageAllocMt(ts, 0, 10, 0x1000, 0, 0).cacheAlloc(ts + 1_000, 0, 10, "dentry", at(0x1000, 0), 192, 0xcc0, "GFP_KERNEL");
        w.pageAllocMt(ts + 2_000, 0, 10, 0x2000, 0, 0).cacheAlloc(ts + 3_000, 0, 10, "dentry", at(0x2000, 0), 192, 0xcc0, "GFP_KERNEL");
        return w;
    }

    @Test
    void eachPreExistingSlabProvesItsLargestExcessOfAllocationsOverFrees() throws IOException {
        Path t = tmp.resolve("proof.arrow");
        try (Traces w = new Traces(t)) {
            w.snapshot("slabinfo", slabinfo("dentry 100 210 192 21 1", "kmalloc-64 64 128 64 64 1"));
            traceSlabs(w, 1_000);
            // in a slab the trace allocated: proves nothing about the start
            w.cacheAlloc(10_000, 0, 10, "dentry", at(0x1000, 192), 192, 0xcc0, "GFP_KERNEL");
            // slab 0x100 on CPU 0: +1 +1 -1 +1, so 2 slots were free at the start
            w.cacheAlloc(20_000, 0, 10, "dentry", at(0x100, 0), 192, 0xcc0, "GFP_KERNEL")
             .cacheAlloc(21_000, 0, 10, "dentry", at(0x100, 192), 192, 0xcc0, "GFP_KERNEL")
             .cacheFree(22_000, 0, 10, "dentry", at(0x100, 0))
             .cacheAlloc(23_000, 0, 10, "dentry", at(0x100, 384), 192, 0xcc0, "GFP_KERNEL");
            // slab 0x200: a pre-existing object's free comes first and its slot serves the allocation: none needed
            w.cacheFree(30_000, 1, 11, "dentry", at(0x200, 576))
             .cacheAlloc(31_000, 1, 11, "dentry", at(0x200, 576), 192, 0xcc0, "GFP_KERNEL");
            // slab 0x300, used first by CPU 1: one slot
            w.cacheAlloc(40_000, 1, 11, "dentry", at(0x300, 0), 192, 0xcc0, "GFP_KERNEL")
             .cacheAlloc(41_000, 0, 10, "dentry", at(0x300, 0), 192, 0xcc0, "GFP_KERNEL"); // again at a live address: freed untraced
            // a kmalloc-64 slab: three allocations, then a kfree of an object the trace never allocated
            w.kmalloc(50_000, 0, 10, at(0x400, 0), 64, "site")
             .kmalloc(51_000, 0, 10, at(0x400, 64), 64, "site")
             .kmalloc(52_000, 0, 10, at(0x400, 128), 64, "site")
             .kfree(53_000, 0, 10, at(0x400, 192));
        }
        PrePass p = PrePass.scan(t);
        assertEquals("by address (direct map at 0xffff888000000000)", p.slabPageAttribution);
        Map<SlabStart.Key, List<SlabStart.Slab>> proofs = p.slabFreeAtStart;
        assertEquals(2, proofs.size(), proofs.toString());
        // slab 0x200's free slots: none, but it holds the pre-existing object freed there, and CPU 1 used it first
        assertEquals(List.of("0 free 2 cpu 0 []", "1 free 0 cpu 1 [" + at(0x200, 576) + "]", "2 free 1 cpu 1 []"),
                show(proofs.get(new SlabStart.Key("dentry", 0, -1))));
        assertEquals(List.of("3 free 3 cpu 0 [" + at(0x400, 192) + "]"), show(proofs.get(new SlabStart.Key(null, 64, 0xcc0))));
        // the pre-existing objects: the kfree'd one is placed in kmalloc-64 by its slab's allocations
        Map<Long, PrePass.Obj> objs = new HashMap<>();
        for (PrePass.Obj o : p.objects) objs.put(o.ptr(), o);
        assertEquals(new PrePass.Obj(at(0x200, 576), "dentry", 64, -1), objs.get(at(0x200, 576)));
        assertEquals(new PrePass.Obj(at(0x400, 192), null, 64, 0xcc0), objs.get(at(0x400, 192)));
        assertEquals(2, objs.size());
    }

    /**
     * The snapshot says dentry has 110 free slots; the trace proves 2 (slab 0x100), then allocates two slabs of
     * its own for 42 more objects. Started from the proof, the model grows two slabs as the kernel did; from the
     * snapshot, none.
     */
    @Test
    void theModelGrowsWhereTheKernelDidWhenItStartsFromTheProof() throws IOException {
        Path t = tmp.resolve("grow.arrow");
        try (Traces w = new Traces(t)) {
            w.snapshot("slabinfo", slabinfo("dentry 100 210 192 21 1"));
            w.cacheAlloc(1_000, 0, 10, "dentry", at(0x100, 0), 192, 0xcc0, "GFP_KERNEL")
             .cacheAlloc(2_000, 0, 10, "dentry", at(0x100, 192), 192, 0xcc0, "GFP_KERNEL");
            long ts = 10_000;
            for (long pfn : new long[] {0x1000, 0x2000}) {
                w.pageAllocMt(ts, 0, 10, pfn, 0, 0);
                for (int i = 0; i < 21; i++) w.cacheAlloc(ts + 1_000 + 1_000L * i, 0, 10, "dentry", at(pfn, 192L * i), 192, 0xcc0, "GFP_KERNEL");
                ts += 100_000;
            }
        }
        Map<String, Object> s = replay(t, tmp.resolve("proof"), Map.of());
        assertEquals(Map.of("dentry", 2), s.get("slab_pages_allocated_by_cache"));
        assertEquals(Map.of("from", "trace", "free_slots", Map.of("dentry", 2)), s.get("slab_start"));

        Map<String, Object> s2 = replay(t, tmp.resolve("snap"), Map.of("replay.slabStart", "snapshot"));
        Object grown = s2.get("slab_pages_allocated_by_cache");
        assertTrue(grown == null || ((Map<?, ?>) grown).get("dentry") == null, String.valueOf(grown));
        assertEquals("snapshot (replay.slabStart=snapshot)", s2.get("slab_start"));
    }

    /**
     * Two proven slots in two slabs, one used by each CPU. Each slab goes to its CPU's partial list: CPU 0's three
     * allocations take its slot and then one new slab of 21, and CPU 1's allocation takes its own slot. Left on the
     * node's list, CPU 0 would take both slabs at its first allocation (get_partial_node() fills its cpu partial
     * list), and CPU 1 would need a second new slab.
     */
    @Test
    void aProvenSlabBelongsToTheCpuThatUsedItFirst() throws IOException {
        Path t = tmp.resolve("cpus.arrow");
        try (Traces w = new Traces(t)) {
            w.snapshot("slabinfo", slabinfo("dentry 100 210 192 21 1"));
            traceSlabs(w, 1_000);
            w.cacheAlloc(10_000, 0, 10, "dentry", at(0x100, 0), 192, 0xcc0, "GFP_KERNEL")
             .cacheAlloc(20_000, 1, 11, "dentry", at(0x300, 0), 192, 0xcc0, "GFP_KERNEL");
        }
        Map<String, Object> s = replay(t, tmp.resolve("out"), Map.of());
        assertEquals(Map.of("from", "trace", "free_slots", Map.of("dentry", 2)), s.get("slab_start"));
        assertEquals(Map.of("dentry", 1), s.get("slab_pages_allocated_by_cache"));
    }

    /**
     * tar's mm_struct: CPU 0 frees a pre-existing object into a slab that CPU 1 then allocates from. The slab was full
     * and CPU 1's cpu slab: a free into a full slab on no list would have put it on CPU 0's partial list, out of CPU 1's
     * reach. The model puts the object in the slab standing for it and makes that slab CPU 1's, so CPU 1 takes the
     * freed slot and grows nothing.
     */
    @Test
    void aPreExistingObjectIsFreedIntoTheSlabAndCpuTheTraceShows() throws IOException {
        Path t = tmp.resolve("frozen.arrow");
        try (Traces w = new Traces(t)) {
            w.snapshot("slabinfo", slabinfo("dentry 100 210 192 21 1", "filp 0 0 192 21 1"));
            // the direct map's base, from two filp slabs the trace allocates
            w.pageAllocMt(1_000, 0, 10, 0x1000, 0, 0).cacheAlloc(2_000, 0, 10, "filp", at(0x1000, 0), 192, 0xcc0, "GFP_KERNEL");
            w.pageAllocMt(3_000, 0, 10, 0x2000, 0, 0).cacheAlloc(4_000, 0, 10, "filp", at(0x2000, 0), 192, 0xcc0, "GFP_KERNEL");
            w.cacheFree(10_000, 0, 10, "dentry", at(0x200, 384))
             .cacheAlloc(20_000, 1, 11, "dentry", at(0x200, 384), 192, 0xcc0, "GFP_KERNEL");
        }
        Path out = tmp.resolve("out");
        Map<String, Object> s = replay(t, out, Map.of());
        assertEquals(Map.of("from", "trace", "free_slots", Map.of("dentry", 0)), s.get("slab_start"));
        assertEquals(Map.of("filp", 1), s.get("slab_pages_allocated_by_cache"));
        assertEquals(1, ((Number) s.get("preexisting_objects")).intValue());
        // the snapshot's 100 objects in use and the pre-existing one fill five slabs of 21: the object took an address
        // in the slab standing for its own, not a slot of a sixth
        double pagesAtStart = ReplayerTest.rows(out.resolve("timeline.arrow")).stream()
                .filter(r -> "slab_pages:dentry".equals(r.get("metric")) && ((Number) r.get("t_ns")).longValue() == 0)
                .mapToDouble(r -> ((Number) r.get("value")).doubleValue()).findFirst().orElse(-1);
        assertEquals(5.0, pagesAtStart);
    }

    /**
     * tar frees some proc inodes at one address again and again without an allocation between (the allocations are
     * not in the trace). Only the first free is of an object that existed at the start; the replay creates the others
     * when they are freed. Counted as three, the start had two spare slots the kernel did not.
     */
    @Test
    void aPointerFreedAgainWithoutAnAllocationIsOnePreExistingObject() throws IOException {
        Path t = tmp.resolve("again.arrow");
        try (Traces w = new Traces(t)) {
            w.cacheFree(1_000, 0, 10, "dentry", at(0x200, 0))
             .cacheFree(2_000, 0, 10, "dentry", at(0x200, 0))
             .cacheFree(3_000, 0, 10, "dentry", at(0x200, 0));
        }
        assertEquals(List.of(new PrePass.Obj(at(0x200, 0), "dentry", 64)), PrePass.scan(t).objects);
        Map<String, Object> s = replay(t, tmp.resolve("out"), Map.of());
        assertEquals(1, ((Number) s.get("preexisting_objects")).intValue());
        assertEquals(2, ((Number) s.get("untraced_allocations")).intValue());
        assertEquals(0, ((Number) s.get("frees_without_object")).intValue());
    }
}
