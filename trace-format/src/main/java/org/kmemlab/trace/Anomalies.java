package org.kmemlab.trace;

import java.util.LinkedHashMap;
import java.util.Map;

import com.carrotsearch.hppc.IntLongHashMap;
import com.carrotsearch.hppc.LongHashSet;

/**
 * Counts the trace semantics of bad data while a trace is written, in one streaming pass with bounded
 * memory: a free of an object that is not live (a double free when kmemlab saw it freed, an unknown object
 * otherwise, usually one allocated before the recording started), an allocation of a pointer that is
 * already live (a lost free), timestamps that go backwards on one CPU, and events from CPUs at or beyond
 * {@code nr_cpus}. None of these stops an import: real traces have lost events and wrapped ring buffers.
 *
 * <p>Slab objects (kmalloc, kmem_cache_alloc and their frees, which the kernel pairs across the two: a
 * kmem_cache_alloc'd object may be kfree'd) and pages (mm_page_alloc and mm_page_free by head pfn) are
 * tracked apart. {@code kvfree_call_rcu} hands an object to RCU: its later kfree from
 * {@code kfree_rcu_work} is the real free and is not a double free (SCHEMA.md, events beyond kmem.h).
 * {@code kfree(NULL)} and failed allocations (ptr 0) are not objects and are skipped.
 */
public final class Anomalies {
    public static final String DOUBLE_FREE = "double_free", FREE_UNKNOWN = "free_unknown", ALLOC_LIVE = "alloc_live",
            PAGE_DOUBLE_FREE = "page_double_free", PAGE_FREE_UNKNOWN = "page_free_unknown", PAGE_ALLOC_LIVE = "page_alloc_live",
            TS_BACKWARDS = "ts_backwards", CPU_BEYOND = "cpu_beyond_nr_cpus", UNTRACKED = "untracked_allocs";

    /**
     * Live objects tracked at most; beyond it allocations are counted as untracked (with the two freed
     * generations, a tracker's table stays under 128 MiB).
     */
    static final int MAX_LIVE = 2 << 20;
    /** Freed pointers remembered (two generations of this many) to tell a double free from an unknown object. */
    static final int FREED_GENERATION = 1 << 20;
    /** Distinct CPU ids kept for per-CPU timestamps and counts; a crafted trace cannot make this grow further. */
    static final int MAX_CPUS = 1 << 16;

    private final Tracker objects = new Tracker();
    private final Tracker pages = new Tracker();
    private final LongHashSet rcuPending = new LongHashSet();
    private final IntLongHashMap lastTs = new IntLongHashMap();
    private final IntLongHashMap perCpu = new IntLongHashMap();
    /** CPU ids below this are counted in arrays rather than the maps (two hash lookups per event otherwise). */
    private static final int SMALL_CPUS = 1024;
    private final long[] smallCount = new long[SMALL_CPUS];
    private final long[] smallLastTs = new long[SMALL_CPUS];
    private int smallSeen;
    private long tsBackwards;
    private long cpusOverflow;

    /**
     * Live and recently freed keys of one address space (object pointers or page frame numbers), in one
     * open-addressing table whose entries hold a key and its state side by side: an allocation or a free is
     * one probe sequence (usually one cache line) instead of four lookups in three hash sets, which is what
     * the writer's thread spent most of its time on. The meaning is that of three sets: {@code live}
     * (at most {@link #MAX_LIVE}), {@code freed} (this generation, at most {@link #FREED_GENERATION}) and
     * {@code freedOld} (the previous generation); a key is in at most one of them. Freed entries of older
     * generations, and keys dropped without a free, are stale: absent, and left behind when the table is rebuilt.
     */
    static final class Tracker {
        private static final long EMPTY = 0, LIVE = 1, STALE = 2;
        /** States from here on are freed entries: FREED0 + generation. */
        private static final long FREED0 = 3;
        /** key at 2i, state at 2i+1; a state of EMPTY marks a free slot (so key 0 needs no special case). */
        private long[] table = new long[2 * 1024];
        private int mask = 1023;
        private int used;
        private long generation;
        private int liveCount, freedCount;
        private final int maxLive, freedGeneration;
        long doubleFree, freeUnknown, allocLive, untracked;

        Tracker() { this(MAX_LIVE, FREED_GENERATION); }

        /** Smaller limits, for tests that cross them. */
        Tracker(int maxLive, int freedGeneration) {
            this.maxLive = maxLive;
            this.freedGeneration = freedGeneration;
        }

        private int slot(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            int i = (int) (h ^ (h >>> 32)) & mask;
            long[] t = table;
            while (t[2 * i + 1] != EMPTY && t[2 * i] != k) i = (i + 1) & mask;
            return i;
        }

        /** The first table word {@code k} hashes to; {@link Anomalies#warm} only loads it. */
        long peek(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return table[2 * ((int) (h ^ (h >>> 32)) & mask)];
        }

        /** The slot of {@code k}, claimed for it (state STALE) when absent. */
        private int claim(long k) {
            int i = slot(k);
            if (table[2 * i + 1] == EMPTY) {
                if (used + 1 > (mask + 1) / 4 * 3) {
                    rebuild();
                    i = slot(k);
                }
                table[2 * i] = k;
                table[2 * i + 1] = STALE;
                used++;
            }
            return i;
        }

        /** Drops stale entries, and doubles the table while what remains would fill over half of it. */
        private void rebuild() {
            long[] old = table;
            int keep = 0;
            for (int i = 1; i < old.length; i += 2) if (!stale(old[i])) keep++;
            int cap = mask + 1;
            while (keep + 1 > cap / 2) cap *= 2;
            table = new long[2 * cap];
            mask = cap - 1;
            used = 0;
            for (int i = 0; i < old.length; i += 2) {
                if (stale(old[i + 1])) continue;
                int j = slot(old[i]);
                table[2 * j] = old[i];
                table[2 * j + 1] = old[i + 1];
                used++;
            }
        }

        private boolean stale(long state) {
            return state == EMPTY || state == STALE || (state >= FREED0 && state - FREED0 < generation - 1);
        }

        void alloc(long k) {
            int i = claim(k);
            long st = table[2 * i + 1];
            if (st == LIVE) {
                allocLive++;
                return;
            }
            // Leaving freed or freedOld (or nothing).
            if (st == FREED0 + generation) freedCount--;
            if (liveCount >= maxLive) {
                untracked++;
                table[2 * i + 1] = STALE;
                return;
            }
            table[2 * i + 1] = LIVE;
            liveCount++;
        }

        /** Returns false when {@code k} was not live. */
        boolean free(long k) {
            int i = slot(k);
            if (table[2 * i + 1] != LIVE) return false;
            liveCount--;
            remember(i);
            return true;
        }

        void notLive(long k) {
            int i = claim(k);
            long st = table[2 * i + 1];
            if (st >= FREED0 && st - FREED0 >= generation - 1) {
                doubleFree++;
            } else {
                freeUnknown++;
                remember(i);
            }
        }

        private void remember(int i) {
            if (freedCount >= freedGeneration) {
                // freedOld = freed; freed = new: the generation before the previous one becomes stale.
                generation++;
                freedCount = 0;
            }
            table[2 * i + 1] = FREED0 + generation;
            freedCount++;
        }
    }

    /** What an event name means here ({@link #kindOf}); the writer keeps it with the name's dictionary entry. */
    static final int K_OTHER = 0, K_SLAB_ALLOC = 1, K_SLAB_FREE = 2, K_RCU_FREE = 3, K_PAGE_ALLOC = 4, K_PAGE_FREE = 5;

    static int kindOf(String ev) {
        if (ev == null) return K_OTHER;
        if (EventNames.isSlabAlloc(ev)) return K_SLAB_ALLOC;
        if (EventNames.isSlabFree(ev)) return K_SLAB_FREE;
        if (ev.equals("rcu:rcu_kvfree_callback") || ev.equals("rcu:rcu_kfree_callback")) return K_RCU_FREE;
        if (ev.equals(EventNames.MM_PAGE_ALLOC)) return K_PAGE_ALLOC;
        if (ev.equals(EventNames.MM_PAGE_FREE) || ev.equals(EventNames.MM_PAGE_FREE_BATCHED)) return K_PAGE_FREE;
        return K_OTHER;
    }

    private long warmSink;

    /**
     * Loads, for each of the events [from, to) about to be {@link #observe}d, the event itself and the tracker entry
     * its pointer or pfn hashes to, and nothing else. The trackers' tables are megabytes of random accesses, and
     * the events were written on another core: one by one, inside the writer's long per-event code, every one of
     * these loads was a cache miss waited for alone (a quarter of the encoder thread's samples on
     * {@code Tracker.slot}). In this short loop the loads of many events do not depend on each other, so the
     * processor has many of them in flight at once. Only a cache effect: the counts do not depend on it.
     */
    void warm(TraceEvent[] events, int from, int to) {
        long sink = 0;
        for (int i = from; i < to; i++) {
            TraceEvent e = events[i];
            long f = e.present;
            if ((f & TraceEvent.F_PTR) != 0) sink += objects.peek(e.ptr);
            else if ((f & TraceEvent.F_PFN) != 0) sink += pages.peek(e.pfn);
        }
        warmSink += sink;
    }

    /** Looks at one event; called in stream order. */
    public void observe(TraceEvent e) { observe(e, kindOf(e.event)); }

    /**
     * {@link #observe(TraceEvent)} with the event's {@link #kindOf} known: the writer works it out once per
     * distinct name instead of comparing every event's name with up to seven others.
     */
    void observe(TraceEvent e, int kind) {
        if (e.has(TraceEvent.F_CPU)) {
            int cpu = e.cpu;
            if (cpu >= 0 && cpu < SMALL_CPUS) {
                long n = smallCount[cpu];
                if (n == 0 && smallSeen + perCpu.size() >= MAX_CPUS) {
                    cpusOverflow++;
                } else {
                    if (n == 0) smallSeen++;
                    else if (e.tsNs < smallLastTs[cpu]) tsBackwards++;
                    smallCount[cpu] = n + 1;
                    smallLastTs[cpu] = e.tsNs;
                }
            } else if (perCpu.containsKey(cpu) || smallSeen + perCpu.size() < MAX_CPUS) {
                perCpu.addTo(cpu, 1);
                int slot = lastTs.indexOf(cpu);
                if (lastTs.indexExists(slot)) {
                    if (e.tsNs < lastTs.indexGet(slot)) tsBackwards++;
                    lastTs.indexReplace(slot, e.tsNs);
                } else {
                    lastTs.indexInsert(slot, cpu, e.tsNs);
                }
            } else {
                cpusOverflow++;
            }
        }
        if (kind == K_OTHER) return;
        if (e.has(TraceEvent.F_PTR) && e.ptr != 0) {
            if (kind == K_SLAB_ALLOC) {
                if (!rcuPending.isEmpty()) rcuPending.remove(e.ptr);
                objects.alloc(e.ptr);
            } else if (kind == K_SLAB_FREE) {
                if (!objects.free(e.ptr) && (rcuPending.isEmpty() || !rcuPending.remove(e.ptr))) objects.notLive(e.ptr);
            } else if (kind == K_RCU_FREE) {
                if (objects.free(e.ptr)) {
                    if (rcuPending.size() < MAX_LIVE) rcuPending.add(e.ptr);
                } else {
                    objects.notLive(e.ptr);
                }
            }
        } else if (e.has(TraceEvent.F_PFN)) {
            if (kind == K_PAGE_ALLOC) {
                pages.alloc(e.pfn);
            } else if (kind == K_PAGE_FREE) {
                if (!pages.free(e.pfn)) pages.notLive(e.pfn);
            }
        }
    }

    /**
     * The counts, in a fixed order. {@code nrCpus} &le; 0 means unknown: then only negative CPU ids count as
     * beyond it (and events beyond {@link #MAX_CPUS} distinct ids).
     */
    public Map<String, Long> counts(int nrCpus) {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put(DOUBLE_FREE, objects.doubleFree);
        m.put(FREE_UNKNOWN, objects.freeUnknown);
        m.put(ALLOC_LIVE, objects.allocLive);
        m.put(PAGE_DOUBLE_FREE, pages.doubleFree);
        m.put(PAGE_FREE_UNKNOWN, pages.freeUnknown);
        m.put(PAGE_ALLOC_LIVE, pages.allocLive);
        m.put(TS_BACKWARDS, tsBackwards);
        long beyond = cpusOverflow;
        if (nrCpus > 0) for (int c = nrCpus; c < SMALL_CPUS; c++) beyond += smallCount[c];
        for (var c : perCpu) {
            if (c.key < 0 || (nrCpus > 0 && c.key >= nrCpus)) beyond += c.value;
        }
        m.put(CPU_BEYOND, beyond);
        m.put(UNTRACKED, objects.untracked + pages.untracked);
        return m;
    }

    /** The first number in {@code s} (a meta value like {@code 8} or a snapshot file's {@code 8\n}), or -1. */
    static int parseCpus(String s) {
        if (s == null) return -1;
        String t = s.strip();
        if (t.isEmpty() || t.length() > 9 || !t.chars().allMatch(Character::isDigit)) return -1;
        return Integer.parseInt(t);
    }
}
