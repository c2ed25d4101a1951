package org.kmemlab.alloc.core;

import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A lock validator after {@code kernel/locking/lockdep.c}, for the model's own lock acquisitions
 * (allocator-model.md §E.1 #2 and #3).
 *
 * <ul>
 * <li><b>Lock-class ordering.</b> Locks are grouped into classes ({@link KLock#className()}). Acquiring class B
 * while the most recent held lock is of class A records the dependency A → B, as {@code check_prevs_add()}
 * does (only the top held lock: the ones below it already have their own edge to it). A new dependency that
 * closes a cycle is a "possible circular locking dependency" — reported even though this run did not
 * deadlock, with the acquisition stack that first created each edge of the cycle.</li>
 * <li><b>Reclaim as a lock.</b> {@code fs_reclaim} is the bare lockdep map of mm/page_alloc.c:
 * {@code fs_reclaim_acquire(gfp)} takes it when {@code __need_reclaim()} holds (may enter direct reclaim, not
 * PF_MEMALLOC, not __GFP_NOLOCKDEP) and the gfp, through {@code current_gfp_context()}, has __GFP_FS. It is
 * taken for a moment on every allocation that might reclaim ({@code prepare_alloc_pages()} → "lock L held
 * while allocating" = L → fs_reclaim) and held across {@code __perform_reclaim()} and kswapd's
 * {@code balance_pgdat()} ("L taken inside reclaim" = fs_reclaim → L).</li>
 * <li><b>Reclaim outside its allowed context.</b> Not a lockdep check: the model knows the gfp the caller
 * asked for and the scope the task declared (SPL's PF_FSTRANS, which the 2012 kernel did not honour), so
 * reclaim entered with __GFP_FS or __GFP_IO that either forbids is reported once per (task, call path)
 * with a count — the vmalloc page-table case of seed 000 (allocator-model.md §B.10).</li>
 * <li><b>Wait types</b> ({@code check_wait_context()}, CONFIG_PROVE_RAW_LOCK_NESTING): a lock whose wait type
 * is above the lowest wait type of the locks held — spinlock_t under raw_spinlock_t, a mutex under any
 * spinlock — is "BUG: Invalid wait context"; on PREEMPT_RT spinlock_t sleeps, and taking it in atomic
 * context is "BUG: sleeping function called from invalid context". Reported once per (outer class, inner
 * class, call path) with a count.</li>
 * </ul>
 *
 * <p>Cost: an acquisition is a push, a scan of the (short) held stack and a hash lookup; call stacks are
 * rendered only when a new dependency or a violation is recorded.
 */
public final class LockDep {
    /** Where an acquisition happens: who, and the model frames (rendered only when needed). */
    public interface Site {
        long task();
        String comm();
        /** The folded frame stack, outermost first ({@code a;b;c}). */
        String stack();
    }

    /** The locks one context holds (one per running request or kworker), and what its caller allowed. */
    public static final class Held {
        KLock[] locks = new KLock[8];
        int depth;
        /** The gfp of the request being served, or -1 when unknown (kworkers, RCU callbacks). */
        public long requestGfp = -1;
        /** Bits the task declared it must not recurse into ({@code __GFP_IO|__GFP_FS} for PF_FSTRANS). */
        public long declaredScope;

        public void reset(long requestGfp, long declaredScope) {
            java.util.Arrays.fill(locks, 0, depth, null);
            depth = 0;
            this.requestGfp = requestGfp;
            this.declaredScope = declaredScope;
        }

        public int depth() { return depth; }
    }

    /** One dependency A → B and the acquisition that first created it. */
    public record Edge(String from, String to, long task, String comm, String stack) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("held", from);
            m.put("acquired", to);
            m.put("task", task);
            m.put("comm", comm);
            m.put("frames", stack);
            return m;
        }
    }

    /** A cycle of dependencies: "WARNING: possible circular locking dependency detected". */
    public record Circular(List<Edge> chain) {
        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", "possible circular locking dependency");
            List<String> classes = new ArrayList<>();
            for (Edge e : chain) classes.add(e.from());
            classes.add(chain.get(0).from());
            m.put("cycle", String.join(" -> ", classes));
            List<Map<String, Object>> l = new ArrayList<>();
            for (Edge e : chain) l.add(e.toJson());
            m.put("dependencies", l);
            return m;
        }
    }

    /** Reclaim with __GFP_FS/__GFP_IO entered where the caller's gfp or the task's scope forbids it. */
    public static final class ReclaimInScope {
        public final long task;
        public final String comm;
        public final long callerGfp, reclaimGfp, scope;
        public final String stack;
        public long count;

        ReclaimInScope(long task, String comm, long callerGfp, long reclaimGfp, long scope, String stack) {
            this.task = task;
            this.comm = comm;
            this.callerGfp = callerGfp;
            this.reclaimGfp = reclaimGfp;
            this.scope = scope;
            this.stack = stack;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", "fs_reclaim taken inside " + scopeName(callerGfp, scope) + " scope");
            m.put("task", task);
            m.put("comm", comm);
            m.put("caller_gfp", callerGfp < 0 ? null : gfpName(callerGfp));
            m.put("task_scope", scope == 0 ? null : scope == (Gfp.IO | Gfp.FS) ? "NOIO" : "NOFS");
            m.put("reclaim_gfp", gfpName(reclaimGfp));
            m.put("count", count);
            m.put("frames", stack);
            return m;
        }
    }

    /** A lock taken in a context its wait type does not allow. */
    public static final class WaitContext {
        public final String bug, outer, inner;
        public final long task;
        public final String comm, stack;
        public long count;

        WaitContext(String bug, String outer, String inner, long task, String comm, String stack) {
            this.bug = bug;
            this.outer = outer;
            this.inner = inner;
            this.task = task;
            this.comm = comm;
            this.stack = stack;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("bug", bug);
            m.put("held", outer);
            m.put("acquired", inner);
            m.put("count", count);
            m.put("first_task", task);
            m.put("first_comm", comm);
            m.put("frames", stack);
            return m;
        }
    }

    /** Distinct reports kept per list; later distinct ones are only counted (lockdep itself stops at one). */
    static final int MAX_REPORTS = 256;

    private final boolean preemptRt;
    /** The {@code __fs_reclaim_map}; one per validator because KLocks carry replay state. */
    public final KLock fsReclaim = new KLock("fs_reclaim", KLock.Kind.LOCKDEP_MAP, "fs_reclaim");
    private final Map<KLock, Integer> classOfLock = new IdentityHashMap<>();
    private final Map<String, Integer> classIds = new HashMap<>();
    private final List<String> classNames = new ArrayList<>();
    private final List<List<Integer>> after = new ArrayList<>();
    private final Map<Long, Edge> edges = new HashMap<>();
    private final java.util.Set<String> cyclesSeen = new java.util.HashSet<>();
    public final List<Circular> circular = new ArrayList<>();
    private final Map<String, WaitContext> waitContext = new LinkedHashMap<>();
    private final Map<String, ReclaimInScope> reclaimInScope = new LinkedHashMap<>();
    public long droppedReports;

    public LockDep(boolean preemptRt) { this.preemptRt = preemptRt; }

    public Held newHeld() { return new Held(); }

    private int classId(KLock l) {
        Integer c = classOfLock.get(l);
        if (c != null) return c;
        c = classIds.computeIfAbsent(l.className(), n -> {
            classNames.add(n);
            after.add(new ArrayList<>());
            return classNames.size() - 1;
        });
        classOfLock.put(l, c);
        return c;
    }

    /** {@code lock_acquire()}: the wait-type check, the new dependency, the push. */
    public void acquire(Held h, KLock l, Site site) { acquire(h, l, site, false); }

    /**
     * {@code lock_acquire()} with {@code trylock}: a trylock cannot wait, so lockdep's validate_chain() adds no
     * dependency for it (check_prevs_add() runs only for !hlock->trylock), but check_wait_context() still
     * applies and the lock is held like any other.
     */
    public void acquire(Held h, KLock l, Site site, boolean trylock) {
        int c = classId(l);
        KLock.WaitType next = l.waitType(preemptRt);
        if (next != KLock.WaitType.INV && h.depth > 0) {
            KLock outer = null;
            KLock.WaitType cur = KLock.WaitType.SLEEP;
            for (int i = 0; i < h.depth; i++) {
                KLock.WaitType w = h.locks[i].waitType(preemptRt);
                if (w != KLock.WaitType.INV && w.ordinal() < cur.ordinal()) {
                    cur = w;
                    outer = h.locks[i];
                }
            }
            if (outer != null && next.ordinal() > cur.ordinal()) waitContextViolation(outer, l, next, site);
        }
        if (h.depth > 0 && !trylock) {
            int p = classId(h.locks[h.depth - 1]);
            if (p != c) addEdge(p, c, site);
        }
        if (h.depth == h.locks.length) h.locks = java.util.Arrays.copyOf(h.locks, h.depth * 2);
        h.locks[h.depth++] = l;
    }

    /** {@code lock_release()}: the most recent hold of {@code l} goes, wherever it is in the stack. */
    public void release(Held h, KLock l) {
        for (int i = h.depth - 1; i >= 0; i--) {
            if (h.locks[i] == l) {
                System.arraycopy(h.locks, i + 1, h.locks, i, h.depth - i - 1);
                h.locks[--h.depth] = null;
                return;
            }
        }
    }

    /** {@code fs_reclaim_acquire(gfp)} after {@code __need_reclaim()}; see {@link ExecContext#fsReclaimAcquire}. */
    public void fsReclaimAcquire(Held h, long gfp, boolean reclaiming, Site site) {
        if ((gfp & Gfp.FS) != 0) acquire(h, fsReclaim, site);
        if (!reclaiming) return;
        long forbidden = h.declaredScope | (h.requestGfp >= 0 ? ~h.requestGfp & (Gfp.IO | Gfp.FS) : 0);
        if ((gfp & (Gfp.IO | Gfp.FS) & forbidden) == 0) return;
        String stack = site.stack();
        String key = site.comm() + "|" + stack;
        ReclaimInScope r = reclaimInScope.get(key);
        if (r == null) {
            if (reclaimInScope.size() >= MAX_REPORTS) { droppedReports++; return; }
            r = new ReclaimInScope(site.task(), site.comm(), h.requestGfp, gfp, h.declaredScope, stack);
            reclaimInScope.put(key, r);
        }
        r.count++;
    }

    public void fsReclaimRelease(Held h, long gfp) {
        if ((gfp & Gfp.FS) != 0) release(h, fsReclaim);
    }

    private void waitContextViolation(KLock outer, KLock inner, KLock.WaitType next, Site site) {
        String bug = next == KLock.WaitType.SLEEP ? "BUG: sleeping function called from invalid context"
                : "BUG: Invalid wait context";
        String stack = site.stack();
        String key = outer.className() + "|" + inner.className() + "|" + stack;
        WaitContext w = waitContext.get(key);
        if (w == null) {
            if (waitContext.size() >= MAX_REPORTS) { droppedReports++; return; }
            w = new WaitContext(bug, outer.className(), inner.className(), site.task(), site.comm(), stack);
            waitContext.put(key, w);
        }
        w.count++;
    }

    private void addEdge(int from, int to, Site site) {
        long key = ((long) from << 32) | to;
        if (edges.containsKey(key)) return;
        Edge e = new Edge(classNames.get(from), classNames.get(to), site.task(), site.comm(), site.stack());
        edges.put(key, e);
        after.get(from).add(to);
        List<Integer> back = path(to, from);
        if (back == null) return;
        List<Edge> chain = new ArrayList<>();
        chain.add(e);
        for (int i = 0; i + 1 < back.size(); i++) chain.add(edges.get(((long) back.get(i) << 32) | back.get(i + 1)));
        TreeSet<String> ids = new TreeSet<>();
        for (Edge x : chain) ids.add(x.from() + ">" + x.to());
        if (!cyclesSeen.add(String.join(",", ids))) return;
        if (circular.size() >= MAX_REPORTS) { droppedReports++; return; }
        circular.add(new Circular(chain));
    }

    /** A shortest dependency path from class {@code a} to class {@code b}, as class ids, or null. */
    private List<Integer> path(int a, int b) {
        int[] prev = new int[classNames.size()];
        java.util.Arrays.fill(prev, -2);
        ArrayDeque<Integer> q = new ArrayDeque<>();
        q.add(a);
        prev[a] = -1;
        while (!q.isEmpty()) {
            int x = q.poll();
            if (x == b) {
                List<Integer> p = new ArrayList<>();
                for (int y = b; y != -1; y = prev[y]) p.add(0, y);
                return p;
            }
            for (int y : after.get(x)) if (prev[y] == -2) { prev[y] = x; q.add(y); }
        }
        return null;
    }

    public List<WaitContext> waitContextReports() { return List.copyOf(waitContext.values()); }
    public List<ReclaimInScope> reclaimInScopeReports() { return List.copyOf(reclaimInScope.values()); }

    /** Whether the dependency {@code from → to} (class names) was seen. */
    public boolean hasDependency(String from, String to) {
        Integer a = classIds.get(from), b = classIds.get(to);
        return a != null && b != null && edges.containsKey(((long) a << 32) | b);
    }

    /** The {@code lockdep} list of summary.json: circular dependencies, then reclaim-in-scope reports. */
    public List<Map<String, Object>> lockdepJson() {
        List<Map<String, Object>> l = new ArrayList<>();
        for (Circular c : circular) l.add(c.toJson());
        for (ReclaimInScope r : reclaimInScope.values()) l.add(r.toJson());
        return l;
    }

    /** The {@code wait_context} list of summary.json. */
    public List<Map<String, Object>> waitContextJson() {
        List<Map<String, Object>> l = new ArrayList<>();
        for (WaitContext w : waitContext.values()) l.add(w.toJson());
        return l;
    }

    static String scopeName(long callerGfp, long scope) {
        long forbidden = scope | (callerGfp >= 0 ? ~callerGfp & (Gfp.IO | Gfp.FS) : 0);
        return (forbidden & Gfp.IO) != 0 ? "NOIO" : "NOFS";
    }

    /** The gfp as the kernel prints it for the masks reclaim cares about. */
    public static String gfpName(long gfp) {
        long base = gfp & (Gfp.RECLAIM | Gfp.IO | Gfp.FS);
        String name = base == Gfp.GFP_KERNEL ? "GFP_KERNEL" : base == Gfp.GFP_NOFS ? "GFP_NOFS"
                : base == Gfp.GFP_NOIO ? "GFP_NOIO" : base == Gfp.KSWAPD_RECLAIM ? "GFP_NOWAIT" : null;
        StringBuilder sb = new StringBuilder(name != null ? name : "");
        long rest = name != null ? gfp & ~base : gfp;
        String[] names = {"__GFP_DMA", "__GFP_HIGHMEM", "__GFP_DMA32", "__GFP_MOVABLE", "__GFP_RECLAIMABLE", "__GFP_HIGH",
                "__GFP_IO", "__GFP_FS", "__GFP_ZERO", "__GFP_ATOMIC", "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM",
                "__GFP_WRITE", "__GFP_NOWARN", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_MEMALLOC",
                "__GFP_COMP", "__GFP_NOMEMALLOC", "__GFP_HARDWALL", "__GFP_THISNODE", "__GFP_ACCOUNT"};
        for (int b = 0; b < names.length; b++) {
            if ((rest & (1L << b)) == 0) continue;
            if (sb.length() > 0) sb.append('|');
            sb.append(names[b]);
        }
        return sb.length() == 0 ? "0" : sb.toString();
    }
}
