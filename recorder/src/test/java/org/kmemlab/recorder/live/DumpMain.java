package org.kmemlab.recorder.live;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

/** Prints a trace's counts and a few rows (a debugging aid for the live tests). */
public final class DumpMain {
    public static void main(String[] args) throws Exception {
        try (TraceReader r = new TraceReader(Path.of(args[0]))) {
            Map<String, Long> byEvent = new TreeMap<>(), byComm = new TreeMap<>();
            int[] n = {0};
            long[] last = {Long.MIN_VALUE, 0};
            r.forEach(e -> {
                byEvent.merge(e.event, 1L, Long::sum);
                byComm.merge(e.comm + "/" + e.pid, 1L, Long::sum);
                if (e.tsNs < last[0]) last[1]++;
                last[0] = e.tsNs;
                if (n[0]++ < Integer.parseInt(args.length > 1 ? args[1] : "5")) System.out.println(e + " stack=" + (e.has(org.kmemlab.trace.TraceEvent.F_STACK_ID) ? e.stackId : -1));
            });
            TraceInfo i = r.info();
            System.out.println("events " + n[0] + " out-of-order " + last[1] + " complete=" + i.complete() + " " + i.truncationReason());
            System.out.println(byEvent);
            byComm.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(8).forEach(System.out::println);
            System.out.println("header " + i.header);
            System.out.println("meta " + i.meta);
            System.out.println("snapshot " + i.snapshot.keySet() + " stacks " + i.stacks.size() + " lost " + i.lostByCpu);
            i.stacks.entrySet().stream().limit(2).forEach(System.out::println);
        }
    }
}
