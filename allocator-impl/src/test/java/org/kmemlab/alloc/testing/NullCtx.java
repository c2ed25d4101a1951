package org.kmemlab.alloc.testing;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.kmemlab.alloc.core.Blocker;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.KLock;

/** A context that records nothing: measures the model's own cost on the slab fast path. */
public final class NullCtx implements ExecContext, Blocker {
    private final CostTable costs = new CostTable();
    private long now;

    @Override public int cpu() { return 0; }
    @Override public long task() { return 1; }
    @Override public long now() { return now; }
    @Override public void enter(String frame) {}
    @Override public void exit() {}
    @Override public void charge(long ns) { now += ns; }
    @Override public void lock(KLock lock) {}
    @Override public void unlock(KLock lock) {}
    @Override public long scopeClearMask() { return 0; }
    @Override public boolean atomicContext() { return false; }
    @Override public Blocker blocker() { return this; }
    @Override public CostTable costs() { return costs; }
    @Override public WaitResult waitEvent(ExecContext c, Object q, BooleanSupplier cond, long t) {
        return cond.getAsBoolean() ? WaitResult.WOKEN : WaitResult.TIMED_OUT;
    }
    @Override public void wakeUp(ExecContext c, Object q) {}
    @Override public void queueWork(ExecContext c, String n, Consumer<ExecContext> w) { w.accept(this); }
    @Override public void callRcu(ExecContext c, Consumer<ExecContext> cb) { cb.accept(this); }
    @Override public void synchronizeRcu(ExecContext c) {}
    @Override public void rcuBarrier(ExecContext c) {}
    @Override public long gracePeriodNs() { return 0; }
}
