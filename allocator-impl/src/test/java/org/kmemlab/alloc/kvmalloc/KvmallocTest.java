package org.kmemlab.alloc.kvmalloc;

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
import org.kmemlab.alloc.vmalloc.VmapAreas;
import org.kmemlab.alloc.vmalloc.Vmalloc;

class KvmallocTest {
    @Test
    void kmallocAttemptMasksMatchSpecA2() {
        // allocator-model.md §A.2: default kvmalloc attempt 0x12cc0, XFS fail-fast 0x128c0, ENOW 0x28c0 (5.10 layout values)
        assertEquals(0x12cc0L, Kvmalloc.kmallocFlags(KvmallocPolicy.KV2017, 65536, Gfp.GFP_KERNEL));
        assertEquals(0x128c0L, Kvmalloc.kmallocFlags(KvmallocPolicy.XFS_FAILFAST, 65536, Gfp.GFP_KERNEL));
        assertEquals(0x28c0L, Kvmalloc.kmallocFlags(KvmallocPolicy.KVNOW, 65536, Gfp.GFP_KERNEL));
        // sub-page requests keep the caller's flags
        assertEquals(Gfp.GFP_KERNEL, Kvmalloc.kmallocFlags(KvmallocPolicy.KV2017, 4096, Gfp.GFP_KERNEL));
        // KV2017 passes !GFP_KERNEL masks through untouched (kmalloc only)
        assertEquals(Gfp.GFP_NOFS, Kvmalloc.kmallocFlags(KvmallocPolicy.KV2017, 65536, Gfp.GFP_NOFS));
        // KV2022 strips NOFAIL: "nofail semantic is implemented by the vmalloc fallback"
        assertEquals(0, Kvmalloc.kmallocFlags(KvmallocPolicy.KV2022, 65536, Gfp.GFP_KERNEL | Gfp.NOFAIL) & Gfp.NOFAIL);
    }

    /** A fragmented machine: no order ≥ 3 block without compaction, and compaction does not help. */
    private static TestPageProvider fragmented() {
        TestPageProvider p = new TestPageProvider(1 << 18, 2);
        p.fragmentedFromOrder = 3;
        return p;
    }

    private Kvmalloc kv(TestPageProvider pages, KvmallocPolicy policy) {
        SlubAllocator slab = new SlubAllocator(pages, 2, new CostTable());
        return new Kvmalloc(slab, new Vmalloc(KernelEra.E2022, pages, slab), policy);
    }

    @Test
    void kv2017CompactsAndReclaimsBeforeFallingBackToVmalloc() {
        TestPageProvider pages = fragmented();
        TestCtx ctx = new TestCtx();
        long p = kv(pages, KvmallocPolicy.KV2017).kvmalloc(ctx, 65536, Gfp.GFP_KERNEL);
        assertTrue(VmapAreas.isVmallocAddr(p));
        assertTrue(ctx.entered("kvmalloc_node") && ctx.entered("__kmalloc_node") && ctx.entered("kmalloc_large_node"));
        assertTrue(ctx.entered("__alloc_pages_direct_compact") && ctx.entered("compact_zone"));
        assertEquals(1, pages.statDirectCompact);
        assertTrue(ctx.entered("__vmalloc_node") && ctx.entered("__vmalloc_node_range"));
        long compact = ctx.profile().inclusive("compact_zone");
        long total = ctx.profile().total();
        assertTrue(compact * 2 > total, "compaction dominates the allocation: " + compact + " of " + total);
    }

    @Test
    void xfsFailFastNeverEntersDirectCompactionOrReclaim() {
        TestPageProvider pages = fragmented();
        TestCtx ctx = new TestCtx().scope(Gfp.FS);
        Kvmalloc k = kv(pages, KvmallocPolicy.XFS_FAILFAST);
        for (int i = 0; i < 50; i++) {
            long p = k.kvmalloc(ctx, 65536, Gfp.GFP_KERNEL);
            assertNotEquals(0, p);
            assertTrue(VmapAreas.isVmallocAddr(p));
        }
        assertFalse(ctx.entered("__alloc_pages_direct_compact"));
        assertFalse(ctx.entered("try_to_compact_pages"));
        assertFalse(ctx.entered("__alloc_pages_direct_reclaim"));
        assertEquals(0, pages.statDirectCompact);
        assertEquals(0, pages.statDirectReclaim);
        assertTrue(ctx.entered("wake_all_kswapds"), "kswapd is still woken");
        assertTrue(ctx.entered("xlog_cil_kvmalloc") && ctx.entered("kmalloc_order") && ctx.entered("vmalloc"));
        assertEquals(50, k.statVmallocFallback);
    }

    @Test
    void xfsFailFastUsesKmallocWhenAnOrder4BlockIsFree() {
        TestPageProvider pages = new TestPageProvider(1 << 18, 2);
        TestCtx ctx = new TestCtx();
        Kvmalloc k = kv(pages, KvmallocPolicy.XFS_FAILFAST);
        long p = k.kvmalloc(ctx, 65536, Gfp.GFP_KERNEL);
        assertFalse(VmapAreas.isVmallocAddr(p));
        k.kvfree(ctx, p);
        assertEquals(0, pages.allocatedPages());
    }

    @Test
    void kvnowBehavesLikeFailFast() {
        TestPageProvider pages = fragmented();
        TestCtx ctx = new TestCtx();
        long p = kv(pages, KvmallocPolicy.KVNOW).kvmalloc(ctx, 65536, Gfp.GFP_KERNEL);
        assertTrue(VmapAreas.isVmallocAddr(p));
        assertEquals(0, pages.statDirectCompact);
    }

    @Test
    void kv2017WithNofsMaskDoesNotFallBackKv2022Does() {
        TestPageProvider pages = fragmented();
        assertEquals(0, kv(pages, KvmallocPolicy.KV2017).kvmalloc(new TestCtx(), 65536, Gfp.GFP_NOFS));
        long p = kv(pages, KvmallocPolicy.KV2022).kvmalloc(new TestCtx(), 65536, Gfp.GFP_NOFS);
        assertTrue(VmapAreas.isVmallocAddr(p));
        assertEquals(0, kv(pages, KvmallocPolicy.KV2022).kvmalloc(new TestCtx(), 65536, Gfp.GFP_ATOMIC),
                "non-sleeping allocations are not supported by vmalloc");
    }
}
