package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.snapshot.MachineSnapshot;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

import static org.junit.jupiter.api.Assertions.*;

/** Acceptance 3: the model built from a snapshot prints buddyinfo and pagetypeinfo identical to the files. */
class SnapshotPrintTest {
    /** The machine snapshot copied into test resources; buddyinfo without and the others with ".txt", as both occur. */
    static Path fixture() throws Exception {
        return Paths.get(SnapshotPrintTest.class.getResource("/machine/zoneinfo.txt").toURI()).getParent();
    }

    /**
     * pagetypeinfo must match byte for byte. buddyinfo must match byte for byte wherever the two files agree
     * with each other: the kernel keeps nr_free equal to the list lengths under zone->lock, so a cell where
     * buddyinfo differs from the pagetypeinfo column sum means the files were read at different instants
     * (the machine fixture has one such cell: Normal order 0, 3220 vs 3157, one pcp batch of 63). There the
     * model prints the pagetypeinfo sum. Returns the number of such cells.
     */
    static int assertReproduces(Path dir, KernelEra era) throws Exception {
        MachineSnapshot snap = MachineSnapshot.load(dir);
        PageAllocator pa = MachineBuilder.fromSnapshot(snap, era);
        pa.checkInvariants();
        assertEquals(snap.rawPagetypeinfo, ProcFormat.pagetypeinfo(pa));
        StringBuilder expected = new StringBuilder();
        int skewed = 0;
        for (String line : snap.rawBuddyinfo.split("\n")) {
            String[] t = line.replace(",", " ").trim().split("\\s+");
            MachineSnapshot.ZoneInfo zi = snap.zone(Integer.parseInt(t[1]), t[3]);
            expected.append(String.format("Node %d, zone %8s ", zi.node, zi.name));
            for (int o = 0; o < zi.nrFree.length; o++) {
                long sum = 0;
                for (long[] perType : zi.freeByType) sum += perType[o];
                if (sum != zi.nrFree[o]) skewed++;
                expected.append(String.format("%6d ", sum));
            }
            expected.append('\n');
        }
        assertEquals(expected.toString(), ProcFormat.buddyinfo(pa));
        return skewed;
    }

    @Test
    void fixtureReproducesExactly() throws Exception {
        assertEquals(1, assertReproduces(fixture(), KernelEra.ENOW));
        assertEquals(1, assertReproduces(fixture(), KernelEra.E2020));
    }

    @Test
    void sharedMachineSnapshotReproducesExactly() throws Exception {
        String shared = System.getProperty("kmemlab.shared");
        Path dir = shared == null ? null : Paths.get(shared, "traces", "machine");
        Assumptions.assumeTrue(dir != null && Files.isDirectory(dir), "shared traces absent");
        assertReproduces(dir, KernelEra.ENOW);
    }

    @Test
    void snapshotMachineAllocatesAndFreesBackToTheSameState() throws Exception {
        for (KernelEra era : new KernelEra[]{KernelEra.E2020, KernelEra.ENOW}) {
            MachineSnapshot snap = MachineSnapshot.load(fixture());
            PageAllocator pa = MachineBuilder.fromSnapshot(snap, era);
            org.kmemlab.alloc.core.SimpleExecContext ctx = new org.kmemlab.alloc.core.SimpleExecContext(1, 1, new org.kmemlab.alloc.core.CostTable());
            long freeBefore = pa.freeAndPcpPageCount();
            long[] pfn = new long[3000];
            int[] ord = new int[pfn.length];
            long[] gfps = {org.kmemlab.alloc.core.Gfp.GFP_KERNEL, org.kmemlab.alloc.core.Gfp.GFP_HIGHUSER_MOVABLE,
                    org.kmemlab.alloc.core.Gfp.GFP_KERNEL | org.kmemlab.alloc.core.Gfp.RECLAIMABLE};
            for (int i = 0; i < pfn.length; i++) {
                ord[i] = i % 7 == 0 ? 3 : i % 5 == 0 ? 1 : 0;
                pfn[i] = pa.allocPages(ctx, ord[i], gfps[i % 3]);
                assertTrue(pfn[i] >= 0);
            }
            pa.checkInvariants();
            for (int i = pfn.length - 1; i >= 0; i--) pa.freePages(ctx, pfn[i], ord[i]);
            pa.checkInvariants();
            assertEquals(freeBefore, pa.freeAndPcpPageCount(), era.toString());
        }
    }

    @Test
    void moreCpusThanTheSnapshotShows() throws Exception {
        PageAllocator pa = MachineBuilder.fromSnapshot(MachineSnapshot.load(fixture()), KernelEra.ENOW, 8);
        assertEquals(8, pa.nrCpus());
        Zone normal = pa.zone(0, PageConst.ZONE_NORMAL);
        assertEquals(19031, normal.pcp(1).count());
        assertEquals(0, normal.pcp(7).count());
        assertEquals(63, normal.pcp(7).batch());
        assertTrue(pa.allocPages(new org.kmemlab.alloc.core.SimpleExecContext(7, 1, new org.kmemlab.alloc.core.CostTable()), 0,
                org.kmemlab.alloc.core.Gfp.GFP_KERNEL) >= 0);
        pa.checkInvariants();
    }

    @Test
    void consistentBuddyinfoIsReproducedByteForByte() throws Exception {
        // buddyinfo alone (no pagetypeinfo): every free block Movable, the file reproduced exactly
        MachineSnapshot snap = new MachineSnapshot();
        snap.parseBuddyinfo(Files.readString(fixture().resolve("buddyinfo")));
        PageAllocator pa = MachineBuilder.fromSnapshot(snap, KernelEra.ENOW);
        pa.checkInvariants();
        assertEquals(snap.rawBuddyinfo, ProcFormat.buddyinfo(pa));
    }

    @Test
    void snapshotZoneParametersAreTakenFromZoneinfo() throws Exception {
        PageAllocator pa = MachineBuilder.fromSnapshot(MachineSnapshot.load(fixture()), KernelEra.ENOW);
        Zone dma32 = pa.zone(0, PageConst.ZONE_DMA32);
        assertEquals(8719, dma32.rawWatermark(PageConst.WMARK_MIN));
        assertEquals(10898, dma32.rawWatermark(PageConst.WMARK_LOW));
        assertEquals(13077, dma32.rawWatermark(PageConst.WMARK_HIGH));
        assertEquals(2816, dma32.lowmemReserve(PageConst.ZONE_NORMAL));
        assertEquals(772915, dma32.freePages());
        Zone normal = pa.zone(0, PageConst.ZONE_NORMAL);
        assertEquals(4886, normal.pcp(0).count());
        assertEquals(19031, normal.pcp(1).count());
        assertEquals(63, normal.pcp(0).batch());
        // buddy pages only: the kernel's NR_FREE_PAGES excludes pcp pages too
        assertEquals(454737, normal.freePages()); // pagetypeinfo's sum; buddyinfo says 454800 (read 63 pages earlier)
        assertEquals(44439 + 140921, normal.filePages());
        assertEquals(5716, normal.dirtyPages());
    }
}
