package org.kmemlab.replay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.Zone;
import org.kmemlab.alloc.policy.UpperModel;
import org.kmemlab.alloc.rcu.KfreeRcu;
import org.kmemlab.alloc.slab.KernelCacheFlags;
import org.kmemlab.alloc.slab.SlubCache;
import org.kmemlab.alloc.spl.SplCache;
import org.kmemlab.alloc.task.TaskCosts;
import org.kmemlab.trace.TableWriter;
import org.kmemlab.trace.TraceEvent;

/**
 * The requests of the seed scenarios that {@code kmem.h} does not trace (trace-format SCHEMA.md, "Events
 * beyond kmem.h"), and the measurements their notebooks query: kfree_rcu's counters and timeline,
 * {@code cgroup_mutex} holds and waiters (cgroup_mutex.arrow), SPL emergency objects over time.
 *
 * <p>cgroup operations follow {@code kernel/cgroup/cgroup.c}: {@code cgroup_mkdir()} and
 * {@code cgroup_rmdir()} run under {@code cgroup_mutex}. The rmdir destroys the cgroup's per-memcg caches
 * inside the mutex, as 4.10's offline/release path did ({@code memcg_destroy_kmem_caches()}, "executed while
 * holding cgroup_mutex", seed 004); in the kernel that part ran from the css release work, which also took
 * the mutex, so the model folds both into the rmdir.
 */
final class SeedRequests {
    private final UpperModel upper;
    private final PageAllocator pages;
    private final CostTable costs;
    private final KLock cgroupMutex;
    /** Creation flags from {@code probe:kmem_cache_create}, by cache name. */
    private final Map<String, Integer> createdFlags = new TreeMap<>();

    long kfreeRcuRequests, kfreeRcuWorkFrees, cacheCreates, cacheDestroys, cachesDestroyed, cachesBusy, cpuWorkNs;
    /** Set by the last request: the fallback kvfree_call_rcu used, and its cgroup_mutex wait and hold (-1: none). */
    String lastFallback;
    long lastMutexWait = -1, lastMutexHold = -1;

    /** One hold of cgroup_mutex by a cgroup operation. */
    static final class Hold {
        /** Arrival is the trace's time: an operation on a CPU that the holder keeps busy waits there, not in mutex_lock. */
        long tsNs, startNs, arrival, lockAt, acquired, release;
        int cpu, pid;
        String op, path;
        long cgroupId;
        int waiters;
        /** From arrival to acquisition; {@link #mutexWaitNs} is the part spent asleep in mutex_lock. */
        long waitNs, mutexWaitNs;
        int cachesDestroyed, cachesLeft;
    }

    final List<Hold> holds = new ArrayList<>();

    /** The trace's first timestamp: model time 0. */
    long t0;

    SeedRequests(UpperModel upper, PageAllocator pages, CostTable costs) {
        TaskCosts.init();
        this.upper = upper;
        this.pages = pages;
        this.costs = costs;
        this.cgroupMutex = upper.cgroupMutex;
    }

    // ---- kfree_rcu ----

    /**
     * The object of an {@code rcu:rcu_kvfree_callback}: the {@code ptr} column, or else {@code rhp} less the
     * callback's {@code offset} (the tracepoint prints {@code rhp=… func=<offset>}: the rcu_head inside the
     * object and its offset). 0 when neither is there.
     */
    static long rcuObject(TraceEvent e) {
        if (e.has(TraceEvent.F_PTR)) return e.ptr;
        String rhp = extra(e.extra, "rhp");
        if (rhp == null) return 0;
        String off = extra(e.extra, "offset");
        if (off == null) off = extra(e.extra, "func");
        try {
            return parseNum(rhp) - (off == null ? 0 : parseNum(off));
        } catch (NumberFormatException x) {
            return 0;
        }
    }

    /** The one-argument (headless) form: a probe on kvfree_call_rcu recording {@code head=0}. */
    static boolean headless(TraceEvent e) {
        String h = extra(e.extra, "head");
        if (h == null) return false;
        try {
            return parseNum(h) == 0;
        } catch (NumberFormatException x) {
            return false;
        }
    }

    /** {@code kvfree_call_rcu()} of the model's object {@code addr}; notes the fallback taken, if any. */
    void kfreeRcu(ReplayContext ctx, TraceEvent e, long addr) {
        KfreeRcu k = upper.kfreeRcu;
        long head = k.statHeadFallback, sync = k.statSyncFallback;
        k.kvfreeCallRcu(ctx, addr, !headless(e));
        kfreeRcuRequests++;
        if (k.statHeadFallback > head) lastFallback = "rcu_head";
        else if (k.statSyncFallback > sync) lastFallback = "synchronize_rcu";
    }

    Map<String, Object> kfreeRcuSummary() {
        KfreeRcu k = upper.kfreeRcu;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("bnode_alloc", k.bnodeAlloc().name());
        m.put("requests", kfreeRcuRequests);
        m.put("bulk", k.statBulk);
        m.put("rcu_head_fallback", k.statHeadFallback);
        m.put("synchronize_rcu_fallback", k.statSyncFallback);
        m.put("bnode_page_ok", k.statBnodeAllocOk);
        m.put("bnode_page_fail", k.statBnodeAllocFail);
        m.put("page_cache_hits", k.statCacheHit);
        m.put("batches", k.statBatches);
        m.put("freed", k.statFreed);
        m.put("pending_end", k.pendingObjects());
        m.put("kfree_rcu_work_frees_in_trace", kfreeRcuWorkFrees);
        return m;
    }

    // ---- caches ----

    /**
     * The flags a cache gets when the replay first meets it: a per-memcg cache {@code root(serial:name)}
     * inherits its root's (4.x {@code memcg_create_kmem_cache()} passes {@code root_cache->flags}); the root's
     * come from its {@code probe:kmem_cache_create}, else from what the kernel source says
     * ({@link KernelCacheFlags}).
     */
    int flagsFor(String name) {
        String root = KernelCacheFlags.memcgRoot(name);
        String key = root != null ? root : name;
        Integer f = createdFlags.get(key);
        if (f != null) return f;
        SlubCache r = root != null ? upper.slab.cache(root) : null;
        return (r != null ? r.flags : 0) | KernelCacheFlags.of(key);
    }

    /** {@code probe:kmem_cache_create}: {@code cache}, {@code bytes_req} (object size), extra {@code flags= align=}. */
    long cacheCreate(ReplayContext ctx, TraceEvent e) {
        if (e.cache == null) return Replayer.UNKNOWN;
        int flags = KernelCacheFlags.parse(extra(e.extra, "flags"));
        createdFlags.put(e.cache, flags);
        cacheCreates++;
        if (upper.slab.cache(e.cache) != null) return 0;
        int size = (int) Math.max(8, e.has(TraceEvent.F_BYTES_REQ) ? e.bytesReq : e.bytesAlloc);
        String align = extra(e.extra, "align");
        upper.slab.kmemCacheCreate(ctx, e.cache, size, align == null ? 0 : (int) parseNum(align), flags);
        return 0;
    }

    /** {@code probe:kmem_cache_destroy} from a module's exit: the cache and (4.x) its per-memcg children. */
    long cacheDestroy(ReplayContext ctx, TraceEvent e) {
        SlubCache s = e.cache == null ? null : upper.slab.cache(e.cache);
        if (s == null) return Replayer.UNKNOWN;
        List<SlubCache> list = new ArrayList<>();
        for (SlubCache c : upper.slab.caches().values()) if (e.cache.equals(KernelCacheFlags.memcgRoot(c.name))) list.add(c);
        list.add(s);
        int n = upper.destroyCaches(ctx, list, org.kmemlab.alloc.policy.UpperConfig.DestroyCaller.MODULE_EXIT);
        cacheDestroys++;
        cachesDestroyed += n;
        cachesBusy += list.size() - n;
        return 0;
    }

    // ---- cgroups ----

    /** {@code cgroup_mkdir()}: the cgroup is created under cgroup_mutex. */
    long cgroupMkdir(ReplayContext ctx, TraceEvent e) {
        Hold h = hold(ctx, e, "mkdir");
        ctx.enter("cgroup_mkdir");
        lock(ctx, h);
        ctx.charge(costs.get(TaskCosts.CGROUP_MKDIR));
        unlock(ctx, h);
        ctx.exit();
        return 0;
    }

    /**
     * {@code cgroup_rmdir()}: under cgroup_mutex the cgroup is destroyed and memcg offline destroys each of
     * its per-memcg caches, {@code <root>(<id>:<name>)}, through the slab model's {@code kmem_cache_destroy()}
     * (so {@code slab.rcuDestroy} decides whether each TYPESAFE_BY_RCU cache waits for an rcu_barrier() here).
     * Caches are matched by the cgroup's id and leaf name; when none matches (4.x named them after
     * {@code css->serial_nr}, which the tracepoint's id is not), by the leaf name alone.
     */
    long cgroupRmdir(ReplayContext ctx, TraceEvent e) {
        Hold h = hold(ctx, e, "rmdir");
        String leaf = h.path == null ? "" : h.path.substring(h.path.lastIndexOf('/') + 1);
        List<SlubCache> mine = new ArrayList<>();
        String exact = "(" + h.cgroupId + ":" + leaf + ")";
        for (SlubCache c : upper.slab.caches().values()) if (c.name.endsWith(exact)) mine.add(c);
        if (mine.isEmpty() && !leaf.isEmpty()) {
            for (SlubCache c : upper.slab.caches().values()) {
                if (KernelCacheFlags.memcgRoot(c.name) != null && c.name.endsWith(":" + leaf + ")")) mine.add(c);
            }
        }
        ctx.enter("cgroup_rmdir");
        lock(ctx, h);
        ctx.charge(costs.get(TaskCosts.CGROUP_RMDIR));
        int n = mine.isEmpty() ? 0 : upper.memcgDestroyKmemCaches(ctx, mine);
        unlock(ctx, h);
        ctx.exit();
        h.cachesDestroyed = n;
        h.cachesLeft = mine.size() - n;
        cachesDestroyed += n;
        cachesBusy += mine.size() - n;
        return 0;
    }

    private Hold hold(ReplayContext ctx, TraceEvent e, String op) {
        Hold h = new Hold();
        h.tsNs = e.tsNs;
        h.startNs = ctx.now;
        h.arrival = Math.min(ctx.now, e.tsNs - t0);
        h.cpu = e.cpu;
        h.pid = e.pid;
        h.op = op;
        h.path = extra(e.extra, "path");
        String id = extra(e.extra, "id");
        try {
            h.cgroupId = id == null ? -1 : parseNum(id);
        } catch (NumberFormatException x) {
            h.cgroupId = -1;
        }
        return h;
    }

    private void lock(ReplayContext ctx, Hold h) {
        h.lockAt = ctx.now;
        ctx.lock(cgroupMutex);
        h.acquired = ctx.now;
        h.mutexWaitNs = h.acquired - h.lockAt;
        h.waitNs = h.acquired - h.arrival;
        // Every earlier hold still in effect when this operation arrived kept it waiting (holds are serial).
        if (h.waitNs > 0) {
            for (int i = holds.size() - 1; i >= 0 && holds.get(i).release > h.arrival; i--) holds.get(i).waiters++;
        }
    }

    private void unlock(ReplayContext ctx, Hold h) {
        ctx.unlock(cgroupMutex);
        h.release = ctx.now;
        holds.add(h);
        lastMutexWait = h.mutexWaitNs;
        lastMutexHold = h.release - h.acquired;
    }

    Map<String, Object> cgroupMutexSummary() {
        Map<String, Object> m = new LinkedHashMap<>();
        long longest = 0, totalHold = 0, totalWait = 0, totalMutexWait = 0;
        int waiting = 0, maxWaiters = 0;
        Hold top = null;
        for (Hold h : holds) {
            long held = h.release - h.acquired;
            totalHold += held;
            totalWait += h.waitNs;
            totalMutexWait += h.mutexWaitNs;
            if (h.waitNs > 0) waiting++;
            maxWaiters = Math.max(maxWaiters, h.waiters);
            if (top == null || held > longest) {
                longest = held;
                top = h;
            }
        }
        m.put("operations", holds.size());
        m.put("total_hold_ns", totalHold);
        m.put("longest_hold_ns", longest);
        m.put("longest_hold_op", top == null ? null : top.op + " " + top.path + " at " + top.tsNs);
        m.put("longest_hold_waiters", top == null ? 0 : top.waiters);
        m.put("max_waiters", maxWaiters);
        m.put("waiting_operations", waiting);
        m.put("total_wait_ns", totalWait);
        m.put("total_mutex_sleep_ns", totalMutexWait);
        m.put("caches_destroyed", cachesDestroyed);
        m.put("caches_left_busy", cachesBusy);
        return m;
    }

    /** cgroup_mutex.arrow: one row per cgroup operation, with its wait, its hold and how many waited behind it. */
    void writeCgroupTable(Path file, String policy) throws IOException {
        try (TableWriter w = new TableWriter(file,
                List.of("ts_ns", "start_ns", "cpu", "pid", "op", "cgroup_id", "path", "wait_ns", "mutex_wait_ns", "acquired_ns",
                        "hold_ns", "waiters", "caches_destroyed", "caches_left"),
                List.of(TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.INT, TableWriter.Type.INT,
                        TableWriter.Type.STRING, TableWriter.Type.LONG, TableWriter.Type.STRING, TableWriter.Type.LONG,
                        TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.LONG, TableWriter.Type.INT,
                        TableWriter.Type.INT, TableWriter.Type.INT),
                Map.of("kmemlab.policy", policy))) {
            for (Hold h : holds) {
                w.add(h.tsNs).add(h.startNs).add(h.cpu).add(h.pid).add(h.op).add(h.cgroupId).add(h.path).add(h.waitNs)
                        .add(h.mutexWaitNs).add(h.acquired).add(h.release - h.acquired).add(h.waiters).add(h.cachesDestroyed).add(h.cachesLeft);
                w.endRow();
            }
        }
    }

    // ---- CPU work ----

    /** {@code kmemlab:cpu_work}: {@code ns=} if given, else memcpy bandwidth per KiB of {@code bytes_req}. */
    long cpuWork(ReplayContext ctx, TraceEvent e) {
        String ns = extra(e.extra, "ns");
        long t;
        if (ns != null) {
            t = parseNum(ns);
        } else {
            long bytes = e.has(TraceEvent.F_BYTES_REQ) ? e.bytesReq : 0;
            t = bytes * costs.get(TaskCosts.MEMCPY_PER_KIB) / 1024;
        }
        ctx.charge(Math.max(0, t));
        cpuWorkNs += Math.max(0, t);
        return 0;
    }

    // ---- timeline ----

    /** Metrics sampled with the timeline: pcp pages, kfree_rcu progress and failures, SPL emergency objects. */
    void sample(Map<String, Double> m, Map<String, SplCache> spl) {
        long pcp = 0;
        for (Zone z : pages.zones()) if (z.populated()) pcp += z.pcpPages();
        m.put("pcp_pages", (double) pcp);
        KfreeRcu k = upper.kfreeRcu;
        if (kfreeRcuRequests > 0) {
            m.put("kfree_rcu_pending", (double) k.pendingObjects());
            m.put("kfree_rcu_bnode_ok", (double) k.statBnodeAllocOk);
            m.put("kfree_rcu_bnode_fail", (double) k.statBnodeAllocFail);
            m.put("kfree_rcu_fallbacks", (double) (k.statHeadFallback + k.statSyncFallback));
            m.put("kfree_rcu_pages", (double) k.bnodePages());
        }
        for (Map.Entry<String, SplCache> e : spl.entrySet()) {
            SplCache c = e.getValue();
            m.put("spl_emergency:" + e.getKey(), (double) c.emergencyCount());
            m.put("spl_emergency_max:" + e.getKey(), (double) c.objEmergencyMax);
            m.put("spl_slabs:" + e.getKey(), (double) c.slabTotal);
            m.put("spl_objs_alloc:" + e.getKey(), (double) c.objAlloc);
        }
    }

    // ---- extra text ----

    /** The value of {@code key} in an event's {@code key=value} text; a value runs up to the next {@code key=}. */
    static String extra(String text, String key) {
        if (text == null) return null;
        Matcher m = PATTERNS.computeIfAbsent(key, k -> Pattern.compile(
                "(?:^|\\s)" + Pattern.quote(k) + "=(.*?)(?=\\s+[A-Za-z_][A-Za-z0-9_]*=|\\s*$)")).matcher(text);
        return m.find() ? m.group(1) : null;
    }

    private static final Map<String, Pattern> PATTERNS = new java.util.concurrent.ConcurrentHashMap<>();

    static long parseNum(String s) {
        String t = s.trim();
        if (t.startsWith("0x") || t.startsWith("0X")) return Long.parseUnsignedLong(t.substring(2), 16);
        return Long.parseLong(t);
    }
}
