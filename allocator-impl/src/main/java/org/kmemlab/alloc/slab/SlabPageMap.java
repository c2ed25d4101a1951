package org.kmemlab.alloc.slab;

/**
 * pfn → slab, the model's {@code virt_to_slab()} / {@code slab->slab_cache} ({@code mm/slab.h}): every page of a slab
 * points at it, so {@code kfree()} finds the cache from any object address in O(1). A two-level
 * array (like SPARSEMEM sections) keeps the lookup allocation-free and hash-free on the free path.
 */
public final class SlabPageMap {
    private static final int CHUNK_SHIFT = 14;
    private static final int CHUNK = 1 << CHUNK_SHIFT;
    private Slab[][] chunks = new Slab[64][];

    public Slab get(long pfn) {
        long c = pfn >>> CHUNK_SHIFT;
        if (pfn < 0 || c >= chunks.length) return null;
        Slab[] chunk = chunks[(int) c];
        return chunk == null ? null : chunk[(int) (pfn & (CHUNK - 1))];
    }

    void set(long pfn, int order, Slab slab) {
        for (long p = pfn; p < pfn + (1L << order); p++) {
            long c = p >>> CHUNK_SHIFT;
            if (c > Integer.MAX_VALUE - 8) throw new IllegalArgumentException("pfn out of modeled range: " + p);
            if (c >= chunks.length) {
                Slab[][] n = new Slab[(int) Math.max(c + 1, chunks.length * 2L)][];
                System.arraycopy(chunks, 0, n, 0, chunks.length);
                chunks = n;
            }
            Slab[] chunk = chunks[(int) c];
            if (chunk == null) chunks[(int) c] = chunk = new Slab[CHUNK];
            chunk[(int) (p & (CHUNK - 1))] = slab;
        }
    }

    void clear(long pfn, int order) { set(pfn, order, null); }

    /** pfn of a direct-map address. */
    public static long pfnOf(long addr) { return (addr - SlabLayout.PAGE_OFFSET) >>> SlabLayout.PAGE_SHIFT; }
}
