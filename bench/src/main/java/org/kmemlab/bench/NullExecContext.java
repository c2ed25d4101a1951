package org.kmemlab.bench;

import org.kmemlab.alloc.core.Blocker;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.KLock;

/**
 * An ExecContext that only advances a clock: no frame strings, no lock log. It measures the model's own
 * cost, which is what the replayer pays on top of its own bookkeeping.
 */
public final class NullExecContext implements ExecContext {
    private final int cpu;
    private final CostTable costs = new CostTable();
    public long now;
    public int depth;

    public NullExecContext(int cpu) { this.cpu = cpu; }

    @Override public int cpu() { return cpu; }
    @Override public long task() { return 1; }
    @Override public long now() { return now; }
    @Override public void enter(String frame) { depth++; }
    @Override public void exit() { depth--; }
    @Override public void charge(long ns) { now += ns; }
    @Override public void lock(KLock lock) { }
    @Override public void unlock(KLock lock) { }
    @Override public long scopeClearMask() { return 0; }
    @Override public boolean atomicContext() { return false; }
    @Override public Blocker blocker() { throw new UnsupportedOperationException("the benchmark never blocks"); }
    @Override public CostTable costs() { return costs; }
}
