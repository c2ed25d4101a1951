package org.kmemlab.alloc.core;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A deterministic, single-threaded context for unit tests and for callers that need no contention:
 * locks never wait, queued work and RCU callbacks run when {@link #runPending()} is called (or
 * immediately with {@code eagerWork}), and a timed wait whose condition is false advances the clock by
 * its timeout. It records every frame's self-time in a {@link FrameProfile} and every lock taken.
 */
public final class SimpleExecContext implements ExecContext, Blocker {
    private final int cpu;
    private final long task;
    private final CostTable costs;
    private final Deque<String> stack = new ArrayDeque<>();
    private final StringBuilder folded = new StringBuilder();
    private final FrameProfile profile = new FrameProfile();
    private final List<String> locksTaken = new ArrayList<>();
    private final List<Runnable> pending = new ArrayList<>();
    private final List<Consumer<ExecContext>> rcuCallbacks = new ArrayList<>();
    private long now;
    private long scopeClearMask;
    private boolean atomic;
    private boolean eagerWork;
    private long gracePeriodNs = 20_000_000L;
    private int rcuBarriers;
    private int graceperiods;

    public SimpleExecContext(int cpu, long task, CostTable costs) {
        this.cpu = cpu;
        this.task = task;
        this.costs = costs;
    }

    public SimpleExecContext() { this(0, 1, new CostTable()); }

    public SimpleExecContext eagerWork(boolean v) { eagerWork = v; return this; }
    public SimpleExecContext scope(long clearMask) { scopeClearMask = clearMask; return this; }
    public SimpleExecContext atomic(boolean v) { atomic = v; return this; }
    public SimpleExecContext gracePeriodNs(long v) { gracePeriodNs = v; return this; }

    @Override public int cpu() { return cpu; }
    @Override public long task() { return task; }
    @Override public long now() { return now; }
    @Override public long scopeClearMask() { return scopeClearMask; }
    @Override public boolean atomicContext() { return atomic; }
    @Override public Blocker blocker() { return this; }
    @Override public CostTable costs() { return costs; }

    @Override
    public void enter(String frame) {
        stack.push(frame);
        if (folded.length() > 0) folded.append(';');
        folded.append(frame);
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
    public void lock(KLock lock) { locksTaken.add(lock.name()); }

    @Override
    public void unlock(KLock lock) {}

    public FrameProfile profile() { return profile; }
    public List<String> locksTaken() { return locksTaken; }
    public int rcuBarriers() { return rcuBarriers; }
    public int gracePeriods() { return graceperiods; }
    public void advance(long ns) { now += ns; }

    /** Runs queued work items (and the work they queue) until none is left. */
    public void runPending() {
        while (!pending.isEmpty()) {
            Runnable r = pending.remove(0);
            r.run();
        }
    }

    @Override
    public WaitResult waitEvent(ExecContext ctx, Object waitQueue, BooleanSupplier condition, long timeoutNs) {
        if (condition.getAsBoolean()) return WaitResult.WOKEN;
        if (!pending.isEmpty()) {
            runPending();
            if (condition.getAsBoolean()) return WaitResult.WOKEN;
        }
        if (timeoutNs < 0) throw new IllegalStateException("wait without timeout would never end in SimpleExecContext");
        now += timeoutNs;
        return condition.getAsBoolean() ? WaitResult.WOKEN : WaitResult.TIMED_OUT;
    }

    @Override
    public void wakeUp(ExecContext ctx, Object waitQueue) {}

    @Override
    public void queueWork(ExecContext ctx, String workName, Consumer<ExecContext> work) {
        Runnable r = () -> {
            // Work runs in a kworker: its own frames, on the same clock.
            Deque<String> saved = new ArrayDeque<>(stack);
            String savedFolded = folded.toString();
            stack.clear();
            folded.setLength(0);
            enter("worker_thread");
            enter(workName);
            work.accept(this);
            exit();
            exit();
            stack.addAll(saved);
            folded.setLength(0);
            folded.append(savedFolded);
        };
        if (eagerWork) r.run(); else pending.add(r);
    }

    @Override
    public void callRcu(ExecContext ctx, Consumer<ExecContext> callback) { rcuCallbacks.add(callback); }

    @Override
    public void synchronizeRcu(ExecContext ctx) {
        now += gracePeriodNs;
        graceperiods++;
        runRcuCallbacks();
    }

    @Override
    public void rcuBarrier(ExecContext ctx) {
        rcuBarriers++;
        now += gracePeriodNs;
        graceperiods++;
        runRcuCallbacks();
    }

    private void runRcuCallbacks() {
        List<Consumer<ExecContext>> cbs = new ArrayList<>(rcuCallbacks);
        rcuCallbacks.clear();
        for (Consumer<ExecContext> cb : cbs) cb.accept(this);
    }

    @Override
    public long gracePeriodNs() { return gracePeriodNs; }
}
