package org.kmemlab.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importers;
import org.kmemlab.recorder.Input;
import org.kmemlab.trace.TraceBatch;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceWriter;

/**
 * {@code kmemlab stat} and {@code kmemlab report} on a trace of at least 10M events (issue 6: stat ≤ 3 s,
 * report ≤ 10 s on this machine), each run as a user runs it (a fresh JVM through the {@code kmemlab}
 * launcher), best of a few runs. The peer, measured in the same run: {@code perf kmem stat} over the
 * shared perf.data of the same recording, as events per second; the ratio says how many times perf kmem's
 * rate kmemlab reaches.
 *
 * <p>The big trace is the shared trace imported once, then copied end to end until it holds the wanted
 * number of events: each copy shifted in time (after the previous copy's last event), its slab pointers by
 * {@code k << 40} and its pfns by {@code k << 28}, so that copies never pair with each other's objects
 * and every copy keeps the original's lifetimes, unmatched frees and live set. It is kept under /tmp and
 * reused by later runs.
 */
final class ReportBench {
    private ReportBench() {}

    static final long PTR_SHIFT = 40, PFN_SHIFT = 28;
    static final Path ERR = Path.of(System.getProperty("java.io.tmpdir"), "kmemlab-bench-report", "last.err");

    static void run(Path shared, String name, long wantEvents, Path home) throws Exception {
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "kmemlab-bench-report");
        Files.createDirectories(dir);
        Path one = dir.resolve(name + ".arrow");
        if (!Files.exists(one)) importShared(shared, name, one);
        long events1;
        long span;
        try (TraceReader r = new TraceReader(one)) {
            events1 = r.info().metaLong("events", 0);
            span = r.info().metaLong("last_ts_ns", 0) - r.info().metaLong("first_ts_ns", 0);
        }
        int copies = (int) Math.max(1, (wantEvents + events1 - 1) / events1);
        Path big = dir.resolve(name + "-x" + copies + ".arrow");
        if (!Files.exists(big)) {
            long t0 = System.nanoTime();
            concatenate(one, big, copies, span + 1_000_000);
            System.out.printf("built %s: %d copies of %s, %,d events, in %.1f s%n", big, copies, name, copies * events1,
                    (System.nanoTime() - t0) / 1e9);
        }
        long events = copies * events1;
        int rounds = Integer.getInteger("kmemlab.bench.rounds", 3);

        // The peer: perf kmem stat over the same recording's perf.data.
        Path dataZst = shared.resolve(name + ".data.zst");
        Path data = dir.resolve(name + ".data");
        double perfRate = Double.NaN;
        if (Files.exists(dataZst)) {
            if (!Files.exists(data)) BenchMain.run(List.of("zstd", "-q", "-d", "-f", dataZst.toString(), "-o", data.toString()));
            Timing perf = best(rounds, List.of("perf", "kmem", "-i", data.toString(), "stat"));
            perfRate = events1 / perf.real;
            System.out.printf("peer: perf kmem stat on %s.data: %s for %,d events = %,.0f events/s%n", name, perf, events1, perfRate);
        } else {
            System.out.println("peer: " + dataZst + " missing, no perf kmem stat ratio");
        }

        Path launcher = home.resolve("kmemlab");
        Timing stat = best(rounds, List.of(launcher.toString(), "stat", big.toString()));
        System.out.printf("kmemlab stat   on %,d events: %s = %,.0f events/s -> %.2fx perf kmem stat's rate (target <= 3 s: %s)%n",
                events, stat, events / stat.real, events / stat.real / perfRate, stat.real <= 3 ? "met" : "NOT met");
        // --force: report refuses to replace its output, and every round after the first (or run) replaces it
        Path html = dir.resolve(name + "-x" + copies + ".html");
        Timing report = best(rounds, List.of(launcher.toString(), "report", big.toString(), "-o", html.toString(), "--force"));
        System.out.printf("kmemlab report on %,d events: %s = %,.0f events/s -> %.2fx perf kmem stat's rate (target <= 10 s: %s)%n",
                events, report, events / report.real, events / report.real / perfRate, report.real <= 10 ? "met" : "NOT met");
        System.out.println("(load average at the end: " + Files.readString(Path.of("/proc/loadavg")).trim()
                + "; times are wall clock of a fresh JVM, user+sys CPU beside them)");
    }

    /** Wall-clock and CPU seconds of one command and its children. */
    record Timing(double real, double user, double sys) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "%.2f s (cpu %.2f s user + %.2f s sys)", real, user, sys);
        }
    }

    /** The best wall-clock time of {@code rounds} runs, with bash's {@code time} for the CPU seconds of the children. */
    static Timing best(int rounds, List<String> cmd) throws IOException, InterruptedException {
        Timing best = null;
        for (int i = 0; i < rounds; i++) {
            StringBuilder q = new StringBuilder("TIMEFORMAT='%R %U %S'; time (");
            for (String c : cmd) q.append(" '").append(c.replace("'", "'\\''")).append('\'');
            q.append(" >/dev/null 2>'").append(ERR.toString().replace("'", "'\\''")).append("')");
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(List.of("bash", "-c", q.toString())))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD);
            Process p = pb.start();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) throw new IOException(String.join(" ", cmd) + " failed: " + err + " " + Files.readString(ERR));
            String[] f = err.substring(err.lastIndexOf('\n') + 1).trim().split(" ");
            Timing t = new Timing(Double.parseDouble(f[0]), Double.parseDouble(f[1]), Double.parseDouble(f[2]));
            if (best == null || t.real < best.real) best = t;
        }
        return best;
    }

    static void importShared(Path shared, String name, Path out) throws IOException {
        try (Input in = Input.open(shared.resolve(name + ".txt.zst"));
             TraceWriter w = new TraceWriter(out, Map.of(), TraceWriter.Compression.ZSTD)) {
            Path machine = shared.resolve("machine");
            if (Files.isDirectory(machine)) {
                for (Path f : Files.list(machine).sorted().toList()) {
                    w.snapshot(f.getFileName().toString().replace(".txt", ""), Files.readString(f));
                }
            }
            Importers.detect(in).importTo(in, w, ImportOptions.defaults());
        }
    }

    /**
     * Copies a trace n times end to end: copy k shifted by {@code k * shiftNs} in time, its pointers by
     * {@code k << 40} and pfns by {@code k << 28} (NULL pointers stay NULL). The header and the snapshot
     * come from the original.
     */
    static void concatenate(Path in, Path out, int n, long shiftNs) throws IOException {
        TraceEvent e = new TraceEvent();
        Map<String, String> header;
        try (TraceReader r = new TraceReader(in)) {
            header = new java.util.LinkedHashMap<>(r.info().header);
        }
        header.remove(org.kmemlab.trace.TraceSchema.META_VERSION);
        try (TraceWriter w = new TraceWriter(out, header, TraceWriter.Compression.ZSTD)) {
            for (int k = 0; k < n; k++) {
                try (TraceReader r = new TraceReader(in)) {
                    if (k == 0) r.info().snapshot.forEach(w::snapshot);
                    while (r.next()) {
                        TraceBatch b = r.batch();
                        for (int i = 0; i < b.size(); i++) {
                            b.read(i, e);
                            e.tsNs += k * shiftNs;
                            if (e.has(TraceEvent.F_PTR) && e.ptr != 0) e.ptr += (long) k << PTR_SHIFT;
                            if (e.has(TraceEvent.F_PFN)) e.pfn += (long) k << PFN_SHIFT;
                            w.accept(e);
                        }
                    }
                }
            }
        }
    }
}
