package org.kmemlab.replay;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.kmemlab.alloc.core.Blocker;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.core.LockDep;

/**
 * The context one request runs in during replay: a virtual CPU, a task, a position on the virtual clock.
 * Frames go into the policy's {@link CallTree}; lock acquisitions are ordered by virtual time against the
 * lock's last release, and a CPU that finds a spinlock held spins, with the spin charged to it under the
 * kernel's slow-path frames. Blocking is delegated to the {@link Engine}.
 */
final class ReplayContext implements ExecContext, Blocker {
    private final Engine engine;
    final int cpu;
    long task;
    long now;
    boolean atomic;
    long scope;
    private CallTree.Node node;
    private int depth;
    /** Set when a parked request is retried because its timeout passed: its wait returns TIMED_OUT once. */
    Object resumeTimedOut;
    long spinNs;
    long sleepNs;
    /** A kworker context running a work item or RCU callback (the engine must not reuse it meanwhile). */
    boolean inAction;
    /**
     * A per-node kernel thread (kswapd): its untimed waits park it at once instead of running the queued actions
     * that might wake it. Those can lie far ahead of the trace's next request, which must not see their effects.
     */
    boolean parksAtOnce;
    /** Which frames the request went through, as one number, so requests can be grouped by path. */
    long pathHash;
    /** The locks this context holds, for the lock validator; reset with every request. */
    final LockDep.Held held = new LockDep.Held();
    private final LockDep.Site site = new LockDep.Site() {
        @Override public long task() { return task; }
        @Override public String comm() { return commOf(task); }
        @Override public String stack() { return ReplayContext.this.stack(); }
    };

    /** When the current request started: lock holds that ended before it can no longer be met. */
    private long startNs;

    ReplayContext(Engine engine, int cpu) {
        this.engine = engine;
        this.cpu = cpu;
    }

    void begin(long task, long start, CallTree.Node root) {
        this.task = task;
        this.now = start;
        this.startNs = start;
        this.node = root;
        this.depth = 0;
        this.spinNs = 0;
        this.sleepNs = 0;
        this.pathHash = 0;
        this.atomic = false;
        this.scope = 0;
        held.reset(-1, engine.detect == null ? 0 : engine.detect.declaredScope(task));
    }

    /** The gfp of the trace request being served: reclaim that it forbids is reported by the validator. */
    void requestGfp(long gfp) { held.requestGfp = gfp; }

    @Override
    public boolean kthread() { return engine.kernelThreads.isKthread(task, engine.taskNames.get(task)); }

    /** The task's comm: the trace's, or the kernel thread's name. */
    String comm() { return commOf(task); }

    private String commOf(long t) {
        if (t <= -3000) return engine.taskNames.getOrDefault(t, "?");
        if (t <= -2000) return "ksoftirqd/" + (-2000 - t);
        if (t <= -1000) return "kworker/" + (-1000 - t);
        return engine.taskNames.getOrDefault(t, "?");
    }

    /** The frames from the request's root down to the current one, {@code a;b;c}. */
    String stack() {
        java.util.ArrayList<String> l = new java.util.ArrayList<>();
        for (CallTree.Node n = node; n != null && n.parent != null; n = n.parent) l.add(n.frame);
        java.util.Collections.reverse(l);
        return String.join(";", l);
    }

    private LockDep lockdepOrNull() { return engine.detect == null ? null : engine.detect.lockdep; }

    @Override public boolean lockdep() { return lockdepOrNull() != null; }

    @Override
    public void fsReclaimAcquire(long gfp, boolean reclaiming) {
        LockDep ld = lockdepOrNull();
        if (ld != null) ld.fsReclaimAcquire(held, gfp, reclaiming, site);
    }

    @Override
    public void fsReclaimRelease(long gfp) {
        LockDep ld = lockdepOrNull();
        if (ld != null) ld.fsReclaimRelease(held, gfp);
    }

    @Override public int cpu() { return cpu; }
    @Override public long task() { return task; }
    @Override public long now() { return now; }
    @Override public long scopeClearMask() { return scope; }
    @Override public boolean atomicContext() { return atomic; }
    @Override public Blocker blocker() { return this; }
    @Override public CostTable costs() { return engine.costs; }

    @Override
    public void enter(String frame) {
        node = node.child(frame);
        depth++;
        pathHash = pathHash * 31 + frame.hashCode();
    }

    @Override
    public void exit() {
        if (depth == 0) throw new IllegalStateException("frame exit without enter");
        node = node.parent;
        depth--;
    }

    CallTree.Node node() { return node; }

    @Override
    public void charge(long ns) {
        node.selfNs += ns;
        now += ns;
    }

    @Override
    public void lock(KLock l) {
        LockDep ld = lockdepOrNull();
        if (ld != null) ld.acquire(held, l, site);
        if (l.kind() == KLock.Kind.LOCKDEP_MAP) return; // nothing to wait for
        LockHolds holds = holdsOf(l);
        holds.forgetBefore(startNs);
        long free = holds.freeAt(now, cpu);
        if (free > now) {
            long wait = free - now;
            if (l.kind() == KLock.Kind.MUTEX) {
                // A sleeping lock: the task is off the CPU, so the wait is delay, not CPU time.
                enter("__mutex_lock_slowpath");
                enter("schedule");
                now += wait;
                sleepNs += wait;
                exit();
                exit();
            } else {
                for (String f : engine.lockFrames) enter(f);
                charge(wait);
                for (int i = 0; i < engine.lockFrames.length; i++) exit();
                spinNs += wait;
            }
            engine.lockWait(l, wait);
        }
        holds.acquired(now, cpu);
    }

    private static LockHolds holdsOf(KLock l) {
        if (!(l.holder instanceof LockHolds)) l.holder = new LockHolds();
        return (LockHolds) l.holder;
    }

    /**
     * {@code spin_trylock()}: fails, at no wait, when this moment of virtual time falls inside another CPU's
     * hold of {@code l}; otherwise takes it like {@link #lock}. Lockdep hears of it only when it succeeds, as
     * a trylock (spin_acquire with trylock=1 after do_raw_spin_trylock).
     */
    @Override
    public boolean tryLock(KLock l) {
        LockDep ld = lockdepOrNull();
        if (l.kind() == KLock.Kind.LOCKDEP_MAP) {
            if (ld != null) ld.acquire(held, l, site, true);
            return true;
        }
        LockHolds holds = holdsOf(l);
        holds.forgetBefore(startNs);
        if (holds.freeAt(now, cpu) > now) {
            engine.trylockFailed(l);
            return false;
        }
        if (ld != null) ld.acquire(held, l, site, true);
        holds.acquired(now, cpu);
        return true;
    }

    @Override
    public void unlock(KLock l) {
        LockDep ld = lockdepOrNull();
        if (ld != null) ld.release(held, l);
        if (l.kind() == KLock.Kind.LOCKDEP_MAP) return;
        holdsOf(l).released(now, cpu);
    }

    @Override
    public WaitResult waitEvent(ExecContext ctx, Object waitQueue, BooleanSupplier condition, long timeoutNs) {
        if (condition.getAsBoolean()) return WaitResult.WOKEN;
        if (resumeTimedOut == waitQueue) {
            resumeTimedOut = null;
            return condition.getAsBoolean() ? WaitResult.WOKEN : WaitResult.TIMED_OUT;
        }
        if (parksAtOnce && (timeoutNs < 0 || engine.isResource(waitQueue))) {
            throw new Park(waitQueue, timeoutNs < 0 ? Long.MAX_VALUE : now + timeoutNs, stack());
        }
        // Work and callbacks that are due before the deadline may satisfy the condition.
        long deadline = timeoutNs < 0 ? Long.MAX_VALUE : now + timeoutNs;
        long t = engine.runDueUntil(deadline, condition, this);
        if (t >= 0) {
            sleepNs += Math.max(0, t - now);
            now = Math.max(now, t);
            return WaitResult.WOKEN;
        }
        // The frames are taken here: finally blocks on the way out (ctx.exit() in them) unwind some.
        if (engine.isResource(waitQueue) && !atomic) throw new Park(waitQueue, deadline, stack());
        if (timeoutNs < 0) throw new Park(waitQueue, deadline, stack());
        // A plain sleep (congestion_wait, a jiffy's schedule_timeout): time passes, the CPU is free.
        now = deadline;
        sleepNs += timeoutNs;
        if (engine.detect != null) engine.detect.timedOut(engine, this, waitQueue, timeoutNs);
        return WaitResult.TIMED_OUT;
    }

    @Override
    public void wakeUp(ExecContext ctx, Object waitQueue) { engine.wakeUp(waitQueue, now); }

    @Override
    public void queueWork(ExecContext ctx, String workName, Consumer<ExecContext> work) {
        engine.queueWork(cpu, now, workName, work, task);
    }

    @Override
    public void callRcu(ExecContext ctx, Consumer<ExecContext> callback) { engine.callRcu(cpu, now, callback); }

    @Override
    public void synchronizeRcu(ExecContext ctx) {
        long end = engine.nextGracePeriodEnd(now);
        enter("synchronize_rcu");
        enter("schedule");
        engine.runDueUntil(end, () -> false, this);
        sleepNs += end - now;
        now = end;
        exit();
        exit();
    }

    @Override
    public void rcuBarrier(ExecContext ctx) {
        enter("schedule");
        long end = engine.rcuBarrier(now, this);
        sleepNs += Math.max(0, end - now);
        now = Math.max(now, end);
        exit();
    }

    @Override
    public long gracePeriodNs() { return engine.gracePeriodNs; }

    /** Unwinds frames left open by a {@link Park}. */
    void unwindTo(CallTree.Node root) {
        node = root;
        depth = 0;
    }

    int depth() { return depth; }

    void restore(CallTree.Node n, int d) {
        node = n;
        depth = d;
    }
}
