package org.kmemlab.replay;

import java.util.Arrays;

/**
 * When one lock was held, by which CPU, in virtual time: the intervals {@code [acquired, released)} of its
 * recent holders.
 *
 * <p>Requests run inline in order of their start, but one request can run for a long stretch of virtual time
 * (a direct compaction that takes and drops {@code zone->lock} hundreds of times over 100 ms). Remembering
 * only the lock's last release would make a CPU that reaches the lock at any moment inside that stretch spin
 * until its very end, although the lock was free most of the time. Keeping the hold intervals lets a CPU
 * spin only when it arrives inside someone's hold, and only until that hold (and any hold chained right
 * after it) ends — which is what a queued spinlock does.
 */
final class LockHolds {
    private static final int MAX = 4096;
    private long[] acq = new long[16];
    private long[] rel = new long[16];
    private int[] cpu = new int[16];
    private int size;

    /**
     * The moment a CPU that reaches the lock at {@code t} gets it: {@code t} when no other CPU holds it then,
     * else the end of the other CPUs' holds covering {@code t}, one after the other.
     */
    long freeAt(long t, int me) {
        int i = lastAtOrBefore(t);
        if (i < 0) return t;
        // an earlier hold may still cover t: holds are disjoint unless approximations made them overlap
        while (i > 0 && rel[i - 1] > t) i--;
        for (; i < size && acq[i] <= t; i++) {
            if (cpu[i] != me && rel[i] > t) t = rel[i];
        }
        return t;
    }

    /** {@code me} took the lock at {@code t}; the hold stays open until {@link #released}. */
    void acquired(long t, int me) {
        if (size == acq.length) {
            if (size >= MAX) drop(size / 2);
            else grow();
        }
        int pos = lastAtOrBefore(t) + 1;
        System.arraycopy(acq, pos, acq, pos + 1, size - pos);
        System.arraycopy(rel, pos, rel, pos + 1, size - pos);
        System.arraycopy(cpu, pos, cpu, pos + 1, size - pos);
        acq[pos] = t;
        rel[pos] = Long.MAX_VALUE;
        cpu[pos] = me;
        size++;
    }

    /** {@code me} dropped the lock at {@code t}: closes its open hold. */
    void released(long t, int me) {
        for (int i = size - 1; i >= 0; i--) {
            if (cpu[i] == me && rel[i] == Long.MAX_VALUE) {
                rel[i] = Math.max(t, acq[i]);
                return;
            }
        }
    }

    /** Forgets holds that ended before {@code t}: no request that starts at {@code t} or later can meet them. */
    void forgetBefore(long t) {
        int n = 0;
        while (n < size && rel[n] <= t) n++;
        if (n > 0) drop(n);
    }

    private void drop(int n) {
        System.arraycopy(acq, n, acq, 0, size - n);
        System.arraycopy(rel, n, rel, 0, size - n);
        System.arraycopy(cpu, n, cpu, 0, size - n);
        size -= n;
    }

    private void grow() {
        acq = Arrays.copyOf(acq, acq.length * 2);
        rel = Arrays.copyOf(rel, rel.length * 2);
        cpu = Arrays.copyOf(cpu, cpu.length * 2);
    }

    /** Index of the last hold acquired at or before {@code t}, or -1. */
    private int lastAtOrBefore(long t) {
        int lo = 0, hi = size - 1, r = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (acq[mid] <= t) {
                r = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return r;
    }
}
