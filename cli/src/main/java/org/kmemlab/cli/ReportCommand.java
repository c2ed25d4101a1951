package org.kmemlab.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.KmemStat;
import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.report.HtmlReport;
import org.kmemlab.analysis.chart.ChartSpec;
import org.kmemlab.analysis.report.ReportContext;
import org.kmemlab.analysis.report.ReportSection;
import org.kmemlab.analysis.report.Sections;
import org.kmemlab.analysis.report.FidelitySection;
import org.kmemlab.analysis.report.TimelineCharts;
import org.kmemlab.replay.Fidelity;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code kmemlab report trace.arrow [out/] -o report.html}: the self-contained HTML report (HtmlReport).
 * A folder among the inputs is a replay output folder, handed to the replayer's report sections.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write one self-contained HTML report (statistics, top call sites and caches, charts, hot paths).")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "TRACE_OR_DIR", description = "Trace files, and optionally one replay output folder.")
    List<Path> inputs;

    @Option(names = {"-o", "--output"}, required = true, description = "The HTML file to write.")
    Path out;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Option(names = "--title", description = "Page title (default: kmemlab report: <first trace>).")
    String title;

    @Option(names = "--chart-sql", paramLabel = "ID=FILE",
            description = "Draw chart ID (live-bytes, alloc-rate, lifetimes, pages; with a replay folder also replay-fragmentation-index, replay-mempool-reserve, replay-spl-emergency) from the query in FILE (columns x, series, y; :bucket_ns and :top_n are bound, :policy draws one chart per policy for the replay charts). Repeatable.")
    List<String> chartSql = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        List<Path> traces = new ArrayList<>();
        Path replay = null;
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                if (replay != null) throw new UserError("give at most one replay output folder, not " + replay + " and " + p);
                replay = p;
            } else if (!Files.exists(p)) {
                throw new UserError(p + ": does not exist");
            } else {
                traces.add(p);
            }
        }
        if (traces.isEmpty()) throw new UserError("report needs at least one trace file");
        List<ReportSection> extra = new ArrayList<>();
        for (String c : chartSql) {
            int eq = c.indexOf('=');
            String id = eq < 0 ? "" : c.substring(0, eq);
            List<ChartSpec> known = new ArrayList<>(ChartSpec.standard());
            known.addAll(ChartSpec.replay());
            ChartSpec spec = known.stream().filter(s -> s.id().equals(id)).findFirst()
                    .orElseThrow(() -> new UserError("--chart-sql wants ID=FILE with ID one of "
                            + String.join(", ", known.stream().map(ChartSpec::id).toList()) + ", not '" + c + "'"));
            Path f = Path.of(c.substring(eq + 1));
            if (!Files.isRegularFile(f)) throw new UserError(f + ": does not exist");
            spec = spec.withSql(Files.readString(f));
            extra.add(ChartSpec.replay().stream().anyMatch(s -> s.id().equals(id)) ? TimelineCharts.section(spec) : Sections.chart(spec));
        }
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Path replayDir = replay;
        Outputs.file(out, force.force, tmp -> { write(traces, replayDir, tmp, title, extra); return null; });
        System.out.println("report: " + out);
        return 0;
    }

    static void write(List<Path> traces, Path replay, Path out, String title) throws Exception {
        write(traces, replay, out, title, List.of());
    }

    static void write(List<Path> traces, Path replay, Path out, String title, List<ReportSection> extra) throws Exception {
        boolean timing = Boolean.getBoolean("kmemlab.report.timing");
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        // The replayer's fidelity reads the files on its own, beside DuckDB's load. perf kmem stat's
        // statistics are collected from the batches DuckDB loads (one decode of each trace, not two), on a
        // thread of their own.
        java.util.concurrent.ExecutorService side = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "report-fidelity");
            t.setDaemon(true);
            return t;
        });
        try {
            Map<Path, KmemStat.Collector> collectors = new LinkedHashMap<>();
            for (Path t : traces) collectors.putIfAbsent(t, KmemStat.collector(false));
            java.util.concurrent.Future<ReportSection> fidelity = side.submit(() -> {
                long t0 = System.nanoTime();
                ReportSection f = fidelity(traces, replay);
                if (timing && replay != null) System.err.printf("report: fidelity (replayer) %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                return f;
            });
            long t0 = System.nanoTime();
            // every query of the report orders its own rows: the events may load in any order
            try (TraceDb db = TraceDb.open(traces, collectors, TraceDb.defaultJavaPairing(), false)) {
                if (timing) System.err.printf("report: load and stat %d ms%n", (System.nanoTime() - t0) / 1_000_000);
                Map<Path, KmemStat> stats = new LinkedHashMap<>();
                // a file that is no kmemlab trace loaded as a plain table: KmemStat.of says why it is no trace
                for (Path t : traces) stats.put(t, collectors.get(t).done() ? collectors.get(t).result() : KmemStat.of(t, false));
                List<ReportSection> sections = new ArrayList<>();
                ReportSection f = get(fidelity);
                if (f != null) sections.add(f);
                sections.addAll(extra);
                HtmlReport.write(new ReportContext(db, traces, stats, replay), sections,
                        title != null ? title : "kmemlab report: " + traces.get(0).getFileName(), out);
            }
        } finally {
            side.shutdownNow();
        }
    }

    /** A side task's result, with its own exception (an InputError stays one) rather than the executor's wrapper. */
    private static <T> T get(java.util.concurrent.Future<T> f) throws Exception {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception x) throw x;
            throw e;
        }
    }

    /**
     * The fidelity section when the replay folder holds a baseline replay of one of the traces (its
     * summary.json names the trace file): the replayer's {@link Fidelity}, the lines {@code kmemlab fidelity}
     * prints, handed to analysis-sql as plain lines. Null when there is nothing to compare.
     */
    static FidelitySection fidelity(List<Path> traces, Path replay) throws java.io.IOException {
        if (replay == null) return null;
        Path base = replay.resolve("baseline");
        for (String f : List.of("summary.json", "requests.arrow", "events.arrow")) {
            if (!Files.isRegularFile(base.resolve(f))) return null;
        }
        Object replayed = new com.fasterxml.jackson.databind.ObjectMapper().readValue(base.resolve("summary.json").toFile(), Map.class)
                .get("trace");
        Path trace = traces.stream().filter(t -> t.getFileName().toString().equals(replayed)).findFirst().orElse(null);
        if (trace == null) return null;
        Fidelity fid = Fidelity.of(trace, base);
        List<FidelitySection.Line> lines = new ArrayList<>();
        for (Fidelity.Line l : fid.lines) lines.add(new FidelitySection.Line(l.metric(), l.trace(), l.model(), l.ratio()));
        return new FidelitySection(trace.getFileName().toString(), lines, fid.targets());
    }
}
