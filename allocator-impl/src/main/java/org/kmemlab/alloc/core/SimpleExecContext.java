package org.kmemlab.alloc.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A deterministic, single-threaded context for unit tests and for callers that need no contention:
 * locks never wait, queued work runs when {@link #runPending()} is called (or immediately with
 * {@code eagerWork}, or never before a wait's timeout with {@code stallWork} — the "grow worker cannot
 * finish in time" case), RCU callbacks run at the next grace period under {@code rcu_do_batch}, and a
 * timed wait whose condition stays false advances the clock by its timeout. It records every frame's
 * self-time in a {@link FrameProfile} and every lock taken; with {@link #recordFrames} it also keeps every
 * frame entered and the stack under which each lock was taken (off by default: benchmarks use this class).
 */
public class SimpleExecContext implements ExecContext, Blocker {
    private int cpu;
    private final long task;
    private final CostTable costs;
    private final Deque<String> stack = new ArrayDeque<>();
    private final StringBuilder folded = new StringBuilder();
    private final FrameProfile profile = new FrameProfile();
    public final List<String> locksTaken = new ArrayList<>();
    /** With {@link #recordFrames}: every frame entered. */
    public final Set<String> framesEntered = new LinkedHashSet<>();
    /** With {@link #recordFrames}: the folded stack at each lock acquisition, {@code a;b;c|zone->lock}. */
    public final List<String> lockStacks = new ArrayList<>();
    private final List<Runnable> pending = new ArrayList<>();
    private final List<Consumer<ExecContext>> rcuCallbacks = new ArrayList<>();
    private long now;
    private long scopeClearMask;
    private boolean atomic;
    private boolean kthread;
    private boolean eagerWork;
    private boolean stallWork;
    private boolean recordFrames;
    private long gracePeriodNs = 20_000_000L;
    private LockDep lockDep;
    private LockDep.Held held;
    private final LockDep.Site site = new LockDep.Site() {
        @Override public long task() { return task; }
        @Override public String comm() { return "task" + task; }
        @Override public String stack() { return folded.toString(); }
    };
    public int rcuBarriers, gracePeriods, waits, timeouts, workQueued;

    public SimpleExecContext(int cpu, long task, CostTable costs) {
        this.cpu = cpu;
        this.task = task;
        this.costs = costs;
    }

    public SimpleExecContext() { this(0, 1, new CostTable()); }

    public SimpleExecContext cpu(int c) { cpu = c; return this; }
    public SimpleExecContext eagerWork(boolean v) { eagerWork = v; return this; }
    public SimpleExecContext stallWork(boolean v) { stallWork = v; return this; }
    public SimpleExecContext recordFrames(boolean v) { recordFrames = v; return this; }
    public SimpleExecContext scope(long clearMask) { scopeClearMask = clearMask; return this; }
    public SimpleExecContext atomic(boolean v) { atomic = v; return this; }
    public SimpleExecContext kthread(boolean v) { kthread = v; return this; }
    public SimpleExecContext gracePeriodNs(long v) { gracePeriodNs = v; return this; }

    /** Reports this context's acquisitions to {@code v} (a fresh held-lock stack); null turns it off. */
    public SimpleExecContext lockDep(LockDep v) {
        lockDep = v;
        held = v == null ? null : v.newHeld();
        return this;
    }

    /** The caller's gfp and the task's declared scope, for {@link LockDep}'s reclaim-in-scope check. */
    public SimpleExecContext lockDepRequest(long requestGfp, long declaredScope) {
        held.reset(requestGfp, declaredScope);
        return this;
    }

    public LockDep.Held held() { return held; }

    @Override public int cpu() { return cpu; }
    @Override public long task() { return task; }
    @Override public long now() { return now; }
    @Override public long scopeClearMask() { return scopeClearMask; }
    @Override public boolean atomicContext() { return atomic; }
    @Override public boolean kthread() { return kthread; }
    @Override public Blocker blocker() { return this; }
    @Override public CostTable costs() { return costs; }

    @Override
    public void enter(String frame) {
        stack.push(frame);
        if (folded.length() > 0) folded.append(';');
        folded.append(frame);
        if (recordFrames) framesEntered.add(frame);
    }

    @Override
    public void exit() {
        String f = stack.pop();
        folded.setLength(Math.max(0, folded.length() - f.length() - (stack.isEmpty() ? 0 : 1)));
    }

    @Override
    public void charge(long ns) {
        now += ns;
        profile.add(folded.toString(), ns);
    }

    @Override
    public void lock(KLock lock) {
        locksTaken.add(lock.name());
        if (recordFrames) lockStacks.add(folded + "|" + lock.name());
        if (lockDep != null) lockDep.acquire(held, lock, site);
    }

    /**
     * Locks another CPU holds, as a test sets them up: {@link #tryLock} fails on them (this context has no
     * other CPUs of its own).
     */
    public final java.util.Set<KLock> heldElsewhere = new java.util.HashSet<>();
    /** Every trylock attempt: the lock's name and {@code :ok} or {@code :busy}. */
    public final List<String> trylocks = new ArrayList<>();

    @Override
    public boolean tryLock(KLock lock) {
        boolean ok = !heldElsewhere.contains(lock);
        trylocks.add(lock.name() + (ok ? ":ok" : ":busy"));
        if (ok && lockDep != null) lockDep.acquire(held, lock, site, true);
        return ok;
    }

    @Override
    public void unlock(KLock lock) {
        if (lockDep != null) lockDep.release(held, lock);
    }

    @Override public boolean lockdep() { return lockDep != null; }

    @Override
    public void fsReclaimAcquire(long gfp, boolean reclaiming) {
        if (lockDep != null) lockDep.fsReclaimAcquire(held, gfp, reclaiming, site);
    }

    @Override
    public void fsReclaimRelease(long gfp) {
        if (lockDep != null) lockDep.fsReclaimRelease(held, gfp);
    }

    public FrameProfile profile() { return profile; }
    public List<String> locksTaken() { return locksTaken; }
    public int rcuBarriers() { return rcuBarriers; }
    public int gracePeriods() { return gracePeriods; }
    public void advance(long ns) { now += ns; }
    public int depth() { return stack.size(); }
    public boolean entered(String frame) { return framesEntered.contains(frame); }
    public int pendingWork() { return pending.size(); }
    public int pendingRcuCallbacks() { return rcuCallbacks.size(); }

    public boolean tookLock(String name) { return locksTaken.contains(name); }

    public void resetRecording() {
        framesEntered.clear();
        locksTaken.clear();
        lockStacks.clear();
        profile.clear();
    }

    /** Runs queued work items (and the work they queue) until none is left. */
    public void runPending() {
        while (!pending.isEmpty()) pending.remove(0).run();
    }

    @Override
    public WaitResult waitEvent(ExecContext ctx, Object waitQueue, BooleanSupplier condition, long timeoutNs) {
        waits++;
        if (condition.getAsBoolean()) return WaitResult.WOKEN;
        if (!stallWork && !pending.isEmpty()) {
            runPending();
            if (condition.getAsBoolean()) return WaitResult.WOKEN;
        }
        if (timeoutNs < 0) throw new IllegalStateException("untimed wait on " + waitQueue + " would never end");
        now += timeoutNs;
        if (condition.getAsBoolean()) return WaitResult.WOKEN;
        timeouts++;
        return WaitResult.TIMED_OUT;
    }

    @Override
    public void wakeUp(ExecContext ctx, Object waitQueue) {}

    /** Runs {@code body} under its own root frames (a kworker, an RCU batch) and restores the caller's stack. */
    private void onOwnStack(Runnable body) {
        Deque<String> saved = new ArrayDeque<>(stack);
        String savedFolded = folded.toString();
        stack.clear();
        folded.setLength(0);
        body.run();
        stack.clear();
        stack.addAll(saved);
        folded.setLength(0);
        folded.append(savedFolded);
    }

    @Override
    public void queueWork(ExecContext ctx, String workName, Consumer<ExecContext> work) {
        workQueued++;
        Runnable r = () -> onOwnStack(() -> {
            // Work runs in a kworker: its own frames, on the same clock.
            enter("worker_thread");
            enter(workName);
            work.accept(this);
            exit();
            exit();
        });
        if (eagerWork) r.run(); else pending.add(r);
    }

    @Override
    public void callRcu(ExecContext ctx, Consumer<ExecContext> callback) { rcuCallbacks.add(callback); }

    @Override
    public void synchronizeRcu(ExecContext ctx) {
        now += gracePeriodNs;
        gracePeriods++;
        runRcuCallbacks();
    }

    @Override
    public void rcuBarrier(ExecContext ctx) {
        rcuBarriers++;
        now += gracePeriodNs;
        gracePeriods++;
        runRcuCallbacks();
    }

    /** Ends a grace period without anyone waiting for it (the RCU engine running on its own). */
    public void gracePeriodElapses() {
        synchronizeRcu(this);
        gracePeriods--;
    }

    private void runRcuCallbacks() {
        while (!rcuCallbacks.isEmpty()) {
            List<Consumer<ExecContext>> cbs = new ArrayList<>(rcuCallbacks);
            rcuCallbacks.clear();
            for (Consumer<ExecContext> cb : cbs) {
                onOwnStack(() -> {
                    enter("rcu_do_batch");
                    cb.accept(this);
                    exit();
                });
            }
        }
    }

    @Override
    public long gracePeriodNs() { return gracePeriodNs; }
}
