package org.kmemlab.alloc.core;

/**
 * What one operation of the model runs in: a CPU, a task, a virtual clock position, a frame stack.
 *
 * <p>The model calls {@link #enter}/{@link #exit} with kernel function names and {@link #charge} for the
 * self-time of the current frame (costs come from a {@link CostTable}). Lock acquisitions go through
 * {@link #lock}/{@link #unlock} so the replayer can order them across CPUs and charge spin time under
 * {@code queued_spin_lock_slowpath}. Blocking goes through {@link #blocker()}.
 */
public interface ExecContext {
    int cpu();

    /** A stable id of the running task (pid, or a kernel thread id). */
    long task();

    /** Virtual time now, in ns: the operation's start plus everything charged so far. */
    long now();

    void enter(String frame);

    void exit();

    /** Adds self-time to the current frame and advances {@link #now()}. */
    void charge(long ns);

    void lock(KLock lock);

    void unlock(KLock lock);

    /** Bits the task's scope strips from every allocation (memalloc_noio/nofs_save, PF_FSTRANS). */
    long scopeClearMask();

    /** True in hardirq, softirq or NMI context, or under a raw spinlock: the model must not sleep. */
    boolean atomicContext();

    Blocker blocker();

    CostTable costs();

    /** Convenience: enter a frame, charge it, and leave it. */
    default void leaf(String frame, long ns) {
        enter(frame);
        charge(ns);
        exit();
    }
}
