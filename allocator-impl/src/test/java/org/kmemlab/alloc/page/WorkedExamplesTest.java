package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.kmemlab.alloc.snapshot.MachineSnapshot;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;

/**
 * Acceptance 2: values computed by hand from the kernel source. Where the numbers are the snapshot
 * machine's (DMA 3840, DMA32 772915, Normal 720896 managed pages, 2 CPUs), zoneinfo.txt shows the same
 * values, so the hand arithmetic is checked against a real kernel as well.
 */
class WorkedExamplesTest {

    // ------------------------------------------------------------------ watermarks

    @Test
    void minFreeKbytesOfTheSnapshotMachine() {
        // calculate_min_free_kbytes: lowmem = 3840 + 772915 + 720896 = 1497651 pages = 5990604 kB,
        // sqrt(5990604 * 16) = sqrt(95849664) = 9790 kB.
        // khugepaged set_recommended_min_free_kbytes: 3 zones * 512 * 2 = 3072, + 3 * 512 * 3 * 3 = 13824
        // -> 16896 pages (< 5% of 1497651 = 74882) -> 67584 kB, larger than 9790, so 67584.
        assertEquals(9790, Watermarks.minFreeKbytes(1497651, 3, false));
        assertEquals(67584, Watermarks.minFreeKbytes(1497651, 3, true));
    }

    @Test
    void setupPerZoneWmarksMatchesZoneinfo() {
        PageAllocator pa = threeZoneMachine();
        pa.setupWatermarksAndPcp(67584, 10);
        // pages_min = 67584 >> 2 = 16896
        // DMA:    16896 * 3840   / 1497651 = 43 (43.3);  tmp = max(43 >> 2 = 10, 3840 * 10 / 10000 = 3) = 10
        //         low = 53, high = 63
        // DMA32:  16896 * 772915 / 1497651 = 8719 (8719.8); tmp = max(2179, 772) = 2179 -> 10898, 13077
        // Normal: 16896 * 720896 / 1497651 = 8132 (8132.9); tmp = max(2033, 720) = 2033 -> 10165, 12198
        long[][] expect = {{43, 53, 63}, {8719, 10898, 13077}, {8132, 10165, 12198}};
        for (int t = 0; t < 3; t++) {
            Zone z = pa.zone(0, t);
            for (int w = 0; w < 3; w++) assertEquals(expect[t][w], z.rawWatermark(w), z + " wmark " + w);
        }
        // setup_per_zone_lowmem_reserve, ratios 256/256/32:
        // DMA:   [DMA32] 772915 / 256 = 3019, [Normal] (772915 + 720896) / 256 = 5835, [Movable] 5835
        // DMA32: [Normal] 720896 / 256 = 2816, [Movable] 2816 (zoneinfo "protection: (0, 0, 2816, 2816, 2816)")
        Zone dma = pa.zone(0, ZONE_DMA), dma32 = pa.zone(0, ZONE_DMA32);
        assertArrayEquals(new long[]{0, 3019, 5835, 5835}, new long[]{dma.lowmemReserve(0), dma.lowmemReserve(1), dma.lowmemReserve(2), dma.lowmemReserve(3)});
        assertEquals(2816, dma32.lowmemReserve(ZONE_NORMAL));
        assertEquals(0, pa.zone(0, ZONE_NORMAL).lowmemReserve(ZONE_MOVABLE));
    }

    @Test
    void zoneWatermarkOkArithmetic() {
        // A Normal zone whose only free blocks are order 0 (so order>0 requests fail the free-area scan).
        PageAllocator pa = fromBuddyinfo("Node 0, zone   Normal  20000      0      0      0      0      0      0      0      0      0      0 \n");
        Zone z = pa.zone(0, ZONE_NORMAL);
        long mark = 8132;
        // order 0, no flags: ok iff free > 8132 + lowmem_reserve[Normal](0)
        assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, 0, 8132, false));
        assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, 0, 8133, false));
        // ALLOC_HIGH: min -= min / 2 -> 8132 - 4066 = 4066
        assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_HIGH, 4066, false));
        assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_HIGH, 4067, false));
        // 5.10 ALLOC_HIGH|ALLOC_HARDER (GFP_ATOMIC): 4066 - 4066 / 4 = 4066 - 1016 = 3050
        assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_HIGH | ALLOC_HARDER, 3050, false));
        assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_HIGH | ALLOC_HARDER, 3051, false));
        // current: ALLOC_MIN_RESERVE|ALLOC_NON_BLOCK gives the same 3050; ALLOC_OOM alone: 8132 - 4066 = 4066
        assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK, 3050, true));
        assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_MIN_RESERVE | ALLOC_NON_BLOCK, 3051, true));
        assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_OOM, 4066, true));
        // 5.10 ALLOC_HARDER without ALLOC_HIGH: 8132 - 2033 = 6099
        assertFalse(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_HARDER, 6099, false));
        assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, ALLOC_HARDER, 6100, false));
        // order 3: free_pages -= 2^3 - 1 = 7, so 8140 passes the count (8133 > 8132) ...
        assertTrue(Watermarks.zoneWatermarkOk(z, 0, mark, ZONE_NORMAL, 0, 8140 - 7, false));
        // ... but no free block of order >= 3 exists, so the order-3 check fails even with plenty free
        assertFalse(Watermarks.zoneWatermarkOk(z, 3, mark, ZONE_NORMAL, 0, 100000, false));
        // order 0 against the DMA32 zone for a Normal-capable request: 8719 + protection 2816 = 11535
        PageAllocator snap = MachineBuilder.fromSnapshot(MachineSnapshot.load(fixtureDir()), KernelEra.ENOW);
        Zone dma32 = snap.zone(0, ZONE_DMA32);
        assertFalse(Watermarks.zoneWatermarkOk(dma32, 0, 8719, ZONE_NORMAL, 0, 11535, true));
        assertTrue(Watermarks.zoneWatermarkOk(dma32, 0, 8719, ZONE_NORMAL, 0, 11536, true));
        assertTrue(Watermarks.zoneWatermarkOk(dma32, 0, 8719, ZONE_DMA32, 0, 8720, true));
        // with its real 772915 free pages and order-10 blocks, an order-9 request passes at the low mark
        assertTrue(Watermarks.zoneWatermarkOk(dma32, 9, dma32.lowWmark(), ZONE_NORMAL, 0, true));
    }

    @Test
    void gfpToAllocFlags() {
        PageAllocator now = threeZoneMachine(KernelEra.ENOW), old = threeZoneMachine(KernelEra.E2020);
        // GFP_KERNEL: WMARK_MIN(0) | CPUSET(0x40), and __GFP_KSWAPD_RECLAIM (0x800) copied as ALLOC_KSWAPD
        assertEquals(ALLOC_CPUSET | ALLOC_KSWAPD, now.gfpToAllocFlags(Gfp.GFP_KERNEL, 0));
        assertEquals(ALLOC_CPUSET | ALLOC_KSWAPD, old.gfpToAllocFlags(Gfp.GFP_KERNEL, 0));
        // current GFP_ATOMIC = __GFP_HIGH|__GFP_KSWAPD_RECLAIM: MIN_RESERVE|KSWAPD, no direct reclaim -> NON_BLOCK,
        // CPUSET cleared; order > 0 with MIN_RESERVE adds HIGHATOMIC
        assertEquals(ALLOC_MIN_RESERVE | ALLOC_KSWAPD | ALLOC_NON_BLOCK, now.gfpToAllocFlags(Gfp.GFP_ATOMIC, 0));
        assertEquals(ALLOC_MIN_RESERVE | ALLOC_KSWAPD | ALLOC_NON_BLOCK | ALLOC_HIGHATOMIC, now.gfpToAllocFlags(Gfp.GFP_ATOMIC, 2));
        // 5.10 GFP_ATOMIC = __GFP_HIGH|__GFP_ATOMIC|__GFP_KSWAPD_RECLAIM: HIGH|KSWAPD|HARDER, CPUSET cleared
        assertEquals(ALLOC_HIGH | ALLOC_KSWAPD | ALLOC_HARDER, old.gfpToAllocFlags(Gfp.GFP_ATOMIC | Gfp.ATOMIC, 0));
        // movable requests may use CMA
        assertEquals(ALLOC_CPUSET | ALLOC_CMA | ALLOC_KSWAPD, old.gfpToAllocFlags(Gfp.GFP_HIGHUSER_MOVABLE, 0));
    }

    // ------------------------------------------------------------------ pcp sizing

    @Test
    void pcpBatchAndHighFromZoneSize() {
        // zone_batchsize(772915): min(772915 >> 10 = 754, 1 MiB / 4 KiB = 256) = 256; / 4 = 64;
        // rounddown_pow_of_two(64 + 32 = 96) - 1 = 63  (zoneinfo "batch: 63")
        assertEquals(63, PerCpuPages.zoneBatchsize(772915));
        assertEquals(63, PerCpuPages.zoneBatchsize(720896));
        // zone_batchsize(3840): 3840 >> 10 = 3; / 4 = 0 -> 1; rounddown_pow_of_two(1) - 1 = 0; caller max(1, 0) = 1
        assertEquals(0, PerCpuPages.zoneBatchsize(3840));
        // zone_batchsize(65536) (256 MiB): 64 / 4 = 16; rounddown_pow_of_two(24) - 1 = 15
        assertEquals(15, PerCpuPages.zoneBatchsize(65536));
        // zone_highsize with the low watermark split over 2 CPUs of the node:
        // DMA32 10898 / 2 = 5449 (high_min), managed / 8 / 2 = 96614 / 2 = 48307 (high_max)
        assertEquals(5449, PerCpuPages.zoneHighsize(772915, 10898, 63, 2, 0, 0));
        assertEquals(48307, PerCpuPages.zoneHighsize(772915, 10898, 63, 2, 0, 8));
        // Normal: 10165 / 2 = 5082, 720896 / 8 / 2 = 45056; DMA: 53 / 2 = 26 (>= 1 << 2), 3840 / 8 / 2 = 240
        assertEquals(5082, PerCpuPages.zoneHighsize(720896, 10165, 63, 2, 0, 0));
        assertEquals(45056, PerCpuPages.zoneHighsize(720896, 10165, 63, 2, 0, 8));
        assertEquals(26, PerCpuPages.zoneHighsize(3840, 53, 1, 2, 0, 0));
        // high is at least batch * 4: low 100 over 2 CPUs = 50 < 63 * 4 = 252
        assertEquals(252, PerCpuPages.zoneHighsize(100000, 100, 63, 2, 0, 0));

        PageAllocator now = threeZoneMachine(KernelEra.ENOW);
        now.setupWatermarksAndPcp(67584, 10);
        PerCpuPages p = now.zone(0, ZONE_DMA32).pcp(1);
        assertEquals(63, p.batch());
        assertEquals(5449, p.high());
        assertEquals(48307, p.highMax());
        assertEquals(1, now.zone(0, ZONE_DMA).pcp(0).batch());
        // 5.10 pageset_set_batch: high = 6 * batch = 378
        PageAllocator old = threeZoneMachine(KernelEra.E2020);
        old.setupWatermarksAndPcp(67584, 10);
        assertEquals(378, old.zone(0, ZONE_DMA32).pcp(0).high());
        assertEquals(6, old.zone(0, ZONE_DMA).pcp(0).high());
    }

    @Test
    void nrPcpAllocScalesTheRefillBatch() {
        PerCpuPages p = new PerCpuPages(0, true);
        p.setHighBatch(5449, 63, 5449, 48307);
        // zone below its high watermark: high stays. count 0, alloc_factor 0: batch 63;
        // max_nr_alloc = max(5449 - 0 - 63, 63) = 5386 -> alloc_factor 1, refill 63
        assertEquals(63, p.nrPcpAlloc(0, true, true));
        assertEquals(5449, p.high());
        // count 62, factor 1: 63 << 1 = 126 <= 5449 - 62 - 63 = 5324 -> factor 2, refill 126
        p.count = 62;
        assertEquals(126, p.nrPcpAlloc(0, true, true));
        // zone above high: high grows by the (scaled) batch first: 5449 + (63 << 2) = 5701, then
        // max_nr_alloc = 5701 - 62 - 63 = 5576 >= 252 -> refill 252
        assertEquals(252, p.nrPcpAlloc(0, true, false));
        assertEquals(5701, p.high());
        // order 2: batch 63 (no alloc_factor), high 5701 + 63 = 5764, refill 63 >> 2 = 15
        assertEquals(15, p.nrPcpAlloc(2, true, false));
        assertEquals(5764, p.high());
        // 5.10 always refills pcp->batch
        assertEquals(63, p.nrPcpAlloc(0, false, false));
        // nr_pcp_high on the free path: below the high watermark high shrinks by max(free_count, batch)
        p.freeCount = 100;
        assertEquals(Math.max(p.count, 5449), p.nrPcpHigh(true));
        assertEquals(5764 - 100, p.high());
        // a full list above the watermark raises high to hold a batch of frees: free_count + batch
        p.count = 6000;
        p.freeCount = 6000;
        assertEquals(6063, p.nrPcpHigh(false));
        // nr_pcp_free: clamp(free_count, batch, high - batch) = clamp(6000, 63, 6000) = 6000
        assertEquals(6000, p.nrPcpFree(true, 6063));
        // clamp_t() as the kernel's __clamp() computes it when high - batch < batch: val >= hi ? hi : (val <= lo ? lo : val)
        p.setHighBatch(20, 15, 20, 20);
        p.freeCount = 21;
        assertEquals(5, p.nrPcpFree(true, 20));
        p.freeCount = 3;
        assertEquals(15, p.nrPcpFree(true, 20));
    }

    @Test
    void refillTakesOneBatchUnderZoneLock() {
        // 512 MiB: DMA32 spans 131072 - 4096 = 126976 pages, 634 reserved (0.5%), 126342 managed;
        // zone_batchsize: 126342 >> 10 = 123, / 4 = 30, rounddown_pow_of_two(30 + 15) - 1 = 31
        PageAllocator pa = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(512L << 20).cpus(2).era(KernelEra.E2020));
        assertEquals(31, pa.zone(0, ZONE_DMA32).pcp(1).batch());
        SimpleExecContext ctx = new SimpleExecContext(1, 1, new org.kmemlab.alloc.core.CostTable());
        Zone z = pa.zone(0, ZONE_DMA32);
        AllocOutcome out = new AllocOutcome();
        long before = z.freePages();
        long pfn = pa.alloc(ctx, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE, out);
        assertTrue(pfn >= 0);
        assertTrue(out.took(AllocOutcome.PATH_PCP_REFILL));
        int batch = z.pcp(1).batch();
        // one batch left the buddy; one page of it was handed out, the rest sit on CPU 1's list
        assertEquals(before - batch, z.freePages());
        assertEquals(batch - 1, z.pcp(1).count());
        assertEquals(1, ctx.locksTaken().size());
        // the second allocation is a pure pcp hit: no lock
        out = new AllocOutcome();
        pa.alloc(ctx, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE, out);
        assertFalse(out.took(AllocOutcome.PATH_PCP_REFILL));
        assertEquals(1, ctx.locksTaken().size());
        assertEquals(batch - 2, z.pcp(1).count());
        assertTrue(ctx.profile().get("__alloc_pages_nodemask;get_page_from_freelist;rmqueue;rmqueue_bulk") > 0);
        // FAST_TRY on an empty CPU fails without touching zone->lock
        SimpleExecContext cpu0 = new SimpleExecContext(0, 2, ctx.costs());
        out = new AllocOutcome();
        assertEquals(-1, pa.alloc(cpu0, 0, Gfp.GFP_NOWAIT | Gfp.FAST_TRY, out));
        assertEquals(FailReason.PCP_EMPTY, out.reason);
        assertTrue(cpu0.locksTaken().isEmpty());
        // ... and succeeds on CPU 1 (movable list) without a lock
        out = new AllocOutcome();
        assertTrue(pa.alloc(ctx, 0, Gfp.GFP_NOWAIT | Gfp.MOVABLE | Gfp.FAST_TRY, out) >= 0);
        assertEquals(1, ctx.locksTaken().size());
        // an unmovable FAST_TRY scans the lists from Unmovable up to the last pcp type, so it finds the
        // movable pages too; a reclaimable one scans Reclaimable only and fails
        int pcpBefore = z.pcp(1).count();
        out = new AllocOutcome();
        assertTrue(pa.alloc(ctx, 0, Gfp.GFP_NOWAIT | Gfp.FAST_TRY, out) >= 0);
        assertEquals(pcpBefore - 1, z.pcp(1).count());
        out = new AllocOutcome();
        assertEquals(-1, pa.alloc(ctx, 0, Gfp.GFP_NOWAIT | Gfp.RECLAIMABLE | Gfp.FAST_TRY, out));
        assertEquals(1, ctx.locksTaken().size());
    }

    /** pcp->high after one decay_pcp_high() of a list with batch 63 and high_min 5082. */
    private static int decayed(int high, int count) {
        PerCpuPages p = new PerCpuPages(0, true);
        p.setHighBatch(high, 63, 5082, 45056);
        p.count = count;
        p.decayHigh();
        return p.high();
    }

    @Test
    void decayPcpHighArithmetic() {
        // max3(count - (63 << 5), high - high / 8, high_min) = max3(7866 - 2016, 45056 - 5632, 5082) = 39424
        assertEquals(39424, decayed(45056, 7866));
        // a list far above: max3(40000 - 2016, 6000 - 750, 5082) = 37984 (the drain is capped at a scaled batch)
        assertEquals(37984, decayed(6000, 40000));
        // never below high_min: max3(0 - 2016, 5200 - 650, 5082) = 5082
        assertEquals(5082, decayed(5200, 0));
        PerCpuPages p = new PerCpuPages(0, true);
        // nr_pcp_high() with free_high: high = max(20000 - 2016, 5082) = 17984; nr_pcp_free(): min(count, 2016)
        p.setHighBatch(20000, 63, 5082, 45056);
        p.count = 3000;
        assertEquals(2016, p.nrPcpFreeHigh());
        assertEquals(17984, p.high());
        p.count = 700;
        assertEquals(700, p.nrPcpFreeHigh());
        assertEquals(15968, p.high());
    }

    /** A 512 MiB machine of 2 CPUs (one DMA32 zone of 126342 managed pages, batch 31), as {@code era} builds it. */
    private static PageAllocator small(KernelEra era) {
        return MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(512L << 20).cpus(2).era(era));
    }

    /** A context on CPU 1. */
    private static SimpleExecContext cpu1() { return new SimpleExecContext(1, 1, new org.kmemlab.alloc.core.CostTable()); }

    private static long[] alloc(PageAllocator pa, SimpleExecContext ctx, int n, int order, long gfp) {
        long[] pfns = new long[n];
        for (int i = 0; i < n; i++) pfns[i] = pa.allocPages(ctx, order, gfp);
        return pfns;
    }

    @Test
    void vmstatDecayDrainsWhatIsAboveTheDecayedHighInBatches() {
        PageAllocator pa = small(KernelEra.ENOW);
        Zone z = pa.zone(0, ZONE_DMA32);
        SimpleExecContext ctx = cpu1();
        // 200 movable pages allocated (refills included), then all freed back onto CPU 1's list
        long[] pfns = alloc(pa, ctx, 200, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE);
        z.pcp(1).setHighBatch(1000, 31, 40, 1000);
        for (long pfn : pfns) pa.freePages(ctx, pfn, 0);
        int count = z.pcp(1).count();
        assertTrue(count >= 200, "count " + count);
        DrainOrder log = new DrainOrder();
        pa.setEvents(log);
        // high = max3(count - (31 << 5), 1000 - 125, 40) = 875 when count <= 1867: nothing above it, nothing drained
        assertTrue(pa.vmstatRefresh(ctx, 1));
        assertEquals(875, z.pcp(1).high());
        assertEquals(count, z.pcp(1).count());
        assertEquals(0, log.pfns.size());
        // high forced down to 100: max3(count - 992, 100 - 12, 40) = 88; count - 88 pages go, in batches of 31
        z.pcp(1).setHighBatch(100, 31, 40, 1000);
        int locks = ctx.locksTaken().size();
        assertTrue(pa.vmstatRefresh(ctx, 1));
        assertEquals(88, z.pcp(1).high());
        assertEquals(88, z.pcp(1).count());
        assertEquals(count - 88, log.pfns.size());
        // one zone->lock round per batch of 31
        assertEquals((count - 88 + 30) / 31, ctx.locksTaken().size() - locks);
        assertTrue(ctx.profile().get("refresh_cpu_vm_stats;decay_pcp_high;free_pcppages_bulk") > 0);
        // at high_min nothing is left to decay: vmstat_update stops asking
        z.pcp(1).setHighBatch(40, 31, 40, 1000);
        log.pfns.clear();
        assertTrue(pa.vmstatRefresh(ctx, 1)); // 88 - 40 pages still above high
        assertFalse(pa.vmstatRefresh(ctx, 1));
        // 5.10 has no decay
        assertFalse(small(KernelEra.E2020).vmstatRefresh(ctx, 1));
    }

    /** pfns in the order mm_page_pcpu_drain reported them. */
    private static final class DrainOrder implements PageEvents {
        final java.util.List<Long> pfns = new java.util.ArrayList<>();
        @Override public void pcpuDrain(Zone z, long pfn, int order, int mt) { pfns.add(pfn); }
    }

    /**
     * free_pcppages_bulk()'s walk over the lists, on CPU 1's lists holding 10 unmovable and 20 movable order-0
     * pages, when the 30th free (movable) brings the list to high = 30.
     */
    private static String drainWalk(KernelEra era) {
        PageAllocator pa = small(era);
        Zone z = pa.zone(0, ZONE_DMA32);
        SimpleExecContext ctx = cpu1();
        long[] u = alloc(pa, ctx, 10, 0, Gfp.GFP_KERNEL), m = alloc(pa, ctx, 20, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE);
        pa.drainPages(ctx, z, 1);
        // high 30 (high_min = high_max, so current kernels leave it alone), batch 5
        z.pcp(1).setHighBatch(30, 5, 30, 30);
        for (long pfn : u) pa.freePages(ctx, pfn, 0);
        for (int i = 0; i < m.length - 1; i++) pa.freePages(ctx, m[i], 0);
        DrainOrder log = new DrainOrder();
        pa.setEvents(log);
        pa.freePages(ctx, m[m.length - 1], 0);
        java.util.Set<Long> movable = new java.util.HashSet<>();
        for (long pfn : m) movable.add(pfn);
        StringBuilder sb = new StringBuilder();
        for (long pfn : log.pfns) sb.append(movable.contains(pfn) ? 'M' : 'U');
        return sb.toString();
    }

    @Test
    void freePcppagesBulkWalksTheListsAsEachEraDoes() {
        // current kernels: nr_pcp_free = clamp(free_count 30, batch 5, high - batch 25) = 25, starting with the list
        // just freed to (movable) and emptying it (20) before going round to the next non-empty one (unmovable, 5)
        assertEquals("M".repeat(20) + "UUUUU", drainWalk(KernelEra.ENOW));
        // 5.10: a batch of 5, round robin from the list after 0 (movable), batch_free growing by one for each list
        // visited (reclaimable is empty): M, then U U, then M, then the last one from unmovable
        assertEquals("MUUMU", drainWalk(KernelEra.E2020));
    }

    @Test
    void aRunOfHighOrderFreesEmptiesTheLists() {
        PageAllocator pa = small(KernelEra.ENOW);
        Zone z = pa.zone(0, ZONE_DMA32);
        SimpleExecContext ctx = cpu1();
        long[] blocks = alloc(pa, ctx, 40, 1, Gfp.GFP_KERNEL | Gfp.MOVABLE);
        pa.drainPages(ctx, z, 1);
        PerCpuPages p = z.pcp(1);
        // free_high needs free_count >= batch + high_min / 2 = 31 + 20 = 51 with the previous free also of order 1..3
        p.setHighBatch(1000, 31, 40, 2000);
        assertEquals(0, p.freeCount); // halved by each of the 40 allocations
        DrainOrder log = new DrainOrder();
        pa.setEvents(log);
        // free n (1-based) finds free_count = 2 (n - 1): the 27th is the first with 52 >= 51
        for (int i = 0; i < 26; i++) pa.freePages(ctx, blocks[i], 1);
        assertEquals(52, p.count());
        assertEquals(0, log.pfns.size());
        pa.freePages(ctx, blocks[26], 1);
        // nr_pcp_high(): high = max(1000 - (31 << 5), 40) = 40; nr_pcp_free(): min(count 54, 992): all 27 blocks
        assertEquals(27, log.pfns.size());
        assertEquals(0, p.count());
        assertEquals(40, p.high());
        // an order-0 free in between resets the run: the next order-1 free only sets PCPF_PREV_FREE_HIGH_ORDER
        long page = pa.allocPages(ctx, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE);
        p.setHighBatch(1000, 31, 40, 2000);
        int before = log.pfns.size();
        pa.freePages(ctx, page, 0);
        p.freeCount = 100;
        pa.freePages(ctx, blocks[27], 1);
        assertEquals(before, log.pfns.size());
        pa.freePages(ctx, blocks[28], 1);
        assertTrue(log.pfns.size() > before);
    }

    @Test
    void setPcpListsReplacesWhatTheListsHold() {
        PageAllocator pa = small(KernelEra.ENOW);
        Zone z = pa.zone(0, ZONE_DMA32);
        SimpleExecContext ctx = cpu1();
        long free = z.freePages();
        // a refill leaves batch - 1 pages on CPU 1's movable order-0 list
        pa.allocPages(ctx, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE);
        assertEquals(z.pcp(1).batch() - 1, z.pcp(1).listPages(MT_MOVABLE, 0));
        // CPU 1: 5 movable order-0 blocks, 2 unmovable order-2 blocks; CPU 0: 3 reclaimable order-1 blocks
        pa.setPcpLists(ctx, (cpu, mt, order) -> cpu == 1 && mt == MT_MOVABLE && order == 0 ? 5
                : cpu == 1 && mt == MT_UNMOVABLE && order == 2 ? 2 : cpu == 0 && mt == MT_RECLAIMABLE && order == 1 ? 3 : 0);
        assertEquals(5, z.pcp(1).listPages(MT_MOVABLE, 0));
        assertEquals(8, z.pcp(1).listPages(MT_UNMOVABLE, 2));
        assertEquals(13, z.pcp(1).count());
        assertEquals(6, z.pcp(0).listPages(MT_RECLAIMABLE, 1));
        assertEquals(6, z.pcp(0).count());
        // one page is allocated; the lists hold 19 pages; the rest is free in the buddy
        assertEquals(free - 1 - 19, z.freePages());
        // the next movable allocation on CPU 1 is a pcp hit
        AllocOutcome out = new AllocOutcome();
        assertTrue(pa.alloc(ctx, 0, Gfp.GFP_KERNEL | Gfp.MOVABLE, out) >= 0);
        assertFalse(out.took(AllocOutcome.PATH_PCP_REFILL));
        assertEquals(4, z.pcp(1).listPages(MT_MOVABLE, 0));
    }

    // ------------------------------------------------------------------ fragmentation index and extfrag

    @Test
    void fragmentationIndexArithmetic() {
        // nr_free: order0 100, order1 50. Request order 3: total blocks 150, free pages 100 + 100 = 200,
        // none suitable: 1000 - (1000 + 200 * 1000 / 8) / 150 = 1000 - 26000 / 150 = 1000 - 173 = 827
        assertEquals(827, Compaction.fragmentationIndex(3, 150, 200, 0));
        // two order-2 blocks, request order 3: 1000 - (1000 + 8 * 1000 / 8) / 2 = 0 -> lack of memory
        assertEquals(0, Compaction.fragmentationIndex(3, 2, 8, 0));
        // a suitable block exists: -1000; nothing free: 0
        assertEquals(-1000, Compaction.fragmentationIndex(1, 150, 200, 50));
        assertEquals(0, Compaction.fragmentationIndex(3, 0, 0, 0));
        // the same through a zone
        PageAllocator pa = fromBuddyinfo("Node 0, zone   Normal    100     50      0      0      0      0      0      0      0      0      0 \n");
        assertEquals(827, Compaction.fragmentationIndex(pa.zone(0, ZONE_NORMAL), 3));
        assertEquals(-1000, Compaction.fragmentationIndex(pa.zone(0, ZONE_NORMAL), 1));
    }

    @Test
    void canStealFallbackTable() {
        // order >= pageblock_order / 2 = 4, or an unmovable/reclaimable request
        assertTrue(BuddyAllocator.canStealFallback(9, MT_MOVABLE));
        assertTrue(BuddyAllocator.canStealFallback(4, MT_MOVABLE));
        assertFalse(BuddyAllocator.canStealFallback(3, MT_MOVABLE));
        assertTrue(BuddyAllocator.canStealFallback(0, MT_UNMOVABLE));
        assertTrue(BuddyAllocator.canStealFallback(0, MT_RECLAIMABLE));
    }

    /** Records mm_page_alloc_extfrag. */
    static final class Extfrag implements PageEvents {
        final List<int[]> ev = new ArrayList<>();

        @Override
        public void extfrag(Zone z, long pfn, int allocOrder, int fallbackOrder, int allocMt, int fallbackMt, boolean change) {
            ev.add(new int[]{allocOrder, fallbackOrder, allocMt, fallbackMt, change ? 1 : 0});
        }
    }

    /**
     * A movable pageblock (pfn 0-511) with {@code free} free pages at its start and the rest allocated,
     * {@code movable} of those anonymous; a second, unmovable, fully allocated block. An unmovable order-0
     * request must fall back to the movable block.
     */
    static PageAllocator stealScenario(KernelEra era, int free, int movable, Extfrag ev) {
        PageAllocator pa = MachineBuilder.blank(era, 2, 1);
        MachineBuilder.setPageblockType(pa, 0, MT_MOVABLE);
        for (int p = 0; p < free; p++) MachineBuilder.freeInto(pa, p, 0);
        for (int p = free; p < free + movable; p++) MachineBuilder.makeAnon(pa, p);
        pa.setEvents(ev);
        pa.checkInvariants();
        return pa;
    }

    @Test
    void extfragClaimsTheBlockWhenHalfIsFreeOrAlike() {
        for (KernelEra era : new KernelEra[]{KernelEra.E2020, KernelEra.ENOW}) {
            // 300 free (blocks 256 + 32 + 8 + 4: largest order 8), 212 movable: alike = 512 - (300 + 212) = 0,
            // 300 + 0 >= 1 << (9 - 1) = 256 -> the block becomes Unmovable
            Extfrag ev = new Extfrag();
            PageAllocator pa = stealScenario(era, 300, 212, ev);
            Zone z = pa.zone(0, ZONE_NORMAL);
            int mt = pa.buddy.rmqueue(z, 0, MT_UNMOVABLE, 0);
            assertTrue(mt >= 0);
            assertEquals(MT_UNMOVABLE, pa.mem.pageblockMigratetype(0), era.toString());
            assertEquals(1, ev.ev.size());
            assertArrayEquals(new int[]{0, 8, MT_UNMOVABLE, MT_MOVABLE, 1}, ev.ev.get(0), era.toString());
        }
    }

    @Test
    void extfragStealsOnlyAPageWhenTooFewAreFree() {
        // 200 free (128 + 64 + 8), 312 movable: alike 0, 200 < 256 -> no claim, the block stays Movable
        Extfrag ev = new Extfrag();
        PageAllocator pa = stealScenario(KernelEra.E2020, 200, 312, ev);
        Zone z = pa.zone(0, ZONE_NORMAL);
        take(pa, pa.buddy.rmqueue(z, 0, MT_UNMOVABLE, 0));
        assertEquals(MT_MOVABLE, pa.mem.pageblockMigratetype(0));
        // 5.10 steal_suitable_fallback took the largest (order 7) block; move_freepages_block already moved
        // the block's free pages to the Unmovable lists although ownership did not change
        assertArrayEquals(new int[]{0, 7, MT_UNMOVABLE, MT_MOVABLE, 0}, ev.ev.get(0));
        assertEquals(0, z.nrFree(0, MT_MOVABLE) + z.nrFree(3, MT_MOVABLE) + z.nrFree(6, MT_MOVABLE) + z.nrFree(7, MT_MOVABLE));
        pa.checkInvariants();

        // current kernel: try_to_claim_block fails, __rmqueue_steal splits the smallest (order 3) block
        // and leaves the rest on the Movable lists
        ev = new Extfrag();
        pa = stealScenario(KernelEra.ENOW, 200, 312, ev);
        z = pa.zone(0, ZONE_NORMAL);
        take(pa, pa.buddy.rmqueue(z, 0, MT_UNMOVABLE, 0));
        assertEquals(MT_MOVABLE, pa.mem.pageblockMigratetype(0));
        assertArrayEquals(new int[]{0, 3, MT_UNMOVABLE, MT_MOVABLE, 0}, ev.ev.get(0));
        assertEquals(1, z.nrFree(7, MT_MOVABLE));
        pa.checkInvariants();
    }

    @Test
    void extfragCountsNonMovablePagesAsAlikeForUnmovableRequests() {
        // 200 free, 312 kernel (unmovable) pages: alike = 512 - (200 + 0) = 312; 200 + 312 >= 256 -> claim
        Extfrag ev = new Extfrag();
        PageAllocator pa = stealScenario(KernelEra.E2020, 200, 0, ev);
        assertTrue(pa.buddy.rmqueue(pa.zone(0, ZONE_NORMAL), 0, MT_UNMOVABLE, 0) >= 0);
        assertEquals(MT_UNMOVABLE, pa.mem.pageblockMigratetype(0));
        assertEquals(1, ev.ev.get(0)[4]);
        // a movable request falling back to an unmovable block counts only movable pages as alike:
        // block 1 gets 100 free pages and no movable ones: 100 < 256, no claim
        ev = new Extfrag();
        pa = MachineBuilder.blank(KernelEra.E2020, 2, 1);
        for (int p = 512; p < 612; p++) MachineBuilder.freeInto(pa, p, 0);
        pa.setEvents(ev);
        take(pa, pa.buddy.rmqueue(pa.zone(0, ZONE_NORMAL), 0, MT_MOVABLE, 0));
        assertEquals(MT_UNMOVABLE, pa.mem.pageblockMigratetype(512));
        // the free pages are blocks of order 6 (64), 5 (32) and 2 (4). __rmqueue_fallback starts at the
        // largest order, and can_steal_fallback(6, MOVABLE) is true (6 >= pageblock_order / 2), so it takes
        // the order-6 block; alike = 0 movable pages, 100 < 256: ownership stays Unmovable
        assertArrayEquals(new int[]{0, 6, MT_MOVABLE, MT_UNMOVABLE, 0}, ev.ev.get(0));
        pa.checkInvariants();
    }

    @Test
    void freshMachineFirstUnmovableAllocationTakesAWholeMaxOrderBlock() {
        for (KernelEra era : new KernelEra[]{KernelEra.E2020, KernelEra.ENOW}) {
            PageAllocator pa = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(64L << 20).cpus(1).era(era));
            Extfrag ev = new Extfrag();
            pa.setEvents(ev);
            long[] before = ProcFormat.blockCounts(pa, pa.zone(0, ZONE_DMA32));
            assertEquals(0, before[MT_UNMOVABLE]);
            assertTrue(pa.allocPages(new SimpleExecContext(), 0, Gfp.GFP_KERNEL) >= 0);
            // all blocks Movable: the fallback takes the largest (order 10) block and changes the type of both
            // its pageblocks (change_pageblock_range); not fragmenting since 10 >= pageblock_order
            assertArrayEquals(new int[]{0, 10, MT_UNMOVABLE, MT_MOVABLE, 1}, ev.ev.get(0));
            assertEquals(2, ProcFormat.blockCounts(pa, pa.zone(0, ZONE_DMA32))[MT_UNMOVABLE]);
            pa.checkInvariants();
        }
    }

    @Test
    void compactionSuitableUsesFragindexForCostlyOrders() {
        // 20000 order-0 pages only: plenty free, but fragmented. Order 4 (costly): fragindex =
        // 1000 - (1000 + 20000 * 1000 / 16) / 20000 = 1000 - 1251000 / 20000 = 1000 - 62 = 938 > 500 -> CONTINUE
        PageAllocator pa = fromBuddyinfo("Node 0, zone   Normal  20000      0      0      0      0      0      0      0      0      0      0 \n");
        Zone z = pa.zone(0, ZONE_NORMAL);
        z.setWatermarks(1000, 1250, 1500);
        assertEquals(938, Compaction.fragmentationIndex(z, 4));
        assertEquals(CompactResult.CONTINUE, pa.compaction().compactionSuitable(z, 4, ALLOC_WMARK_MIN, ZONE_NORMAL));
        // order-0 pages below low + compact_gap(4) = 1250 + 32: SKIPPED
        z.setWatermarks(18000, 19970, 20000);
        assertEquals(CompactResult.SKIPPED, pa.compaction().compactionSuitable(z, 4, ALLOC_WMARK_MIN, ZONE_NORMAL));
        // 1000 order-1 blocks (2000 pages), request order 2 (not costly): fragindex ignored -> CONTINUE
        pa = fromBuddyinfo("Node 0, zone   Normal      0   1000      0      0      0      0      0      0      0      0      0 \n");
        z = pa.zone(0, ZONE_NORMAL);
        z.setWatermarks(10, 12, 14);
        assertEquals(CompactResult.CONTINUE, pa.compaction().compactionSuitable(z, 2, ALLOC_WMARK_MIN, ZONE_NORMAL));
        // an order-1 request is already satisfiable: SUCCESS
        assertEquals(CompactResult.SUCCESS, pa.compaction().compactionSuitable(z, 1, ALLOC_WMARK_MIN, ZONE_NORMAL));
    }

    @Test
    void deferralBacksOffExponentially() {
        PageAllocator pa = fromBuddyinfo("Node 0, zone   Normal    100      0      0      0      0      0      0      0      0      0      0 \n");
        Zone z = pa.zone(0, ZONE_NORMAL);
        Compaction.deferCompaction(z, 4); // shift 1, order_failed 4
        assertEquals(1, z.compactDeferShift());
        assertEquals(4, z.compactOrderFailed());
        assertFalse(Compaction.compactionDeferred(z, 3)); // lower orders are not deferred
        // defer_limit = 1 << 1 = 2: the first attempt is skipped, the second goes ahead
        assertTrue(Compaction.compactionDeferred(z, 4));
        assertFalse(Compaction.compactionDeferred(z, 4));
        for (int i = 0; i < 10; i++) Compaction.deferCompaction(z, 4);
        assertEquals(COMPACT_MAX_DEFER_SHIFT, z.compactDeferShift());
        Compaction.deferReset(z, 4, true);
        assertEquals(0, z.compactDeferShift());
        assertEquals(5, z.compactOrderFailed());
    }

    // ------------------------------------------------------------------ helpers

    /** Marks a block that __rmqueue returned as allocated, as rmqueue()'s caller does. */
    static void take(PageAllocator pa, int pfn) {
        assertTrue(pfn >= 0);
        pa.mem.setHead(pfn, 0, PhysMem.S_ALLOC, PhysMem.K_EXTERNAL);
    }

    static java.nio.file.Path fixtureDir() {
        try {
            return java.nio.file.Paths.get(WorkedExamplesTest.class.getResource("/machine/zoneinfo.txt").toURI()).getParent();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static PageAllocator fromBuddyinfo(String text) {
        MachineSnapshot s = new MachineSnapshot();
        s.parseBuddyinfo(text);
        return MachineBuilder.fromSnapshot(s, KernelEra.ENOW);
    }

    static PageAllocator threeZoneMachine() { return threeZoneMachine(KernelEra.ENOW); }

    /** The snapshot machine's zone sizes (managed pages), 2 CPUs on one node. */
    static PageAllocator threeZoneMachine(KernelEra era) {
        PageAllocator pa = MachineBuilder.fromSnapshot(MachineSnapshot.load(fixtureDir()), era);
        return pa;
    }
}
