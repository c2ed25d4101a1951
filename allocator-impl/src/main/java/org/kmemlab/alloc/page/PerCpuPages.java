package org.kmemlab.alloc.page;

import static org.kmemlab.alloc.page.PageConst.*;

/**
 * {@code struct per_cpu_pages} ({@code include/linux/mmzone.h}) with the sizing of {@code mm/page_alloc.c}
 * {@code zone_batchsize()}, {@code zone_highsize()} (current) / {@code pageset_set_batch()} (5.10), and the
 * batch and high arithmetic of {@code nr_pcp_alloc()}, {@code nr_pcp_high()} and {@code nr_pcp_free()}.
 *
 * <p>5.10 keeps one list per pcp migratetype for order 0 only; the current kernel keeps
 * {@code lists[order_to_pindex(mt, order)]} for orders 0..PAGE_ALLOC_COSTLY_ORDER (the THP list is not
 * modeled). Lists are intrusive through {@link PhysMem}'s link arrays.
 */
public final class PerCpuPages {
    /** {@code CONFIG_PCP_BATCH_SCALE_MAX} default. */
    public static final int PCP_BATCH_SCALE_MAX = 5;
    /** {@code MIN_PERCPU_PAGELIST_HIGH_FRACTION}. */
    public static final int MIN_PERCPU_PAGELIST_HIGH_FRACTION = 8;

    public final int cpu;
    final int nLists;
    final int maxOrder;
    /**
     * Per list {@code li}: {@code lists[base + 2 * li]} is its first pfn (-1: empty) and
     * {@code lists[base + 2 * li + 1]} its pages. Head and page count sit side by side because every pcp alloc
     * and free touches both. The array is the zone's {@link Zone#pcpLists}, shared by all CPUs at
     * {@code base = cpu * Zone#pcpStride}, so the fast path reaches a list from the zone in one load instead of
     * going through the per-CPU object; the tails, needed only when a list empties or is drained, are per CPU.
     */
    final int[] lists;
    final int base;
    final int[] tail;
    /** Pages (not blocks) on all lists. */
    int count;
    int high, batch, highMin, highMax;
    int allocFactor, freeCount;
    /** {@code PCPF_PREV_FREE_HIGH_ORDER}: the last page freed to this pcp was of order 1..PAGE_ALLOC_COSTLY_ORDER. */
    boolean prevFreeHighOrder;
    /**
     * {@code PCPF_FREE_HIGH_BATCH}, which {@code setup_pcp_cacheinfo()} sets when this CPU's share of its last
     * level cache holds more than three batches of pages: then a high-order free run drains only once a batch
     * is on the lists. The model assumes the current x86 case (MiBs of LLC per CPU), so it is set.
     */
    boolean freeHighBatch = true;
    /**
     * While the zone is not below its high watermark, a free that leaves {@code count} below this finds
     * {@code nr_pcp_high()} changing nothing and returning {@code high}, so free_unref_page_commit() has no
     * work left: {@code high} when it lies in [high_min, high_max], else {@code Integer.MIN_VALUE} (always
     * ask nr_pcp_high()). Those three are all it depends on, so {@link #setHigh} and {@link #setHighBatch}
     * keep it current, and the free path compares once instead of clamping on every call.
     */
    int quietHigh = Integer.MIN_VALUE;

    PerCpuPages(int cpu, boolean eraNow) { this(cpu, eraNow, new int[stride(eraNow)], 0); }

    /** This CPU's lists at {@code lists[base...base + stride(eraNow))}. */
    PerCpuPages(int cpu, boolean eraNow, int[] lists, int base) {
        this.cpu = cpu;
        this.maxOrder = eraNow ? PAGE_ALLOC_COSTLY_ORDER : 0;
        this.nLists = MT_PCPTYPES * (maxOrder + 1);
        this.lists = lists;
        this.base = base;
        tail = new int[nLists];
        for (int li = 0; li < nLists; li++) lists[base + 2 * li] = -1;
        java.util.Arrays.fill(tail, -1);
    }

    /** Slots of {@link #lists} one CPU uses: a head and a page count per list. */
    static int stride(boolean eraNow) { return 2 * MT_PCPTYPES * ((eraNow ? PAGE_ALLOC_COSTLY_ORDER : 0) + 1); }

    public int count() { return count; }
    public int high() { return high; }
    public int batch() { return batch; }
    public int highMin() { return highMin; }
    public int highMax() { return highMax; }
    public int listPages(int mt, int order) { return lists[hi(pindex(mt, order)) + 1]; }
    /** The slot of list {@code li}'s head in {@link #lists}; its page count follows it. */
    int hi(int li) { return base + 2 * li; }
    /** The first pfn on list {@code li}, -1 if it is empty. */
    int head(int li) { return lists[hi(li)]; }

    /**
     * Puts the block at {@code pfn} (of {@code order}, from a pageblock of migratetype {@code mt}) at the tail of list
     * {@code li}, as rmqueue_bulk() does with what it takes from the buddy.
     */
    void addTail(PhysMem mem, int li, int pfn, int order, int mt) {
        mem.setHead(pfn, order, PhysMem.S_PCP, (byte) mt);
        mem.listAddTail(lists, hi(li), tail, li, pfn);
        lists[hi(li) + 1] += 1 << order;
        count += 1 << order;
    }

    /** {@code order_to_pindex()} without THP. */
    static int pindex(int mt, int order) { return MT_PCPTYPES * order + mt; }

    /** {@code pcp_allowed_order()} for the era. */
    boolean allowedOrder(int order) { return order <= maxOrder; }

    public void setHighBatch(int high, int batch, int highMin, int highMax) {
        this.batch = batch;
        this.highMin = highMin;
        this.highMax = highMax;
        setHigh(high);
    }

    /** Every write of {@code pcp->high} goes through here so that {@link #quietHigh} follows it. */
    private void setHigh(int h) {
        high = h;
        quietHigh = h >= highMin && h <= highMax ? h : Integer.MIN_VALUE;
    }

    // ------------------------------------------------------------------ kernel formulas

    /**
     * {@code zone_batchsize()}: about 1/1000 of the zone, at most 1 MiB, divided by 4, rounded to
     * 2^n - 1 so that batches do not alias cache colours. The caller applies {@code max(1, batch)}.
     */
    public static int zoneBatchsize(long managedPages) {
        long batch = Math.min(managedPages >> 10, (1024 * 1024) / PAGE_SIZE);
        batch /= 4;
        if (batch < 1) batch = 1;
        batch = Long.highestOneBit(batch + batch / 2) - 1;
        return (int) batch;
    }

    /**
     * Current {@code zone_highsize()} with {@code percpu_pagelist_high_fraction} {@code fraction} (0: based on
     * the low watermark): the total split across the CPUs local to the node plus {@code cpuOnline}, at
     * least {@code batch * 4}.
     */
    public static int zoneHighsize(long managedPages, long lowWmark, int batch, int cpusOfNode, int cpuOnline, int fraction) {
        long total = fraction == 0 ? lowWmark : managedPages / fraction;
        int split = cpusOfNode + cpuOnline;
        if (split == 0) split = 1;
        long high = total / split;
        return (int) Math.max(high, (long) batch << 2);
    }

    /** 5.10 {@code pageset_set_batch()}: high = 6 * batch, batch = max(1, batch). */
    public static int highFor510(int zoneBatch) { return 6 * zoneBatch; }

    /**
     * Current {@code nr_pcp_alloc()}: the refill batch grows (alloc_factor doubles it per refill without
     * frees in between), and while the zone is not below its high watermark, high is raised by a batch
     * towards high_max so a busy CPU can cache more.
     */
    int nrPcpAlloc(int order, boolean eraNow, boolean zoneBelowHigh) {
        if (!eraNow) return batch;
        int base = batch;
        if (high < base) return 1;
        int b = order != 0 ? base : base << allocFactor;
        if (highMin != highMax && !zoneBelowHigh) setHigh(Math.min(high + b, highMax));
        if (order == 0) {
            int maxNrAlloc = Math.max(high - count - base, base);
            if (b <= maxNrAlloc && allocFactor < PCP_BATCH_SCALE_MAX) allocFactor++;
            b = Math.min(b, maxNrAlloc);
        }
        if (b > 1) b = Math.max(b >> order, 2);
        return b;
    }

    /**
     * Current {@code nr_pcp_high()} on the free path (no ZONE_RECLAIM_ACTIVE, no free_high): high is clamped
     * to [high_min, high_max]; below the zone's high watermark it shrinks by the recent free count (and the
     * list may stay at its current size); otherwise a full list raises it to hold a batch of frees.
     */
    int nrPcpHigh(boolean zoneBelowHigh) {
        if (high < highMin || high > highMax) setHigh(Math.max(highMin, Math.min(high, highMax)));
        if (high == 0) return 0;
        if (highMin == highMax) return high;
        if (zoneBelowHigh) {
            int fc = Math.max(freeCount, batch);
            setHigh(Math.max(high - fc, highMin));
            return Math.max(count, highMin);
        }
        if (count >= high) {
            int need = freeCount + batch;
            if (high < need) setHigh(Math.max(highMin, Math.min(need, highMax)));
        }
        return high;
    }

    /**
     * {@code nr_pcp_high()} and {@code nr_pcp_free()} with {@code free_high}: high drops by a full scaled batch
     * (not below high_min), and the lists give back everything, up to that batch.
     */
    int nrPcpFreeHigh() {
        if (high < highMin || high > highMax) setHigh(Math.max(highMin, Math.min(high, highMax)));
        if (high != 0) setHigh(Math.max(high - (batch << PCP_BATCH_SCALE_MAX), highMin));
        return Math.min(count, batch << PCP_BATCH_SCALE_MAX);
    }

    /** {@code decay_pcp_high()}'s new high: max3(count - (batch << PCP_BATCH_SCALE_MAX), high - high / 8, high_min). */
    void decayHigh() {
        setHigh(Math.max(Math.max(count - (batch << PCP_BATCH_SCALE_MAX), high - (high >> 3)), highMin));
    }

    /** Pages to return by {@code free_pcppages_bulk()} once count reaches {@code high} ({@code nr_pcp_free()}). */
    int nrPcpFree(boolean eraNow, int high) {
        if (!eraNow) return batch;
        if (high < batch) return 1;
        int min = batch, max = high - batch;
        // clamp_t() is __clamp(): val >= hi ? hi : (val <= lo ? lo : val), so hi wins when high < 2 * batch
        return freeCount >= max ? max : Math.max(freeCount, min);
    }
}
