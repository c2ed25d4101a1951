package org.kmemlab.alloc.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.spl.SplCache;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

/**
 * The whole upper half under every preset: pages the model says it holds equal the pages the page
 * allocator handed out, after every operation; no address is live twice.
 */
class UpperModelPropertiesTest {
    static final int[] SIZES = {16, 100, 700, 3000, 5000, 9000, 40000, 70000, 200000};

    @Property(tries = 36, seed = "2026")
    void pageAccountingAgreesWithTheProvider(
            @ForAll @IntRange(min = 0, max = 5) int preset,
            @ForAll @Size(min = 1, max = 250) List<@IntRange(min = 0, max = 999) Integer> steps) {
        PolicyPreset p = PolicyPreset.values()[preset];
        TestPageProvider pages = new TestPageProvider(1 << 17, 2);
        pages.fragmentedFromOrder = 4;
        UpperModel m = UpperModel.build(PolicyRegistry.configure(p.id, Map.of()), pages, 2, new CostTable());
        TestCtx ctx = new TestCtx();
        SplCache spl = m.createSplCache("spl", 12000, 0);
        List<Long> kmallocs = new ArrayList<>(), kvmallocs = new ArrayList<>(), spls = new ArrayList<>();
        Set<Long> live = new HashSet<>();
        for (int s : steps) {
            ctx.cpu(s & 1);
            int op = s % 10;
            int size = SIZES[(s / 10) % SIZES.length];
            switch (op) {
                case 0, 1 -> { long a = m.slab.kmalloc(ctx, Math.min(size, 60000), Gfp.GFP_KERNEL); if (a != 0) { assertTrue(live.add(a)); kmallocs.add(a); } }
                case 2 -> { if (!kmallocs.isEmpty()) { long a = kmallocs.remove(s % kmallocs.size()); live.remove(a); m.slab.kfree(ctx, a); } }
                case 3 -> { long a = m.kvmalloc.kvmalloc(ctx, size, Gfp.GFP_KERNEL); if (a != 0) { assertTrue(live.add(a)); kvmallocs.add(a); } }
                case 4 -> { if (!kvmallocs.isEmpty()) { long a = kvmallocs.remove(s % kvmallocs.size()); live.remove(a); m.kvmalloc.kvfree(ctx, a); } }
                case 5 -> { if (!kmallocs.isEmpty()) { long a = kmallocs.remove(s % kmallocs.size()); live.remove(a); m.kfreeRcu.kvfreeCallRcu(ctx, a, true); } }
                case 6 -> { long a = spl.alloc(ctx, Gfp.GFP_NOIO | Gfp.HIGH); if (a != 0) { assertTrue(live.add(a)); spls.add(a); } }
                case 7 -> { if (!spls.isEmpty()) { long a = spls.remove(s % spls.size()); live.remove(a); spl.free(ctx, a); } }
                case 8 -> { ctx.runPending(); ctx.gracePeriodElapses(); }
                default -> ctx.stallWork(s % 3 == 0);
            }
            assertEquals(pages.allocatedPages(), m.pagesHeld(), p.id + " after op " + op);
            assertEquals(0, ctx.depth());
        }
        // tear down: everything back, only page tables, cached kfree_rcu blocks and kmalloc slabs may stay
        ctx.stallWork(false).runPending();
        for (long a : kmallocs) m.slab.kfree(ctx, a);
        for (long a : kvmallocs) m.kvmalloc.kvfree(ctx, a);
        for (long a : spls) spl.free(ctx, a);
        m.kfreeRcu.kvfreeRcuBarrier(ctx);
        spl.destroy(ctx);
        assertEquals(pages.allocatedPages(), m.pagesHeld());
        assertEquals(0, m.slab.largeKmallocPages());
        assertEquals(0, m.kfreeRcu.pendingObjects());
    }
}
