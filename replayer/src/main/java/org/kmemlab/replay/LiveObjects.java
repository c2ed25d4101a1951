package org.kmemlab.replay;

import java.util.Arrays;

import com.carrotsearch.hppc.LongIntHashMap;

/**
 * The trace's live objects: for each trace pointer, the model's address, how it was allocated (route, mempool
 * index, allocating task, packed in one long) and the cache object that frees it. One hash lookup per
 * allocation or free (the entries' fields sit in parallel arrays, reused through a free list) instead of one
 * per field in separate maps.
 */
final class LiveObjects {
    private final LongIntHashMap slotOf = new LongIntHashMap();
    private long[] addr = new long[1024];
    private long[] meta = new long[1024];
    private Object[] owner = new Object[1024];
    private int[] freeSlots = new int[1024];
    private int nrFree;
    private int used;

    /** Remembers (or replaces) the object at trace pointer {@code ptr}. */
    void put(long ptr, long address, long metadata, Object cache) {
        int mi = slotOf.indexOf(ptr);
        int s;
        if (mi >= 0) {
            s = slotOf.indexGet(mi);
        } else {
            s = nrFree > 0 ? freeSlots[--nrFree] : newSlot();
            slotOf.indexInsert(mi, ptr, s);
        }
        addr[s] = address;
        meta[s] = metadata;
        owner[s] = cache;
    }

    private int newSlot() {
        if (used == addr.length) {
            int n = 2 * used;
            addr = Arrays.copyOf(addr, n);
            meta = Arrays.copyOf(meta, n);
            owner = Arrays.copyOf(owner, n);
        }
        return used++;
    }

    /** The entry of {@code ptr} for {@link #address}, {@link #meta}, {@link #owner}, {@link #remove}; -1 if absent. */
    int find(long ptr) {
        int mi = slotOf.indexOf(ptr);
        return mi < 0 ? -1 : slotOf.indexGet(mi);
    }

    long address(int slot) { return addr[slot]; }

    long meta(int slot) { return meta[slot]; }

    Object owner(int slot) { return owner[slot]; }

    void remove(long ptr, int slot) {
        slotOf.remove(ptr);
        owner[slot] = null;
        if (nrFree == freeSlots.length) freeSlots = Arrays.copyOf(freeSlots, 2 * nrFree);
        freeSlots[nrFree++] = slot;
    }

    /** Calls {@code slotFn} with the entry of every live object, in no particular order. */
    void forEachSlot(java.util.function.IntConsumer slotFn) {
        for (var c : slotOf) slotFn.accept(c.value);
    }
}
