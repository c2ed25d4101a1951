package org.kmemlab.alloc.vmalloc;

import java.util.Map;
import java.util.TreeMap;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.slab.SlabCosts;
import org.kmemlab.alloc.slab.SlabLayout;

/**
 * The vmalloc address space: {@code alloc_vmap_area()}, {@code free_vmap_area_noflush()},
 * {@code try_purge_vmap_area_lazy()} / {@code __purge_vmap_area_lazy()} of {@code mm/vmalloc.c}.
 *
 * <p>Locking by era (allocator-model.md §B.10): E2011/E2012 hold the single {@code vmap_area_lock}
 * across the linear hole search and the insert; E2017–E2022 search the augmented free tree under
 * {@code free_vmap_area_lock} and insert into the busy tree under {@code vmap_area_lock}; ENOW inserts
 * under the per-node {@code vn->busy.lock} and keeps {@code free_vmap_area_lock} for the free tree.
 * Freed areas are not reusable until the lazy purge ({@code vmap_lazy_nr > lazy_max_pages()}) has
 * flushed the TLB; their pages are freed immediately by the caller.
 */
public final class VmapAreas {
    public static final long VMALLOC_START = 0xffffc90000000000L;
    public static final long VMALLOC_SIZE = 32L << 40;
    /** Per-node busy trees in ENOW: {@code nr_vmap_nodes} (one per CPU here, bounded). */
    private static final int MAX_NODES = 8;

    private final KernelEra era;
    private final SlabCosts costs;
    private final int nrCpus;
    /** Free holes: start → size (the model of the free_vmap_area_root tree). */
    private final TreeMap<Long, Long> free = new TreeMap<>();
    /** Busy areas: start → size, including the guard page. */
    private final TreeMap<Long, Long> busy = new TreeMap<>();
    /** Areas waiting for the lazy purge: start → size. */
    private final TreeMap<Long, Long> purge = new TreeMap<>();
    private long lazyPages;
    private final long lazyMaxPages;

    public final KLock vmapAreaLock = new KLock("vmap_area_lock", KLock.Kind.SPIN);
    public final KLock freeVmapAreaLock = new KLock("free_vmap_area_lock", KLock.Kind.SPIN);
    public final KLock purgeLock;
    private final KLock[] nodeBusyLocks;

    public long statPurges, statAreasAllocated, statAreasFreed;

    public VmapAreas(KernelEra era, int nrCpus, SlabCosts costs) {
        this.era = era;
        this.costs = costs;
        this.nrCpus = nrCpus;
        free.put(VMALLOC_START, VMALLOC_SIZE);
        // lazy_max_pages(): fls(num_online_cpus()) * (32 MiB / PAGE_SIZE)
        int fls = 32 - Integer.numberOfLeadingZeros(Math.max(1, nrCpus));
        this.lazyMaxPages = (long) fls * ((32L << 20) / SlabLayout.PAGE_SIZE);
        this.purgeLock = new KLock(era.atLeast(KernelEra.E2017) ? "vmap_purge_lock" : "purge_lock",
                era.atLeast(KernelEra.E2017) ? KLock.Kind.MUTEX : KLock.Kind.SPIN);
        int nodes = Math.min(MAX_NODES, Math.max(1, nrCpus));
        nodeBusyLocks = new KLock[nodes];
        for (int i = 0; i < nodes; i++) nodeBusyLocks[i] = new KLock("vmap_node[" + i + "].busy.lock", KLock.Kind.SPIN);
    }

    private boolean singleLock() { return !era.atLeast(KernelEra.E2017); }

    private KLock busyLock(long addr) {
        if (era != KernelEra.ENOW) return vmapAreaLock;
        // addr_to_node(): areas are spread over nodes by address in vmap_zone_size chunks.
        long chunk = (addr - VMALLOC_START) / (SlabLayout.PAGE_SIZE * 16L);
        return nodeBusyLocks[(int) (chunk % nodeBusyLocks.length)];
    }

    /** {@code alloc_vmap_area()}: first fit at the lowest address; returns the start, or 0. */
    public long alloc(ExecContext ctx, long size) {
        long need = size + SlabLayout.PAGE_SIZE; // guard page (no VM_NO_GUARD)
        ctx.enter("alloc_vmap_area");
        ctx.charge(costs.vmInsert);
        long addr;
        if (singleLock()) {
            ctx.lock(vmapAreaLock);
            addr = findLowest(ctx, need);
            if (addr != 0) busy.put(addr, need);
            ctx.unlock(vmapAreaLock);
        } else {
            ctx.lock(freeVmapAreaLock);
            addr = findLowest(ctx, need);
            ctx.unlock(freeVmapAreaLock);
            if (addr != 0) {
                KLock l = busyLock(addr);
                ctx.lock(l);
                busy.put(addr, need);
                ctx.unlock(l);
            }
        }
        if (addr == 0 && !purge.isEmpty()) {
            // "overflow:" purge the lazily freed areas and retry once.
            purgeLazy(ctx);
            ctx.exit();
            return alloc(ctx, size);
        }
        if (addr != 0) statAreasAllocated++;
        ctx.exit();
        return addr;
    }

    private long findLowest(ExecContext ctx, long need) {
        if (singleLock()) {
            // 3.6 walks vmap_area_list from the cached hole: cost grows with the number of busy areas.
            ctx.charge(costs.vmSearchListStep * (busy.size() + 1));
        } else {
            ctx.charge(costs.vmSearchTreeStep * (1 + log2(free.size() + busy.size())));
        }
        for (Map.Entry<Long, Long> e : free.entrySet()) {
            if (e.getValue() >= need) {
                long start = e.getKey();
                free.remove(start);
                if (e.getValue() > need) free.put(start + need, e.getValue() - need);
                return start;
            }
        }
        return 0;
    }

    private static int log2(int n) { return 31 - Integer.numberOfLeadingZeros(Math.max(1, n)); }

    /** Size (with guard) of the busy area starting at {@code addr}, or -1. */
    public long busySize(long addr) {
        Long s = busy.get(addr);
        return s == null ? -1 : s;
    }

    /**
     * {@code remove_vm_area()} + {@code free_vmap_area_noflush()}: off the busy tree, onto the purge list;
     * a purge runs when the lazily freed pages exceed {@code lazy_max_pages()}.
     */
    public void free(ExecContext ctx, long addr) {
        ctx.enter("remove_vm_area");
        KLock l = busyLock(addr);
        ctx.lock(l);
        Long size = busy.remove(addr);
        ctx.unlock(l);
        ctx.exit();
        if (size == null) throw new IllegalArgumentException("vfree of unknown area 0x" + Long.toHexString(addr));
        ctx.enter("free_vmap_area_noflush");
        ctx.charge(costs.vmFree);
        ctx.lock(singleLock() ? vmapAreaLock : purgeListLock());
        purge.put(addr, size);
        lazyPages += size / SlabLayout.PAGE_SIZE;
        ctx.unlock(singleLock() ? vmapAreaLock : purgeListLock());
        statAreasFreed++;
        boolean needPurge = lazyPages > lazyMaxPages;
        ctx.exit();
        if (needPurge) {
            ctx.enter("try_purge_vmap_area_lazy");
            purgeLazy(ctx);
            ctx.exit();
        }
    }

    /** 5.x puts lazily freed areas on vmap_purge_list under vmap_area_lock; ENOW on per-node lazy lists. */
    private KLock purgeListLock() { return era == KernelEra.ENOW ? lazyLock : vmapAreaLock; }

    private final KLock lazyLock = new KLock("vmap_node.lazy.lock", KLock.Kind.SPIN);

    /** {@code __purge_vmap_area_lazy()}: one TLB flush for the whole range, then the areas become free. */
    public void purgeLazy(ExecContext ctx) {
        if (purge.isEmpty()) return;
        ctx.enter("__purge_vmap_area_lazy");
        ctx.lock(purgeLock);
        ctx.enter("flush_tlb_kernel_range");
        ctx.charge(costs.vmPurgeFlush + costs.vmPurgePerCpu * nrCpus);
        ctx.exit();
        KLock l = singleLock() ? vmapAreaLock : freeVmapAreaLock;
        ctx.lock(l);
        for (Map.Entry<Long, Long> e : purge.entrySet()) {
            insertFree(e.getKey(), e.getValue());
            ctx.charge(costs.vmSearchTreeStep);
        }
        ctx.unlock(l);
        purge.clear();
        lazyPages = 0;
        statPurges++;
        ctx.unlock(purgeLock);
        ctx.exit();
    }

    /** Inserts a hole and merges it with its neighbours ({@code merge_or_add_vmap_area}). */
    private void insertFree(long start, long size) {
        Map.Entry<Long, Long> lower = free.floorEntry(start);
        if (lower != null && lower.getKey() + lower.getValue() == start) {
            start = lower.getKey();
            size += lower.getValue();
            free.remove(start);
        }
        Long next = free.get(start + size);
        if (next != null) {
            free.remove(start + size);
            size += next;
        }
        free.put(start, size);
    }

    public int busyAreas() { return busy.size(); }
    public long lazyPages() { return lazyPages; }
    public long lazyMaxPages() { return lazyMaxPages; }

    public static boolean isVmallocAddr(long addr) {
        return Long.compareUnsigned(addr, VMALLOC_START) >= 0
                && Long.compareUnsigned(addr, VMALLOC_START + VMALLOC_SIZE) < 0;
    }
}
