package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/**
 * KmemStat reads a trace on two threads (decoder and statistics, {@link StatColumns#pipeline}) and, in the
 * report, from the batches DuckDB loads ({@link KmemStat.Collector}). Over several batches (so that the
 * column buffers are reused), both give what a plain single-threaded pairing over the events computes.
 */
class KmemStatPipelineTest {
    @TempDir Path tmp;

    static final String[] CACHES = {null, "dentry", "inode_cache"};

    @Test
    void pipelineAndCollectorMatchAPlainPairing() throws Exception {
        Random rnd = new Random(42);
        List<TraceEvent> events = new ArrayList<>();
        int n = 3 * TraceWriter.BATCH_ROWS + 12_345;
        for (int i = 0; i < n; i++) {
            int cpu = rnd.nextInt(4);
            int k = rnd.nextInt(10);
            TraceEvent e;
            if (k < 4) {
                boolean cacheAlloc = rnd.nextBoolean();
                long al = 8L << rnd.nextInt(8);
                e = ViewsTestFixture.slab(i, cpu, cacheAlloc ? EventNames.KMEM_CACHE_ALLOC : EventNames.KMALLOC,
                        rnd.nextInt(50) == 0 ? 0 : 0xffff888000000000L + 64L * rnd.nextInt(3000), "f" + rnd.nextInt(7),
                        cacheAlloc ? CACHES[1 + rnd.nextInt(2)] : null, "task", al - rnd.nextInt(8), al);
            } else if (k < 8) {
                boolean cacheFree = rnd.nextBoolean();
                e = ViewsTestFixture.slab(i, cpu, cacheFree ? EventNames.KMEM_CACHE_FREE : EventNames.KFREE,
                        rnd.nextInt(50) == 0 ? 0 : 0xffff888000000000L + 64L * rnd.nextInt(3000), "g" + rnd.nextInt(3),
                        cacheFree ? CACHES[1 + rnd.nextInt(2)] : null, "task", 0, 0);
            } else if (k == 8) {
                e = ViewsTestFixture.page(i, cpu, EventNames.MM_PAGE_ALLOC, rnd.nextInt(1000), rnd.nextInt(4), rnd.nextInt(3), "GFP_KERNEL");
            } else {
                e = ViewsTestFixture.page(i, cpu, EventNames.MM_PAGE_FREE, rnd.nextInt(1000), 0, null, null);
            }
            events.add(e);
        }
        Path trace = tmp.resolve("random.arrow");
        try (TraceWriter w = new TraceWriter(trace, Map.of(), TraceWriter.Compression.ZSTD)) {
            for (TraceEvent e : events) w.accept(e);
        }

        // the plain pairing: a free matches the live allocation of its ptr; a second allocation replaces it
        Map<Long, long[]> live = new HashMap<>();
        long allocs = 0, req = 0, alloc = 0, matched = 0, unmatched = 0, cross = 0, freed = 0, pageAllocs = 0;
        Map<String, Long> byType = new TreeMap<>();
        for (TraceEvent e : events) {
            byType.merge(e.event, 1L, Long::sum);
            if (EventNames.isSlabAlloc(e.event)) {
                allocs++;
                req += e.bytesReq;
                alloc += e.bytesAlloc;
                live.put(e.ptr, new long[] {e.cpu, e.bytesAlloc});
            } else if (EventNames.isSlabFree(e.event)) {
                long[] a = e.ptr == 0 ? null : live.remove(e.ptr);
                if (a == null) {
                    unmatched++;
                } else {
                    matched++;
                    freed += a[1];
                    if (a[0] != e.cpu) cross++;
                }
            } else if (EventNames.MM_PAGE_ALLOC.equals(e.event)) {
                pageAllocs++;
            }
        }
        assertTrue(matched > 10_000 && unmatched > 10_000 && cross > 1000, "the trace exercises every path");

        KmemStat piped = KmemStat.of(trace, false);
        assertEquals(n, piped.eventsTotal);
        assertEquals(allocs, piped.allocs);
        assertEquals(req, piped.bytesReq);
        assertEquals(alloc, piped.bytesAlloc);
        assertEquals(matched, piped.freesMatched);
        assertEquals(unmatched, piped.freesUnmatched);
        assertEquals(cross, piped.crossCpuFrees);
        assertEquals(freed, piped.bytesFreedMatched);
        assertEquals(live.size(), piped.liveAtEnd);
        assertEquals(pageAllocs, piped.pageAllocs);
        assertEquals(byType, new TreeMap<>(piped.eventsByType));

        KmemStat.Collector c = KmemStat.collector(false);
        try (TraceDb db = TraceDb.open(List.of(trace), Map.of(trace, c))) {
            try (var rs = db.query("SELECT count(*) FROM events")) {
                rs.next();
                assertEquals(n, rs.getLong(1), "the tap does not take batches from DuckDB");
            }
        }
        assertEquals(piped.toJson(100), c.result().toJson(100));
    }
}
