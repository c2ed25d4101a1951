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

    /**
     * {@code spin_trylock()}: takes {@code lock} if nobody holds it at this moment and returns true; returns
     * false at once, without spinning, when another CPU holds it. A context that models no contention
     * always gets the lock.
     */
    default boolean tryLock(KLock lock) {
        lock(lock);
        return true;
    }

    /** Bits the task's scope strips from every allocation (memalloc_noio/nofs_save, PF_FSTRANS). */
    long scopeClearMask();

    /** True in hardirq, softirq or NMI context, or under a raw spinlock: the model must not sleep. */
    boolean atomicContext();

    /**
     * {@code current->flags & PF_KTHREAD}: the running task is a kernel thread, which
     * {@code throttle_direct_reclaim()} never throttles.
     */
    default boolean kthread() { return false; }

    Blocker blocker();

    /**
     * True when a lock validator listens ({@code CONFIG_LOCKDEP}): the model then makes its lockdep-only
     * annotations ({@link #fsReclaimAcquire}), which cost nothing otherwise.
     */
    default boolean lockdep() { return false; }

    /**
     * {@code fs_reclaim_acquire(gfp)} of mm/page_alloc.c, called by the model once {@code __need_reclaim()}
     * holds, with {@code gfp} already through {@code current_gfp_context()}. {@code reclaiming} is true where
     * reclaim really starts ({@code __perform_reclaim}, kswapd) and false for the "might reclaim"
     * annotation of {@code prepare_alloc_pages()}/{@code might_alloc()}, which is released at once.
     */
    default void fsReclaimAcquire(long gfp, boolean reclaiming) {}

    /** {@code fs_reclaim_release(gfp)}. */
    default void fsReclaimRelease(long gfp) {}

    CostTable costs();

    /** Convenience: enter a frame, charge it, and leave it. */
    default void leaf(String frame, long ns) {
        enter(frame);
        charge(ns);
        exit();
    }
}
