package org.kmemlab.alloc.page;

/**
 * The pfn space: what {@code struct page} and the pageblock bitmap hold in the kernel
 * ({@code include/linux/mm_types.h}, {@code include/linux/pageblock-flags.h},
 * {@code mm/page_alloc.c get_pfnblock_flags_mask()/set_pfnblock_flags_mask()}), kept in primitive arrays
 * so that a 4 GiB machine costs about 13 MB and the hot paths never allocate.
 *
 * <p>Every pfn is in exactly one state. A block of 2^order pages has a head pfn carrying the state and the
 * order, and tail pfns in the matching tail state. {@code next()}/{@code prev()} are the intrusive links that
 * {@code page->lru} / {@code page->buddy_list} / {@code page->pcp_list} are in the kernel: a page is on at
 * most one list at a time (a free list, a pcp list or the file LRU), so one pair of links serves all.
 */
public final class PhysMem {
    /** Not backed by memory (holes, offline sections, other zones' gaps). */
    public static final byte S_HOLE = 0;
    /** Present but not managed by the buddy allocator (memblock reservations, the kernel image). */
    public static final byte S_RESERVED = 1;
    /** PageBuddy head of a free block on a zone free list. */
    public static final byte S_FREE = 2;
    /**
     * A pfn inside a block (not its head). Like the kernel, which clears PageBuddy only on heads, the model
     * never rewrites tails when a block changes hands: a block's state is its head's, and a head that is
     * absorbed by a merge is turned into a tail. That keeps splitting and merging O(order), not O(2^order).
     */
    public static final byte S_TAIL = 3;
    /** Head of an allocated block. */
    public static final byte S_ALLOC = 4;
    /** Head of a block cached on a per-cpu list (pages there are not in NR_FREE_PAGES). */
    public static final byte S_PCP = 6;
    /** Isolated by a compaction scanner; never visible between two operations. */
    public static final byte S_ISOLATED = 8;

    public static final String[] STATE_NAMES = {"hole", "reserved", "free", "tail", "alloc", "?5",
            "pcp", "?7", "isolated"};

    // Owner kinds of allocated heads.
    /** Allocated through {@link PageAllocator#allocPages}: the model never moves or reclaims it. */
    public static final byte K_EXTERNAL = 0;
    /** A page cache page on the file LRU: reclaimable when clean, migratable unless under writeback. */
    public static final byte K_PAGECACHE = 1;
    /** Anonymous memory without swap: migratable, never reclaimed. */
    public static final byte K_ANON = 2;
    /** Kernel memory the model does not track further (snapshot fill): neither movable nor reclaimable. */
    public static final byte K_KERNEL = 3;

    public static final byte F_DIRTY = 1, F_WRITEBACK = 2, F_RECLAIM = 4;
    /** A page cache page of the filesystem {@link FsWriteback} models: only its writeback tasks clean it. */
    public static final byte F_FSOWNED = 8;

    public final int nrPfns;
    /**
     * Per pfn, one int: the state (bits 0-7), the order (8-15), the kind (16-23: for free heads the free list
     * migratetype, for pcp heads the pcp list migratetype, for allocated heads the owner kind) and the flags
     * (24-31), each read back as the byte it was stored as. One array instead of four because the pcp alloc
     * and free read or write all of a head's fields at once, and each array is one more load and range
     * check on that path.
     */
    final int[] meta;
    /**
     * The intrusive links: {@code link[2 * pfn]} is the next pfn on the list, {@code link[2 * pfn + 1]} the
     * previous one (-1 at either end and off lists). One array because list operations write both of a
     * pfn's links together, and each separate array is one more load and range check on the pcp path.
     */
    final int[] link;
    /** Pageblock migratetype (get_pageblock_migratetype). */
    final byte[] blockMt;
    /** Index of the zone owning each pageblock in {@link #zones}, or -1. */
    final short[] blockZone;
    Zone[] zones = new Zone[0];

    /**
     * The most pfns the model holds: {@link #link} has two ints per pfn and a Java array at most about 2^31
     * elements, so a little under 4 TiB of 4 KiB pages (pageblock aligned).
     */
    public static final int MAX_PFNS = ((Integer.MAX_VALUE - 8) / 2) & ~(PageConst.PAGEBLOCK_PAGES - 1);

    /** The heap the page arrays of {@code nrPfns} pfns take: 12 bytes a page, 3 a pageblock. */
    public static long bytesFor(long nrPfns) {
        return nrPfns * (4 + 8) + (nrPfns >>> PageConst.PAGEBLOCK_ORDER) * 3;
    }

    public PhysMem(int nrPfns) {
        if ((nrPfns & (PageConst.PAGEBLOCK_PAGES - 1)) != 0) throw new IllegalArgumentException("pfn space must be pageblock aligned");
        this.nrPfns = nrPfns;
        int nb = nrPfns >>> PageConst.PAGEBLOCK_ORDER;
        // checked and allocated under one lock: the replayer builds one machine per policy on parallel threads,
        // and each check must see the arrays the others have already taken
        synchronized (PhysMem.class) {
            checkFits(nrPfns, Runtime.getRuntime());
            meta = new int[nrPfns];
            link = new int[2 * nrPfns];
            blockMt = new byte[nb];
            blockZone = new short[nb];
        }
        java.util.Arrays.fill(blockZone, (short) -1);
    }

    /**
     * Fails with a {@link MachineTooLargeException} when {@code nrPfns} pfns do not fit the pfn space or the
     * heap {@code rt} has left. Arrays of a fiftieth of the heap or less are not checked: the check asks
     * for a collection when the heap looks full, and small machines (every test builds several) should not.
     */
    static void checkFits(long nrPfns, Runtime rt) {
        checkFits(nrPfns, rt.maxMemory(), () -> rt.totalMemory() - rt.freeMemory(), System::gc);
    }

    /** The same with the heap's size, a probe of what is in use and a way to ask for a collection. */
    static void checkFits(long nrPfns, long max, java.util.function.LongSupplier used, Runnable gc) {
        checkPfnSpace(nrPfns);
        long need = bytesFor(nrPfns);
        if (need <= max / 50) return;
        long left = max - used.getAsLong();
        if (need > left) {
            // what looks used may be garbage: ask once before refusing
            gc.run();
            left = max - used.getAsLong();
        }
        if (need > left)
            throw new MachineTooLargeException(String.format(java.util.Locale.ROOT, "a machine of %s (%,d pages) needs %s of heap for its page arrays,"
                    + " and the JVM has %s left of %s", gib(nrPfns << 12), nrPfns, gib(need), gib(left), gib(max)), true);
    }

    /** Fails when {@code nrPfns} is beyond {@link #MAX_PFNS}: before anything casts it to an int. */
    static void checkPfnSpace(long nrPfns) {
        if (nrPfns > MAX_PFNS)
            throw new MachineTooLargeException(String.format(java.util.Locale.ROOT, "a machine of %s (%,d pages) is more than the model's pfn space"
                    + " holds (%,d pages of 4 KiB)", gib(nrPfns << 12), nrPfns, MAX_PFNS), false);
    }

    private static String gib(long bytes) {
        return bytes >= 1L << 40 ? String.format(java.util.Locale.ROOT, "%.1f TiB", bytes / (double) (1L << 40))
                : String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }

    public byte state(long pfn) { return state((int) pfn); }
    public int order(long pfn) { return order((int) pfn); }
    public byte kind(long pfn) { return kind((int) pfn); }
    public byte flags(long pfn) { return flags((int) pfn); }

    byte state(int pfn) { return (byte) meta[pfn]; }
    int order(int pfn) { return (byte) (meta[pfn] >> 8); }
    byte kind(int pfn) { return (byte) (meta[pfn] >> 16); }
    byte flags(int pfn) { return (byte) (meta[pfn] >> 24); }

    void setState(int pfn, int v) { meta[pfn] = meta[pfn] & ~0xff | v & 0xff; }
    void setOrder(int pfn, int v) { meta[pfn] = meta[pfn] & ~0xff00 | (v & 0xff) << 8; }
    void setKind(int pfn, int v) { meta[pfn] = meta[pfn] & ~0xff0000 | (v & 0xff) << 16; }
    void setFlags(int pfn, int v) { meta[pfn] = meta[pfn] & 0xffffff | v << 24; }
    void orFlags(int pfn, int f) { meta[pfn] |= (f & 0xff) << 24; }
    void clearFlags(int pfn, int f) { meta[pfn] &= ~((f & 0xff) << 24); }
    public int pageblockMigratetype(long pfn) { return blockMt[(int) (pfn >>> PageConst.PAGEBLOCK_ORDER)]; }

    void setBlockMt(int pfn, int mt) { blockMt[pfn >>> PageConst.PAGEBLOCK_ORDER] = (byte) mt; }

    int next(int pfn) { return link[2 * pfn]; }
    int prev(int pfn) { return link[2 * pfn + 1]; }
    void setNext(int pfn, int v) { link[2 * pfn] = v; }
    void setPrev(int pfn, int v) { link[2 * pfn + 1] = v; }
    /** Both links -1: the state of a pfn on no list. */
    void unlink(int pfn) {
        link[2 * pfn] = -1;
        link[2 * pfn + 1] = -1;
    }

    public Zone zoneOf(long pfn) {
        if (pfn < 0 || pfn >= nrPfns) return null;
        short z = blockZone[(int) (pfn >>> PageConst.PAGEBLOCK_ORDER)];
        return z < 0 ? null : zones[z];
    }

    /** Labels a block by its head; its other pfns are already tails. */
    void setHead(int pfn, int ord, byte headState, byte k) {
        meta[pfn] = meta[pfn] & 0xff000000 | headState & 0xff | (ord & 0xff) << 8 | (k & 0xff) << 16;
    }

    /** Turns every pfn of {@code [pfn+1, pfn+2^ord)} into a tail (used when building states wholesale). */
    void markTails(int pfn, int ord) {
        int n = 1 << ord;
        for (int i = 1; i < n; i++) {
            meta[pfn + i] = meta[pfn + i] & 0xffff0000 | S_TAIL;
        }
    }

    // ---- intrusive lists: heads and tails live in the owner's int arrays ----

    void listAddHead(int[] head, int[] tail, int li, int pfn) { listAddHead(head, li, tail, li, pfn); }

    void listAddTail(int[] head, int[] tail, int li, int pfn) { listAddTail(head, li, tail, li, pfn); }

    int listPopHead(int[] head, int[] tail, int li) { return listPopHead(head, li, tail, li); }

    void listDel(int[] head, int[] tail, int li, int pfn) { listDel(head, li, tail, li, pfn); }

    // The same with the list's head at head[hi] and its tail at tail[ti] (PerCpuPages keeps heads beside page counts).

    void listAddHead(int[] head, int hi, int[] tail, int ti, int pfn) {
        int h = head[hi];
        link[2 * pfn + 1] = -1;
        link[2 * pfn] = h;
        if (h >= 0) link[2 * h + 1] = pfn; else tail[ti] = pfn;
        head[hi] = pfn;
    }

    void listAddTail(int[] head, int hi, int[] tail, int ti, int pfn) {
        int t = tail[ti];
        link[2 * pfn] = -1;
        link[2 * pfn + 1] = t;
        if (t >= 0) link[2 * t] = pfn; else head[hi] = pfn;
        tail[ti] = pfn;
    }

    /** Takes the first entry off a non-empty list: {@link #listDel} of the head, whose {@code prev} is already -1. */
    int listPopHead(int[] head, int hi, int[] tail, int ti) {
        int p = head[hi], n = link[2 * p];
        head[hi] = n;
        if (n >= 0) link[2 * n + 1] = -1; else tail[ti] = -1;
        link[2 * p] = -1;
        return p;
    }

    void listDel(int[] head, int hi, int[] tail, int ti, int pfn) {
        int p = link[2 * pfn + 1], n = link[2 * pfn];
        if (p >= 0) link[2 * p] = n; else head[hi] = n;
        if (n >= 0) link[2 * n + 1] = p; else tail[ti] = p;
        link[2 * pfn] = -1;
        link[2 * pfn + 1] = -1;
    }
}
