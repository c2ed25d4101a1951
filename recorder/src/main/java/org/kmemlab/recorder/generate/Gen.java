package org.kmemlab.recorder.generate;

import java.io.IOException;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.TreeMap;

import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.TraceEvent;

/**
 * The machinery every scenario shares: a seeded random source, a virtual clock driven by actors (one per
 * task), the kernel-looking values a recording would carry (direct-map object pointers that are reused
 * after a free, pfns, call sites with stable offsets, gfp printed by the era's {@link GfpCodec}), and the
 * time-ordered hand-over of events to a {@link Sink}. Events are buffered and released once no actor can
 * still emit an earlier one, so memory stays bounded however long the scenario runs.
 *
 * <p>Determinism: everything random comes from one {@link SplittableRandom} seeded with the user's seed,
 * actors run in (time, creation order) and buffered events sort by (time, emission order).
 */
public final class Gen {
    public final SplittableRandom rng;
    public final GfpCodec gfp;
    public final String kernel;
    final Map<String, String> header = new LinkedHashMap<>();
    final Map<String, String> snapshot = new TreeMap<>();
    private final PriorityQueue<Actor> actors = new PriorityQueue<>((a, b) -> a.next != b.next ? Long.compare(a.next, b.next)
            : Integer.compare(a.id, b.id));
    private int actorIds;
    private final ArrayList<Pending> buf = new ArrayList<>();
    private long seq;
    private long stepTime;
    private Sink sink;
    /** Boot-relative time of the first event, as perf prints it: some minutes after boot. */
    public final long t0;

    public Gen(long seed, String kernel) {
        this.rng = new SplittableRandom(seed);
        this.kernel = kernel;
        this.gfp = GfpCodec.forRelease(kernel);
        this.t0 = 600_000_000_000L + rng.nextLong(3_000_000_000_000L);
        // Where this kernel's direct map and vmemmap start (x86-64 without KASLR of those regions, as 4.x printed them).
        this.nextObj = 0xffff888100000000L + (rng.nextLong(1 << 20) << 12);
        this.nextPfn = 0x100000L + rng.nextLong(1 << 16);
    }

    // ---- metadata ----

    /** A replay hint: {@code kmemlab.hint.<key>}, any {@code kmemlab replay --set} key. */
    public void hint(String key, String value) { header.put("kmemlab.hint." + key, value); }

    public void meta(String key, String value) { header.put(key, value); }

    /** A /proc file of the machine snapshot (trailer section {@code snapshot}). */
    public void snapshot(String name, String content) { snapshot.put(name, content); }

    // ---- actors and time ----

    /** Something that runs at virtual times; {@link #step} emits events at or after {@code now} and returns its next time, or -1 when done. */
    public abstract static class Actor {
        long next;
        int id;

        protected abstract long step(Gen g, long now);
    }

    public void start(Actor a, long at) {
        if (at < stepTime) throw new IllegalStateException("actor scheduled in the past: " + at + " < " + stepTime);
        a.next = at;
        a.id = actorIds++;
        actors.add(a);
    }

    /** A one-shot action at {@code at} (a deferred free by another task, a timer). */
    public void at(long at, java.util.function.LongConsumer action) {
        start(new Actor() {
            @Override protected long step(Gen g, long now) { action.accept(now); return -1; }
        }, at);
    }

    /** Runs every actor to completion, handing events to {@code out} in time order. */
    void run(Sink out) throws IOException {
        this.sink = out;
        while (!actors.isEmpty()) {
            Actor a = actors.poll();
            stepTime = a.next;
            settle(a.next);
            long n = a.step(this, a.next);
            if (n >= 0) {
                a.next = Math.max(n, a.next);
                actors.add(a);
            }
            if (buf.size() >= 32_768) release(actors.isEmpty() ? Long.MAX_VALUE : actors.peek().next);
        }
        release(Long.MAX_VALUE);
    }

    private void release(long before) throws IOException {
        buf.sort((x, y) -> x.e.tsNs != y.e.tsNs ? Long.compare(x.e.tsNs, y.e.tsNs) : Long.compare(x.seq, y.seq));
        int n = 0;
        while (n < buf.size() && buf.get(n).e.tsNs < before) {
            Pending p = buf.get(n++);
            sink.accept(p.e, p.chain);
        }
        buf.subList(0, n).clear();
    }

    private record Pending(TraceEvent e, List<String> chain, long seq) {}

    /** Jitter: {@code ns} ± {@code frac}·ns, uniformly; never below 1. */
    public long jitter(long ns, double frac) {
        long d = (long) (ns * frac);
        return Math.max(1, d <= 0 ? ns : ns - d + rng.nextLong(2 * d + 1));
    }

    // ---- tasks ----

    /** A kernel or user thread: pid (tgid), tid, comm, and the CPU it runs on. */
    public record Task(int pid, int tid, String comm, int cpu) {
        public Task on(int c) { return new Task(pid, tid, comm, c); }
    }

    private int nextPid = 300;

    /** A kernel thread: its own pid. */
    public Task kthread(String comm, int cpu) {
        int p = newPid();
        return new Task(p, p, comm, cpu);
    }

    public int newPid() {
        nextPid += 1 + rng.nextInt(7);
        return nextPid;
    }

    /** A thread of process {@code pid}. */
    public Task thread(int pid, String comm, int cpu) { return new Task(pid, newPid(), comm, cpu); }

    // ---- events ----

    public TraceEvent event(Task t, long ts, String name) {
        TraceEvent e = new TraceEvent();
        e.ts(ts).cpu(t.cpu).pid(t.pid).tid(t.tid);
        e.comm = t.comm;
        e.event = name;
        return e;
    }

    /** Queues {@code e} with call chain {@code chain} (innermost first, symbols only; null for none). */
    public void emit(TraceEvent e, List<String> chain) {
        if (e.tsNs < stepTime) throw new IllegalStateException("event before the current step: " + e);
        buf.add(new Pending(e, chain, seq++));
    }

    /** {@code fn+0x…}: a call site whose offset depends on the function only (same kernel build every run). */
    public static String site(String fn) {
        int h = fn.hashCode() * 0x9E3779B1;
        return fn + "+0x" + Integer.toHexString(0x12 + ((h >>> 8) % 0x3c0));
    }

    private void callSite(TraceEvent e, String fn) {
        e.callSite = site(fn);
        e.callSiteFn = fn;
    }

    private void gfp(TraceEvent e, long bits) {
        e.gfpFlags(bits);
        e.gfp = gfp.format(bits);
    }

    /** The era's value of a gfp spelling such as {@code GFP_NOFS|__GFP_NOWARN}. */
    public long gfp(String spelled) {
        long v = gfp.parse(spelled);
        if (v < 0) throw new IllegalArgumentException("no gfp " + spelled + " in layout " + gfp.layout());
        return v;
    }

    /** {@code kmem:kmalloc}: returns the object's pointer. */
    public long kmalloc(Task t, long ts, String site, long bytesReq, long bytesAlloc, long gfpBits, int node, List<String> chain) {
        TraceEvent e = event(t, ts, "kmem:kmalloc");
        callSite(e, site);
        long p = objAlloc(bytesAlloc);
        e.ptr(p).bytesReq(bytesReq).bytesAlloc(bytesAlloc);
        gfp(e, gfpBits);
        if (node != Integer.MIN_VALUE) e.node(node);
        emit(e, chain);
        return p;
    }

    /** {@code kmem:kfree} (also what kvfree of a kmalloc'ed buffer traces). */
    public void kfree(Task t, long ts, String site, long ptr, long bytesAlloc, List<String> chain) {
        TraceEvent e = event(t, ts, "kmem:kfree");
        callSite(e, site);
        e.ptr(ptr);
        emit(e, chain);
        later(ts, 0, bytesAlloc, ptr, null);
    }

    /** {@code kmem:kmem_cache_alloc} of cache {@code cache} (printed as {@code name=}): returns the pointer. */
    public long cacheAlloc(Task t, long ts, String site, String cache, long bytesReq, long bytesAlloc, long gfpBits, List<String> chain) {
        TraceEvent e = event(t, ts, "kmem:kmem_cache_alloc");
        callSite(e, site);
        long p = objAlloc(bytesAlloc);
        e.ptr(p).bytesReq(bytesReq).bytesAlloc(bytesAlloc);
        e.cache = cache;
        gfp(e, gfpBits);
        emit(e, chain);
        long[] l = live.computeIfAbsent(cache, k -> new long[2]);
        l[1] = Math.max(l[1], ++l[0]);
        return p;
    }

    private final Map<String, long[]> live = new HashMap<>();

    /**
     * A free takes effect at its timestamp, not when an actor emits it ahead of time: until then its
     * address is not handed out again and the object still counts as live.
     */
    private record Release(long ts, long seq, int kind, long key, long addr, String cache) {}

    private final PriorityQueue<Release> releases = new PriorityQueue<>((a, b) -> a.ts != b.ts ? Long.compare(a.ts, b.ts)
            : Long.compare(a.seq, b.seq));

    private void later(long ts, int kind, long key, long addr, String cache) {
        releases.add(new Release(ts, seq++, kind, key, addr, cache));
    }

    /** Applies the frees due by {@code now}. */
    public void settle(long now) {
        while (!releases.isEmpty() && releases.peek().ts <= now) {
            Release r = releases.poll();
            if (r.kind == 1) {
                pfnFree(r.addr, (int) r.key);
                continue;
            }
            objFree(r.addr, r.key);
            if (r.cache != null) {
                long[] l = live.get(r.cache);
                if (l != null) l[0]--;
            }
        }
    }

    /** Objects of {@code cache} allocated and not yet freed so far, and the most there ever were. */
    public long live(String cache) { return live.getOrDefault(cache, new long[2])[0]; }

    public long peakLive(String cache) { return live.getOrDefault(cache, new long[2])[1]; }

    public void cacheFree(Task t, long ts, String site, String cache, long ptr, long bytesAlloc, List<String> chain) {
        TraceEvent e = event(t, ts, "kmem:kmem_cache_free");
        callSite(e, site);
        e.ptr(ptr);
        e.cache = cache;
        emit(e, chain);
        later(ts, 0, bytesAlloc, ptr, cache);
    }

    /** {@code kmem:mm_page_alloc}: returns the pfn. */
    public long pageAlloc(Task t, long ts, int order, int migratetype, long gfpBits, List<String> chain) {
        TraceEvent e = event(t, ts, "kmem:mm_page_alloc");
        long pfn = pfnAlloc(order);
        e.pfn(pfn).order(order).migratetype(migratetype);
        gfp(e, gfpBits);
        emit(e, chain);
        return pfn;
    }

    public void pageFree(Task t, long ts, long pfn, int order, List<String> chain) {
        TraceEvent e = event(t, ts, "kmem:mm_page_free");
        e.pfn(pfn).order(order);
        emit(e, chain);
        later(ts, 1, order, pfn, null);
    }

    /** {@code kmemlab:cpu_work}: {@code bytes} processed by {@code leaf} (memcpy_erms…) under {@code chain}. */
    public void cpuWork(Task t, long ts, String leaf, long bytes, List<String> chain) {
        TraceEvent e = event(t, ts, "kmemlab:cpu_work");
        e.callSite = leaf;
        e.callSiteFn = leaf;
        e.bytesReq(bytes);
        emit(e, chain);
    }

    /**
     * {@code rcu:rcu_kvfree_callback} for object {@code obj} whose rcu_head is at {@code offset}: the tracepoint
     * prints {@code rhp} (obj + offset); the schema keeps the object in {@code ptr}.
     */
    public void kvfreeRcu(Task t, long ts, long obj, int offset, long qlen, List<String> chain) {
        TraceEvent e = event(t, ts, "rcu:rcu_kvfree_callback");
        e.ptr(obj);
        e.extra = "rcuname=rcu_sched offset=" + offset + " qlen=" + qlen;
        emit(e, chain);
    }

    /** {@code cgroup:cgroup_mkdir} / {@code cgroup_rmdir} with the 4.x+ fields. */
    public void cgroup(Task t, long ts, String name, int root, long id, int level, String path, List<String> chain) {
        TraceEvent e = event(t, ts, name);
        e.extra = "root=" + root + " id=" + id + " level=" + level + " path=" + path;
        emit(e, chain);
    }

    /** /proc/meminfo of a machine with {@code total} bytes of which {@code free} are free and {@code cached} page cache. */
    public static String meminfo(long total, long free, long cached) {
        return String.format("MemTotal:       %8d kB%nMemFree:        %8d kB%nMemAvailable:   %8d kB%nBuffers:        %8d kB%nCached:         %8d kB%n",
                total >> 10, free >> 10, (free + cached) >> 10, 0L, cached >> 10);
    }

    // ---- addresses ----

    private long nextObj;
    private final Map<Long, ArrayDeque<Long>> freeObjs = new HashMap<>();
    private long nextPfn;
    private final Map<Integer, ArrayDeque<Long>> freePfns = new HashMap<>();

    /**
     * A direct-map address for an object of {@code size} bytes: the most recently freed one of that size
     * first (slab freelists are LIFO), else carved from a fresh slab-sized region aligned like SLUB's.
     */
    public long objAlloc(long size) {
        ArrayDeque<Long> q = freeObjs.get(size);
        if (q != null && !q.isEmpty()) return q.pollLast();
        long align = size >= 4096 ? 4096 : size >= 64 ? 64 : 8;
        nextObj = (nextObj + align - 1) & -align;
        long p = nextObj;
        nextObj += Math.max(size, 8);
        // now and then a gap: other caches' slabs sit between ours
        if (rng.nextInt(64) == 0) nextObj += 4096L << rng.nextInt(3);
        return p;
    }

    private void objFree(long ptr, long size) { freeObjs.computeIfAbsent(size, k -> new ArrayDeque<>()).add(ptr); }

    public long pfnAlloc(int order) {
        ArrayDeque<Long> q = freePfns.get(order);
        if (q != null && !q.isEmpty()) return q.pollLast();
        long n = 1L << order;
        nextPfn = (nextPfn + n - 1) & -n;
        long p = nextPfn;
        nextPfn += n;
        if (rng.nextInt(16) == 0) nextPfn += 1 + rng.nextInt(64);
        return p;
    }

    private void pfnFree(long pfn, int order) { freePfns.computeIfAbsent(order, k -> new ArrayDeque<>()).add(pfn); }

    /** The sinks generated events go to: an Arrow trace, or perf script text. */
    public interface Sink {
        void accept(TraceEvent e, List<String> chain) throws IOException;
    }

    /** Chain helper: {@code inner} frames then {@code outer}. */
    public static List<String> chain(List<String> outer, String... inner) {
        List<String> l = new ArrayList<>(inner.length + outer.size());
        for (String s : inner) l.add(s);
        l.addAll(outer);
        return List.copyOf(l);
    }
}
