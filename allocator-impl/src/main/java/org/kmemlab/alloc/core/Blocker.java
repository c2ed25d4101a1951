package org.kmemlab.alloc.core;

/**
 * The blocking points of the model: waits with timeouts, work queues, RCU grace periods. The replayer
 * implements this on its virtual clock and scheduler; unit tests use {@link SimpleExecContext}'s
 * deterministic implementation, which runs queued work immediately and advances time by the timeout.
 */
public interface Blocker {
    /** Outcome of a wait. */
    enum WaitResult { WOKEN, TIMED_OUT }

    /**
     * Sleeps on {@code waitQueue} until {@code condition} holds or {@code timeoutNs} elapses (negative: no
     * timeout). Models {@code wait_event_timeout()} / {@code io_schedule_timeout()}.
     */
    WaitResult waitEvent(ExecContext ctx, Object waitQueue, java.util.function.BooleanSupplier condition, long timeoutNs);

    /** Wakes the sleepers of {@code waitQueue} ({@code wake_up()}). */
    void wakeUp(ExecContext ctx, Object waitQueue);

    /** {@code queue_work()}: runs {@code work} later on a kworker, with its own context. */
    void queueWork(ExecContext ctx, String workName, java.util.function.Consumer<ExecContext> work);

    /** {@code call_rcu()}: runs {@code callback} after the next full grace period. */
    void callRcu(ExecContext ctx, java.util.function.Consumer<ExecContext> callback);

    /** {@code synchronize_rcu()}: blocks for a full grace period. */
    void synchronizeRcu(ExecContext ctx);

    /** {@code rcu_barrier()}: blocks until every queued RCU callback has run. */
    void rcuBarrier(ExecContext ctx);

    /** The grace-period length the blocker uses, in ns. */
    long gracePeriodNs();
}
