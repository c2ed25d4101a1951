package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

/**
 * Properties of SLUB under random alloc/free sequences on two CPUs: no object is handed out twice,
 * every free returns the object to the slab it came from, and slab pages agree with the page allocator.
 */
class SlubPropertiesTest {
    /** One step: alloc (size, cpu) or free (index into live objects, cpu). */
    record Op(boolean alloc, int size, int pick, int cpu) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 99),
                        Arbitraries.of(8, 24, 64, 96, 100, 192, 500, 1000, 3000, 4096, 8192, 9000, 20000),
                        Arbitraries.integers().between(0, 1 << 20), Arbitraries.integers().between(0, 1))
                .as((kind, size, pick, cpu) -> new Op(kind < 60, size, pick, cpu));
        return op.list().ofMinSize(1).ofMaxSize(400);
    }

    @Property(tries = 60, seed = "42")
    void objectsAreUniqueFreedToTheirSlabAndPagesAgree(@ForAll("ops") List<Op> ops) {
        TestPageProvider pages = new TestPageProvider(1 << 15, 2);
        SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable());
        TestCtx[] cpus = {new TestCtx().cpu(0), new TestCtx().cpu(1)};
        Map<Long, Slab> live = new HashMap<>();
        List<Long> order = new ArrayList<>();
        for (Op op : ops) {
            TestCtx ctx = cpus[op.cpu()];
            if (op.alloc() || order.isEmpty()) {
                long p = slab.kmalloc(ctx, op.size(), Gfp.GFP_KERNEL);
                assertNotEquals(0, p);
                assertTrue(!live.containsKey(p), "object handed out twice: " + Long.toHexString(p));
                Slab s = slab.slabOf(p);
                live.put(p, s);
                order.add(p);
                assertTrue(slab.ksize(p) >= op.size());
            } else {
                long p = order.remove(op.pick() % order.size());
                Slab s = live.remove(p);
                if (s != null) {
                    int before = s.freeObjects();
                    slab.kfree(ctx, p);
                    // the object went back to its own slab (unless that slab was just discarded)
                    if (slab.slabOf(p) == s) {
                        assertEquals(before + 1, s.freeObjects());
                        assertTrue(!s.isAllocated(p));
                    } else {
                        assertTrue(s.isEmpty(), "only an empty slab may disappear on free");
                    }
                } else {
                    slab.kfree(ctx, p);
                }
            }
            assertEquals(0, ctx.depth(), "every frame entered is left");
            assertEquals(pages.allocatedPages(), slab.slabPages() + slab.largeKmallocPages(),
                    "slab + large kmalloc pages == pages the page allocator handed out");
        }
        long active = 0, totalObjs = 0;
        for (SlubCache c : slab.caches().values()) { active += c.activeObjects(); totalObjs += c.totalObjects(); }
        long liveSlabObjs = live.values().stream().filter(s -> s != null).count();
        assertEquals(liveSlabObjs, active);
        assertTrue(totalObjs >= active);
        // free everything and shrink: no page may remain
        for (long p : order) slab.kfree(cpus[0], p);
        for (SlubCache c : slab.caches().values()) c.shrink(cpus[0]);
        assertEquals(0, pages.allocatedPages());
        for (SlubCache c : slab.caches().values()) assertSame(0L, c.nrSlabs());
    }
}
