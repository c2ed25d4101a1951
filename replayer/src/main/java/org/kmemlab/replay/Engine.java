package org.kmemlab.replay;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.mempool.Mempool;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.Zone;
import org.kmemlab.alloc.policy.UpperModel;
import org.kmemlab.alloc.slab.SlubCache;
import org.kmemlab.trace.TraceEvent;

import com.carrotsearch.hppc.LongLongHashMap;
import com.carrotsearch.hppc.LongObjectHashMap;

/**
 * The discrete-event core of one policy's replay: virtual CPUs and tasks on one virtual clock, requests
 * run inline through the model, timed actions (kworker items, RCU callbacks, retries of parked tasks)
 * in a priority queue, and the wait-for graph that finds deadlocks (allocator-model.md §E).
 *
 * <p>Requests run inline, one after another in order of their start time; a request that must sleep
 * until another task acts throws {@link Park} and is retried from the top when woken (replayer/README.md
 * explains why this design and what it approximates).
 */
final class Engine {
    final CostTable costs;
    final String[] lockFrames;
    final long gracePeriodNs;
    final long kworkerLatencyNs;
    final PageAllocator pages;
    final UpperModel upper;
    final CallTree profile = new CallTree();
    /**
     * The context running now: the request's, or the kworker's, softirq's or kernel thread's while an action runs
     * (nested in a request's wait, and restored after it), so the events the model derives carry its time and CPU.
     */
    ReplayContext running;
    /** Task ids of node n's kswapd and kcompactd: KSWAPD_TASK - n, KCOMPACTD_TASK - n (kworkers are -1000 - cpu). */
    static final long KSWAPD_TASK = -3000, KCOMPACTD_TASK = -4000;
    private final ReplayContext[] cpuCtx;
    private final ReplayContext[] kwCtx;
    final long[] cpuFree;
    private final LongLongHashMap taskReady = new LongLongHashMap();
    private final PriorityQueue<Action> actions = new PriorityQueue<>();
    private long seq;
    /** For each resource wait queue, which tasks hold how many of its elements (the possible wakers). */
    final Map<Object, LongLongHashMap> holders = new IdentityHashMap<>();
    final Map<Object, String> resourceNames = new IdentityHashMap<>();
    final LongObjectHashMap<Parked> parked = new LongObjectHashMap<>();
    final Map<Long, String> taskNames = new HashMap<>();
    /** Which trace tasks are kernel threads; the replayer sets it from the trace's snapshot. */
    KernelThreads kernelThreads = new KernelThreads(null);
    final Map<String, long[]> lockWaits = new TreeMap<>();
    long rcuBarriers;
    long rcuCallbacksRun;
    long workItemsRun;
    DeadlockReport deadlock;
    /** Lock validator, writeback tasks, deadlocks avoided by timeouts; set by the replay driver. */
    Detectors detect;
    final Watchdog watchdog = new Watchdog();
    private boolean nested;

    /** A parked task: the request to retry, and its later events waiting behind it. */
    static final class Parked {
        final long task;
        final TraceEvent request;
        final Object waitQueue;
        long since;
        final int cpu;
        final ArrayDeque<TraceEvent> pending = new ArrayDeque<>();
        long generation;
        /** The model frames where it blocked. */
        String frames;

        Parked(long task, TraceEvent request, Object waitQueue, long since, int cpu) {
            this.task = task;
            this.request = request;
            this.waitQueue = waitQueue;
            this.since = since;
            this.cpu = cpu;
        }
    }

    private abstract static class Action implements Comparable<Action> {
        final long at;
        final long order;
        final boolean retry;

        Action(long at, long order, boolean retry) {
            this.at = at;
            this.order = order;
            this.retry = retry;
        }

        abstract void run();

        /**
         * A kernel thread's own periodic or self-rescheduling work (vmstat, kswapd, kcompactd): nothing a sleeper
         * waits for, so an untimed wait does not keep time running for it alone.
         */
        boolean daemon() { return false; }

        @Override
        public int compareTo(Action o) {
            int c = Long.compare(at, o.at);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    /** Retries and resumptions of parked tasks; supplied by the replay driver. */
    interface Retrier {
        void retry(long task, long at, boolean timedOut);
    }

    Retrier retrier;

    Engine(PageAllocator pages, UpperModel upper, CostTable costs, int nrCpus, String[] lockFrames, long gracePeriodNs,
           long kworkerLatencyNs) {
        this(pages, upper, costs, nrCpus, lockFrames, gracePeriodNs, kworkerLatencyNs, kworkerLatencyNs);
    }

    Engine(PageAllocator pages, UpperModel upper, CostTable costs, int nrCpus, String[] lockFrames, long gracePeriodNs,
           long kworkerLatencyNs, long kthreadLatencyNs) {
        this.pages = pages;
        this.upper = upper;
        this.costs = costs;
        this.lockFrames = lockFrames;
        this.gracePeriodNs = gracePeriodNs;
        this.kworkerLatencyNs = kworkerLatencyNs;
        cpuCtx = new ReplayContext[nrCpus];
        kwCtx = new ReplayContext[nrCpus];
        cpuFree = new long[nrCpus];
        for (int i = 0; i < nrCpus; i++) {
            cpuCtx[i] = new ReplayContext(this, i);
            kwCtx[i] = new ReplayContext(this, i);
        }
        this.kthreadLatencyNs = kthreadLatencyNs;
        // kswapd runs as a thread here, so throttle_direct_reclaim() has someone to wake its sleepers
        pages.kswapdDriven(true);
        kswapds = kthreads("kswapd", KSWAPD_TASK);
        kcompactds = kthreads("kcompactd", KCOMPACTD_TASK);
        fragScoreMetric = new String[pages.nrNodes()];
        for (int n = 0; n < fragScoreMetric.length; n++) fragScoreMetric[n] = "fragmentation_score:node" + n;
    }

    ReplayContext context(int cpu) { return cpuCtx[Math.floorMod(cpu, cpuCtx.length)]; }

    int nrCpus() { return cpuCtx.length; }

    long taskReady(long task) { return taskReady.getOrDefault(task, Long.MIN_VALUE); }

    void setTaskReady(long task, long t) { taskReady.put(task, t); }

    // ---- resources and the wait-for graph ----

    void registerResource(Object waitQueue, String name) {
        resourceNames.put(waitQueue, name);
        holders.computeIfAbsent(waitQueue, k -> new LongLongHashMap());
    }

    /** Wait queues of counted resources (registered with their holders); a sleeper on one is parked, not timed out. */
    boolean isResource(Object waitQueue) { return holders.containsKey(waitQueue); }

    void hold(Object waitQueue, long task, long delta) {
        LongLongHashMap h = holders.get(waitQueue);
        if (h == null) return;
        long v = h.getOrDefault(task, 0) + delta;
        if (v <= 0) h.remove(task); else h.put(task, v);
    }

    /**
     * Parks {@code task}; returns a deadlock report if the wait closes a cycle: every task that could
     * wake it (a holder of the resource it waits for) is itself parked, transitively, back to it.
     */
    DeadlockReport park(Parked p) {
        parked.put(p.task, p);
        long gen = ++p.generation;
        long at = pendingTimeout;
        if (at != Long.MAX_VALUE) {
            // The retry at the timeout; a wake-up first makes this one stale by the generation check.
            schedule(new Action(at, seq++, true) {
                @Override void run() {
                    Parked q = parked.get(p.task);
                    if (q == p && q.generation == gen) retrier.retry(p.task, at, true);
                }
            });
        }
        List<Long> cycle = findCycle(p.task);
        if (cycle == null) return null;
        return report(cycle);
    }

    private DeadlockReport report(List<Long> cycle) {
        DeadlockReport r = new DeadlockReport();
        for (long t : cycle) {
            Parked q = parked.get(t);
            Map<String, Long> holds = new TreeMap<>();
            for (Map.Entry<Object, LongLongHashMap> e : holders.entrySet()) {
                long n = e.getValue().getOrDefault(t, 0);
                if (n > 0) holds.put(resourceNames.getOrDefault(e.getKey(), String.valueOf(e.getKey())), n);
            }
            r.tasks.add(new DeadlockReport.Entry(t, taskNames.getOrDefault(t, "?"), holds,
                    resourceNames.getOrDefault(q.waitQueue, String.valueOf(q.waitQueue)), q.since, q.request.toString(), q.frames));
        }
        return r;
    }

    /** The timeout of the wait being parked (mempool's 5 s io_schedule_timeout), or MAX_VALUE for none. */
    long pendingTimeout = Long.MAX_VALUE;

    boolean watchdogHung(Parked p, long at, long limit) { return at - p.since > limit; }

    /**
     * At the end of the trace no task has events left, so a holder that is not parked will never free
     * what it holds: a parked task whose wakers are all parked or finished is stuck. Returns the first
     * cycle among the parked tasks, if any.
     */
    DeadlockReport endOfTrace() {
        endOfTrace = true;
        long[] ks = new long[parked.size()];
        int i = 0;
        for (var c : parked) ks[i++] = c.key;
        java.util.Arrays.sort(ks);
        for (long t : ks) {
            List<Long> cycle = findCycle(t);
            if (cycle != null) return report(cycle);
        }
        return null;
    }

    boolean endOfTrace;

    private List<Long> findCycle(long start) {
        ArrayDeque<Long> path = new ArrayDeque<>();
        Set<Long> seen = new HashSet<>();
        return dfs(start, start, path, seen);
    }

    private List<Long> dfs(long t, long start, ArrayDeque<Long> path, Set<Long> seen) {
        Parked p = parked.get(t);
        if (p == null || p.waitQueue == null) return null;
        path.addLast(t);
        seen.add(t);
        LongLongHashMap h = holders.get(p.waitQueue);
        if (h != null) {
            // Sorted for a deterministic report.
            long[] ks = h.keys().toArray();
            java.util.Arrays.sort(ks);
            // Mid-trace, a holder that is still running may free an element and wake us: that is no knot.
            if (!endOfTrace) {
                for (long holder : ks) if (holder != start && !parked.containsKey(holder)) { path.removeLast(); return null; }
            }
            for (long holder : ks) {
                if (holder == start) return new ArrayList<>(path);
                if (!seen.contains(holder) && parked.containsKey(holder)) {
                    List<Long> c = dfs(holder, start, path, seen);
                    if (c != null) return c;
                }
            }
        }
        path.removeLast();
        return null;
    }

    void wakeUp(Object waitQueue, long now) {
        for (Kthread t : kswapds) if (t.blockedOn == waitQueue) scheduleKswapd(t, now);
        if (parked.isEmpty()) return;
        List<Long> wake = new ArrayList<>();
        for (var c : parked) if (c.value.waitQueue == waitQueue) wake.add(c.key);
        java.util.Collections.sort(wake);
        for (long t : wake) {
            Parked p = parked.get(t);
            long gen = ++p.generation;
            schedule(new Action(now, seq++, true) {
                @Override void run() {
                    Parked q = parked.get(t);
                    if (q == p && q.generation == gen) retrier.retry(t, now, false);
                }
            });
        }
    }

    // ---- locks ----

    void lockWait(KLock l, long ns) {
        long[] w = lockWaits.computeIfAbsent(l.name(), k -> new long[2]);
        w[0]++;
        w[1] += ns;
    }

    /** Trylocks that found their lock held (alloc_pages_nolock's zone->lock), per lock. */
    final Map<String, long[]> trylockFailures = new TreeMap<>();

    void trylockFailed(KLock l) { trylockFailures.computeIfAbsent(l.name(), k -> new long[1])[0]++; }

    long lockWaitTotal() {
        long t = 0;
        for (long[] w : lockWaits.values()) t += w[1];
        return t;
    }

    // ---- timed actions: work items, RCU, retries ----

    private void schedule(Action a) {
        actions.add(a);
        if (!a.daemon()) workActions++;
    }

    private Action poll() {
        Action a = actions.poll();
        if (!a.daemon()) workActions--;
        return a;
    }

    /** Queued actions that are not {@link Action#daemon()}. */
    private int workActions;

    void queueWork(int cpu, long now, String name, Consumer<ExecContext> work) { queueWork(cpu, now, name, work, 0); }

    /** {@code queuedBy}: the task that queued the item (a timed wait of that task on it can break a cycle). */
    void queueWork(int cpu, long now, String name, Consumer<ExecContext> work, long queuedBy) {
        long at = now + kworkerLatencyNs;
        schedule(new Action(at, seq++, false) {
            @Override void run() { runWork(cpu, at, name, work, queuedBy); }
        });
    }

    /**
     * The kworker/softirq context of {@code cpu}; a fresh one when that context is inside an action that is
     * waiting (a work item's rcu_barrier() runs the callbacks due meanwhile, on the same CPU).
     */
    private ReplayContext kworker(int cpu) {
        ReplayContext w = kwCtx[Math.floorMod(cpu, kwCtx.length)];
        return w.inAction ? new ReplayContext(this, w.cpu) : w;
    }

    private void runWork(int cpu, long at, String name, Consumer<ExecContext> work, long queuedBy) {
        ReplayContext w = kworker(cpu);
        CallTree.Node root = profile.root.child("kworker").child("ret_from_fork").child("kthread").child("worker_thread")
                .child("process_one_work");
        w.begin(-1000 - cpu, at, root);
        runAs(w, () -> {
            try {
                w.enter(name);
                work.accept(w);
                workItemsRun++;
                if (detect != null) detect.workDone(work, w.now);
            } catch (Park p) {
                if (detect != null) detect.workBlocked(work, name, queuedBy, p.waitQueue, w.now, p.frames);
                // A worker that must wait for a resource tries again when its timeout passes.
                long again = p.timeoutAt == Long.MAX_VALUE ? at + gracePeriodNs : p.timeoutAt;
                schedule(new Action(again, seq++, false) {
                    @Override void run() { runWork(cpu, again, name, work, queuedBy); }
                });
            }
        });
    }

    /**
     * Runs an action's body in {@code w} (a kworker's, softirq's or kernel thread's context): the engine must not
     * reuse {@code w} meanwhile, and the events the model derives carry its time and CPU until the body returns
     * to the context it interrupted.
     */
    private void runAs(ReplayContext w, Runnable body) {
        w.inAction = true;
        ReplayContext prev = running;
        running = w;
        try {
            body.run();
        } finally {
            w.inAction = false;
            running = prev;
        }
    }

    /** False once the trace's events are all replayed: periodic kernel work stops re-arming then. */
    boolean tracing = true;

    /**
     * vmstat_update() on every CPU's kworker each {@code periodNs} of virtual time, the first one period after the
     * start ({@code vm.stat_interval}; the phase of the kernel's deferrable timer against the recording is not
     * known). The kernel re-arms it while there is something to update; the model does while the trace lasts.
     */
    void startVmstat(long periodNs) {
        if (periodNs > 0) scheduleVmstat(periodNs, periodNs);
    }

    private void scheduleVmstat(long at, long periodNs) {
        schedule(new Action(at, seq++, false) {
            @Override boolean daemon() { return true; }

            @Override void run() {
                for (int cpu = 0; cpu < cpuCtx.length; cpu++) runWork(cpu, at, "vmstat_update", vmstatUpdate, 0);
                if (tracing) scheduleVmstat(at + periodNs, periodNs);
            }
        });
    }

    /** One object for every run, so that the detectors see one work item. */
    private final Consumer<ExecContext> vmstatUpdate = this::vmstatUpdate;

    private void vmstatUpdate(ExecContext w) { pages.vmstatRefresh(w, w.cpu()); }

    // ---- kswapd and kcompactd ----

    /**
     * A per-node kernel thread as the engine runs it. Each run of kswapd is an action; a newer schedule makes
     * an older pending one stale (its generation), so a wake-up in the middle of the HZ/10 nap supersedes the
     * nap's end.
     */
    static final class Kthread {
        final String comm;
        final int node;
        final long task;
        long gen;
        boolean running, wakeScheduled;
        /** What its last run slept on (a shrinker's wait), or null. */
        Object blockedOn;
        String blockedFrames;
        long blockedSince, blockedNs, runs, migrated;
        /**
         * kcompactd's timed sleep ({@code wait_event_freezable_timeout()}): the generation of the armed timeout
         * (a wake-up for work makes it stale), whether one is armed, and whether a proactive run is under way.
         */
        long timerGen;
        boolean timerArmed, proactiveRun;
        long proactiveRuns, proactiveDeferrals;

        Kthread(String name, int node, long taskBase) {
            this.comm = name + node;
            this.node = node;
            this.task = taskBase - node;
        }
    }

    final Kthread[] kswapds, kcompactds;
    /**
     * How long a kernel thread keeps the CPU before it yields (cond_resched() once the scheduler wants the CPU
     * back); kcompactd's runs are cut into slices of this length. After a slice or a kswapd round of length d,
     * the thread runs again d later: two runnable entities of equal weight share the CPU half and half, as CFS
     * shares it between the thread and the trace's task on that CPU.
     */
    static final long KTHREAD_SLICE_NS = 1_000_000L;
    /** When a woken kernel thread gets the CPU: the scheduler's wake-up latency. */
    final long kthreadLatencyNs;

    private Kthread[] kthreads(String name, long taskBase) {
        Kthread[] t = new Kthread[pages.nrNodes()];
        for (int n = 0; n < t.length; n++) t[n] = new Kthread(name, n, taskBase);
        return t;
    }

    /**
     * Schedules the kernel threads that the allocator woke: kswapd one wake-up latency after wakeup_kswapd()
     * (it runs on the waking CPU, as wake-affine scheduling puts it), kcompactd one latency after {@code now}.
     * Called after every request and every timed action; a look at two flags per node when nothing was woken.
     */
    void pollKthreads(long now) {
        for (int n = 0; n < kswapds.length; n++) {
            Kthread t = kswapds[n];
            org.kmemlab.alloc.page.Kswapd k = pages.kswapdThread(n);
            if (k.woken() && !t.wakeScheduled && !t.running) {
                t.wakeScheduled = true;
                scheduleKswapd(t, k.wokenAt() + kthreadLatencyNs);
            }
            Kthread c = kcompactds[n];
            if (pages.kcompactdPending(n) && !c.wakeScheduled && !c.running && !c.proactiveRun) {
                // wakeScheduled stays set through the run's slices: a wake-up meanwhile waits for the run to end
                c.wakeScheduled = true;
                c.timerArmed = false;
                c.timerGen++;
                scheduleKcompactd(c, now + kthreadLatencyNs);
            } else if (!c.timerArmed && !c.wakeScheduled && !c.proactiveRun) {
                // asleep since the trace began: its first look at the fragmentation score is one interval on
                armKcompactdTimer(c, now + FRAG_CHECK_NS);
            }
        }
    }

    /** {@code HPAGE_FRAG_CHECK_INTERVAL_MSEC}: kcompactd's sleep timeout. */
    private static final long FRAG_CHECK_NS = org.kmemlab.alloc.page.PageAllocator.HPAGE_FRAG_CHECK_INTERVAL_NS;

    /**
     * kcompactd goes to sleep until {@code at} ({@code HPAGE_FRAG_CHECK_INTERVAL_MSEC}, or 64 times that after a
     * proactive run that did not lower the score); with proactiveness 0 it sleeps until woken
     * (MAX_SCHEDULE_TIMEOUT) and no timer is armed.
     */
    private void armKcompactdTimer(Kthread t, long at) {
        t.timerArmed = true;
        // after the trace, as for vmstat: the tail only lets what the trace started finish
        if (pages.compactionProactiveness() == 0 || !tracing) return;
        long gen = ++t.timerGen;
        schedule(new Action(at, seq++, false) {
            @Override boolean daemon() { return true; }
            @Override void run() { if (t.timerGen == gen) kcompactdTimeout(t, at); }
        });
    }

    /**
     * The timeout of kcompactd's sleep, no work requested: {@code should_proactive_compact_node()}, and if so a
     * proactive run in slices; then asleep again for the next interval.
     */
    private void kcompactdTimeout(Kthread t, long at) {
        t.timerArmed = false;
        if (t.running || t.wakeScheduled || t.proactiveRun || !tracing) return;
        if (pages.kcompactdWorkRequested(t.node)) {
            // an order recorded while the node was not suitable: the timeout finds the condition true and works
            t.wakeScheduled = true;
            runKcompactd(t, at);
            return;
        }
        if (!pages.shouldProactiveCompactNode(t.node)) {
            armKcompactdTimer(t, at + FRAG_CHECK_NS);
            return;
        }
        t.proactiveRun = true;
        t.proactiveRuns++;
        int prevScore = pages.fragmentationScoreNode(t.node);
        runProactiveSlice(t, at, prevScore);
    }

    private void runProactiveSlice(Kthread t, long at, int prevScore) {
        kcompactdSlice(t, at, (w, yieldAt) -> pages.proactiveCompactSlice(w, t.node, yieldAt), w -> {
            t.proactiveRun = false;
            long timeout = FRAG_CHECK_NS;
            // no progress: defer the next look by 1 << COMPACT_MAX_DEFER_SHIFT intervals
            if (pages.fragmentationScoreNode(t.node) >= prevScore) {
                timeout <<= org.kmemlab.alloc.page.PageConst.COMPACT_MAX_DEFER_SHIFT;
                t.proactiveDeferrals++;
            }
            armKcompactdTimer(t, w.now + timeout);
        }, next -> schedule(new Action(next, seq++, false) {
            @Override boolean daemon() { return true; }
            @Override void run() { runProactiveSlice(t, next, prevScore); }
        }));
    }

    /** Where a kernel thread's frames hang in the profile; made at its first run, so a thread that never ran adds nothing. */
    private CallTree.Node kthreadRoot(Kthread t) {
        taskNames.putIfAbsent(t.task, t.comm);
        return profile.root.child(t.comm).child("ret_from_fork").child("kthread");
    }

    private void scheduleKswapd(Kthread t, long at) {
        long gen = ++t.gen;
        schedule(new Action(at, seq++, false) {
            @Override boolean daemon() { return true; }
            @Override void run() { if (t.gen == gen) runKswapd(t, at); }
        });
    }

    /**
     * One run of node {@code node}'s kswapd ({@link org.kmemlab.alloc.page.Kswapd#run}): a balance_pgdat() round
     * or the decision to sleep, then the next run at the time it asks for. A run that sleeps in a shrinker is
     * repeated when that wait queue is woken (or its timeout passes), from the top of the round.
     */
    private void runKswapd(Kthread t, long at) {
        // its own next round, met while it sleeps inline in a shrinker's wait, waits for this run to end
        if (t.running) return;
        org.kmemlab.alloc.page.Kswapd k = pages.kswapdThread(t.node);
        t.wakeScheduled = false;
        int cpu = Math.floorMod(k.wokenBy(), cpuCtx.length);
        ReplayContext w = new ReplayContext(this, cpu);
        // it takes its turn on the CPU like any task: after the request running there, and before the next one
        w.begin(t.task, Math.max(at, cpuFree[cpu]), kthreadRoot(t));
        w.parksAtOnce = true;
        long start = w.now;
        t.running = true;
        try {
            runAs(w, () -> {
                try {
                    long next = k.run(w);
                    // another round at once means: after the CPU's fair share went to the task there
                    if (next == w.now) next = w.now + (w.now - start);
                    t.runs++;
                    if (t.blockedOn != null) {
                        t.blockedNs += at - t.blockedSince;
                        t.blockedOn = null;
                    }
                    cpuFree[cpu] = Math.max(cpuFree[cpu], w.now);
                    if (next != Long.MAX_VALUE) scheduleKswapd(t, Math.max(next, w.now));
                } catch (Park p) {
                    cpuFree[cpu] = Math.max(cpuFree[cpu], w.now);
                    if (t.blockedOn == null) t.blockedSince = w.now;
                    t.blockedOn = p.waitQueue;
                    t.blockedFrames = p.frames;
                    if (p.timeoutAt != Long.MAX_VALUE) scheduleKswapd(t, p.timeoutAt);
                }
            });
        } finally {
            t.running = false;
        }
    }

    private void scheduleKcompactd(Kthread t, long at) {
        schedule(new Action(at, seq++, false) {
            @Override boolean daemon() { return true; }
            @Override void run() { runKcompactd(t, at); }
        });
    }

    /** One slice of kcompactd_do_work() of its node; asleep again after the run, with the proactive timeout. */
    private void runKcompactd(Kthread t, long at) {
        kcompactdSlice(t, at, (w, yieldAt) -> pages.kcompactdSlice(w, t.node, yieldAt), w -> {
            t.runs++;
            t.wakeScheduled = false;
            armKcompactdTimer(t, w.now + FRAG_CHECK_NS);
        }, next -> scheduleKcompactd(t, next));
    }

    /** A slice of one of kcompactd's runs: true when the run is over. */
    private interface KcompactdWork { boolean slice(ReplayContext w, long yieldAt); }

    /**
     * One slice of a kcompactd run on the node's first CPU, charged to its turn there: {@code done} when the run
     * is over, else {@code again} for the next slice, half the CPU later.
     */
    private void kcompactdSlice(Kthread t, long at, KcompactdWork work, Consumer<ReplayContext> done,
                                java.util.function.LongConsumer again) {
        int cpu = (int) ((long) t.node * cpuCtx.length / kcompactds.length);
        ReplayContext w = new ReplayContext(this, cpu);
        long start = Math.max(at, cpuFree[cpu]);
        w.begin(t.task, start, kthreadRoot(t));
        t.running = true;
        try {
            runAs(w, () -> {
                long before = pages.kcompactdMigrated + pages.proactiveMigrated;
                boolean over = work.slice(w, start + KTHREAD_SLICE_NS);
                t.migrated += pages.kcompactdMigrated + pages.proactiveMigrated - before;
                cpuFree[cpu] = Math.max(cpuFree[cpu], w.now);
                if (over) done.accept(w);
                else again.accept(w.now + (w.now - start));
            });
        } finally {
            t.running = false;
        }
    }

    /**
     * The hung-task watchdog for the kernel threads at the end of the replay: one still asleep in a wait that
     * nothing is left to wake, for longer than {@code limitNs} of virtual time by {@code at}.
     */
    void hungKthreads(long at, long limitNs) {
        for (Kthread t : kswapds) {
            if (t.blockedOn != null && at - t.blockedSince > limitNs) {
                watchdog.report("hung task", "%s blocked for more than %.0f s on %s", t.comm, limitNs / 1e9, t.blockedOn);
            }
        }
    }

    /** summary.json's {@code kthreads}: what each node's kswapd and kcompactd did, for the nodes where they ran. */
    Map<String, Object> kthreadSummary() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Kthread t : kswapds) {
            org.kmemlab.alloc.page.Kswapd k = pages.kswapdThread(t.node);
            if (t.runs == 0 && t.blockedOn == null) continue;
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("wakeups", k.statWakeups);
            e.put("premature_wakeups", k.statPrematureWakeups);
            e.put("balance_runs", k.statRuns);
            e.put("priority_rounds", k.statRounds);
            e.put("reclaimed_pages", k.statReclaimed);
            e.put("failed_runs", k.statFailures);
            e.put("hopeless_end", k.hopeless());
            e.put("state_end", t.blockedOn != null ? "D (" + t.blockedOn + ")" : k.state().name());
            e.put("blocked_ns", t.blockedNs);
            if (t.blockedOn != null) {
                // still asleep: blocked_ns counts the waits that ended, this one started here (virtual ns)
                e.put("blocked_since_ns", t.blockedSince);
                e.put("blocked_frames", t.blockedFrames);
            }
            m.put(t.comm, e);
        }
        for (Kthread t : kcompactds) {
            if (t.runs == 0 && t.proactiveRuns == 0) continue;
            m.put(t.comm, Replayer.ordered("runs", t.runs, "proactive_runs", t.proactiveRuns,
                    "proactive_deferrals", t.proactiveDeferrals, "migrated_pages", t.migrated));
        }
        return m;
    }

    long nextGracePeriodEnd(long now) { return (now / gracePeriodNs + 2) * gracePeriodNs; }

    void callRcu(int cpu, long now, Consumer<ExecContext> cb) {
        long at = nextGracePeriodEnd(now);
        schedule(new Action(at, seq++, false) {
            @Override void run() {
                ReplayContext w = kworker(cpu);
                w.begin(-2000 - cpu, at, profile.root.child("ksoftirqd").child("rcu_core").child("rcu_do_batch"));
                runAs(w, () -> cb.accept(w));
                rcuCallbacksRun++;
                lastRcuCallback = Math.max(lastRcuCallback, at);
            }
        });
        pendingRcuMax = Math.max(pendingRcuMax, at);
    }

    private long pendingRcuMax;
    private long lastRcuCallback;

    /** rcu_barrier(): waits for every callback queued so far, and at least one grace period. */
    long rcuBarrier(long now, ReplayContext ctx) {
        rcuBarriers++;
        long end = Math.max(pendingRcuMax, nextGracePeriodEnd(now));
        runDueUntil(end, () -> false, ctx);
        return end;
    }

    /**
     * Runs timed actions due by {@code limit}, in time order, stopping early when {@code cond} holds
     * (returning that time). Inside a request (nested) retries of parked tasks are held back: a request
     * never runs another task's request in the middle of its own.
     */
    long runDueUntil(long limit, BooleanSupplier cond, ReplayContext caller) {
        boolean wasNested = nested;
        nested = caller != null;
        List<Action> held = null;
        try {
            while (!actions.isEmpty() && actions.peek().at <= limit) {
                // an untimed wait with only the kernel threads' own work left would run their timers for ever
                if (limit == Long.MAX_VALUE && workActions == 0) break;
                Action a = poll();
                if (nested && a.retry) {
                    if (held == null) held = new ArrayList<>();
                    held.add(a);
                    continue;
                }
                a.run();
                pollKthreads(a.at);
                if (cond.getAsBoolean()) return a.at;
            }
            return -1;
        } finally {
            if (held != null) for (Action a : held) schedule(a);
            nested = wasNested;
        }
    }

    boolean hasActions() { return !actions.isEmpty(); }

    long nextActionAt() { return actions.isEmpty() ? Long.MAX_VALUE : actions.peek().at; }

    // ---- state for the timeline ----

    /** Timeline metric names of the nodes' fragmentation scores, made once. */
    private final String[] fragScoreMetric;
    private static final String[] FREE_BLOCKS = new String[11];
    static {
        for (int o = 0; o < FREE_BLOCKS.length; o++) FREE_BLOCKS[o] = "free_blocks_order_" + o;
    }

    Map<String, Double> sample(Map<String, Mempool> pools) {
        Map<String, Double> m = new LinkedHashMap<>();
        long[] byOrder = new long[11];
        long free = 0;
        for (Zone z : pages.zones()) {
            if (!z.populated()) continue;
            free += z.freePages();
            for (int o = 0; o < byOrder.length; o++) byOrder[o] += z.nrFree(o);
        }
        m.put("free_pages", (double) free);
        for (int o = 0; o < byOrder.length; o++) m.put(FREE_BLOCKS[o], (double) byOrder[o]);
        m.put("slab_pages", (double) upper.slab.slabPages());
        m.put("kmalloc_large_pages", (double) upper.slab.largeKmallocPages());
        m.put("vmalloc_pages", (double) upper.vmalloc.mappedPages());
        m.put("lock_wait_ns", (double) lockWaitTotal());
        m.put("allocstall", (double) pages.allocstall);
        m.put("compactstall", (double) pages.compactstall);
        m.put("parked_tasks", (double) parked.size());
        // fragmentation_score_node(): what kcompactd compares with the proactive marks every 500 ms
        for (int n = 0; n < fragScoreMetric.length; n++) m.put(fragScoreMetric[n], (double) pages.fragmentationScoreNode(n));
        for (Map.Entry<String, Mempool> e : pools.entrySet()) m.put("mempool_reserve:" + e.getKey(), (double) e.getValue().currNr());
        return m;
    }

    private List<SlubCache> cachesByName = List.of();
    private int cachesGeneration = -1;

    /**
     * The caches in name order, for the timeline's per-cache slab pages: sorted again only when a cache is
     * created or destroyed, not at every sample (a map of a few hundred caches per sample was 3 % of a replay).
     */
    List<SlubCache> cachesByName() {
        int g = upper.slab.generation();
        if (g != cachesGeneration) {
            List<SlubCache> l = new ArrayList<>(upper.slab.caches().values());
            l.sort(java.util.Comparator.comparing(c -> c.name));
            cachesByName = l;
            cachesGeneration = g;
        }
        return cachesByName;
    }

    static long applyScope(long gfp, long clear) { return Gfp.applyScope(gfp, clear); }
}
