package org.kmemlab.replay;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.LockDep;
import org.kmemlab.alloc.page.FsWriteback;
import org.kmemlab.alloc.page.PageAllocator;

import com.carrotsearch.hppc.LongHashSet;

/**
 * The forward-progress detectors of a replay beyond the wait-for knot of {@link Engine} (allocator-model.md
 * §E.1 #2, #3, §E.2, §E.5):
 * <ul>
 * <li>the lock validator ({@link LockDep}) every context reports its acquisitions to;</li>
 * <li>the writeback tasks ({@code replay.writebackTasks}, comm names such as {@code txg_sync}): they run
 * under the SPL's PF_FSTRANS (a NOIO scope the 2012 kernel did not honour, so only the validator sees it),
 * their completed requests sync the txg ({@link FsWriteback#txgSynced}), and they are the wakers of
 * {@link FsWriteback#txgWaitQueue} in the wait-for graph, so a writeback task that waits there is a
 * cycle of one;</li>
 * <li>deadlocks avoided by a timeout: a task whose timed wait ({@code wait_event_timeout}) expires while a
 * work item it queued is blocked waiting for that very task. The timeout broke a cycle that would
 * otherwise have been a deadlock; the record keeps how long the worker stayed blocked.</li>
 * </ul>
 */
final class Detectors {
    /** The {@code replay.*} knobs of the detectors, taken out of the settings before {@link ReplayOptions}. */
    record Options(boolean lockdep, Set<String> writebackTasks, long fsDirtyPages, long fsCleanPages, long fsInodes) {
        static Options from(Map<String, String> set) {
            String wb = set.remove("replay.writebackTasks");
            String ld = set.remove("replay.lockdep");
            String dirty = set.remove("replay.fsDirtyPages");
            String clean = set.remove("replay.fsCleanPages");
            String inodes = set.remove("replay.fsInodes");
            Set<String> tasks = new HashSet<>();
            if (wb != null) for (String s : wb.split(",")) if (!s.isBlank()) tasks.add(s.trim());
            try {
                return new Options(ld == null || Boolean.parseBoolean(ld.trim()), Set.copyOf(tasks),
                        dirty == null ? 0 : Long.parseLong(dirty.trim().replace("_", "")),
                        clean == null ? 0 : Long.parseLong(clean.trim().replace("_", "")),
                        inodes == null ? 65_536 : Long.parseLong(inodes.trim().replace("_", "")));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("replay.fsDirtyPages, replay.fsCleanPages and replay.fsInodes expect a number: "
                        + e.getMessage());
            }
        }
    }

    /** A kworker item that had to wait for a resource and is retried: who queued it, what it waits for. */
    static final class BlockedWork {
        final String name;
        final long queuedBy;
        final Object waitQueue;
        final long since;
        final String frames;
        Avoided avoided;

        BlockedWork(String name, long queuedBy, Object waitQueue, long since, String frames) {
            this.name = name;
            this.queuedBy = queuedBy;
            this.waitQueue = waitQueue;
            this.since = since;
            this.frames = frames;
        }
    }

    /** "potential deadlock avoided by timeout". */
    static final class Avoided {
        final long task;
        final String comm;
        final String timedWaitOn;
        final long timeoutNs;
        final long firstTimeoutNs;
        final BlockedWork worker;
        final String workerWaitsFor;
        long timeouts;
        long resolvedAtNs = -1;

        Avoided(long task, String comm, String timedWaitOn, long timeoutNs, long firstTimeoutNs, BlockedWork worker, String workerWaitsFor) {
            this.task = task;
            this.comm = comm;
            this.timedWaitOn = timedWaitOn;
            this.timeoutNs = timeoutNs;
            this.firstTimeoutNs = firstTimeoutNs;
            this.worker = worker;
            this.workerWaitsFor = workerWaitsFor;
        }

        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", "potential deadlock avoided by timeout");
            m.put("cycle", String.format("%s(%d) -[%s, timeout %d ns]-> %s -[%s]-> %s(%d)", comm, task, timedWaitOn, timeoutNs,
                    worker.name, workerWaitsFor, comm, task));
            m.put("task", task);
            m.put("comm", comm);
            m.put("timed_wait_on", timedWaitOn);
            m.put("timeout_ns", timeoutNs);
            m.put("timeouts", timeouts);
            m.put("first_timeout_ns", firstTimeoutNs);
            m.put("worker", worker.name);
            m.put("worker_waits_for", workerWaitsFor);
            m.put("worker_blocked_since_ns", worker.since);
            // How long the cycle would have held: until the worker got what it waited for (null: never did).
            m.put("worker_blocked_ns", resolvedAtNs < 0 ? null : resolvedAtNs - worker.since);
            m.put("worker_frames", worker.frames);
            return m;
        }
    }

    final Options opts;
    final LockDep lockdep;
    private final LongHashSet writebackPids = new LongHashSet();
    FsWriteback fs;
    private final Map<Object, BlockedWork> blockedWork = new IdentityHashMap<>();
    private final List<Avoided> avoided = new ArrayList<>();

    Detectors(Options opts, boolean preemptRt) {
        this.opts = opts;
        this.lockdep = opts.lockdep() ? new LockDep(preemptRt) : null;
    }

    /**
     * Before the first event: the writeback tasks' filesystem, its page cache and its superblock shrinker,
     * and the txg as a resource of the wait-for graph.
     */
    void setUp(Engine engine, PageAllocator pages, ReplayContext ctx, CallTree.Node root) {
        if (opts.writebackTasks().isEmpty() && opts.fsDirtyPages() == 0 && opts.fsCleanPages() == 0) return;
        fs = new FsWriteback(pages, opts.fsInodes()).register();
        ctx.begin(0, 0, root);
        fs.populate(ctx, opts.fsDirtyPages(), opts.fsCleanPages());
        engine.registerResource(fs.txgWaitQueue, "txg_wait_open (zfs dirty data, synced by " + String.join(",",
                new java.util.TreeSet<>(opts.writebackTasks())) + ")");
    }

    /** A task's first event: a writeback task becomes a waker of the txg. */
    void taskSeen(Engine engine, long task, String comm) {
        if (comm == null || !opts.writebackTasks().contains(comm) || !writebackPids.add(task)) return;
        if (fs != null) engine.hold(fs.txgWaitQueue, task, 1);
    }

    /** The scope a task declared that the kernel may not know about: PF_FSTRANS (NOIO) for writeback tasks. */
    long declaredScope(long task) {
        return writebackPids.contains(task) ? Gfp.IO | Gfp.FS : 0;
    }

    /** A request completed: a writeback task's progress syncs the txg. */
    void requestDone(ReplayContext ctx) {
        if (fs != null && writebackPids.contains(ctx.task)) fs.txgSynced(ctx);
    }

    /** A kworker item parked on {@code waitQueue}; it is retried later. */
    void workBlocked(Object work, String name, long queuedBy, Object waitQueue, long at, String frames) {
        if (!blockedWork.containsKey(work)) blockedWork.put(work, new BlockedWork(name, queuedBy, waitQueue, at, frames));
    }

    /** A kworker item ran to completion. */
    void workDone(Object work, long at) {
        if (blockedWork.isEmpty()) return;
        BlockedWork b = blockedWork.remove(work);
        if (b != null && b.avoided != null) b.avoided.resolvedAtNs = at;
    }

    /**
     * A timed wait expired. If a work item this task queued is blocked waiting for a resource this task
     * must release (it is among the resource's holders), the timeout broke a cycle.
     */
    void timedOut(Engine engine, ReplayContext ctx, Object waitQueue, long timeoutNs) {
        if (blockedWork.isEmpty()) return;
        for (BlockedWork b : blockedWork.values()) {
            if (b.queuedBy != ctx.task) continue;
            var h = engine.holders.get(b.waitQueue);
            if (h == null || !h.containsKey(ctx.task)) continue;
            if (b.avoided == null) {
                b.avoided = new Avoided(ctx.task, engine.taskNames.getOrDefault(ctx.task, "?"), String.valueOf(waitQueue), timeoutNs,
                        ctx.now, b, engine.resourceNames.getOrDefault(b.waitQueue, String.valueOf(b.waitQueue)));
                avoided.add(b.avoided);
            }
            b.avoided.timeouts++;
        }
    }

    /** Adds {@code lockdep}, {@code wait_context}, {@code deadlock_avoided} and {@code writeback} to summary.json. */
    void summary(Map<String, Object> m) {
        m.put("lockdep", lockdep == null ? List.of() : lockdep.lockdepJson());
        m.put("wait_context", lockdep == null ? List.of() : lockdep.waitContextJson());
        List<Map<String, Object>> a = new ArrayList<>();
        for (Avoided x : avoided) a.add(x.toJson());
        m.put("deadlock_avoided", a);
        if (fs != null) {
            Map<String, Object> w = new LinkedHashMap<>();
            w.put("writeback_tasks", new java.util.TreeSet<>(opts.writebackTasks()));
            w.put("dirty_pages_end", fs.dirtyPages());
            w.put("txg_syncs", fs.statTxgSyncs);
            w.put("pages_cleaned", fs.statPagesCleaned);
            w.put("shrinker_waits", fs.statShrinkerWaits);
            w.put("shrinker_stops_without_fs", fs.statShrinkerStops);
            m.put("writeback", w);
        }
    }
}
