package org.kmemlab.alloc.slab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.util.ArrayList;
import java.util.List;

import org.kmemlab.alloc.snapshot.SnapshotFormatException;

/**
 * A {@code /proc/slabinfo} snapshot (format "slabinfo - version: 2.1", printed by
 * {@code cache_show()} in {@code mm/slab_common.c}). For SLUB, {@code <objsize>} is {@code s->size},
 * {@code <objperslab>} is {@code oo_objects(s->oo)} and {@code <pagesperslab>} is
 * {@code 1 << oo_order(s->oo)}.
 */
public final class SlabInfo {
    private SlabInfo() {}

    /** One line of the snapshot. */
    public record Line(String name, long activeObjs, long numObjs, int objSize, int objPerSlab, int pagesPerSlab,
                       long activeSlabs, long numSlabs) {
        public boolean isKmalloc() {
            return name.startsWith("kmalloc-") || name.startsWith("dma-kmalloc-");
        }
    }

    /** Lines of /proc/slabinfo (slabinfo 2.1); a line that is not one is a SnapshotFormatException naming it. */
    public static List<Line> parse(Reader in) throws IOException {
        List<Line> out = new ArrayList<>();
        BufferedReader r = new BufferedReader(in);
        int n = 0;
        for (String l = r.readLine(); l != null; l = r.readLine()) {
            n++;
            if (l.isBlank() || l.startsWith("slabinfo") || l.startsWith("#")) continue;
            String[] p = l.trim().split("\\s+");
            // name active num objsize objperslab pagesperslab : tunables a b c : slabdata as ns sa
            String expected = "expected 'name active_objs num_objs objsize objperslab pagesperslab : tunables a b c : slabdata as ns sa'";
            if (p.length < 16) throw new SnapshotFormatException("slabinfo", n, expected);
            try {
                Line line = new Line(p[0], Long.parseLong(p[1]), Long.parseLong(p[2]), Integer.parseInt(p[3]),
                        Integer.parseInt(p[4]), Integer.parseInt(p[5]), Long.parseLong(p[13]), Long.parseLong(p[14]));
                // The model builds caches from these: sizes and counts a kernel cannot print are refused here.
                if (line.activeObjs() < 0 || line.numObjs() < 0 || line.objSize() <= 0 || line.objSize() > (64 << 20)
                        || line.objPerSlab() <= 0 || line.pagesPerSlab() <= 0 || line.pagesPerSlab() > 1024
                        || line.activeSlabs() < 0 || line.numSlabs() < 0) {
                    throw new SnapshotFormatException("slabinfo", n, "expected positive sizes and non-negative counts: " + l.trim());
                }
                out.add(line);
            } catch (NumberFormatException e) {
                throw new SnapshotFormatException("slabinfo", n, expected);
            }
        }
        return out;
    }

    /**
     * Creates every named cache of the snapshot that the allocator does not have yet (the kmalloc
     * families exist from construction) with the snapshot's {@code s->size}. slabinfo has no flags: a cache
     * gets those {@link KernelCacheFlags} knows from the kernel source (SLAB_RECLAIM_ACCOUNT, which puts its
     * slabs among the reclaimable pages, and SLAB_TYPESAFE_BY_RCU), others none.
     */
    public static void createCaches(SlubAllocator a, List<Line> lines) {
        for (Line l : lines) {
            if (a.cache(l.name()) != null) continue;
            // the creation flags slabinfo does not show, where the kernel source says them (per-memcg copies: the root's)
            String root = KernelCacheFlags.memcgRoot(l.name());
            a.createCacheWithSize(l.name(), l.objSize(), KernelCacheFlags.of(root != null ? root : l.name()));
        }
    }
}
