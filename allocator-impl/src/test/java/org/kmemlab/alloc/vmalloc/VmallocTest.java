package org.kmemlab.alloc.vmalloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

class VmallocTest {
    final TestPageProvider pages = new TestPageProvider(1 << 18, 2);
    final SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable());

    @Test
    void vmallocTakesOrderZeroPagesAndVfreeReturnsThemAtOnce() {
        Vmalloc vm = new Vmalloc(KernelEra.E2022, pages, slab);
        TestCtx ctx = new TestCtx();
        long a = vm.vmalloc(ctx, 65536);
        assertNotEquals(0, a);
        assertTrue(VmapAreas.isVmallocAddr(a));
        assertEquals(16, vm.areaPages(a));
        assertTrue(ctx.entered("__alloc_pages_bulk") && ctx.entered("alloc_vmap_area"));
        for (int i = 0; i < pages.orderLog.size(); i++) assertEquals(0, pages.orderLog.get(i), "only order-0 pages");
        long before = pages.allocatedPages();
        vm.vfree(ctx, a);
        // the 16 data pages go back at once (vm_struct and the page array are kmalloc objects on cpu slabs)
        assertEquals(before - 16, pages.allocatedPages());
        // the address range (16 pages + guard) waits for the lazy purge
        assertEquals(17, vm.areas().lazyPages());
        assertFalse(vm.isLive(a));
    }

    @Test
    void lockingFollowsTheEra() {
        TestCtx c12 = new TestCtx();
        new Vmalloc(KernelEra.E2012, pages, slab).vmalloc(c12, 8192);
        assertTrue(c12.tookLock("vmap_area_lock"));
        assertFalse(c12.tookLock("free_vmap_area_lock"), "3.6 has one lock");

        TestCtx c22 = new TestCtx();
        new Vmalloc(KernelEra.E2022, pages, slab).vmalloc(c22, 8192);
        assertTrue(c22.tookLock("free_vmap_area_lock") && c22.tookLock("vmap_area_lock"));

        TestCtx cnow = new TestCtx();
        new Vmalloc(KernelEra.ENOW, pages, slab).vmalloc(cnow, 8192);
        assertTrue(cnow.tookLock("free_vmap_area_lock"));
        assertFalse(cnow.tookLock("vmap_area_lock"), "ENOW inserts under the per-node busy lock");
        assertTrue(cnow.locksTaken.stream().anyMatch(l -> l.startsWith("vmap_node[")));
    }

    @Test
    void lazyPurgeRunsOnceTheLazyPagesExceedTheLimit() {
        Vmalloc vm = new Vmalloc(KernelEra.E2020, pages, slab);
        TestCtx ctx = new TestCtx();
        // lazy_max_pages = fls(2) * 32 MiB / 4 KiB = 16384 pages; each 1 MiB area is 256 + 1 guard pages
        assertEquals(16384, vm.areas().lazyMaxPages());
        int n = 0;
        while (vm.areas().statPurges == 0) {
            long a = vm.vmalloc(ctx, 1 << 20);
            vm.vfree(ctx, a);
            n++;
        }
        // 16384 / 257 = 63.7 → the 64th free pushes the count over the limit
        assertEquals(64, n);
        assertEquals(0, vm.areas().lazyPages());
        assertTrue(ctx.entered("flush_tlb_kernel_range"));
    }

    @Test
    void pageTablesIgnoreTheCallersGfpBeforeEnow() {
        TestCtx ctx = new TestCtx();
        new Vmalloc(KernelEra.E2012, pages, slab).vmallocGfp(ctx, 8192, Gfp.GFP_NOIO);
        assertTrue(ctx.entered("__pte_alloc_kernel"));
        assertTrue(pages.gfpLog.contains(Gfp.GFP_KERNEL | Gfp.ZERO), "page table allocated with GFP_KERNEL despite GFP_NOIO");

        TestPageProvider p2 = new TestPageProvider(1 << 12, 1);
        SlubAllocator s2 = new SlubAllocator(p2, 1, new CostTable());
        new Vmalloc(KernelEra.ENOW, p2, s2).vmallocGfp(new TestCtx(), 8192, Gfp.GFP_NOIO);
        for (int i = 0; i < p2.gfpLog.size(); i++) assertEquals(0, p2.gfpLog.get(i) & (Gfp.FS | Gfp.IO), "ENOW honours NOIO");
    }
}
