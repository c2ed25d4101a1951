package org.kmemlab.alloc.mempool;

import org.kmemlab.alloc.core.Blocker;
import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KLock;
import org.kmemlab.alloc.slab.SlabCosts;

/**
 * A {@code mempool_t} of {@code mm/mempool.c}: {@code mempool_create()} preallocates {@code min_nr}
 * elements; {@code mempool_alloc()} first asks the backing allocator without direct reclaim and IO,
 * then takes a reserved element, then (by {@link MempoolSemantics}) retries with the full mask and/or
 * sleeps {@code io_schedule_timeout(5*HZ)} on {@code pool->wait}; {@code mempool_free()} refills the
 * reserve before giving elements back to the allocator.
 *
 * <p>Waits go through the {@link Blocker}, so a replayer can see (and a deadlock detector can reason
 * about) tasks sleeping on a pool's wait queue.
 */
public final class Mempool {
    /** What backs the pool: {@code pool->alloc(gfp, pool_data)} / {@code pool->free(element, pool_data)}. */
    public interface Backing {
        /** Returns an element address or 0. */
        long alloc(ExecContext ctx, long gfp);

        void free(ExecContext ctx, long element);
    }

    /** {@code io_schedule_timeout(5*HZ)}. */
    public static final long WAIT_NS = 5_000_000_000L;

    public final String name;
    public final int minNr;
    private final Backing backing;
    private final MempoolSemantics semantics;
    private final SlabCosts costs;
    private final long[] elements;
    private int currNr;
    public final KLock lock;
    /** {@code pool->wait}. */
    public final Object waitQueue = new Object() {
        @Override public String toString() { return name + ":pool->wait"; }
    };
    /** Model-only bound on the sleep/retry loop (the kernel loops forever); 0 on exhaustion. */
    private int maxWaits = Integer.MAX_VALUE;

    public long statBackingOk, statReserveTaken, statWaits, statFailed, statFreedToReserve, statFreedToBacking;

    /** {@code mempool_create()}: fills the reserve with {@code min_nr} elements allocated with {@code gfp}. */
    public Mempool(ExecContext ctx, String name, int minNr, Backing backing, MempoolSemantics semantics, SlabCosts costs,
                   long gfp) {
        this.name = name;
        this.minNr = minNr;
        this.backing = backing;
        this.semantics = semantics;
        this.costs = costs;
        this.elements = new long[Math.max(minNr, 1)];
        this.lock = new KLock(name + ":pool->lock", KLock.Kind.SPIN);
        ctx.enter("mempool_create");
        while (currNr < minNr) {
            long e = backing.alloc(ctx, gfp);
            if (e == 0) {
                ctx.exit();
                throw new IllegalStateException("mempool_create(" + name + "): backing allocator failed");
            }
            elements[currNr++] = e;
        }
        ctx.exit();
    }

    public Mempool maxWaits(int n) { this.maxWaits = n; return this; }

    /** The first-pass mask: {@code mempool_adjust_gfp()} / the 2.6–4.x open-coded edits. */
    public static long firstPassGfp(long gfp) {
        return ((gfp | Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN) & ~(Gfp.DIRECT_RECLAIM | Gfp.IO));
    }

    /** {@code mempool_alloc()}; 0 only for callers that may not sleep (or past the model's wait bound). */
    public long alloc(ExecContext ctx, long gfpMask) {
        ctx.enter("mempool_alloc");
        long gfp = gfpMask | Gfp.NOMEMALLOC | Gfp.NORETRY | Gfp.NOWARN;
        long gfpTemp = gfp & ~(Gfp.DIRECT_RECLAIM | Gfp.IO);
        int waits = 0;
        while (true) {
            long e = backing.alloc(ctx, gfpTemp);
            if (e != 0) {
                statBackingOk++;
                ctx.exit();
                return e;
            }
            ctx.lock(lock);
            if (currNr > 0) {
                e = elements[--currNr];
                elements[currNr] = 0;
                ctx.charge(costs.mempoolElement);
                ctx.unlock(lock);
                statReserveTaken++;
                ctx.exit();
                return e;
            }
            if (semantics != MempoolSemantics.MP2011 && gfpTemp != gfp) {
                // "If alloc failed with that and @pool was empty, retry immediately."
                ctx.unlock(lock);
                gfpTemp = gfp;
                continue;
            }
            ctx.unlock(lock);
            if (!Gfp.allowBlocking(gfp)) {
                statFailed++;
                ctx.exit();
                return 0;
            }
            if (waits++ >= maxWaits) {
                statFailed++;
                ctx.exit();
                return 0;
            }
            gfpTemp = gfp; // MP2011: "Now start performing page reclaim" only after the sleep
            statWaits++;
            ctx.enter("io_schedule_timeout");
            ctx.blocker().waitEvent(ctx, waitQueue, () -> currNr > 0, WAIT_NS);
            ctx.exit();
        }
    }

    /** Elements in the reserve now (the timeline samples it). */
    public int currNr() { return currNr; }

    /** {@code mempool_free()}: the reserve first, the backing allocator once it is full. */
    public void free(ExecContext ctx, long element) {
        if (element == 0) return;
        ctx.enter("mempool_free");
        if (currNr < minNr) {
            ctx.lock(lock);
            if (currNr < minNr) {
                elements[currNr++] = element;
                ctx.charge(costs.mempoolElement);
                ctx.unlock(lock);
                statFreedToReserve++;
                ctx.blocker().wakeUp(ctx, waitQueue);
                ctx.exit();
                return;
            }
            ctx.unlock(lock);
        }
        backing.free(ctx, element);
        statFreedToBacking++;
        ctx.exit();
    }

    /** {@code mempool_destroy()}: gives the reserve back. */
    public void destroy(ExecContext ctx) {
        ctx.enter("mempool_destroy");
        while (currNr > 0) backing.free(ctx, elements[--currNr]);
        ctx.exit();
    }

    public int reserve() { return currNr; }
    public MempoolSemantics semantics() { return semantics; }

    /** A pool whose elements come from a SLUB cache ({@code mempool_alloc_slab}/{@code mempool_free_slab}). */
    public static Backing slabBacking(org.kmemlab.alloc.slab.SlubCache cache) {
        return new Backing() {
            @Override public long alloc(ExecContext ctx, long gfp) {
                ctx.enter("mempool_alloc_slab");
                long e = cache.alloc(ctx, gfp);
                ctx.exit();
                return e;
            }

            @Override public void free(ExecContext ctx, long element) {
                ctx.enter("mempool_free_slab");
                cache.free(ctx, element);
                ctx.exit();
            }
        };
    }
}
