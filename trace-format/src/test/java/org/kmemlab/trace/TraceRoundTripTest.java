package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TraceRoundTripTest {
    @TempDir Path tmp;

    /** Events with every column exercised, nulls included; strings drawn from small and large pools. */
    static List<TraceEvent> events(int n, long seed) {
        Random r = new Random(seed);
        String[] evs = {EventNames.KMALLOC, EventNames.KFREE, EventNames.KMEM_CACHE_ALLOC, EventNames.MM_PAGE_ALLOC, "sched:sched_switch"};
        List<TraceEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            TraceEvent e = new TraceEvent();
            e.ts(1_000_000L * i + r.nextInt(1000)).cpu(r.nextInt(4)).pid(r.nextInt(5000));
            if (r.nextBoolean()) e.tid(r.nextInt(5000));
            e.comm = "task " + r.nextInt(20);
            e.event = evs[r.nextInt(evs.length)];
            if (r.nextInt(3) > 0) {
                e.callSiteFn = "fn_" + r.nextInt(3000);
                e.callSite = e.callSiteFn + "+0x" + Integer.toHexString(r.nextInt(500));
            }
            if (r.nextBoolean()) e.ptr(r.nextLong());
            if (r.nextBoolean()) e.bytesReq(r.nextInt(9000)).bytesAlloc(r.nextInt(9000));
            if (r.nextBoolean()) { e.gfpFlags(0xcc0); e.gfp = "GFP_KERNEL"; }
            if (r.nextBoolean()) e.node(-1);
            if (r.nextBoolean()) e.cache = "cache_" + r.nextInt(100);
            if (r.nextBoolean()) e.accounted(r.nextBoolean());
            if (r.nextBoolean()) e.pfn(r.nextInt(1 << 22)).order(r.nextInt(11)).migratetype(r.nextInt(3));
            if (r.nextBoolean()) e.context = r.nextBoolean() ? "task" : "softirq";
            if (r.nextInt(10) == 0) e.stackId(r.nextInt(7));
            if (r.nextInt(10) == 0) e.extra = "k=v" + r.nextInt(100);
            out.add(e);
        }
        return out;
    }

    static Path write(Path p, List<TraceEvent> evs, TraceWriter.Compression c) throws IOException {
        try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_SOURCE_FORMAT, "test"), c)) {
            for (TraceEvent e : evs) w.accept(e);
            w.stack(List.of("a", "b"));
            w.unparsed("x:1: bad");
            w.lost(1, 5);
            w.snapshot("buddyinfo", "Node 0, zone DMA 1 2 3");
        }
        return p;
    }

    static void assertSame(TraceEvent a, TraceEvent b) {
        assertEquals(a.toString(), b.toString());
        assertEquals(a.present, b.present);
        assertEquals(a.tid, b.tid);
        assertEquals(a.node, b.node);
        assertEquals(a.stackId, b.stackId);
        assertEquals(a.accounted, b.accounted);
        assertEquals(a.callSiteFn, b.callSiteFn);
        assertEquals(a.gfpFlags, b.gfpFlags);
    }

    @Test
    void everyFieldSurvivesAcrossSeveralBatchesWithPerBatchDictionaries() throws IOException {
        for (TraceWriter.Compression c : TraceWriter.Compression.values()) {
            List<TraceEvent> evs = events(150_000, 42);
            Path p = write(tmp.resolve("t-" + c + ".arrow"), evs, c);
            List<TraceEvent> back = new ArrayList<>();
            try (TraceReader r = new TraceReader(p)) {
                r.forEach(e -> { TraceEvent x = new TraceEvent(); x.copyFrom(e); back.add(x); });
                TraceInfo info = r.info();
                assertTrue(info.complete());
                assertEquals("150000", info.meta.get("events"));
                assertEquals("3", info.meta.get("batches"));
                assertEquals(List.of("a", "b"), info.stacks.get(0));
                assertEquals(5L, info.lostByCpu.get(1));
                assertEquals(1L, info.metaLong("unparsed_lines", -1));
                assertEquals(List.of("x:1: bad"), info.malformedSamples);
                assertEquals("Node 0, zone DMA 1 2 3", info.snapshot.get("buddyinfo"));
                assertEquals("test", info.sourceFormat());
                assertEquals(TraceSchema.VERSION, info.schemaVersion());
                assertTrue(info.unknownEvents.get("sched:sched_switch") > 0);
            }
            assertEquals(evs.size(), back.size());
            for (int i = 0; i < evs.size(); i++) assertSame(evs.get(i), back.get(i));
        }
    }

    @Test
    void aFileCutShortAtAnyByteYieldsItsWholeBatches() throws IOException {
        List<TraceEvent> evs = events(3 * TraceWriter.BATCH_ROWS + 100, 7);
        Path full = write(tmp.resolve("full.arrow"), evs, TraceWriter.Compression.ZSTD);
        long size = Files.size(full);
        // Batch boundaries: a prefix that ends after k whole batches must yield exactly k*BATCH_ROWS rows.
        Random r = new Random(1);
        long[] cuts = new long[60];
        for (int i = 0; i < cuts.length; i++) cuts[i] = i < 10 ? i * 3 : (long) (r.nextDouble() * size);
        long prevRows = -1;
        java.util.Arrays.sort(cuts);
        for (long cut : cuts) {
            Path p = tmp.resolve("cut.arrow");
            Files.copy(full, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) { ch.truncate(cut); }
            long rows;
            try (TraceReader rd = new TraceReader(p)) {
                List<TraceEvent> back = new ArrayList<>();
                rd.forEach(e -> { TraceEvent x = new TraceEvent(); x.copyFrom(e); back.add(x); });
                rows = back.size();
                assertFalse(rd.info().complete());
                assertNotNull(rd.info().truncationReason());
                assertEquals(rows, rd.info().recoveredRows());
                for (int i = 0; i < back.size(); i++) assertSame(evs.get(i), back.get(i));
            } catch (InputError e) {
                // Only a cut inside the schema message leaves nothing to read.
                assertTrue(cut < 4096, "input error at cut " + cut + ": " + e.getMessage());
                assertTrue(e.getMessage().contains(p.toString()));
                rows = 0;
            }
            assertEquals(0, rows % TraceWriter.BATCH_ROWS, "whole batches only, cut at " + cut);
            assertTrue(rows >= prevRows || prevRows < 0);
            prevRows = rows;
        }
    }

    /**
     * A large file is forced to disk in the background while it is written (close() then has little left to
     * force), and it reads back whole.
     */
    @Test
    void aLargeFileIsForcedAlongTheWayAndReadsBackWhole() throws IOException {
        List<TraceEvent> evs = events(120_000, 9);
        String pad = "p".repeat(400);
        for (int i = 0; i < evs.size(); i += 2) evs.get(i).extra = "i=" + i + " " + pad;
        Path p = tmp.resolve("big.arrow");
        long early;
        try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_SOURCE_FORMAT, "test"), TraceWriter.Compression.NONE)) {
            for (TraceEvent e : evs) w.accept(e);
            w.close();
            early = w.earlySyncs;
        }
        assertTrue(Files.size(p) > 2 * TraceWriter.SYNC_BYTES, "size " + Files.size(p));
        assertTrue(early >= 1, "forces before close: " + early);
        List<TraceEvent> back = new ArrayList<>();
        try (TraceReader r = new TraceReader(p)) {
            r.forEach(e -> { TraceEvent x = new TraceEvent(); x.copyFrom(e); back.add(x); });
            assertTrue(r.info().complete());
        }
        assertEquals(evs.size(), back.size());
        for (int i = 0; i < evs.size(); i++) assertSame(evs.get(i), back.get(i));
    }

    /**
     * exchange hands the event itself to the writer: whatever the caller then does to the objects it gets back
     * (here: fills them with the next event and with garbage) must not reach the file.
     */
    @Test
    void exchangedEventsAreTheWritersAndTheReturnedOnesTheCallers() throws IOException {
        List<TraceEvent> evs = events(3 * 4096 * 5 + 17, 5); // several of the writer's hand-off chunks, two batches
        Path p = tmp.resolve("x.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_SOURCE_FORMAT, "test"), TraceWriter.Compression.NONE)) {
            TraceEvent mine = new TraceEvent();
            for (TraceEvent e : evs) {
                mine.copyFrom(e);
                mine = w.exchange(mine);
                mine.clear();
                mine.ts(-1).pid(-1);
                mine.comm = "garbage";
                mine.ptr(-1);
            }
        }
        List<TraceEvent> back = new ArrayList<>();
        try (TraceReader r = new TraceReader(p)) {
            r.forEach(e -> { TraceEvent x = new TraceEvent(); x.copyFrom(e); back.add(x); });
        }
        assertEquals(evs.size(), back.size());
        for (int i = 0; i < evs.size(); i++) assertSame(evs.get(i), back.get(i));
    }

    /**
     * The extra column is gathered per batch and copied into its vector at once: values of every length (empty
     * ones too, which are not null) and batches whose text outgrows the vector's first data buffer come back
     * as written, and the Arrow offsets are those of Arrow's own per-row writes (a null row adds no bytes).
     */
    @Test
    void extraTextOfEveryLengthSurvivesTheBatchCopy() throws IOException {
        Random r = new Random(11);
        List<TraceEvent> evs = new ArrayList<>();
        for (int i = 0; i < 2 * TraceWriter.BATCH_ROWS + 777; i++) {
            TraceEvent e = new TraceEvent().ts(i).cpu(0);
            e.event = "sched:sched_switch";
            int k = r.nextInt(6);
            // Long runs of nulls, empty text, short text and long (up to 1,500 bytes, some non-ASCII) text.
            if (k == 1) e.extra = "";
            else if (k == 2) e.extra = "x=" + i;
            else if (k >= 3) e.extra = "prev_comm=\u00e9t\u00e9 " + "y".repeat(r.nextInt(1500));
            if (i / 1000 % 7 == 3) e.extra = null;
            evs.add(e);
        }
        for (TraceWriter.Compression c : TraceWriter.Compression.values()) {
            Path p = write(tmp.resolve("x-" + c + ".arrow"), evs, c);
            List<String> back = new ArrayList<>();
            try (TraceReader rd = new TraceReader(p)) {
                rd.forEach(e -> back.add(e.extra));
            }
            assertEquals(evs.size(), back.size());
            for (int i = 0; i < evs.size(); i++) assertEquals(evs.get(i).extra, back.get(i), "row " + i);
            int row = 0;
            try (TraceReader rd = new TraceReader(p)) {
                var ar = rd.arrowReader();
                while (ar.loadNextBatch()) {
                    var v = (org.apache.arrow.vector.VarCharVector) ar.getVectorSchemaRoot().getVector(TraceSchema.EXTRA);
                    assertEquals(0, v.getOffsetBuffer().getInt(0));
                    for (int i = 0; i < v.getValueCount(); i++, row++) {
                        String x = evs.get(row).extra;
                        int len = x == null ? 0 : x.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                        assertEquals(x == null, v.isNull(i), "row " + row);
                        assertEquals(len, v.getOffsetBuffer().getInt(4L * (i + 1)) - v.getOffsetBuffer().getInt(4L * i), "row " + row);
                    }
                }
            }
            assertEquals(evs.size(), row);
        }
    }

    @Test
    void notATraceIsAnInputErrorNamingTheFile() throws IOException {
        Path p = tmp.resolve("text.arrow");
        Files.writeString(p, "perf 123 [000] 1.0: kmem:kfree: ptr=0x1\n".repeat(10));
        InputError e = assertThrows(InputError.class, () -> new TraceReader(p).close());
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("offset 0"));
        InputError d = assertThrows(InputError.class, () -> new TraceReader(tmp).close());
        assertTrue(d.getMessage().contains("directory"));
    }
}
