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
            description = "Draw chart ID (live-bytes, alloc-rate, lifetimes, pages) from the query in FILE (columns x, series, y; :bucket_ns and :top_n are bound). Repeatable.")
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
            ChartSpec spec = ChartSpec.standard().stream().filter(s -> s.id().equals(id)).findFirst()
                    .orElseThrow(() -> new UserError("--chart-sql wants ID=FILE with ID one of "
                            + String.join(", ", ChartSpec.standard().stream().map(ChartSpec::id).toList()) + ", not '" + c + "'"));
            Path f = Path.of(c.substring(eq + 1));
            if (!Files.isRegularFile(f)) throw new UserError(f + ": does not exist");
            extra.add(Sections.chart(spec.withSql(Files.readString(f))));
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
        long t0 = System.nanoTime();
        Map<Path, KmemStat> stats = new LinkedHashMap<>();
        for (Path t : traces) stats.put(t, KmemStat.of(t, false));
        if (timing) System.err.printf("report: stat %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        t0 = System.nanoTime();
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        try (TraceDb db = TraceDb.open(traces)) {
            if (timing) System.err.printf("report: load %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            HtmlReport.write(new ReportContext(db, traces, stats, replay), extra,
                    title != null ? title : "kmemlab report: " + traces.get(0).getFileName(), out);
        }
    }
}
