package org.kmemlab.analysis;

/**
 * The live objects of a trace while {@link KmemStat} walks it: pointer → packed value, by open addressing
 * with linear probing. Each key sits next to its value in one {@code long[]}, so a probe costs one cache
 * line. HPPC's LongLongHashMap, which this replaces, keeps keys and values in two arrays: two misses per
 * lookup once the live set outgrows the caches. The map was half of stat's main thread on a 10M-event
 * trace. Removal shifts the following entries back (Knuth's Algorithm R), so no tombstones pile up under
 * the alloc/free churn. Key 0 marks an empty slot; a 0 key (a failed allocation's ptr) is held on the side.
 */
final class LivePtrMap {
    private long[] table;
    private int mask;
    private int size;
    private boolean hasZero;
    private long zeroValue;

    LivePtrMap(int expected) {
        int cap = Integer.highestOneBit(Math.max(16, expected) * 2 - 1);
        table = new long[2 * cap];
        mask = cap - 1;
    }

    int size() { return size + (hasZero ? 1 : 0); }

    private int home(long k) {
        long h = k * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    /** Maps {@code k} to {@code v}, replacing what it mapped to. */
    void put(long k, long v) { put(k, v, 0); }

    /** Maps {@code k} to {@code v} and returns what it mapped to before, or {@code absent}. */
    long put(long k, long v, long absent) {
        if (k == 0) {
            long old = hasZero ? zeroValue : absent;
            hasZero = true;
            zeroValue = v;
            return old;
        }
        long[] t = table;
        int i = home(k);
        for (long kk; (kk = t[2 * i]) != 0; i = (i + 1) & mask) {
            if (kk == k) {
                long old = t[2 * i + 1];
                t[2 * i + 1] = v;
                return old;
            }
        }
        t[2 * i] = k;
        t[2 * i + 1] = v;
        if (++size > (mask + 1) >>> 1) grow();
        return absent;
    }

    /** Removes {@code k} and returns its value, or {@code absent} when it was not there. */
    long remove(long k, long absent) {
        if (k == 0) {
            if (!hasZero) return absent;
            hasZero = false;
            return zeroValue;
        }
        long[] t = table;
        int i = home(k);
        for (long kk; (kk = t[2 * i]) != k; i = (i + 1) & mask) if (kk == 0) return absent;
        long v = t[2 * i + 1];
        // Algorithm R: an entry further on may move into the hole unless the hole lies before its home
        for (int j = (i + 1) & mask; ; j = (j + 1) & mask) {
            long kj = t[2 * j];
            if (kj == 0) break;
            int h = home(kj);
            if (((j - h) & mask) >= ((j - i) & mask)) {
                t[2 * i] = kj;
                t[2 * i + 1] = t[2 * j + 1];
                i = j;
            }
        }
        t[2 * i] = 0;
        t[2 * i + 1] = 0;
        size--;
        return v;
    }

    private void grow() {
        long[] old = table;
        table = new long[old.length * 2];
        mask = (table.length >>> 1) - 1;
        long[] t = table;
        for (int s = 0; s < old.length; s += 2) {
            long k = old[s];
            if (k == 0) continue;
            int i = home(k);
            while (t[2 * i] != 0) i = (i + 1) & mask;
            t[2 * i] = k;
            t[2 * i + 1] = old[s + 1];
        }
    }
}
