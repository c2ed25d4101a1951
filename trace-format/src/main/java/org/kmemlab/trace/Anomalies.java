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

    /** Live objects tracked at most; beyond it allocations are counted as untracked (32 MiB of hash slots). */
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
    private long tsBackwards;
    private long cpusOverflow;

    /** Live and recently freed keys of one address space (object pointers or page frame numbers). */
    private static final class Tracker {
        final LongHashSet live = new LongHashSet();
        LongHashSet freed = new LongHashSet();
        LongHashSet freedOld = new LongHashSet();
        long doubleFree, freeUnknown, allocLive, untracked;

        void alloc(long k) {
            if (live.contains(k)) {
                allocLive++;
                return;
            }
            freed.remove(k);
            freedOld.remove(k);
            if (live.size() >= MAX_LIVE) {
                untracked++;
                return;
            }
            live.add(k);
        }

        /** Returns false when {@code k} was not live. */
        boolean free(long k) {
            if (live.remove(k)) {
                remember(k);
                return true;
            }
            return false;
        }

        void notLive(long k) {
            if (freed.contains(k) || freedOld.contains(k)) {
                doubleFree++;
            } else {
                freeUnknown++;
                remember(k);
            }
        }

        private void remember(long k) {
            if (freed.size() >= FREED_GENERATION) {
                freedOld = freed;
                freed = new LongHashSet();
            }
            freed.add(k);
        }
    }

    /** Looks at one event; called in stream order. */
    public void observe(TraceEvent e) {
        if (e.has(TraceEvent.F_CPU)) {
            int cpu = e.cpu;
            if (perCpu.containsKey(cpu) || perCpu.size() < MAX_CPUS) {
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
        String ev = e.event;
        if (ev == null) return;
        if (e.has(TraceEvent.F_PTR) && e.ptr != 0) {
            if (EventNames.isSlabAlloc(ev)) {
                rcuPending.remove(e.ptr);
                objects.alloc(e.ptr);
            } else if (EventNames.isSlabFree(ev)) {
                if (!objects.free(e.ptr) && !rcuPending.remove(e.ptr)) objects.notLive(e.ptr);
            } else if (ev.equals("rcu:rcu_kvfree_callback") || ev.equals("rcu:rcu_kfree_callback")) {
                if (objects.free(e.ptr)) {
                    if (rcuPending.size() < MAX_LIVE) rcuPending.add(e.ptr);
                } else {
                    objects.notLive(e.ptr);
                }
            }
        } else if (e.has(TraceEvent.F_PFN)) {
            if (ev.equals(EventNames.MM_PAGE_ALLOC)) {
                pages.alloc(e.pfn);
            } else if (ev.equals(EventNames.MM_PAGE_FREE) || ev.equals(EventNames.MM_PAGE_FREE_BATCHED)) {
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
