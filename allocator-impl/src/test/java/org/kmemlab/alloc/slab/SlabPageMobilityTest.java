package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.*;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.PageProvider;
import org.kmemlab.alloc.core.SimpleExecContext;

/**
 * Which pageblock type a slab page comes from is the cache's business, not the caller's: new_slab() passes on
 * only {@code GFP_RECLAIM_MASK | GFP_CONSTRAINT_MASK} of the caller's gfp and adds {@code s->allocflags},
 * which carry __GFP_RECLAIMABLE for SLAB_RECLAIM_ACCOUNT caches. Caches the replay knows only from slabinfo get
 * their flags from the kernel source (radix_tree_node and buffer_head: SLAB_RECLAIM_ACCOUNT; lsm_inode_cache:
 * SLAB_PANIC only).
 */
class SlabPageMobilityTest {
    /** The page allocator's side: what each slab page was asked for with. */
    static final class Recorder implements PageProvider {
        final List<long[]> calls = new ArrayList<>();
        long next = 0x10000;

        @Override public long allocPages(ExecContext ctx, int order, long gfp) {
            calls.add(new long[] {order, gfp});
            long pfn = next;
            next += 1L << order;
            return pfn;
        }

        @Override public void freePages(ExecContext ctx, long pfn, int order) { }

        @Override public long freePageCount() { return 1 << 20; }
    }

    static final String SLABINFO = """
            slabinfo - version: 2.1
            # name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>
            buffer_head       105890 112827    104   39    1 : tunables    0    0    0 : slabdata   2893   2893      0
            lsm_inode_cache    89714  90624     32  128    1 : tunables    0    0    0 : slabdata    708    708      0
            radix_tree_node    24584  24584    584   14    2 : tunables    0    0    0 : slabdata   1756   1756      0
            """;

    /** The gfp of the first page the cache asks for, when a GFP_HIGHUSER_MOVABLE|__GFP_ZERO caller needs an object. */
    private static long slabPageGfp(String cache) throws Exception {
        Recorder r = new Recorder();
        SlubAllocator a = new SlubAllocator(r, 2, new CostTable());
        SlabInfo.createCaches(a, SlabInfo.parse(new StringReader(SLABINFO)));
        assertTrue(a.cache(cache).alloc(new SimpleExecContext(), Gfp.GFP_HIGHUSER_MOVABLE | Gfp.ZERO) != 0);
        assertEquals(1, r.calls.size(), "one new slab");
        return r.calls.get(0)[1];
    }

    @Test
    void reclaimAccountCachesTakeReclaimablePagesWhateverTheCaller() throws Exception {
        for (String c : List.of("radix_tree_node", "buffer_head")) {
            long g = slabPageGfp(c);
            assertEquals(2, Gfp.migratetype(g), c + ": MIGRATE_RECLAIMABLE");
            assertEquals(0, g & (Gfp.MOVABLE | Gfp.HIGHMEM | Gfp.ZERO), c + ": the caller's zone, mobility and zeroing stay behind");
            assertEquals(Gfp.HARDWALL, g & Gfp.HARDWALL, c + ": the caller's cpuset constraint goes along");
        }
    }

    @Test
    void otherCachesTakeUnmovablePagesEvenForAMovableCaller() throws Exception {
        long g = slabPageGfp("lsm_inode_cache");
        assertEquals(0, Gfp.migratetype(g), "MIGRATE_UNMOVABLE");
    }
}
