package org.kmemlab.alloc.core;

/**
 * A kernel lock the model takes: {@code zone->lock}, {@code n->list_lock}, {@code vmap_area_lock},
 * {@code cgroup_mutex}, … The model never decides waiting itself: it reports acquisitions through
 * {@link ExecContext#lock}, and whoever owns time (the replayer) orders them and charges spinning.
 */
public final class KLock {
    public enum Kind {
        /** spin_lock_irqsave and friends: waiters spin, and the spin is CPU time. */
        SPIN,
        /** raw_spinlock_t: like SPIN, but taking a sleeping or a plain spinlock inside it is invalid on RT. */
        RAW_SPIN,
        /** struct mutex: waiters sleep. */
        MUTEX
    }

    private final String name;
    private final Kind kind;
    private final int id;
    /** Owned by the replayer: when the current holder releases, in virtual ns. Not used by the model. */
    public long freeAtNs;
    /** Owned by the replayer. */
    public Object holder;

    private static int nextId;

    public KLock(String name, Kind kind) {
        this.name = name;
        this.kind = kind;
        synchronized (KLock.class) { this.id = nextId++; }
    }

    public String name() { return name; }
    public Kind kind() { return kind; }
    public int id() { return id; }

    /** The acquire frame perf shows for this lock, e.g. {@code _raw_spin_lock_irqsave}. */
    public String acquireFrame() {
        return switch (kind) {
            case SPIN, RAW_SPIN -> "_raw_spin_lock_irqsave";
            case MUTEX -> "mutex_lock";
        };
    }

    @Override
    public String toString() { return name; }
}
