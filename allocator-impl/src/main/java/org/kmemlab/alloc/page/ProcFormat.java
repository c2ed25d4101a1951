package org.kmemlab.alloc.page;

import static org.kmemlab.alloc.page.PageConst.*;

/**
 * Prints the model as {@code /proc/buddyinfo} ({@code mm/vmstat.c frag_show_print}) and
 * {@code /proc/pagetypeinfo} ({@code pagetypeinfo_show}, {@code pagetypeinfo_showfree_print},
 * {@code pagetypeinfo_showblockcount_print}; no CONFIG_CMA, no CONFIG_PAGE_OWNER mixed-block section),
 * byte for byte.
 */
public final class ProcFormat {
    private ProcFormat() {}

    /** The kernel stops counting a free list at 100000 entries and prints "&gt;100000". */
    static final int FREELIST_CAP = 100000;

    public static String buddyinfo(PageAllocator pa) {
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < pa.nrNodes; n++) {
            for (Zone z : zonesOf(pa, n)) {
                sb.append(String.format("Node %d, zone %8s ", n, z.name()));
                for (int o = 0; o < NR_ORDERS; o++) sb.append(String.format("%6d ", z.nrFree[o]));
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    public static String pagetypeinfo(PageAllocator pa) {
        StringBuilder sb = new StringBuilder();
        for (int n = 0; n < pa.nrNodes; n++) {
            java.util.List<Zone> zs = zonesOf(pa, n);
            if (zs.isEmpty()) continue; // memoryless node
            sb.append(String.format("Page block order: %d\n", PAGEBLOCK_ORDER));
            sb.append(String.format("Pages per block:  %d\n", PAGEBLOCK_PAGES));
            sb.append('\n');
            sb.append(String.format("%-43s ", "Free pages count per migrate type at order"));
            for (int o = 0; o < NR_ORDERS; o++) sb.append(String.format("%6d ", o));
            sb.append('\n');
            for (Zone z : zs) {
                for (int mt = 0; mt < NR_MT; mt++) {
                    sb.append(String.format("Node %4d, zone %8s, type %12s ", n, z.name(), MT_NAMES[mt]));
                    for (int o = 0; o < NR_ORDERS; o++) {
                        int cnt = z.nrFreeList[o * NR_MT + mt];
                        boolean overflow = cnt >= FREELIST_CAP;
                        sb.append(String.format("%s%6d ", overflow ? ">" : "", overflow ? FREELIST_CAP : cnt));
                    }
                    sb.append('\n');
                }
            }
            sb.append(String.format("\n%-23s", "Number of blocks type "));
            for (int mt = 0; mt < NR_MT; mt++) sb.append(String.format("%12s ", MT_NAMES[mt]));
            sb.append('\n');
            for (Zone z : zs) {
                long[] count = blockCounts(pa, z);
                sb.append(String.format("Node %d, zone %8s ", n, z.name()));
                for (int mt = 0; mt < NR_MT; mt++) sb.append(String.format("%12d ", count[mt]));
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    /** pagetypeinfo_showblockcount_print(): one migratetype per pageblock the zone owns. */
    public static long[] blockCounts(PageAllocator pa, Zone z) {
        long[] count = new long[NR_MT];
        for (int b = z.startPfn >>> PAGEBLOCK_ORDER; b < (z.endPfn + PAGEBLOCK_PAGES - 1) >>> PAGEBLOCK_ORDER; b++)
            count[pa.mem.blockMt[b]]++;
        return count;
    }

    static java.util.List<Zone> zonesOf(PageAllocator pa, int node) {
        java.util.List<Zone> l = new java.util.ArrayList<>();
        for (int t = 0; t < NR_ZONES; t++) {
            Zone z = pa.zone(node, t);
            if (z != null && z.present > 0) l.add(z);
        }
        return l;
    }
}
