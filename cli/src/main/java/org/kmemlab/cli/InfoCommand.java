package org.kmemlab.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code kmemlab info trace.arrow}: what a trace file holds, and how much of a damaged one was recovered. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Show a trace's schema version, source, time span, event counts, lost and unparsed counts.")
public final class InfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "TRACE")
    Path trace;

    @Override
    public Integer call() throws IOException {
        try (TraceReader r = new TraceReader(trace)) {
            TraceInfo info = r.info();
            long events = r.countAll();
            System.out.printf("file:            %s%n", trace);
            System.out.printf("schema version:  %s%n", info.schemaVersion());
            System.out.printf("source format:   %s%n", info.sourceFormat());
            System.out.printf("source:          %s%n", info.header.getOrDefault("kmemlab.source", "?"));
            String rel = info.kernelRelease() != null ? info.kernelRelease() : info.meta.get("kernel_release");
            System.out.printf("kernel release:  %s%n", rel == null ? "unknown" : rel);
            String cpus = info.meta.getOrDefault("nr_cpus", info.meta.get("nr_cpus_seen"));
            System.out.printf("nr_cpus:         %s%n", cpus == null ? "unknown" : cpus);
            if (info.complete()) {
                long first = info.metaLong("first_ts_ns", 0), last = info.metaLong("last_ts_ns", 0);
                System.out.printf("time span:       %.6f s .. %.6f s (%.6f s)%n", first / 1e9, last / 1e9, (last - first) / 1e9);
                System.out.printf("events:          %,d in %s batches%n", events, info.meta.get("batches"));
                System.out.printf("unparsed lines:  %,d%n", info.metaLong("unparsed_lines", 0));
                System.out.printf("lost events:     %,d%s%n", info.metaLong("lost_events", 0), info.lostByCpu.isEmpty() ? "" : " " + info.lostByCpu);
                System.out.printf("unknown events:  %,d%s%n", info.metaLong("unknown_events", 0), info.unknownEvents.isEmpty() ? "" : " " + info.unknownEvents);
                if (!info.anomalies.isEmpty()) {
                    long total = info.anomalies.values().stream().mapToLong(Long::longValue).sum();
                    StringBuilder b = new StringBuilder();
                    info.anomalies.forEach((k, v) -> { if (v != 0) b.append(b.length() == 0 ? " (" : ", ").append(k).append(' ').append(String.format("%,d", v)); });
                    System.out.printf("anomalies:       %,d%s%n", total, b.length() == 0 ? "" : b + ")");
                }
                System.out.printf("call chains:     %,d distinct%n", info.stacks.size());
                System.out.printf("snapshot:        %s%n", info.snapshot.isEmpty() ? "none" : String.join(", ", info.snapshot.keySet()));
                for (String s : info.malformedSamples) System.out.printf("malformed:       %s%n", s);
            } else {
                System.out.printf("status:          INCOMPLETE (%s)%n", info.truncationReason());
                System.out.printf("recovered:       %,d events in %,d whole batches%n", events, info.recoveredBatches());
            }
        }
        return 0;
    }
}
