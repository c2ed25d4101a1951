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
        MUTEX,
        /**
         * A bare {@code struct lockdep_map} with no lock behind it ({@code fs_reclaim} of mm/page_alloc.c):
         * lockdep orders it like a lock, but nobody ever waits for it.
         */
        LOCKDEP_MAP
    }

    /**
     * lockdep's {@code enum lockdep_wait_type} (include/linux/lockdep_types.h), in its order: a lock may only
     * be taken while every held lock's type is at least as high. INV is "not checked" (bare maps).
     */
    public enum WaitType { INV, SPIN, CONFIG, SLEEP }

    private final String name;
    private final Kind kind;
    private final String className;
    private final int id;
    /** Owned by the replayer (its record of who held the lock when, in virtual time). Not used by the model. */
    public Object holder;

    private static int nextId;

    public KLock(String name, Kind kind) { this(name, kind, classOf(name)); }

    /** {@code className}: the lockdep class, i.e. the lock's init site rather than this instance. */
    public KLock(String name, Kind kind, String className) {
        this.name = name;
        this.kind = kind;
        this.className = className;
        synchronized (KLock.class) { this.id = nextId++; }
    }

    public String name() { return name; }
    public Kind kind() { return kind; }
    public int id() { return id; }

    /**
     * The lockdep class: every {@code zone->lock} shares one key, every {@code krcp->lock} another, because
     * lockdep keys a class by the static key of its init site, not by the instance.
     */
    public String className() { return className; }

    /**
     * The wait type lockdep gives this lock: raw_spinlock_t is LD_WAIT_SPIN, spinlock_t LD_WAIT_CONFIG
     * (a sleeping rtmutex on PREEMPT_RT, which {@code preemptRt} turns into SLEEP), mutex LD_WAIT_SLEEP.
     */
    public WaitType waitType(boolean preemptRt) {
        return switch (kind) {
            case RAW_SPIN -> WaitType.SPIN;
            case SPIN -> preemptRt ? WaitType.SLEEP : WaitType.CONFIG;
            case MUTEX -> WaitType.SLEEP;
            case LOCKDEP_MAP -> WaitType.INV;
        };
    }

    /** The instance part of a name dropped: {@code zone->lock[0:Normal]} → {@code zone->lock}, {@code cache:skc_lock} → {@code skc_lock}. */
    static String classOf(String name) {
        String c = name.replaceAll("\\[[^\\]]*\\]", "");
        int colon = c.lastIndexOf(':');
        return colon >= 0 && colon < c.length() - 1 ? c.substring(colon + 1) : c;
    }

    /** The acquire frame perf shows for this lock, e.g. {@code _raw_spin_lock_irqsave}. */
    public String acquireFrame() {
        return switch (kind) {
            case SPIN, RAW_SPIN -> "_raw_spin_lock_irqsave";
            case MUTEX -> "mutex_lock";
            case LOCKDEP_MAP -> "lock_acquire";
        };
    }

    @Override
    public String toString() { return name; }
}
