package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.Gfp;

import static org.kmemlab.alloc.page.PageConst.*;

/**
 * Watermark arithmetic of {@code mm/page_alloc.c}: {@code __zone_watermark_ok()} (5.10 and current),
 * {@code zone_watermark_fast()}, {@code __setup_per_zone_wmarks()}, {@code setup_per_zone_lowmem_reserve()}
 * and {@code calculate_min_free_kbytes()}.
 */
public final class Watermarks {
    private Watermarks() {}

    /**
     * {@code __zone_watermark_ok(z, order, mark, highest_zoneidx, alloc_flags, free_pages)}. The 5.10 and
     * current versions differ only in the names of the reserve flags and in which flags grant the
     * highatomic reserve, so one body serves both.
     */
    public static boolean zoneWatermarkOk(Zone z, int order, long mark, int highestZoneIdx, int allocFlags,
                                          long freePages, boolean eraNow) {
        long min = mark;
        freePages -= (1L << order) - 1;
        boolean useHighatomic;
        if (eraNow) {
            // __zone_watermark_unusable_free(): highatomic pages are unusable without ALLOC_RESERVES
            if ((allocFlags & ALLOC_RESERVES) == 0) freePages -= z.nrReservedHighatomic;
            if ((allocFlags & ALLOC_RESERVES) != 0) {
                if ((allocFlags & ALLOC_MIN_RESERVE) != 0) {
                    min -= min / 2;
                    if ((allocFlags & ALLOC_NON_BLOCK) != 0) min -= min / 4;
                }
                if ((allocFlags & ALLOC_OOM) != 0) min -= min / 2;
            }
            useHighatomic = (allocFlags & (ALLOC_HIGHATOMIC | ALLOC_OOM)) != 0;
        } else {
            boolean allocHarder = (allocFlags & (ALLOC_HARDER | ALLOC_OOM)) != 0;
            if ((allocFlags & ALLOC_HIGH) != 0) min -= min / 2;
            if (!allocHarder) {
                freePages -= z.nrReservedHighatomic;
            } else if ((allocFlags & ALLOC_OOM) != 0) {
                min -= min / 2;
            } else {
                min -= min / 4;
            }
            useHighatomic = allocHarder;
        }
        if (freePages <= min + z.lowmemReserve[highestZoneIdx]) return false;
        if (order == 0) return true;
        for (int o = order; o < NR_ORDERS; o++) {
            if (z.nrFree[o] == 0) continue;
            for (int mt = 0; mt < MT_PCPTYPES; mt++) if (z.nrFreeList[o * NR_MT + mt] > 0) return true;
            if (useHighatomic && z.nrFreeList[o * NR_MT + MT_HIGHATOMIC] > 0) return true;
        }
        return false;
    }

    /** {@code zone_watermark_ok()}: with the zone's NR_FREE_PAGES. */
    public static boolean zoneWatermarkOk(Zone z, int order, long mark, int highestZoneIdx, int allocFlags, boolean eraNow) {
        return zoneWatermarkOk(z, order, mark, highestZoneIdx, allocFlags, z.freePages, eraNow);
    }

    /** {@code zone_watermark_fast()}: the order-0 shortcut, then the full check, then the atomic boost exception. */
    public static boolean zoneWatermarkFast(Zone z, int order, long mark, int highestZoneIdx, int allocFlags, long gfp, boolean eraNow) {
        long free = z.freePages;
        if (order == 0) {
            long usable = free;
            if (eraNow && (allocFlags & ALLOC_RESERVES) == 0) usable -= Math.min(usable, z.nrReservedHighatomic);
            if (usable > mark + z.lowmemReserve[highestZoneIdx]) return true;
        }
        if (zoneWatermarkOk(z, order, mark, highestZoneIdx, allocFlags, free, eraNow)) return true;
        // Boosting is ignored for atomic order-0 requests at the min watermark, so that kswapd still wakes at low.
        long atomicBit = eraNow ? Gfp.HIGH : Gfp.ATOMIC;
        if (order == 0 && (gfp & atomicBit) != 0 && z.watermarkBoost > 0 && (allocFlags & ALLOC_WMARK_MASK) == WMARK_MIN) {
            return zoneWatermarkOk(z, order, z.watermark[WMARK_MIN], highestZoneIdx, allocFlags, free, eraNow);
        }
        return false;
    }

    /**
     * {@link #zoneWatermarkFast} for the zone's own mark {@code w} (WMARK_MIN/LOW/HIGH plus the boost), with
     * the order-0 shortcut against {@link Zone#fastMark}, whose sum would otherwise be formed per call. The
     * current kernel's shortcut subtracts min(free, nr_reserved_highatomic) from the free pages; with a
     * non-negative mark, {@code free - reserved > mark} decides the same. When the shortcut fails, the full
     * test runs (and fails the shortcut again in the same way).
     */
    public static boolean zoneWatermarkFastCached(Zone z, int order, int w, int highestZoneIdx, int allocFlags, long gfp, boolean eraNow) {
        if (order == 0) {
            long usable = z.freePages;
            if (eraNow && (allocFlags & ALLOC_RESERVES) == 0) usable -= z.nrReservedHighatomic;
            if (usable > z.fastMark[w * NR_ZONES + highestZoneIdx]) return true;
        }
        return zoneWatermarkFast(z, order, z.watermark(w), highestZoneIdx, allocFlags, gfp, eraNow);
    }

    /**
     * {@code __setup_per_zone_wmarks()}: min is min_free_kbytes split by managed pages over the lowmem zones;
     * the low/high distance is max(min/4, managed * watermark_scale_factor / 10000).
     */
    public static void setupPerZoneWmarks(Zone[] zones, long minFreeKbytes, int watermarkScaleFactor) {
        long pagesMin = minFreeKbytes >> 2; // PAGE_SHIFT - 10
        long lowmem = 0;
        for (Zone z : zones) lowmem += z.managed;
        for (Zone z : zones) {
            long min = lowmem == 0 ? 0 : pagesMin * z.managed / lowmem;
            long tmp = Math.max(min >> 2, z.managed * watermarkScaleFactor / 10000);
            // through the setters, which keep Zone.fastMark in step with the marks
            z.setWatermarks(min, min + tmp, min + tmp * 2);
            z.setWatermarkBoost(0);
        }
    }

    /**
     * {@code setup_per_zone_lowmem_reserve()}: zone i keeps (sum of managed pages of the zones above it up to j)
     * / ratio[i] free against allocations whose highest zone is j.
     */
    public static void setupLowmemReserve(Zone[] zones, int nrNodes) {
        for (int n = 0; n < nrNodes; n++) {
            for (int i = 0; i < NR_ZONES; i++) {
                Zone z = find(zones, n, i);
                if (z == null) continue;
                int ratio = LOWMEM_RESERVE_RATIO[i];
                boolean clear = ratio == 0 || z.managed == 0;
                long managed = 0;
                for (int j = i + 1; j < NR_ZONES; j++) {
                    Zone up = find(zones, n, j);
                    if (up != null) managed += up.managed;
                    z.setLowmemReserve(j, clear ? 0 : managed / ratio);
                }
            }
        }
    }

    /**
     * {@code calculate_min_free_kbytes()}: sqrt(lowmem_kbytes * 16) clamped to [128, 262144]; with THP,
     * khugepaged's {@code set_recommended_min_free_kbytes()} raises it to
     * nr_zones * pageblock_pages * (2 + MIGRATE_PCPTYPES^2) pages, capped at 5% of memory.
     */
    public static long minFreeKbytes(long lowmemPages, int populatedZones, boolean thp) {
        long lowmemKb = lowmemPages * 4;
        long v = (long) Math.sqrt((double) (lowmemKb * 16));
        while ((v + 1) * (v + 1) <= lowmemKb * 16) v++;
        while (v * v > lowmemKb * 16) v--;
        v = Math.max(128, Math.min(262144, v));
        if (thp) {
            long rec = (long) PAGEBLOCK_PAGES * populatedZones * 2
                    + (long) PAGEBLOCK_PAGES * populatedZones * MT_PCPTYPES * MT_PCPTYPES;
            rec = Math.min(rec, lowmemPages / 20);
            rec <<= 2; // pages -> kB
            if (rec > v) v = rec;
        }
        return v;
    }

    static Zone find(Zone[] zones, int node, int type) {
        for (Zone z : zones) if (z.node == node && z.type == type) return z;
        return null;
    }
}
