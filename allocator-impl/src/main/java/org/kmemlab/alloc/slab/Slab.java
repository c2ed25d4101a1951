package org.kmemlab.alloc.slab;

/**
 * One slab: the {@code struct slab} overlay of a (compound) page in {@code mm/slab.h}, with the
 * freelist SLUB threads through the objects kept here as a stack of free object indices (so that
 * allocation and free touch only primitive arrays).
 *
 * <p>List membership follows {@code mm/slub.c}: a slab is either the cpu slab of one CPU
 * ({@link #cpu} ≥ 0, "frozen"), on one CPU's partial list ({@link #onCpuPartial}), on its node's partial
 * list ({@link #onNodePartial}), or full and on no list (SLUB keeps no full list without debugging).
 */
public final class Slab {
    public final SlubCache cache;
    public final long pfn;
    public final int order;
    public final int objects;
    /** Free object indices; the top of the stack is the next object handed out (LIFO, as SLUB's freelist). */
    final int[] free;
    int nfree;
    /** Bit per object: allocated. Guards double frees and double hand-outs. */
    final long[] inUse;
    private final long base;

    int cpu = -1;
    boolean onCpuPartial;
    boolean onNodePartial;
    /** Links for the node partial list and for a cpu partial list (a slab is on at most one). */
    Slab prev, next;

    Slab(SlubCache cache, long pfn, int order, int objects) {
        this.cache = cache;
        this.pfn = pfn;
        this.order = order;
        this.objects = objects;
        this.free = new int[objects];
        // Objects are handed out from the start of the slab first, like the unshuffled freelist.
        for (int i = 0; i < objects; i++) free[i] = objects - 1 - i;
        this.nfree = objects;
        this.inUse = new long[(objects + 63) >>> 6];
        this.base = SlabLayout.PAGE_OFFSET + (pfn << SlabLayout.PAGE_SHIFT);
    }

    public int inuse() { return objects - nfree; }
    public int freeObjects() { return nfree; }
    public boolean isFull() { return nfree == 0; }
    public boolean isEmpty() { return nfree == objects; }
    public int pages() { return 1 << order; }
    public long baseAddress() { return base; }

    long address(int index) { return base + (long) index * cache.size; }

    /** Object index of {@code addr}, or -1 when it is not the start of an object of this slab. */
    int indexOf(long addr) {
        long off = addr - base;
        if (off < 0 || off >= ((long) SlabLayout.PAGE_SIZE << order)) return -1;
        int size = cache.size;
        // Like the kernel's obj_to_index() (reciprocal_divide): the free path must not divide.
        int idx = cache.reciprocal != 0 ? (int) ((off * cache.reciprocal) >>> 40) : (int) (off / size);
        if (idx >= objects || (long) idx * size != off) return -1;
        return idx;
    }

    long pop() {
        int idx = free[--nfree];
        inUse[idx >>> 6] |= 1L << idx;
        return address(idx);
    }

    /** Returns false for a double free or a pointer that is not an object of this slab. */
    boolean push(long addr) {
        int idx = indexOf(addr);
        if (idx < 0) return false;
        long bit = 1L << idx;
        if ((inUse[idx >>> 6] & bit) == 0) return false;
        inUse[idx >>> 6] &= ~bit;
        free[nfree++] = idx;
        return true;
    }

    public boolean isAllocated(long addr) {
        int idx = indexOf(addr);
        return idx >= 0 && (inUse[idx >>> 6] & (1L << idx)) != 0;
    }

    @Override
    public String toString() {
        return cache.name + "@pfn" + pfn + "[" + inuse() + "/" + objects + "]";
    }
}
