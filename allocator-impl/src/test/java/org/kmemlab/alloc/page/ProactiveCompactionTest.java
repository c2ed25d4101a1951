package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.SimpleExecContext;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;
import static org.kmemlab.alloc.page.PageConst.*;
import static org.kmemlab.alloc.page.SlowPathTest.checkerboard;

/**
 * kcompactd's proactive compaction (mm/compaction.c, 5.9+): {@code fragmentation_score_zone()} as
 * {@code extfrag_for_order()} at order 9, the node's score weighted by present pages, the marks
 * {@code fragmentation_score_wmark()} derives from vm.compaction_proactiveness, {@code should_proactive_compact_node()},
 * and {@code compact_node(pgdat, true)}, which stops each zone at the low mark or when kswapd runs. The expected
 * numbers are worked out here from the free lists as /proc/buddyinfo prints them.
 */
class ProactiveCompactionTest {

    /** A 256 MiB machine: DMA 16 MiB pinned by kernel pages, DMA32 checkerboarded, so its free memory is all order 0. */
    static PageAllocator fragmented() {
        PageAllocator pa = SlowPathTest.machine(KernelEra.ENOW, 256L << 20);
        checkerboard(pa, new SimpleExecContext());
        return pa;
    }

    /** extfrag_for_order() from one line of /proc/buddyinfo: free pages outside blocks of order 9 or more, in %. */
    static int extfragFromBuddyinfo(String line, int order) {
        String[] f = line.trim().split("\\s+");
        long free = 0, suitable = 0;
        for (int o = 0; o < NR_ORDERS; o++) {
            long n = Long.parseLong(f[4 + o]);
            free += n << o;
            if (o >= order) suitable += n << o;
        }
        return free == 0 ? 0 : (int) ((free - suitable) * 100 / free);
    }

    static String buddyLine(PageAllocator pa, String zone) {
        for (String l : ProcFormat.buddyinfo(pa).split("\n")) if (l.contains("zone") && l.trim().split("\\s+")[3].equals(zone)) return l;
        throw new AssertionError("no " + zone + " in\n" + ProcFormat.buddyinfo(pa));
    }

    @Test
    void marksFollowTheProactivenessAsTheKernelComputesThem() {
        // wmark_low = max(100 - proactiveness, 5), high = min(low + 10, 100)
        assertEquals(80, PageAllocator.fragmentationScoreWmark(20, true));
        assertEquals(90, PageAllocator.fragmentationScoreWmark(20, false));
        assertEquals(5, PageAllocator.fragmentationScoreWmark(100, true));
        assertEquals(15, PageAllocator.fragmentationScoreWmark(100, false));
        assertEquals(5, PageAllocator.fragmentationScoreWmark(97, true));
        assertEquals(100, PageAllocator.fragmentationScoreWmark(1, false));
        PageAllocator pa = fragmented();
        assertThrows(IllegalArgumentException.class, () -> pa.setCompactionProactiveness(101));
        assertThrows(IllegalArgumentException.class, () -> pa.setCompactionProactiveness(-1));
    }

    @Test
    void aCheckerboardedNodeScoresAboveTheHighMarkAndKswapdHoldsProactiveCompactionBack() {
        PageAllocator pa = fragmented();
        Zone dma = pa.zone(0, ZONE_DMA), dma32 = pa.zone(0, ZONE_DMA32);
        int s32 = extfragFromBuddyinfo(buddyLine(pa, "DMA32"), 9), sDma = extfragFromBuddyinfo(buddyLine(pa, "DMA"), 9);
        assertEquals(100, s32, "a checkerboard leaves DMA32 nothing of order 9");
        assertEquals(s32, pa.fragmentationScoreZone(dma32));
        assertEquals(sDma, pa.fragmentationScoreZone(dma));
        long nodePresent = dma.present + dma32.present;
        int expected = (int) (dma.present * sDma / (nodePresent + 1) + dma32.present * s32 / (nodePresent + 1));
        assertEquals(expected, pa.fragmentationScoreNode(0));
        assertTrue(expected > 90, "DMA32 is most of the node: " + expected);
        assertTrue(pa.shouldProactiveCompactNode(0));

        pa.setCompactionProactiveness(0);
        assertFalse(pa.shouldProactiveCompactNode(0), "proactiveness 0 turns it off");
        pa.setCompactionProactiveness(5);
        assertFalse(pa.shouldProactiveCompactNode(0), "at 5 the high mark is 100, which no score exceeds");
        pa.setCompactionProactiveness(20);

        pa.kswapdThread(0).wake(0, 0);
        assertTrue(pa.kswapdIsRunning(0), "a woken kswapd is TASK_RUNNING before it gets the CPU");
        assertFalse(pa.shouldProactiveCompactNode(0), "not while kswapd runs");
    }

    /**
     * The run compacts DMA32 until its score is at the low mark (80) and stops there: the scanners do not meet,
     * so it moves less than a full compact_node() on a twin machine; and it does so in slices as in one go.
     */
    @Test
    void aProactiveRunStopsAtTheLowMarkInSlicesAsInOneGo() {
        PageAllocator whole = fragmented(), sliced = fragmented(), full = fragmented();
        assertTrue(whole.proactiveCompactSlice(new SimpleExecContext(1, 99, new SimpleExecContext().costs()), 0, Long.MAX_VALUE));
        long moved = whole.proactiveMigrated;
        int after = extfragFromBuddyinfo(buddyLine(whole, "DMA32"), 9);
        assertTrue(moved > 0);
        assertTrue(after <= 80, "down to the low mark: " + after);
        assertTrue(after > 60, "and not much further, a pageblock at a time: " + after);
        long all = full.compactAll(new SimpleExecContext());
        assertTrue(moved < all, moved + " pages moved proactively, " + all + " by compact_memory");
        whole.checkInvariants();

        SimpleExecContext kctx = new SimpleExecContext(1, 99, new SimpleExecContext().costs());
        int slices = 0;
        boolean done;
        do {
            done = sliced.proactiveCompactSlice(kctx, 0, kctx.now() + 20_000);
            slices++;
        } while (!done);
        assertTrue(slices > 2, slices + " slices");
        assertEquals(moved, sliced.proactiveMigrated);
        assertEquals(ProcFormat.buddyinfo(whole), ProcFormat.buddyinfo(sliced));
        assertEquals(1, sliced.proactiveRuns);
        sliced.checkInvariants();
    }

    @Test
    void kswapdWakingMidRunEndsIt() {
        PageAllocator pa = fragmented();
        SimpleExecContext kctx = new SimpleExecContext(1, 99, new SimpleExecContext().costs());
        assertFalse(pa.proactiveCompactSlice(kctx, 0, kctx.now() + 20_000), "one slice does not finish the run");
        long first = pa.proactiveMigrated;
        pa.kswapdThread(0).wake(kctx.now(), 0);
        assertTrue(pa.proactiveCompactSlice(kctx, 0, Long.MAX_VALUE), "COMPACT_PARTIAL_SKIPPED ends the run");
        assertTrue(pa.proactiveMigrated - first <= COMPACT_CLUSTER_MAX * 16,
                "at most what finishing the pageblock in hand moves: " + (pa.proactiveMigrated - first));
        assertTrue(pa.fragmentationScoreZone(pa.zone(0, ZONE_DMA32)) > 80, "left above the low mark");
        pa.checkInvariants();
    }

    /**
     * {@code wakeup_kcompactd()}: it records the order first and wakes (firing mm_compaction_wakeup_kcompactd)
     * only a sleeping kcompactd of a suitable node. A balanced node gets the order recorded, not a wake-up; a
     * second request before kcompactd runs, or one while it runs, wakes nothing; an order higher than the run's,
     * recorded while it ran, sends it round again, one not higher is dropped at the run's end.
     */
    @Test
    void wakeupKcompactdWakesOnlyASleepingKcompactdOfASuitableNode() {
        int[] wakes = {0};
        PageAllocator balanced = SlowPathTest.machine(KernelEra.ENOW, 256L << 20);
        balanced.setEvents(new PageEvents() {
            @Override public void wakeupKcompactd(int node, int order, int highestZone) { wakes[0]++; }
        });
        balanced.wakeupKcompactd(0, 4);
        assertEquals(0, wakes[0], "free order-4 blocks everywhere: kcompactd_node_suitable() is false");
        assertFalse(balanced.kcompactdPending(0));
        assertTrue(balanced.kcompactdWorkRequested(0), "but kcompactd_max_order is raised");

        PageAllocator pa = fragmented();
        pa.setEvents(new PageEvents() {
            @Override public void wakeupKcompactd(int node, int order, int highestZone) { wakes[0]++; }
        });
        pa.wakeupKcompactd(0, 0);
        assertFalse(pa.kcompactdWorkRequested(0), "order 0 returns at once");
        pa.wakeupKcompactd(0, 4);
        assertEquals(1, wakes[0]);
        assertTrue(pa.kcompactdPending(0));
        pa.wakeupKcompactd(0, 9);
        assertEquals(1, wakes[0], "woken already: no sleeper on the wait queue");

        SimpleExecContext kctx = new SimpleExecContext(1, 99, new SimpleExecContext().costs());
        assertFalse(pa.kcompactdSlice(kctx, 0, kctx.now() + 20_000), "a run at order 9 takes more than a slice");
        assertFalse(pa.kcompactdPending(0), "the run consumed the wake-up");
        pa.wakeupKcompactd(0, 5);
        assertEquals(1, wakes[0], "running: no wake-up");
        while (!pa.kcompactdSlice(kctx, 0, kctx.now() + 20_000)) { }
        assertFalse(pa.kcompactdWorkRequested(0), "order 5 is not above the run's 9: dropped at its end");

        PageAllocator again = fragmented();
        again.wakeupKcompactd(0, 9);
        SimpleExecContext k2 = new SimpleExecContext(1, 99, new SimpleExecContext().costs());
        assertFalse(again.kcompactdSlice(k2, 0, k2.now() + 20_000), "a run at order 9, one slice in");
        again.wakeupKcompactd(0, 10);
        assertFalse(again.kcompactdPending(0), "running: no wake-up");
        while (!again.kcompactdSlice(k2, 0, k2.now() + 20_000)) { }
        assertTrue(again.kcompactdPending(0), "order 10 recorded during an order-9 run: round again");
        assertTrue(again.kcompactdWorkRequested(0));
        again.checkInvariants();
        pa.checkInvariants();
    }
}
