package org.kmemlab.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

/** Small traces written event by event for the replayer's scenario tests. */
final class Traces implements AutoCloseable {
    private final TraceWriter w;
    private final TraceEvent e = new TraceEvent();
    private final Map<Integer, String> comms = new java.util.HashMap<>();

    Traces(Path p) throws IOException {
        this(p, Map.of());
    }

    /** With extra schema metadata, e.g. {@code kmemlab.hint.<key>} replay hints. */
    Traces(Path p, Map<String, String> header) throws IOException {
        Map<String, String> h = new java.util.LinkedHashMap<>(header);
        h.put(TraceSchema.META_SOURCE_FORMAT, "generated");
        w = new TraceWriter(p, h, TraceWriter.Compression.NONE);
    }

    private TraceEvent base(long ts, int cpu, int pid, String comm, String event) {
        e.clear();
        e.ts(ts).cpu(cpu).pid(pid).tid(pid);
        e.comm = comms.getOrDefault(pid, comm);
        e.event = event;
        return e;
    }

    Traces kmalloc(long ts, int cpu, int pid, long ptr, long size, String site) {
        kmallocEvent(ts, cpu, pid, ptr, size, site);
        w.accept(e);
        return this;
    }

    /** A kmalloc with the given raw gfp_flags (named as printed in {@code gfpName}). */
    Traces kmalloc(long ts, int cpu, int pid, long ptr, long size, String site, long gfp, String gfpName) {
        kmallocEvent(ts, cpu, pid, ptr, size, site);
        e.gfpFlags(gfp);
        e.gfp = gfpName;
        w.accept(e);
        return this;
    }

    private void kmallocEvent(long ts, int cpu, int pid, long ptr, long size, String site) {
        base(ts, cpu, pid, "task" + pid, EventNames.KMALLOC).ptr(ptr).bytesReq(size).bytesAlloc(size).gfpFlags(0xcc0);
        e.gfp = "GFP_KERNEL";
        e.callSite = site + "+0x10";
        e.callSiteFn = site;
    }

    Traces kfree(long ts, int cpu, int pid, long ptr) {
        base(ts, cpu, pid, "task" + pid, EventNames.KFREE).ptr(ptr);
        e.callSiteFn = "kfree_caller";
        w.accept(e);
        return this;
    }

    Traces cacheAlloc(long ts, int cpu, int pid, String cache, long ptr, long size, long gfp, String gfpName) {
        base(ts, cpu, pid, "task" + pid, EventNames.KMEM_CACHE_ALLOC).ptr(ptr).bytesReq(size).bytesAlloc(size).gfpFlags(gfp);
        e.gfp = gfpName;
        e.cache = cache;
        e.callSiteFn = "alloc_" + cache;
        w.accept(e);
        return this;
    }

    Traces cacheFree(long ts, int cpu, int pid, String cache, long ptr) {
        base(ts, cpu, pid, "task" + pid, EventNames.KMEM_CACHE_FREE).ptr(ptr);
        e.cache = cache;
        e.callSiteFn = "free_" + cache;
        w.accept(e);
        return this;
    }

    Traces pageAlloc(long ts, int cpu, int pid, long pfn, int order, long gfp, String gfpName) {
        base(ts, cpu, pid, "task" + pid, EventNames.MM_PAGE_ALLOC).pfn(pfn).order(order).migratetype(0).gfpFlags(gfp);
        e.gfp = gfpName;
        w.accept(e);
        return this;
    }

    /** A page allocation of migratetype {@code mt} (order, pfn as the tracepoint reports them). */
    Traces pageAllocMt(long ts, int cpu, int pid, long pfn, int order, int mt) {
        base(ts, cpu, pid, "task" + pid, EventNames.MM_PAGE_ALLOC).pfn(pfn).order(order).migratetype(mt).gfpFlags(0xcc0);
        e.gfp = "GFP_KERNEL";
        w.accept(e);
        return this;
    }

    /** mm_page_alloc_zone_locked: a block taken from the buddy under zone->lock (a pcp refill when percpu_refill=1). */
    Traces zoneLocked(long ts, int cpu, long pfn, int order, int mt, boolean refill) {
        base(ts, cpu, 0, "swapper", EventNames.MM_PAGE_ALLOC_ZONE_LOCKED).pfn(pfn).order(order).migratetype(mt);
        e.extra = "percpu_refill=" + (refill ? 1 : 0);
        w.accept(e);
        return this;
    }

    /** mm_page_pcpu_drain: a block returned from a pcp list to the buddy. */
    Traces pcpuDrain(long ts, int cpu, long pfn, int order, int mt) {
        base(ts, cpu, 0, "swapper", EventNames.MM_PAGE_PCPU_DRAIN).pfn(pfn).order(order).migratetype(mt);
        w.accept(e);
        return this;
    }

    Traces pageFree(long ts, int cpu, int pid, long pfn, int order) {
        base(ts, cpu, pid, "task" + pid, EventNames.MM_PAGE_FREE).pfn(pfn).order(order);
        w.accept(e);
        return this;
    }

    /** A vmscan tracepoint as kmemlab record stores it (node 0), e.g. {@link EventNames#VMSCAN_KSWAPD_WAKE}. */
    Traces vmscan(long ts, int cpu, int pid, String comm, String event) {
        base(ts, cpu, pid, comm, event).node(0);
        w.accept(e);
        return this;
    }

    /** A machine snapshot file in the trailer, e.g. {@code slabinfo}, as {@code kmemlab record} stores it. */
    Traces snapshot(String name, String content) {
        w.snapshot(name, content);
        return this;
    }

    /** Names task {@code pid} {@code comm} (e.g. {@code txg_sync}) in the events written from now on. */
    Traces comm(int pid, String comm) {
        comms.put(pid, comm);
        return this;
    }

    /** A kmalloc whose call chain (innermost first, as perf records it) the trace carries. */
    Traces kmallocChain(long ts, int cpu, int pid, long ptr, long size, String site, List<String> chain) {
        base(ts, cpu, pid, "task" + pid, EventNames.KMALLOC).ptr(ptr).bytesReq(size).bytesAlloc(size).gfpFlags(0xcc0);
        e.gfp = "GFP_KERNEL";
        e.callSiteFn = site;
        e.stackId(w.stack(chain));
        w.accept(e);
        return this;
    }

    /** {@code rcu:rcu_kvfree_callback} as the tracepoint prints it: the rcu_head at {@code offset} inside the object. */
    Traces kfreeRcu(long ts, int cpu, int pid, long ptr, int offset) {
        base(ts, cpu, pid, "task" + pid, EventNames.RCU_KVFREE_CALLBACK);
        e.extra = "rcuname=rcu_sched rhp=0x" + Long.toHexString(ptr + offset) + " offset=" + offset + " qlen=1";
        e.callSiteFn = "kvfree_call_rcu";
        w.accept(e);
        return this;
    }

    Traces cgroup(long ts, int cpu, int pid, boolean mkdir, long id, String path) {
        base(ts, cpu, pid, "task" + pid, mkdir ? EventNames.CGROUP_MKDIR : EventNames.CGROUP_RMDIR);
        e.extra = "root=1 id=" + id + " level=" + path.split("/").length + " path=" + path;
        e.callSiteFn = mkdir ? "cgroup_mkdir" : "cgroup_rmdir";
        w.accept(e);
        return this;
    }

    Traces cacheCreate(long ts, int cpu, int pid, String cache, long size, String flags) {
        base(ts, cpu, pid, "task" + pid, EventNames.PROBE_KMEM_CACHE_CREATE).bytesReq(size);
        e.cache = cache;
        e.extra = "flags=" + flags + " align=0";
        e.callSiteFn = "kmem_cache_create";
        w.accept(e);
        return this;
    }

    Traces cacheDestroy(long ts, int cpu, int pid, String cache) {
        base(ts, cpu, pid, "task" + pid, EventNames.PROBE_KMEM_CACHE_DESTROY);
        e.cache = cache;
        e.callSiteFn = "kmem_cache_destroy";
        w.accept(e);
        return this;
    }

    /** {@code kmemlab:cpu_work}: {@code ns} < 0 leaves the cost to the cost table; a null chain records none. */
    Traces cpuWork(long ts, int cpu, int pid, String leaf, long bytes, long ns, List<String> chain) {
        base(ts, cpu, pid, "task" + pid, EventNames.KMEMLAB_CPU_WORK).bytesReq(bytes);
        e.callSiteFn = leaf;
        if (ns >= 0) e.extra = "ns=" + ns;
        if (chain != null) e.stackId(w.stack(chain));
        w.accept(e);
        return this;
    }

    @Override public void close() throws IOException { w.close(); }

    /** A seeded random workload: several CPUs and tasks allocating and freeing objects and pages. */
    /** Returns how many events were written. */
    static int random(Path p, int events, long seed) throws IOException {
        Random r = new Random(seed);
        Traces t = new Traces(p);
        long[] live = new long[4096];
        String[] liveCache = new String[4096];
        int n = 0;
        int written = 0;
        long ts = 1_000_000_000L;
        long nextPtr = 0xffff888100000000L;
        String[] caches = {"dentry", "filp", "buffer_head", "vm_area_struct"};
        for (int i = 0; i < events; i++) {
            written++;
            ts += r.nextInt(3000);
            int cpu = r.nextInt(4);
            int pid = 100 + r.nextInt(12);
            int k = r.nextInt(10);
            if (n > 0 && (k < 4 || n == live.length)) {
                int j = r.nextInt(n);
                if (liveCache[j] == null) t.kfree(ts, cpu, pid, live[j]); else t.cacheFree(ts, cpu, pid, liveCache[j], live[j]);
                live[j] = live[--n];
                liveCache[j] = liveCache[n];
            } else if (k < 7) {
                long ptr = nextPtr += 64;
                t.kmalloc(ts, cpu, pid, ptr, 8 + r.nextInt(3000), "site_" + r.nextInt(6));
                live[n] = ptr;
                liveCache[n++] = null;
            } else if (k < 9) {
                long ptr = nextPtr += 256;
                String c = caches[r.nextInt(caches.length)];
                t.cacheAlloc(ts, cpu, pid, c, ptr, 192, 0xcc0, "GFP_KERNEL");
                live[n] = ptr;
                liveCache[n++] = c;
            } else {
                long pfn = 0x100000 + 8L * i;
                int o = r.nextInt(3);
                t.pageAlloc(ts, cpu, pid, pfn, o, 0xcc0, "GFP_KERNEL");
                t.pageFree(ts + 500, cpu, pid, pfn, o);
                written++;
            }
        }
        t.close();
        return written;
    }
}
