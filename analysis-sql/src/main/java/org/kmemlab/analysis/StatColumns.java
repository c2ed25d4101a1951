package org.kmemlab.analysis;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.function.Consumer;

import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceSchema;

/**
 * The columns {@link KmemStat} and {@link LifetimePairing} read, copied out of one trace batch into plain arrays (nulls replaced by a
 * marker per column) with the batch's dictionaries. A batch is only valid until its reader's next
 * {@code next()}; the copy is what lets the decoding (ZSTD, validation) run on one thread while the
 * statistics run on another, and costs a bulk copy per column instead of a getter per cell.
 */
final class StatColumns {
    int n;
    long[] ts = new long[0], ptr = new long[0], pfn = new long[0], req = new long[0], alloc = new long[0];
    int[] cpu = new int[0], event = new int[0], site = new int[0], fn = new int[0], cache = new int[0], gfp = new int[0],
            order = new int[0], mt = new int[0];
    String[] eventDict, siteDict, fnDict, cacheDict, gfpDict;

    /** A null ptr or pfn (an event without one) as opposed to 0 (a failed allocation): no address has this value. */
    static final long NO_PTR = Long.MIN_VALUE + 0x5a5a;

    /** What {@link #eventKinds()} says of an event: views.sql's allocs and frees, by exact name. */
    static final int OTHER = 0, SLAB_ALLOC = 1, SLAB_FREE = 2, PAGE_ALLOC = 3, PAGE_FREE = 4;
    private int[] eventKinds;

    /**
     * The kind of each entry of this batch's event dictionary, classified once per batch for every reader of
     * the copy (the statistics and the pairing) instead of comparing strings per row.
     */
    int[] eventKinds() {
        if (eventKinds == null) {
            int[] k = new int[eventDict.length];
            for (int i = 0; i < k.length; i++) {
                String e = eventDict[i];
                k[i] = EventNames.isSlabAlloc(e) ? SLAB_ALLOC : EventNames.isSlabFree(e) ? SLAB_FREE
                        : EventNames.MM_PAGE_ALLOC.equals(e) ? PAGE_ALLOC
                        : EventNames.MM_PAGE_FREE.equals(e) || EventNames.MM_PAGE_FREE_BATCHED.equals(e) ? PAGE_FREE : OTHER;
            }
            eventKinds = k;
        }
        return eventKinds;
    }

    StatColumns fill(TraceBatch b) {
        n = b.size();
        if (ts.length < n) {
            int c = Math.max(n, 1024);
            ts = new long[c]; ptr = new long[c]; pfn = new long[c]; req = new long[c]; alloc = new long[c];
            cpu = new int[c]; event = new int[c]; site = new int[c]; fn = new int[c]; cache = new int[c]; gfp = new int[c];
            order = new int[c]; mt = new int[c];
        }
        b.copyLongs(TraceSchema.TS_NS, 0, ts);
        b.copyInts(TraceSchema.CPU, -1, cpu);
        b.copyInts(TraceSchema.EVENT, -1, event);
        b.copyLongs(TraceSchema.PTR, NO_PTR, ptr);
        b.copyLongs(TraceSchema.PFN, NO_PTR, pfn);
        b.copyLongs(TraceSchema.BYTES_REQ, 0, req);
        b.copyLongs(TraceSchema.BYTES_ALLOC, 0, alloc);
        b.copyInts(TraceSchema.CALL_SITE, -1, site);
        b.copyInts(TraceSchema.CALL_SITE_FN, -1, fn);
        b.copyInts(TraceSchema.CACHE, -1, cache);
        b.copyInts(TraceSchema.GFP, -1, gfp);
        b.copyInts(TraceSchema.ORDER, 0, order);
        b.copyInts(TraceSchema.MIGRATETYPE, -1, mt);
        eventDict = b.dictionary(TraceSchema.EVENT);
        eventKinds = null;
        siteDict = b.dictionary(TraceSchema.CALL_SITE);
        fnDict = b.dictionary(TraceSchema.CALL_SITE_FN);
        cacheDict = b.dictionary(TraceSchema.CACHE);
        gfpDict = b.dictionary(TraceSchema.GFP);
        return this;
    }

    /**
     * Reads every batch of {@code r} on a second thread and hands its columns to {@code sink} on this one,
     * in order. Three column sets circulate, so the decoder runs up to two batches ahead and nothing is
     * allocated per batch once they have grown.
     */
    static void pipeline(TraceReader r, Consumer<StatColumns> sink) throws java.io.IOException {
        BlockingQueue<StatColumns> free = new ArrayBlockingQueue<>(3), full = new ArrayBlockingQueue<>(3);
        for (int i = 0; i < 3; i++) free.add(new StatColumns());
        StatColumns end = new StatColumns();
        Throwable[] failure = new Throwable[1];
        Thread decoder = new Thread(() -> {
            try {
                while (r.next()) full.put(free.take().fill(r.batch()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                failure[0] = e;
            }
            try {
                full.put(end);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "kmemlab-decode");
        decoder.setDaemon(true);
        decoder.start();
        try {
            for (StatColumns c; (c = full.take()) != end; ) {
                sink.accept(c);
                free.add(c);
            }
            decoder.join();
        } catch (InterruptedException e) {
            decoder.interrupt();
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while reading " + r.path());
        } catch (RuntimeException | Error e) {
            decoder.interrupt();
            try {
                decoder.join();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            throw e;
        }
        if (failure[0] instanceof RuntimeException e) throw e;
        if (failure[0] instanceof Error e) throw e;
    }
}
