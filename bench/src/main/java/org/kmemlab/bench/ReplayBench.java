package org.kmemlab.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importers;
import org.kmemlab.recorder.Input;
import org.kmemlab.replay.Replayer;
import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceWriter;

/**
 * Replay throughput per policy on a shared trace (events/s of one policy on one core; target ≥ 5M under
 * baseline), and memory: the heap after replaying the trace and a trace ten times as long made of shifted
 * copies (heap should follow live objects, not trace length). The peer is the trace's own duration: how
 * many times faster than real time the replay runs, measured in the same run.
 */
final class ReplayBench {
    private ReplayBench() {}

    static void run(Path shared, String name, List<String> policies) throws Exception {
        Path tmp = Files.createTempDirectory("kmemlab-replay-bench");
        Path trace = tmp.resolve(name + ".arrow");
        try (Input in = Input.open(shared.resolve(name + ".txt.zst"));
             TraceWriter w = new TraceWriter(trace, Map.of(), TraceWriter.Compression.NONE)) {
            for (Path f : Files.list(shared.resolve("machine")).sorted().toList()) {
                w.snapshot(f.getFileName().toString().replace(".txt", ""), Files.readString(f));
            }
            Importers.detect(in).importTo(in, w, ImportOptions.defaults());
        }
        long events;
        long spanNs;
        try (TraceReader r = new TraceReader(trace)) {
            events = r.info().metaLong("events", 0);
            spanNs = r.info().metaLong("last_ts_ns", 0) - r.info().metaLong("first_ts_ns", 0);
        }
        Map<String, Double> rates = new LinkedHashMap<>();
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        for (String p : policies) {
            double best = Double.MAX_VALUE;
            double bestCpu = Double.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                long c0 = mx.getCurrentThreadCpuTime();
                new Replayer(trace, p, Map.of()).run(tmp.resolve("out-" + p));
                best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                bestCpu = Math.min(bestCpu, (mx.getCurrentThreadCpuTime() - c0) / 1e9);
            }
            rates.put(p, events / best);
            // Per core: the replay thread's own CPU time, which a loaded machine does not inflate the way it
            // does wall time (events.arrow is encoded on a second thread, not counted here).
            System.out.printf("replay %-24s %,d events in %.3f s = %,.0f events/s; %.3f s of the replay thread's CPU = %,.0f events/s per core"
                    + " (%.1fx the trace's real time; target >= 5M events/s per core)%n",
                    p, events, best, events / best, bestCpu, events / bestCpu, (spanNs / 1e9) / best);
        }
        Path ten = tmp.resolve(name + "-x10.arrow");
        concatenate(trace, ten, 10, spanNs + 1_000_000_000L);
        Path one = tmp.resolve(name + "-x1.arrow");
        concatenate(trace, one, 1, spanNs + 1_000_000_000L);
        long heap1 = heapAfter(one, tmp.resolve("m1"));
        long heap10 = heapAfter(ten, tmp.resolve("m10"));
        System.out.printf("memory: heap after replay of %s (live objects released at its end): %,d KB; of 10 such copies: %,d KB;"
                + " ratio %.2f (bounded when close to 1)%n", name, heap1 / 1024, heap10 / 1024, (double) heap10 / heap1);
        try (var s = Files.walk(tmp)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static long heapAfter(Path trace, Path out) throws IOException {
        Replayer r = new Replayer(trace, "baseline", Map.of());
        r.run(out);
        System.gc();
        System.gc();
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    /**
     * Copies a trace n times as one longer trace, each copy shifted in time. At the end of each copy the
     * objects and pages it left live are freed, so the live set stays that of one copy: heap that grows
     * with the copies grows with trace length, not with live objects.
     */
    static void concatenate(Path in, Path out, int n, long shiftNs) throws IOException {
        TraceEvent e = new TraceEvent();
        try (TraceWriter w = new TraceWriter(out, Map.of(), TraceWriter.Compression.NONE)) {
            for (int k = 0; k < n; k++) {
                java.util.Map<Long, String> liveObj = new java.util.LinkedHashMap<>();
                java.util.Map<Long, Integer> livePages = new java.util.LinkedHashMap<>();
                long last = 0;
                int cpu = 0;
                try (TraceReader r = new TraceReader(in)) {
                    if (k == 0) r.info().snapshot.forEach(w::snapshot);
                    while (r.next()) {
                        TraceBatch b = r.batch();
                        for (int i = 0; i < b.size(); i++) {
                            b.read(i, e);
                            e.tsNs += k * shiftNs;
                            last = e.tsNs;
                            cpu = e.cpu;
                            if (org.kmemlab.trace.EventNames.isSlabAlloc(e.event)) liveObj.put(e.ptr, e.cache);
                            else if (org.kmemlab.trace.EventNames.isSlabFree(e.event)) liveObj.remove(e.ptr);
                            else if (org.kmemlab.trace.EventNames.MM_PAGE_ALLOC.equals(e.event)) livePages.put(e.pfn, e.order);
                            else if (org.kmemlab.trace.EventNames.MM_PAGE_FREE.equals(e.event)) livePages.remove(e.pfn);
                            w.accept(e);
                        }
                    }
                }
                for (Map.Entry<Long, String> o : liveObj.entrySet()) {
                    e.clear();
                    e.ts(++last).cpu(cpu).pid(1).tid(1);
                    e.comm = "bench-release";
                    e.event = o.getValue() == null ? org.kmemlab.trace.EventNames.KFREE : org.kmemlab.trace.EventNames.KMEM_CACHE_FREE;
                    e.cache = o.getValue();
                    e.ptr(o.getKey());
                    w.accept(e);
                }
                for (Map.Entry<Long, Integer> p : livePages.entrySet()) {
                    e.clear();
                    e.ts(++last).cpu(cpu).pid(1).tid(1);
                    e.comm = "bench-release";
                    e.event = org.kmemlab.trace.EventNames.MM_PAGE_FREE;
                    e.pfn(p.getKey()).order(p.getValue());
                    w.accept(e);
                }
            }
        }
    }
}
