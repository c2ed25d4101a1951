package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad trace semantics are counted, never fatal, and reach the trailer. Expectations are counted by hand. */
class AnomaliesTest {
    @TempDir Path tmp;

    private static TraceEvent ev(long ts, int cpu, String event, long ptr) {
        TraceEvent e = new TraceEvent().ts(ts).cpu(cpu);
        e.event = event;
        if (event.startsWith("kmem:mm_page")) e.pfn(ptr).order(0);
        else e.ptr(ptr);
        return e;
    }

    /** A hand-made stream with each kind of bad data, and the counts worked out line by line. */
    static List<TraceEvent> stream() {
        List<TraceEvent> l = new ArrayList<>();
        l.add(ev(10, 0, EventNames.KMALLOC, 0x100));          // live {100}
        l.add(ev(20, 0, EventNames.KFREE, 0x100));            // freed
        l.add(ev(30, 0, EventNames.KFREE, 0x100));            // double free #1
        l.add(ev(40, 1, EventNames.KMEM_CACHE_FREE, 0x200));  // free of unknown #1 (allocated before the trace)
        l.add(ev(50, 1, EventNames.KFREE, 0x200));            // now known as freed: double free #2
        l.add(ev(45, 1, EventNames.KMALLOC, 0x300));          // ts backwards on cpu 1 (#1); live {300}
        l.add(ev(60, 0, EventNames.KMEM_CACHE_ALLOC, 0x300)); // alloc of a live ptr #1
        l.add(ev(70, 0, EventNames.KFREE, 0));                // kfree(NULL): not an object
        l.add(ev(80, 0, EventNames.KMALLOC, 0));              // a failed allocation: not an object
        l.add(ev(90, 7, EventNames.KMALLOC, 0x400));          // cpu 7 with nr_cpus 4: beyond #1
        l.add(ev(95, 7, "rcu:rcu_kvfree_callback", 0x400));   // handed to RCU (beyond #2)
        l.add(ev(99, 7, EventNames.KFREE, 0x400));            // kfree_rcu_work's free: fine (beyond #3)
        l.add(ev(5, 0, EventNames.MM_PAGE_ALLOC, 42));        // ts backwards on cpu 0 (#2)
        l.add(ev(110, 0, EventNames.MM_PAGE_ALLOC, 42));      // page alloc live #1
        l.add(ev(120, 0, EventNames.MM_PAGE_FREE, 42));
        l.add(ev(130, 0, EventNames.MM_PAGE_FREE_BATCHED, 42)); // page double free #1
        l.add(ev(140, 0, EventNames.MM_PAGE_FREE, 43));         // page free unknown #1
        l.add(ev(150, -1, "sched:sched_switch", 0));            // negative cpu: beyond #4
        return l;
    }

    @Test
    void countsEachKindOfBadData() {
        Anomalies a = new Anomalies();
        for (TraceEvent e : stream()) a.observe(e);
        Map<String, Long> c = a.counts(4);
        assertEquals(2, c.get(Anomalies.DOUBLE_FREE));
        assertEquals(1, c.get(Anomalies.FREE_UNKNOWN));
        assertEquals(1, c.get(Anomalies.ALLOC_LIVE));
        assertEquals(1, c.get(Anomalies.PAGE_ALLOC_LIVE));
        assertEquals(1, c.get(Anomalies.PAGE_DOUBLE_FREE));
        assertEquals(1, c.get(Anomalies.PAGE_FREE_UNKNOWN));
        assertEquals(2, c.get(Anomalies.TS_BACKWARDS));
        assertEquals(4, c.get(Anomalies.CPU_BEYOND));
        // Without nr_cpus only the negative id is out of range.
        assertEquals(1, a.counts(-1).get(Anomalies.CPU_BEYOND));
    }

    /** The writer warms the trackers' caches before each chunk (with the chunk's events still to come): the same counts. */
    @Test
    void warmingBeforeObservingChangesNoCount() {
        Anomalies a = new Anomalies();
        TraceEvent[] all = stream().toArray(new TraceEvent[0]);
        a.warm(all, 0, all.length);
        for (TraceEvent e : all) {
            a.warm(all, 0, all.length);
            a.observe(e);
        }
        Anomalies cold = new Anomalies();
        for (TraceEvent e : stream()) cold.observe(e);
        assertEquals(cold.counts(4), a.counts(4));
        assertEquals(2, a.counts(4).get(Anomalies.DOUBLE_FREE));
    }

    @Test
    void theTrailerCarriesTheCountsAgainstTheLateNrCpus() throws Exception {
        Path p = tmp.resolve("a.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_NR_CPUS, "64"))) {
            for (TraceEvent e : stream()) w.accept(e);
            w.meta("nr_cpus", "4"); // what the source told at its end wins over the header
        }
        TraceInfo info = TraceReader.readInfo(p);
        assertEquals(2L, info.anomalies.get(Anomalies.DOUBLE_FREE));
        assertEquals(4L, info.anomalies.get(Anomalies.CPU_BEYOND));
        assertEquals(2L, info.anomalies.get(Anomalies.TS_BACKWARDS));
    }

    /**
     * The writer classifies each distinct event name once (kept with its dictionary entry across batches):
     * names equal to the constants but not the same objects, repeated over several batches, count as the
     * hand-made stream's counts times the repetitions, and unknown names are counted per event.
     */
    @Test
    void theWriterClassifiesNamesByValueAcrossBatches() throws Exception {
        Path p = tmp.resolve("b.arrow");
        int reps = 8_000; // 18 events a repetition: 144,000 events, three batches
        try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_NR_CPUS, "4"), TraceWriter.Compression.NONE)) {
            for (int k = 0; k < reps; k++) {
                for (TraceEvent e : stream()) {
                    // Each repetition on its own pointers and pfns, later in time, so the counts add up.
                    if (e.has(TraceEvent.F_PTR) && e.ptr != 0) e.ptr(e.ptr + 0x10000L * k);
                    if (e.has(TraceEvent.F_PFN)) e.pfn(e.pfn + 1000L * k);
                    e.ts(e.tsNs + 1000L * k);
                    e.event = new String(e.event.toCharArray());
                    w.accept(e);
                }
            }
        }
        TraceInfo info = TraceReader.readInfo(p);
        assertEquals("3", info.meta.get("batches"), "the stream spans batches");
        assertEquals(2L * reps, info.anomalies.get(Anomalies.DOUBLE_FREE));
        assertEquals(1L * reps, info.anomalies.get(Anomalies.FREE_UNKNOWN));
        assertEquals(1L * reps, info.anomalies.get(Anomalies.ALLOC_LIVE));
        assertEquals(1L * reps, info.anomalies.get(Anomalies.PAGE_ALLOC_LIVE));
        assertEquals(1L * reps, info.anomalies.get(Anomalies.PAGE_DOUBLE_FREE));
        assertEquals(1L * reps, info.anomalies.get(Anomalies.PAGE_FREE_UNKNOWN));
        assertEquals(Map.of("sched:sched_switch", (long) reps), info.unknownEvents);
    }

    /**
     * The counts run on their own thread behind the encoder: asked for in the middle of a stream, they must
     * already include every event handed to the writer, not only those the counter happened to reach.
     */
    @Test
    void countsAskedMidStreamIncludeEveryEventHandedOver() throws Exception {
        int reps = 30_000; // 90,000 events a round: many chunks in flight, and a batch boundary in the first round
        try (TraceWriter w = new TraceWriter(tmp.resolve("m.arrow"), Map.of(), TraceWriter.Compression.NONE)) {
            long ts = 0;
            for (int round = 1; round <= 2; round++) {
                for (int k = 0; k < reps; k++) {
                    long ptr = 0x1000L * (round * reps + k + 1);
                    w.accept(ev(++ts, 0, EventNames.KMALLOC, ptr));
                    w.accept(ev(++ts, 0, EventNames.KFREE, ptr));
                    w.accept(ev(++ts, 0, EventNames.KFREE, ptr)); // one double free per repetition
                }
                assertEquals((long) round * reps, w.anomalyCounts().get(Anomalies.DOUBLE_FREE), "after round " + round);
            }
        }
    }

    @Test
    void aCleanStreamHasNoAnomalies() {
        Anomalies a = new Anomalies();
        for (int i = 0; i < 10_000; i++) a.observe(ev(i, i % 4, EventNames.KMALLOC, 0x1000L + 64L * i));
        for (int i = 0; i < 10_000; i++) a.observe(ev(10_000 + i, i % 4, EventNames.KFREE, 0x1000L + 64L * i));
        assertEquals(0L, a.counts(4).values().stream().mapToLong(Long::longValue).sum());
    }

    @Test
    void callChainsBeyondTheLimitShareOneMarkedId() throws Exception {
        Path p = tmp.resolve("s.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of())) {
            w.maxStacks = 3;
            assertEquals(0, w.stack(List.of("a")));
            assertEquals(1, w.stack(List.of("b")));
            assertEquals(0, w.stack(List.of("a")), "a known chain keeps its id");
            assertEquals(2, w.stack(List.of("c")));
            int over = w.stack(List.of("d"));
            assertEquals(over, w.stack(List.of("e")));
            assertEquals(1, w.stack(List.of("b")));
            List<String> deep = new ArrayList<>();
            for (int i = 0; i < TraceWriter.MAX_FRAMES + 5; i++) deep.add("f" + i);
            assertEquals(over, w.stack(deep), "still beyond the limit");
        }
        TraceInfo info = TraceReader.readInfo(p);
        assertEquals(4, info.stacks.size());
        assertEquals("3", info.meta.get("stacks_collapsed"));
        assertEquals(List.of("[kmemlab: more than 3 distinct call chains; the rest share this one]"), info.stacks.get(3));
    }

    @Test
    void deepChainsAreCutWithAMarker() throws Exception {
        Path p = tmp.resolve("d.arrow");
        List<String> deep = new ArrayList<>();
        for (int i = 0; i < TraceWriter.MAX_FRAMES + 5; i++) deep.add("f" + i);
        try (TraceWriter w = new TraceWriter(p, Map.of())) {
            assertEquals(0, w.stack(deep));
        }
        List<String> back = TraceReader.readInfo(p).stacks.get(0);
        assertEquals(TraceWriter.MAX_FRAMES + 1, back.size());
        assertEquals("[kmemlab: 5 more frames cut]", back.get(TraceWriter.MAX_FRAMES));
    }
}
