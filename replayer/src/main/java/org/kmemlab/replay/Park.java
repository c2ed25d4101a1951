package org.kmemlab.replay;

/**
 * Thrown out of a request that must sleep until another task acts (a mempool element freed, an SPL
 * slab grown). The request is restartable by contract: the model blocks only at points where it has
 * made no change that a retry from the top would repeat (mempool_alloc's {@code repeat_alloc:} loop,
 * spl_cache_alloc's retry after the grow). The engine parks the task and retries the request when the
 * wait queue is woken or the timeout passes; the task's later events wait behind it.
 */
final class Park extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient Object waitQueue;
    final long timeoutAt;
    /** The model frames where the request blocked, or null. */
    final String frames;

    Park(Object waitQueue, long timeoutAt) { this(waitQueue, timeoutAt, null); }

    Park(Object waitQueue, long timeoutAt, String frames) {
        super(null, null, false, false);
        this.waitQueue = waitQueue;
        this.timeoutAt = timeoutAt;
        this.frames = frames;
    }
}
