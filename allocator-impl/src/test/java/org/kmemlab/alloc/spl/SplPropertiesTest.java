package org.kmemlab.alloc.spl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;
import org.kmemlab.alloc.vmalloc.Vmalloc;

/** Emergency objects are freed through the emergency path, never into a magazine; nothing is handed out twice. */
class SplPropertiesTest {
    @Property(tries = 40, seed = "7")
    void emergencyObjectsLeaveThroughTheEmergencyPath(
            @ForAll @Size(min = 1, max = 300) List<@IntRange(min = 0, max = 99) Integer> steps,
            @ForAll boolean rbtree) {
        TestPageProvider pages = new TestPageProvider(1 << 16, 1);
        SlubAllocator slab = new SlubAllocator(pages, 1, new CostTable());
        Vmalloc vm = new Vmalloc(KernelEra.E2012, pages, slab);
        SplConfig cfg = SplConfig.defaults().withIndex(rbtree ? SplConfig.EmergencyIndex.RBTREE : SplConfig.EmergencyIndex.LIST);
        SplCache c = new SplCache("c", 20000, 0, cfg, slab, vm);
        TestCtx ctx = new TestCtx();
        List<Long> live = new ArrayList<>();
        Set<Long> liveSet = new HashSet<>();
        Set<Long> emergency = new HashSet<>();
        for (int step : steps) {
            if (step < 10) {
                ctx.stallWork(step % 2 == 0); // the grow worker gets stuck or unstuck
            } else if (step < 65 || live.isEmpty()) {
                long p = c.alloc(ctx, Gfp.GFP_NOIO | Gfp.HIGH);
                assertNotEquals(0, p);
                assertTrue(liveSet.add(p), "handed out twice");
                live.add(p);
                if (c.isEmergency(p)) emergency.add(p);
            } else {
                long p = live.remove(step % live.size());
                liveSet.remove(p);
                long emBefore = c.objEmergency;
                int magBefore = c.magazineAvail(0);
                ctx.resetRecording();
                c.free(ctx, p);
                if (emergency.remove(p)) {
                    assertTrue(ctx.entered("spl_emergency_free"));
                    assertEquals(emBefore - 1, c.objEmergency);
                    assertEquals(magBefore, c.magazineAvail(0));
                } else {
                    assertEquals(emBefore, c.objEmergency);
                }
            }
            assertEquals(emergency.size(), c.objEmergency);
            assertEquals(0, ctx.depth(), "every frame entered is left");
        }
        ctx.stallWork(false).runPending();
        for (long p : live) c.free(ctx, p);
        assertEquals(0, c.objEmergency);
        c.destroy(ctx);
    }
}
