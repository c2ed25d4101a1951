package org.kmemlab.alloc.vmalloc;

import java.util.HashMap;
import java.util.Map;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.core.PageProvider;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.slab.SlabLayout;
import org.kmemlab.alloc.slab.SlubAllocator;

/**
 * {@code vmalloc()}, {@code __vmalloc()}, {@code __vmalloc_node()}, {@code vfree()} of
 * {@code mm/vmalloc.c}: {@code __vmalloc_node_range()} → {@code __get_vm_area_node()} (a kzalloc'd
 * {@code vm_struct}) → {@link VmapAreas#alloc} → {@code __vmalloc_area_node()} (the page array from
 * kmalloc, the pages one order-0 page at a time: {@code alloc_pages_node} in ≤5.10,
 * {@code __alloc_pages_bulk} later) → mapping. Free: {@code vfree()} → {@code __vunmap()} →
 * {@code remove_vm_area()} + lazy purge, pages back at once.
 *
 * <p>Page tables: the mapping step allocates a page-table page the first time a 2 MiB region of the
 * vmalloc space is used. Up to E2022 that allocation ignores the caller's gfp ({@code __pte_alloc_kernel}
 * uses GFP_KERNEL — the SPL/ZFS deadlock of seed 000); ENOW applies the caller's constraints through
 * {@code memalloc_apply_gfp_scope()} ({@link #honoursGfpForPageTables}).
 */
public final class Vmalloc {
    private static final int PTRS_PER_PTE = 512;

    private final KernelEra era;
    private final PageProvider pages;
    private final SlubAllocator slab;
    private final SlabCosts costs;
    private final VmapAreas areas;
    private boolean honoursGfpForPageTables;
    /** 2 MiB regions whose page table exists (kernel page tables of the vmalloc space are never freed). */
    private final java.util.BitSet pmdPopulated = new java.util.BitSet();

    /** One live vmalloc area ({@code struct vm_struct}). */
    private static final class Area {
        final long[] pfns;
        final long vmStruct, pagesArray;
        Area(long[] pfns, long vmStruct, long pagesArray) {
            this.pfns = pfns;
            this.vmStruct = vmStruct;
            this.pagesArray = pagesArray;
        }
    }

    private final Map<Long, Area> live = new HashMap<>();
    private long mappedPages, pageTablePages;
    public long statVmallocs, statVfrees, statFailures;

    public Vmalloc(KernelEra era, PageProvider pages, SlubAllocator slab) {
        this.era = era;
        this.pages = pages;
        this.slab = slab;
        this.costs = slab.costs();
        this.areas = new VmapAreas(era, slab.nrCpus(), costs);
        this.honoursGfpForPageTables = era == KernelEra.ENOW;
    }

    public Vmalloc honoursGfpForPageTables(boolean v) { honoursGfpForPageTables = v; return this; }
    public VmapAreas areas() { return areas; }

    /** {@code vmalloc(size)}: GFP_KERNEL. */
    public long vmalloc(ExecContext ctx, long size) {
        ctx.enter("vmalloc");
        long a = vmallocNodeRange(ctx, size, Gfp.GFP_KERNEL);
        ctx.exit();
        return a;
    }

    /** {@code __vmalloc(size, gfp)} (SPL's kv_alloc uses {@code gfp | __GFP_HIGHMEM}). */
    public long vmallocGfp(ExecContext ctx, long size, long gfp) {
        ctx.enter("__vmalloc");
        ctx.enter("__vmalloc_node");
        long a = vmallocNodeRange(ctx, size, gfp);
        ctx.exit();
        ctx.exit();
        return a;
    }

    /** {@code __vmalloc_node(size, 1, gfp, node, caller)}: the kvmalloc fallback. */
    public long vmallocNode(ExecContext ctx, long size, long gfp) {
        ctx.enter("__vmalloc_node");
        long a = vmallocNodeRange(ctx, size, gfp);
        ctx.exit();
        return a;
    }

    private long vmallocNodeRange(ExecContext ctx, long size, long gfp) {
        if (size <= 0) return 0; // "if (!size || (size >> PAGE_SHIFT) > totalram_pages()) goto fail"
        ctx.enter("__vmalloc_node_range");
        long alignedSize = (size + SlabLayout.PAGE_SIZE - 1) & ~(long) (SlabLayout.PAGE_SIZE - 1);
        int nrPages = (int) (alignedSize / SlabLayout.PAGE_SIZE);
        long nestedGfp = (gfp & (Gfp.RECLAIM | Gfp.IO | Gfp.FS | Gfp.NOWARN | Gfp.NORETRY | Gfp.HIGH)) | Gfp.ZERO;

        ctx.enter(era.atLeast(KernelEra.E2020) ? "__get_vm_area_node.constprop.0" : "__get_vm_area_node");
        ctx.charge(costs.vmStruct);
        long vmStruct = slab.kmallocNode(ctx, 64, nestedGfp & ~Gfp.HIGHMEM);
        long addr = vmStruct == 0 ? 0 : areas.alloc(ctx, alignedSize);
        ctx.exit();
        if (addr == 0) {
            if (vmStruct != 0) slab.kfree(ctx, vmStruct);
            statFailures++;
            ctx.exit();
            return 0;
        }

        ctx.enter("__vmalloc_area_node");
        long arraySize = (long) nrPages * 8;
        long pagesArray = arraySize <= SlabLayout.PAGE_SIZE ? slab.kmallocNode(ctx, arraySize, nestedGfp & ~Gfp.HIGHMEM)
                : vmallocNode(ctx, arraySize, nestedGfp);
        long[] pfns = new long[nrPages];
        int got = 0;
        boolean mapped;
        try {
            if (pagesArray != 0) {
                long pageGfp = gfp | Gfp.HIGHMEM;
                if (era.atLeast(KernelEra.E2022)) {
                    ctx.enter("__alloc_pages_bulk");
                    got = pages.allocPagesBulk(ctx, nrPages, pageGfp | Gfp.NOWARN, pfns);
                    ctx.exit();
                }
                // ≤5.10 page by page; later the bulk allocator's shortfall is also filled one by one.
                while (got < nrPages) {
                    ctx.enter("alloc_pages_node");
                    long pfn = pages.allocPages(ctx, 0, pageGfp);
                    ctx.exit();
                    if (pfn < 0) break;
                    pfns[got++] = pfn;
                }
            }
            mapped = got == nrPages && mapPages(ctx, addr, nrPages, gfp);
        } catch (RuntimeException parked) {
            // A wait inside reclaim (the page-table allocation reaching a filesystem shrinker) parked the
            // request, which the replayer retries from the top: hand back what this call took first.
            undo(ctx, pfns, got, pagesArray, addr, vmStruct);
            throw parked;
        }
        if (!mapped) {
            // "vmalloc error: size %lu, failed to allocate pages": undo everything.
            undo(ctx, pfns, got, pagesArray, addr, vmStruct);
            statFailures++;
            ctx.exit();
            ctx.exit();
            return 0;
        }
        ctx.exit();
        live.put(addr, new Area(pfns, vmStruct, pagesArray));
        mappedPages += nrPages;
        statVmallocs++;
        ctx.exit();
        return addr;
    }

    private void undo(ExecContext ctx, long[] pfns, int got, long pagesArray, long addr, long vmStruct) {
        for (int i = 0; i < got; i++) pages.freePages(ctx, pfns[i], 0);
        if (pagesArray != 0) kvfreeArray(ctx, pagesArray);
        areas.free(ctx, addr);
        slab.kfree(ctx, vmStruct);
    }

    /** {@code vmap_pages_range()} (5.10 {@code map_kernel_range}): page tables, then PTEs. */
    private boolean mapPages(ExecContext ctx, long addr, int nrPages, long gfp) {
        ctx.enter(era.atLeast(KernelEra.E2022) ? "vmap_pages_range" : "map_kernel_range");
        long first = (addr - VmapAreas.VMALLOC_START) / (SlabLayout.PAGE_SIZE * (long) PTRS_PER_PTE);
        long last = (addr + (long) nrPages * SlabLayout.PAGE_SIZE - 1 - VmapAreas.VMALLOC_START)
                / (SlabLayout.PAGE_SIZE * (long) PTRS_PER_PTE);
        for (long r = first; r <= last; r++) {
            if (r > Integer.MAX_VALUE || pmdPopulated.get((int) r)) continue;
            // The caller's gfp is not passed down: GFP_KERNEL with FS/IO reclaim, unless the scope API applies it.
            long pteGfp = honoursGfpForPageTables ? Gfp.applyScope(Gfp.GFP_KERNEL, ~gfp & (Gfp.IO | Gfp.FS | Gfp.DIRECT_RECLAIM))
                    : Gfp.GFP_KERNEL;
            ctx.enter("__pte_alloc_kernel");
            long pfn = pages.allocPages(ctx, 0, pteGfp | Gfp.ZERO);
            ctx.exit();
            if (pfn < 0) { ctx.exit(); return false; }
            pmdPopulated.set((int) r);
            pageTablePages++;
        }
        ctx.charge(costs.vmPtePerPage * nrPages);
        ctx.exit();
        return true;
    }

    private void kvfreeArray(ExecContext ctx, long a) {
        if (VmapAreas.isVmallocAddr(a)) vfree(ctx, a); else slab.kfree(ctx, a);
    }

    /** {@code vfree()}. */
    public void vfree(ExecContext ctx, long addr) {
        if (addr == 0) return;
        ctx.enter("vfree");
        ctx.enter("__vunmap");
        Area a = live.remove(addr);
        if (a == null) {
            ctx.exit();
            ctx.exit();
            throw new IllegalArgumentException("vfree of unknown address 0x" + Long.toHexString(addr));
        }
        areas.free(ctx, addr);
        for (long pfn : a.pfns) {
            ctx.enter("__free_pages");
            pages.freePages(ctx, pfn, 0);
            ctx.exit();
        }
        mappedPages -= a.pfns.length;
        kvfreeArray(ctx, a.pagesArray);
        slab.kfree(ctx, a.vmStruct);
        statVfrees++;
        ctx.exit();
        ctx.exit();
    }

    /** Pages of the given live area, or -1. */
    public int areaPages(long addr) {
        Area a = live.get(addr);
        return a == null ? -1 : a.pfns.length;
    }

    public boolean isLive(long addr) { return live.containsKey(addr); }
    public long mappedPages() { return mappedPages; }
    public long pageTablePages() { return pageTablePages; }
    public int liveAreas() { return live.size(); }
}
