package org.kmemlab.alloc.testing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.kmemlab.alloc.core.Blocker;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.FrameProfile;
import org.kmemlab.alloc.core.KLock;

/**
 * A deterministic single-threaded context for the upper-half tests. Unlike SimpleExecContext it
 * records every frame entered (also frames that charge nothing), every lock with the stack it was
 * taken under, lets a test switch the CPU, and can hold queued work back ({@link #stallWork}) so a
 * waiter's timeout expires before the worker runs — the "grow worker cannot finish in time" case.
 */
public final class TestCtx implements ExecContext, Blocker {
    private int cpu;
    private final long task;
    private final CostTable costs;
    private final Deque<String> stack = new ArrayDeque<>();
    private final FrameProfile profile = new FrameProfile();
    public final Set<String> framesEntered = new LinkedHashSet<>();
    public final List<String> locksTaken = new ArrayList<>();
    /** Folded stack at each lock acquisition, e.g. {@code kvfree_call_rcu;__get_free_pages;...|zone->lock}. */
    public final List<String> lockStacks = new ArrayList<>();
    private final List<Runnable> pending = new ArrayList<>();
    private final List<Consumer<ExecContext>> rcuCallbacks = new ArrayList<>();
    private long now;
    private long scopeClearMask;
    private boolean atomic;
    private boolean stallWork;
    private long gracePeriodNs = 20_000_000L;
    public int rcuBarriers, gracePeriods, waits, timeouts, workQueued;

    public TestCtx(CostTable costs) {
        this.task = 1;
        this.costs = costs;
    }

    public TestCtx() { this(new CostTable()); }

    public TestCtx cpu(int c) { cpu = c; return this; }
    public TestCtx stallWork(boolean v) { stallWork = v; return this; }
    public TestCtx scope(long m) { scopeClearMask = m; return this; }
    public TestCtx atomic(boolean v) { atomic = v; return this; }

    @Override public int cpu() { return cpu; }
    @Override public long task() { return task; }
    @Override public long now() { return now; }
    @Override public long scopeClearMask() { return scopeClearMask; }
    @Override public boolean atomicContext() { return atomic; }
    @Override public Blocker blocker() { return this; }
    @Override public CostTable costs() { return costs; }

    private String folded() { 
        StringBuilder sb = new StringBuilder();
        var it = stack.descendingIterator();
        while (it.hasNext()) { if (sb.length() > 0) sb.append(';'); sb.append(it.next()); }
        return sb.toString();
    }

    @Override public void enter(String frame) { stack.push(frame); framesEntered.add(frame); }
    @Override public void exit() { stack.pop(); }
    @Override public void charge(long ns) { now += ns; profile.add(folded(), ns); }

    @Override
    public void lock(KLock lock) {
        locksTaken.add(lock.name());
        lockStacks.add(folded() + "|" + lock.name());
    }

    @Override public void unlock(KLock lock) {}

    public FrameProfile profile() { return profile; }
    public int depth() { return stack.size(); }
    public boolean entered(String frame) { return framesEntered.contains(frame); }
    public void resetRecording() { framesEntered.clear(); locksTaken.clear(); lockStacks.clear(); profile.clear(); }

    public boolean tookLock(String name) {
        for (String l : locksTaken) if (l.equals(name)) return true;
        return false;
    }

    /** Runs queued work items (and work they queue) until none is left. */
    public void runPending() {
        while (!pending.isEmpty()) pending.remove(0).run();
    }

    public int pendingWork() { return pending.size(); }

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

    @Override public void wakeUp(ExecContext ctx, Object waitQueue) {}

    @Override
    public void queueWork(ExecContext ctx, String workName, Consumer<ExecContext> work) {
        workQueued++;
        pending.add(() -> {
            Deque<String> saved = new ArrayDeque<>(stack);
            stack.clear();
            enter("worker_thread");
            enter(workName);
            work.accept(this);
            exit();
            exit();
            stack.addAll(saved);
        });
    }

    @Override public void callRcu(ExecContext ctx, Consumer<ExecContext> callback) { rcuCallbacks.add(callback); }

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
    public void gracePeriodElapses() { synchronizeRcu(this); gracePeriods--; }

    public int pendingRcuCallbacks() { return rcuCallbacks.size(); }

    private void runRcuCallbacks() {
        while (!rcuCallbacks.isEmpty()) {
            List<Consumer<ExecContext>> cbs = new ArrayList<>(rcuCallbacks);
            rcuCallbacks.clear();
            for (Consumer<ExecContext> cb : cbs) {
                Deque<String> saved = new ArrayDeque<>(stack);
                stack.clear();
                enter("rcu_do_batch");
                cb.accept(this);
                exit();
                stack.addAll(saved);
            }
        }
    }

    @Override public long gracePeriodNs() { return gracePeriodNs; }
}
