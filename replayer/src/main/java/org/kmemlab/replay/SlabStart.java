package org.kmemlab.replay;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.kmemlab.alloc.slab.KmallocCaches;
import org.kmemlab.alloc.slab.SlabInfo;

import com.carrotsearch.hppc.LongIntHashMap;

/**
 * The free slots each cache's slabs held when the recording began, as far as the trace proves them
 * ({@code replay.slabStart=trace}). A snapshot's slabinfo is of its own moment, and SLUB's {@code active_objs}
 * counts the cpu slabs and cpu partial lists as full ({@code get_slabinfo()} subtracts only
 * {@code count_partial()} of the node lists), so it is a poor guide to when a cache will grow.
 *
 * <p>An allocation inside a slab that the trace did not allocate ({@link SlabPages}) took a slot that was free
 * when the recording began, unless a free in the same slab had made it so since. Per slab, the largest excess
 * of allocations over frees since the start is the fewest free slots the slab can have had; the sum over a
 * cache's slabs is a lower bound of what they held, reached whenever the slab was filled at some moment. SLUB
 * hands out every slot it can reach before it allocates a slab ({@code ___slab_alloc()}: the cpu slab, the cpu
 * partial list, {@code get_partial_node()}, then {@code new_slab()}), so these slots, and not the snapshot's,
 * decide when a cache grows. A slab is a naturally aligned block of {@code 1 << order} pages (slabinfo's
 * pagesperslab), so an object's slab is its page rounded down.
 *
 * <p>Memory grows with the pre-existing slabs the trace touches, which the machine's memory bounds.
 */
final class SlabStart {
    /** A slab object's owner: a named cache, or the kmalloc cache of a {@code bytes_alloc} and the recorded gfp_flags (-1: none). */
    record Key(String cache, long bytesAlloc, long gfp) {
        /** A kmalloc beyond the kmalloc caches: kmalloc_large's pages, no slab. */
        boolean large() { return cache == null && (bytesAlloc <= 0 || bytesAlloc > KMALLOC_MAX_CACHE_SIZE); }
    }

    static final long KMALLOC_MAX_CACHE_SIZE = 8192;

    private final SlabPages pages;
    private final Map<String, Integer> orders = new HashMap<>();
    /** Head pfn of each pre-existing slab seen to its index in the arrays below. */
    private final LongIntHashMap slabIds = new LongIntHashMap();
    private Key[] keyOf = new Key[256];
    private int[] orderOf = new int[256], cur = new int[256], most = new int[256], cpuOf = new int[256];
    private final java.util.function.IntUnaryOperator orderOfSlab = s -> orderOf[s];
    private int slabs;
    /** Frees in pages whose slab no allocation has shown yet: they count once the slab is known. */
    private final LongIntHashMap earlyFrees = new LongIntHashMap();

    SlabStart(SlabPages pages, List<SlabInfo.Line> slabinfo) {
        this.pages = pages;
        for (SlabInfo.Line l : slabinfo) orders.put(l.name(), Integer.numberOfTrailingZeros(l.pagesPerSlab()));
    }

    /** Whether the trace can prove anything: its pointers are real addresses and the slabs' orders are known. */
    boolean enabled() { return pages.known() && !orders.isEmpty(); }

    /**
     * A slab allocation at {@code ptr} for {@code owner}; {@code replaced} when the trace still held an object there
     * (a free the trace did not show came first).
     */
    void alloc(long ptr, Key owner, boolean replaced, int cpu) {
        if (owner.large()) return;
        long pfn = pages.pfnOf(ptr);
        if (pages.inTraceSlab(pfn)) return;
        int s = find(pfn);
        if (s < 0) {
            String cache = owner.cache();
            Integer order = orders.get(cache != null ? cache : KmallocCaches.cacheName(KmallocCaches.NORMAL, (int) owner.bytesAlloc()));
            if (order == null || order > 3) return;
            s = newSlab(pfn & -(1L << order), order, owner, cpu);
        }
        if (replaced) cur[s]--;
        if (++cur[s] > most[s]) most[s] = cur[s];
    }

    /** A slab free of the object at {@code ptr}. */
    void free(long ptr) {
        long pfn = pages.pfnOf(ptr);
        if (pages.inTraceSlab(pfn)) return;
        int s = find(pfn);
        if (s >= 0) cur[s]--;
        else earlyFrees.addTo(pfn, 1);
    }

    /**
     * One pre-existing slab as the trace showed it: its rank among the slabs by first allocation, its proven free
     * slots, the CPU that allocated from it first (the slab was that CPU's cpu slab or on its partial list), and
     * the objects in it that the trace frees without having allocated them.
     */
    record Slab(int first, int free, int cpu, long[] preexisting) {}

    private final Map<Integer, com.carrotsearch.hppc.LongArrayList> preexisting = new HashMap<>();

    /**
     * A pre-existing object of {@code cache} (null: kmalloc, or not known): kept with its slab when the trace showed
     * the slab's owner and it agrees. Returns the owner, or null.
     */
    Key preexisting(long ptr, String cache) {
        int s = find(pages.pfnOf(ptr));
        if (s < 0) return null;
        Key k = keyOf[s];
        if (cache != null && !cache.equals(k.cache())) return null;
        preexisting.computeIfAbsent(s, x -> new com.carrotsearch.hppc.LongArrayList()).add(ptr);
        return k;
    }

    /** Per owner, the pre-existing slabs the trace touched, in the order of their first allocation. */
    Map<Key, List<Slab>> proofs() {
        Map<Key, List<Slab>> out = new LinkedHashMap<>();
        for (int s = 0; s < slabs; s++) {
            com.carrotsearch.hppc.LongArrayList pre = preexisting.get(s);
            out.computeIfAbsent(keyOf[s], x -> new ArrayList<>())
                    .add(new Slab(s, most[s], cpuOf[s], pre == null ? new long[0] : pre.toArray()));
        }
        out.replaceAll((k, l) -> List.copyOf(l));
        return out;
    }

    private int find(long pfn) {
        int k = SlabPages.blockHolding(slabIds, pfn, orderOfSlab);
        return k < 0 ? -1 : slabIds.indexGet(k);
    }

    private int newSlab(long head, int order, Key key, int cpu) {
        if (slabs == keyOf.length) {
            int n = 2 * slabs;
            keyOf = java.util.Arrays.copyOf(keyOf, n);
            orderOf = java.util.Arrays.copyOf(orderOf, n);
            cur = java.util.Arrays.copyOf(cur, n);
            most = java.util.Arrays.copyOf(most, n);
            cpuOf = java.util.Arrays.copyOf(cpuOf, n);
        }
        int s = slabs++;
        keyOf[s] = key;
        orderOf[s] = order;
        cpuOf[s] = cpu;
        int early = 0;
        if (!earlyFrees.isEmpty()) {
            for (long p = head; p < head + (1L << order); p++) {
                int k = earlyFrees.indexOf(p);
                if (k >= 0) {
                    early += earlyFrees.indexGet(k);
                    earlyFrees.indexRemove(k);
                }
            }
        }
        cur[s] = -early;
        most[s] = 0;
        slabIds.put(head, s);
        return s;
    }
}
