package org.kmemlab.alloc.page;

import org.kmemlab.alloc.core.ExecContext;
import org.kmemlab.alloc.core.Gfp;

import static org.kmemlab.alloc.page.PageConst.*;

/**
 * One node's kswapd thread: {@code mm/vmscan.c kswapd()}, {@code kswapd_try_to_sleep()},
 * {@code prepare_kswapd_sleep()}, {@code balance_pgdat()} and {@code kswapd_shrink_node()}, with the
 * {@code pgdat->kswapd_order}, {@code kswapd_highest_zoneidx} and {@code kswapd_failures} that
 * {@code wakeup_kswapd()} reads and writes.
 *
 * <p>It is a resumable state machine rather than a loop, so that whoever owns the clock can run it one
 * {@code balance_pgdat()} priority round at a time ({@link #run}) and let allocations interleave with its
 * reclaim, as they do with the real thread. The allocator itself owns no clock: without a driver kswapd never
 * runs on its own, and {@link PageAllocator#kswapd} runs one whole {@code balance_pgdat()} on request.
 *
 * <p>A round is restartable: when a shrinker sleeps in it (a filesystem's {@code super_cache_scan} waiting
 * for its own writeback) the exception leaves this object as the round found it, and running it again
 * repeats the round, like a woken task re-checking its wait condition.
 */
public final class Kswapd {
    /** {@code MAX_RECLAIM_RETRIES}: after this many balance_pgdat() runs that reclaimed nothing the node is hopeless. */
    public static final int MAX_RECLAIM_RETRIES = 16;
    /** kswapd_try_to_sleep()'s {@code schedule_timeout(HZ/10)}, the check for a premature sleep. */
    public static final long SHORT_SLEEP_NS = 100_000_000L;

    /** Where the thread is: asleep on {@code pgdat->kswapd_wait}, in its HZ/10 nap, or reclaiming. */
    public enum State { SLEEPING, SHORT_SLEEP, RUNNING }

    private final PageAllocator pa;
    public final int node;
    private State state = State.SLEEPING;

    // pgdat->kswapd_order and kswapd_highest_zoneidx (-1: MAX_NR_ZONES, nothing requested)
    int requestedOrder, requestedHighest = -1;
    /** A wake-up of kswapd_wait is pending: set while the thread sleeps, consumed when it runs. */
    private boolean woken;
    private long wokenAt;
    private int wokenBy;
    /** {@code pgdat->kswapd_failures}. */
    int failures;

    // the kswapd() loop's alloc_order, reclaim_order and highest_zoneidx
    private int allocOrder, reclaimOrder, highest = NR_ZONES - 1;
    // the balance_pgdat() in progress: its scan_control's order and priority, what it reclaimed, and the boost
    private int order, priority;
    private long nrReclaimed, nrBoostReclaim;
    private final long[] zoneBoosts = new long[NR_ZONES];
    private boolean boosted;

    public long statRuns, statRounds, statReclaimed, statWakeups, statPrematureWakeups, statFailures;

    Kswapd(PageAllocator pa, int node) {
        this.pa = pa;
        this.node = node;
    }

    public State state() { return state; }
    /** A wake-up the driver has not run yet. */
    public boolean woken() { return woken; }
    /** The virtual time of the pending wake-up. */
    public long wokenAt() { return wokenAt; }
    /** The CPU that woke it: where the model runs it (the scheduler's wake-affine choice). */
    public int wokenBy() { return wokenBy; }
    /** {@code kswapd_test_hopeless()} ({@code kswapd_failures >= MAX_RECLAIM_RETRIES}). */
    public boolean hopeless() { return failures >= MAX_RECLAIM_RETRIES; }

    /** wakeup_kswapd()'s first step: raise {@code kswapd_order} and {@code kswapd_highest_zoneidx}. */
    void request(int order, int highestZone) {
        if (requestedHighest < 0 || requestedHighest < highestZone) requestedHighest = highestZone;
        if (requestedOrder < order) requestedOrder = order;
    }

    /** {@code waitqueue_active(&pgdat->kswapd_wait)}: the thread is asleep (fully or in its HZ/10 nap). */
    boolean waitqueueActive() { return state != State.RUNNING; }

    /** {@code wake_up_interruptible(&pgdat->kswapd_wait)}. */
    void wake(long now, int cpu) {
        if (woken) return;
        woken = true;
        wokenAt = now;
        wokenBy = cpu;
        statWakeups++;
        if (state == State.SHORT_SLEEP) statPrematureWakeups++;
    }

    /**
     * {@code allow_direct_reclaim()}'s wake-up of a sleeping kswapd for throttled tasks: its highest zone lowered to
     * ZONE_NORMAL (a request for none counts as above it), then {@code wake_up_interruptible()}, without
     * wakeup_kswapd()'s tracepoint.
     */
    void wakeForThrottled(long now, int cpu) {
        if (requestedHighest < 0 || requestedHighest > ZONE_NORMAL) requestedHighest = ZONE_NORMAL;
        wake(now, cpu);
    }

    /**
     * Runs the thread until it next gives up the CPU: one balance_pgdat() priority round, or the decision to
     * sleep. Returns the virtual time it wants to run again at ({@code ctx.now()} to go on with the next
     * round, the end of the HZ/10 nap), or {@code Long.MAX_VALUE} when it sleeps until woken.
     */
    public long run(ExecContext ctx) {
        switch (state) {
            case SLEEPING -> {
                if (!woken) return Long.MAX_VALUE;
                startBalance();
            }
            case SHORT_SLEEP -> {
                if (woken) {
                    // woken before the nap ended: straight back to work with the new request
                    startBalance();
                } else if (prepareSleep(ctx, reclaimOrder, highest)) {
                    state = State.SLEEPING;
                    pa.events.kswapdSleep(node);
                    return Long.MAX_VALUE;
                } else {
                    startBalance();
                }
            }
            case RUNNING -> { }
        }
        if (balanceRound(ctx)) return ctx.now();
        // kswapd(): "if (reclaim_order < alloc_order) goto kswapd_try_sleep", else a new loop, which reads the
        // order requested while it ran
        if (reclaimOrder >= allocOrder) {
            allocOrder = reclaimOrder = requestedOrder;
            if (requestedHighest >= 0) highest = requestedHighest;
        }
        return tryToSleep(ctx);
    }

    /** {@code kswapd_try_to_sleep()}: nap HZ/10 when balanced (waking kcompactd), else reclaim again at once. */
    private long tryToSleep(ExecContext ctx) {
        if (prepareSleep(ctx, reclaimOrder, highest)) {
            // "We have freed the memory, now we should compact it to make allocation of the requested order possible."
            pa.wakeupKcompactd(node, allocOrder);
            state = State.SHORT_SLEEP;
            return ctx.now() + SHORT_SLEEP_NS;
        }
        // KSWAPD_HIGH_WMARK_HIT_QUICKLY's opposite: not balanced, so no sleep at all
        startBalance();
        return ctx.now();
    }

    /**
     * {@code prepare_kswapd_sleep()}: wakes the throttled direct reclaimers first ("If kswapd is going to sleep, no
     * process should be sleeping on pfmemalloc_wait"), then a hopeless node, or one balanced for the order, lets
     * kswapd sleep.
     */
    private boolean prepareSleep(ExecContext ctx, int order, int highestZone) {
        pa.vmscan.wakeThrottled(ctx, node, false);
        return hopeless() || pa.vmscan.pgdatBalanced(node, order, highestZone);
    }

    /** A populated zone of this node up to the pass's highest_zoneidx: what balance_pgdat() works on. */
    private boolean eligible(Zone z) { return z.node == node && z.type <= highest && z.populated(); }

    /** The top of the kswapd() loop: read and reset the request, then balance_pgdat()'s set-up. */
    private void startBalance() {
        woken = false;
        state = State.RUNNING;
        allocOrder = requestedOrder;
        // kswapd_highest_zoneidx(): the previous one when nothing was requested
        if (requestedHighest >= 0) highest = requestedHighest;
        requestedOrder = 0;
        requestedHighest = -1;
        order = allocOrder;
        priority = DEF_PRIORITY;
        nrReclaimed = 0;
        nrBoostReclaim = 0;
        for (Zone z : pa.zones) {
            if (!eligible(z)) continue;
            zoneBoosts[z.type] = z.watermarkBoost;
            nrBoostReclaim += z.watermarkBoost;
        }
        boosted = nrBoostReclaim > 0;
        statRuns++;
        pa.events.kswapdWake(node, highest, allocOrder);
    }

    /**
     * One iteration of balance_pgdat()'s priority loop. Returns true while the loop goes on; false when it
     * ended ("out:"), with {@link #reclaimOrder} set to what it returned.
     */
    private boolean balanceRound(ExecContext ctx) {
        PageCosts c = pa.costs(ctx);
        ctx.enter("kswapd");
        ctx.enter("balance_pgdat");
        // kswapd has PF_MEMALLOC and holds __fs_reclaim_map while it reclaims (released only around the freezer check)
        boolean annotate = ctx.lockdep();
        if (annotate) ctx.fsReclaimAcquire(Gfp.GFP_KERNEL, true);
        pa.memallocDepth++;
        boolean more;
        try {
            more = priorityRound(ctx, c);
        } finally {
            pa.memallocDepth--;
            if (annotate) ctx.fsReclaimRelease(Gfp.GFP_KERNEL);
        }
        statRounds++;
        if (!more) finishBalance(ctx);
        ctx.exit();
        ctx.exit();
        return more;
    }

    private boolean priorityRound(ExecContext ctx, PageCosts c) {
        boolean balanced = pa.vmscan.pgdatBalanced(node, order, highest);
        // "If the pgdat is imbalanced then ignore boosting and preserve the watermarks for a later time and restart."
        if (!balanced && nrBoostReclaim > 0) {
            nrBoostReclaim = 0;
            priority = DEF_PRIORITY;
        }
        if (nrBoostReclaim == 0 && balanced) return false;
        boolean raisePriority = !(nrBoostReclaim > 0 && priority == DEF_PRIORITY - 2);
        // kswapd_shrink_node(): "Reclaim a number of pages proportional to the number of zones"
        ctx.enter("kswapd_shrink_node");
        long toReclaim = 0;
        for (Zone z : pa.zones) if (eligible(z)) toReclaim += Math.max(z.highWmark(), SWAP_CLUSTER_MAX);
        long r = pa.vmscan.shrinkNode(ctx, c, node, highest, priority, Gfp.GFP_KERNEL, true, toReclaim);
        ctx.exit();
        nrReclaimed += r;
        // "If the low watermark is met there is no need for processes to be throttled on pfmemalloc_wait as they
        // should not be able to safely make forward progress. Wake them"
        pa.vmscan.wakeThrottled(ctx, node, true);
        // "If twice the allocation size has been reclaimed then recheck watermarks only at order-0"
        if (order > 0 && nrReclaimed >= 2L << order) order = 0;
        // kswapd_shrink_node() returns nr_scanned >= nr_to_reclaim; the model counts what it freed, not scanned
        if (r >= toReclaim) raisePriority = false;
        nrBoostReclaim -= Math.min(nrBoostReclaim, r);
        // "If reclaim made no progress for a boost, stop reclaim as IO cannot be queued"
        if (nrBoostReclaim > 0 && r == 0) return endOfLoop();
        if (raisePriority || r == 0) priority--;
        return priority >= 1 || endOfLoop();
    }

    /** After the priority loop ran out: a balance_pgdat() that reclaimed nothing counts as a failure. */
    private boolean endOfLoop() {
        if (nrReclaimed == 0) {
            failures++;
            statFailures++;
        }
        return false;
    }

    /** balance_pgdat()'s "out:": give back the boost it reclaimed for and let kcompactd defragment. */
    private void finishBalance(ExecContext ctx) {
        if (boosted) {
            for (Zone z : pa.zones) {
                if (!eligible(z)) continue;
                z.setWatermarkBoost(z.watermarkBoost - Math.min(z.watermarkBoost, zoneBoosts[z.type]));
            }
            pa.wakeupKcompactd(node, PAGEBLOCK_ORDER);
        }
        statReclaimed += nrReclaimed;
        pa.events.reclaimEnd(node, true, nrReclaimed);
        reclaimOrder = order;
    }

    /**
     * One whole balance_pgdat() now, whatever the thread's state (the allocator's callers without a clock, and
     * the tests). Returns the pages it reclaimed.
     */
    long balanceNow(ExecContext ctx) {
        startBalance();
        while (balanceRound(ctx)) { }
        if (prepareSleep(ctx, reclaimOrder, highest)) pa.wakeupKcompactd(node, allocOrder);
        state = State.SLEEPING;
        return nrReclaimed;
    }
}
