package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.KLock;

/**
 * Takes a lock under its acquire frame ({@code _raw_spin_lock_irqsave} of {@code kernel/locking/spinlock.c},
 * {@code mutex_lock} of {@code kernel/locking/mutex.c}) so the replayer's spin or sleep time lands there.
 */
final class KLockHelper {
    private KLockHelper() {}

    static void lock(ExecContext ctx, KLock l) {
        ctx.enter(l.acquireFrame());
        ctx.lock(l);
        ctx.exit();
    }
}
