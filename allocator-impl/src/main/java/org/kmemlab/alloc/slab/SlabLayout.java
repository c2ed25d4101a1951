package org.kmemlab.alloc.slab;

/**
 * Slab geometry as SLUB computes it: {@code calculate_sizes()}, {@code calculate_order()},
 * {@code calc_slab_order()}, {@code order_objects()}, {@code set_cpu_partial()} and
 * {@code set_min_partial()} in {@code mm/slub.c}, {@code get_order()} and the kmalloc size classes
 * ({@code kmalloc_index()}, {@code KMALLOC_MAX_CACHE_SIZE}) of {@code include/linux/slab.h}.
 *
 * <p>x86-64, 4 KiB pages, 8-byte pointers, {@code slub_max_order = PAGE_ALLOC_COSTLY_ORDER} (3),
 * {@code slub_min_order = 0}, {@code slub_min_objects = 0} unless given.
 */
public final class SlabLayout {
    private SlabLayout() {}

    public static final int PAGE_SHIFT = 12;
    public static final int PAGE_SIZE = 1 << PAGE_SHIFT;
    /** {@code KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1}: larger kmallocs bypass the slab caches. */
    public static final int KMALLOC_MAX_CACHE_SIZE = 1 << (PAGE_SHIFT + 1);
    public static final int PAGE_ALLOC_COSTLY_ORDER = 3;
    public static final int MAX_PAGE_ORDER = 10;
    /** {@code MAX_OBJS_PER_PAGE}: slab->objects is a 15-bit field. */
    public static final int MAX_OBJS_PER_PAGE = 32767;
    public static final int MIN_PARTIAL = 5, MAX_PARTIAL = 10;
    /** Direct map base ({@code PAGE_OFFSET} without KASLR): slab and page addresses live here. */
    public static final long PAGE_OFFSET = 0xffff888000000000L;

    /** pfn of a direct-map address. */
    public static long pfnOfDirect(long addr) { return (addr - PAGE_OFFSET) >>> PAGE_SHIFT; }

    /** The kmalloc size classes, in kmalloc_index() order of the kmalloc-* cache names. */
    public static final int[] KMALLOC_SIZES = {8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192};

    /** {@code get_order()}: smallest order whose block holds {@code size} bytes (size ≥ 1). */
    public static int getOrder(long size) {
        if (size <= PAGE_SIZE) return 0;
        return 64 - Long.numberOfLeadingZeros((size - 1) >>> PAGE_SHIFT);
    }

    /** {@code fls()}: 1-based index of the highest set bit, 0 for 0. */
    static int fls(int x) { return 32 - Integer.numberOfLeadingZeros(x); }

    /** {@code order_objects()}. */
    public static int orderObjects(int order, int size) { return (PAGE_SIZE << order) / size; }

    /** {@code calc_slab_order()}: smallest order in [min,max] whose leftover is ≤ slab_size/fract. */
    static int calcSlabOrder(int size, int minOrder, int maxOrder, int fractLeftover) {
        int order;
        for (order = minOrder; order <= maxOrder; order++) {
            int slabSize = PAGE_SIZE << order;
            int rem = slabSize % size;
            if (rem <= slabSize / fractLeftover) break;
        }
        return order;
    }

    /** {@code slub_min_objects} default: {@code 4 * (fls(nr_cpus) + 1)}. */
    public static int defaultMinObjects(int nrCpus) { return 4 * (fls(Math.max(1, nrCpus)) + 1); }

    /**
     * {@code calculate_order(size)} with the boot defaults ({@code slub_min_order=0},
     * {@code slub_max_order=3}); {@code size} is {@code s->size}.
     */
    public static int calculateOrder(int size, int nrCpus) {
        return calculateOrder(size, defaultMinObjects(nrCpus), 0, PAGE_ALLOC_COSTLY_ORDER);
    }

    public static int calculateOrder(int size, int minObjectsParam, int slubMinOrder, int slubMaxOrder) {
        int maxObjects = Math.max(orderObjects(slubMaxOrder, size), 1);
        int minObjects = Math.min(minObjectsParam, maxObjects);
        int minOrder = Math.max(slubMinOrder, getOrder((long) minObjects * size));
        if (orderObjects(minOrder, size) > MAX_OBJS_PER_PAGE) {
            return getOrder((long) size * MAX_OBJS_PER_PAGE) - 1;
        }
        // Accept 1/16 waste first, then back off; increasing the order never increases the fraction.
        for (int fraction = 16; fraction > 1; fraction /= 2) {
            int order = calcSlabOrder(size, minOrder, slubMaxOrder, fraction);
            if (order <= slubMaxOrder) return order;
        }
        int order = getOrder(size);
        if (order <= MAX_PAGE_ORDER) return order;
        throw new IllegalArgumentException("object size " + size + " cannot be placed in a slab");
    }

    /**
     * {@code calculate_sizes()} without debugging: round the object to a word, move the free pointer
     * behind the object when the object may not be overwritten on free (TYPESAFE_BY_RCU without a
     * freeptr offset, or a constructor), then align. Returns {@code s->size}.
     */
    public static int sizeOf(int objectSize, int align, boolean freePointerOutside) {
        int size = alignUp(objectSize, 8);
        if (freePointerOutside) size += 8;
        return alignUp(size, align);
    }

    /**
     * {@code calculate_alignment()}: SLAB_HWCACHE_ALIGN aligns to the cache line (64) but halves it
     * while the object fits twice in half of it; never below the arch minimum (8).
     */
    public static int calculateAlignment(boolean hwcacheAlign, int align, int size) {
        if (hwcacheAlign) {
            int ralign = 64;
            while (size <= ralign / 2) ralign /= 2;
            align = Math.max(align, ralign);
        }
        return alignUp(Math.max(align, 8), 8);
    }

    public static int alignUp(int v, int a) { return (v + a - 1) / a * a; }

    /** {@code set_cpu_partial()}: objects kept on a cpu's partial list, by object size. */
    public static int cpuPartialObjects(int size) {
        if (size >= PAGE_SIZE) return 6;
        if (size >= 1024) return 24;
        if (size >= 256) return 52;
        return 120;
    }

    /** {@code slub_set_cpu_partial()}: assume half-full slabs, so 2*objects/objs-per-slab slabs. */
    public static int cpuPartialSlabs(int cpuPartialObjects, int objsPerSlab) {
        return (cpuPartialObjects * 2 + objsPerSlab - 1) / objsPerSlab;
    }

    /** {@code set_min_partial(s, ilog2(s->size) / 2)} clamped to [MIN_PARTIAL, MAX_PARTIAL]. */
    public static int minPartial(int size) {
        int ilog2 = 31 - Integer.numberOfLeadingZeros(size);
        return Math.max(MIN_PARTIAL, Math.min(MAX_PARTIAL, ilog2 / 2));
    }

    /**
     * {@code kmalloc_size_index[]}: the kernel's table for sizes ≤ 192, indexed by {@code (size - 1) / 8}
     * ({@code size_index_elem()}), so that small kmallocs pick their class without a branch chain.
     */
    private static final byte[] SIZE_INDEX = new byte[24];

    static {
        for (int i = 0; i < SIZE_INDEX.length; i++) {
            int size = i * 8 + 8; // every size in (8i, 8i+8] falls in the same class
            int idx = size <= 8 ? 0 : size <= 16 ? 1 : size <= 32 ? 2 : size <= 64 ? 3 : size <= 96 ? 4 : size <= 128 ? 5 : 6;
            SIZE_INDEX[i] = (byte) idx;
        }
    }

    /**
     * {@code kmalloc_index()} as an index into {@link #KMALLOC_SIZES}, or -1 for size 0 (ZERO_SIZE_PTR)
     * and for sizes above {@link #KMALLOC_MAX_CACHE_SIZE} (kmalloc_large).
     */
    public static int kmallocIndex(long size) {
        if (size <= 0 || size > KMALLOC_MAX_CACHE_SIZE) return -1;
        if (size <= 192) return SIZE_INDEX[(int) (size - 1) >>> 3];
        // 256 .. 8192: powers of two; index 7 is 256 = 2^8, so index = fls(size - 1) - 1
        return 63 - Long.numberOfLeadingZeros(size - 1);
    }

    /**
     * The {@code bytes_alloc} the kmalloc tracepoint reports for a request: the size class's
     * {@code s->size} up to 8 KiB ({@code __do_kmalloc_node}), {@code PAGE_SIZE << get_order(size)}
     * above it ({@code ___kmalloc_large_node}), 0 for {@code kmalloc(0)} (returns ZERO_SIZE_PTR, no
     * event in the kernel). The gfp only selects among same-sized variants (kmalloc-cg, -rcl, dma-).
     */
    public static long kmallocBytesAlloc(long bytesReq, long gfp) {
        if (bytesReq <= 0) return 0;
        if (bytesReq > KMALLOC_MAX_CACHE_SIZE) return (long) PAGE_SIZE << getOrder(bytesReq);
        return KMALLOC_SIZES[kmallocIndex(bytesReq)];
    }

    /** {@code kmalloc_size_roundup()}: the same numbers, exported for callers that size buffers. */
    public static long kmallocSizeRoundup(long size) {
        if (size <= 0) return 0;
        return kmallocBytesAlloc(size, 0);
    }
}
