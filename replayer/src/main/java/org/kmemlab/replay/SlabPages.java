package org.kmemlab.replay;

import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceSchema;

import com.carrotsearch.hppc.LongIntHashMap;
import com.carrotsearch.hppc.LongLongHashMap;

/**
 * Which of a trace's page allocations were slabs, told by address: a slab's objects lie in its own pages.
 *
 * <p>Objects live in the kernel's direct map, where an object's address is {@code page_offset_base +
 * (pfn << PAGE_SHIFT)} plus its offset in the slab ({@code slab_address()} in mm/slab.h is
 * {@code folio_address()}, i.e. {@code page_to_virt()}). {@code page_offset_base} is fixed for the boot and
 * aligned to 1 GiB (PUD_SIZE: KASLR moves it in such steps, arch/x86/mm/kaslr.c). {@link #directMapBase} finds it
 * from the trace; then a page allocation is a slab's exactly when a slab allocation later puts an object inside
 * the block while the trace still holds it. No window of time is needed, which matters twice over: order-0 slabs
 * are not __GFP_COMP ({@code allocate_slab()} adds it only for higher orders), and between a slab's page and its
 * first object's tracepoint other allocations fire (a memcg-charged slab's obj_exts vector is a kmalloc).
 * Conversely, compound non-movable pages that a slab allocation follows are often no slab: since 6.x page
 * tables are __GFP_COMP too ({@code pagetable_alloc()}), and fork and mmap allocate a vm_area_struct or an
 * anon_vma_chain right after one.
 */
final class SlabPages {
    static final long UNKNOWN = Long.MIN_VALUE;
    /** The base is taken once this many proposals agree on it (true proposals agree at once; strays almost never). */
    private static final int SETTLED = 8;

    private final long base;
    /** Non-movable page blocks the trace holds that no object has been seen in yet: head pfn to row << 5 | order. */
    private final LongLongHashMap unclaimed = new LongLongHashMap();
    /** Blocks the trace holds that objects were seen in (head pfn to order): their frees are the slab allocator's. */
    private final LongIntHashMap slabs = new LongIntHashMap();

    /** The pfn of the block the last successful {@link #object} claimed. */
    long claimed;

    SlabPages(long base) { this.base = base; }

    boolean known() { return base != UNKNOWN; }

    /** A non-movable page block allocated at {@code row}: a slab if an object turns up inside it. */
    void pageAlloc(long row, long pfn, int order) {
        slabs.remove(pfn);
        unclaimed.put(pfn, row << 5 | (order & 31));
    }

    /**
     * A slab object at {@code ptr}: returns the page allocation this proves to be a slab (now claimed) as its
     * row &lt;&lt; 5 | order, with its pfn in {@link #claimed}, or -1. SLUB's slabs are at most order 3
     * (slub_max_order) and naturally aligned; a larger kmalloc_large block starts at its object.
     */
    long object(long ptr) {
        long vpfn = pfnOf(ptr);
        for (int o = 0; o <= 3; o++) {
            long head = vpfn & -(1L << o);
            int k = unclaimed.indexOf(head);
            if (k < 0) continue;
            long v = unclaimed.indexGet(k);
            if (vpfn - head >= 1L << (v & 31)) continue;
            unclaimed.indexRemove(k);
            slabs.put(head, (int) (v & 31));
            claimed = head;
            return v;
        }
        return -1;
    }

    /** A page block freed: whether it was a slab's. */
    boolean pageFree(long pfn) {
        unclaimed.remove(pfn);
        int k = slabs.indexOf(pfn);
        if (k < 0) return false;
        slabs.indexRemove(k);
        return true;
    }

    /** The pfn of a direct-map address. */
    long pfnOf(long ptr) { return (ptr - base) >>> 12; }

    /** Whether the page lies in a slab the trace allocated (and still holds). */
    boolean inTraceSlab(long pfn) { return blockHolding(slabs, pfn, v -> v) >= 0; }

    /**
     * The entry of {@code heads} (a block's head pfn to a value that gives its order) whose block holds
     * {@code pfn}, or -1. SLUB's slabs are naturally aligned blocks of order 0 to 3 (slub_max_order), so the
     * candidates are {@code pfn} rounded down to each of those orders.
     */
    static int blockHolding(LongIntHashMap heads, long pfn, java.util.function.IntUnaryOperator orderOf) {
        for (int o = 0; o <= 3; o++) {
            long head = pfn & -(1L << o);
            int k = heads.indexOf(head);
            if (k >= 0 && pfn - head < 1L << orderOf.applyAsInt(heads.indexGet(k))) return k;
        }
        return -1;
    }

    /**
     * The direct map's base in this trace, or {@link #UNKNOWN}: where ftrace hashed the pointers, or where no
     * two slab pages can be matched to their objects. Reads from the start only until {@link #SETTLED} proposals
     * agree, usually within the first batch: a proposal is a non-movable page allocation that a slab allocation
     * of the same task on the same CPU follows within 20 µs, and it votes for the 1 GiB-aligned base under which
     * the object lies within the block's bytes. A stray proposal lands in some 1 GiB with a chance of its block's
     * bytes in 1 GiB; every true one lands in the same.
     */
    static long directMapBase(TraceReader r) {
        LongIntHashMap votes = new LongIntHashMap();
        long[] pendPfn = new long[256], pendTs = new long[256];
        int[] pendPid = new int[256], pendOrder = new int[256];
        java.util.Arrays.fill(pendOrder, -1);
        while (r.next()) {
            TraceBatch b = r.batch();
            String[] names = b.dictionary(TraceSchema.EVENT);
            int[] codes = new int[names.length];
            for (int k = 0; k < names.length; k++) codes[k] = PrePass.codeOf(names[k]);
            for (int i = 0, n = b.size(); i < n; i++) {
                int ei = b.dictIndex(TraceSchema.EVENT, i);
                int code = ei < 0 ? PrePass.OTHER : codes[ei];
                if (code != PrePass.PAGE_ALLOC && code != PrePass.SLAB_ALLOC) continue;
                int cpu = b.intOr(TraceSchema.CPU, i, 0) & 0xff;
                if (code == PrePass.PAGE_ALLOC) {
                    pendOrder[cpu] = -1;
                    if (b.isNull(TraceSchema.PFN, i) || b.intOr(TraceSchema.MIGRATETYPE, i, 0) == 1) continue;
                    pendPfn[cpu] = b.getLong(TraceSchema.PFN, i);
                    pendOrder[cpu] = Math.max(0, Math.min(10, b.intOr(TraceSchema.ORDER, i, 0)));
                    pendPid[cpu] = b.intOr(TraceSchema.PID, i, 0);
                    pendTs[cpu] = b.ts(i);
                    continue;
                }
                int order = pendOrder[cpu];
                pendOrder[cpu] = -1;
                if (order < 0 || b.isNull(TraceSchema.PTR, i) || pendPid[cpu] != b.intOr(TraceSchema.PID, i, 0)
                        || b.ts(i) - pendTs[cpu] > PrePass.WINDOW_NS) continue;
                long off = b.getLong(TraceSchema.PTR, i) - (pendPfn[cpu] << 12);
                long bucket = off >> 30 << 30;
                if (off - bucket < 4096L << order && votes.addTo(bucket, 1) >= SETTLED) return bucket;
            }
        }
        // a short trace: two agreeing proposals will do
        long best = UNKNOWN;
        int most = 1;
        for (var c : votes) {
            if (c.value > most || (c.value == most && c.key < best)) {
                most = c.value;
                best = c.key;
            }
        }
        return best;
    }
}
