package org.kmemlab.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

import org.kmemlab.analysis.KmemStat;
import org.kmemlab.trace.TraceWriter;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code kmemlab demo}: the main job on the built-in real trace (a 2-CPU file-system workload recorded
 * with perf): import it with its machine snapshot, and print its statistics.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, description = "Run kmemlab on its built-in real trace.")
public final class DemoCommand implements Callable<Integer> {
    static final String RES = "/org/kmemlab/cli/demo/";
    static final String[] MACHINE = {"buddyinfo", "kernel-release", "meminfo", "nr_cpus", "pagetypeinfo", "slabinfo", "vmstat", "zoneinfo"};

    @Option(names = {"-o", "--output"}, description = "Where to write the demo's files (default: ${DEFAULT-VALUE}).", defaultValue = "out/demo")
    Path out;

    @Override
    public Integer call() throws IOException {
        Map<String, String> snap = machine();
        ImportCommand.Result r = importTrace(out);
        Path trace = r.output();
        System.out.println("== kmemlab demo: a real 2-CPU trace of a small file-system workload (perf record -a, kernel "
                + snap.get("kernel-release").trim() + ")");
        System.out.println(r.summary());
        System.out.println();
        String[] stat = {"stat", "--caller", "-s", "bytes,hit", "-l", "10", trace.toString()};
        Main.commandLine(stat).execute(stat);
        System.out.println();
        System.out.println("== replay under every policy (each on its own thread, deterministic)");
        List<String> policies = new java.util.ArrayList<>();
        for (var p : org.kmemlab.alloc.policy.PolicyRegistry.all()) policies.add(p.id);
        Path replay = out.resolve("replay");
        Map<String, Map<String, Object>> res = org.kmemlab.replay.MultiReplay.run(trace, policies, Map.of(), replay,
                Runtime.getRuntime().availableProcessors());
        ReplayCommand.print(System.out, res, replay);
        System.out.println();
        Path report = out.resolve("report.html");
        try {
            ReportCommand.write(List.of(trace), replay, report, "kmemlab demo report");
            System.out.println("Report: " + report.toAbsolutePath());
        } catch (Exception e) {
            throw new IOException("writing the demo report: " + e.getMessage(), e);
        }
        System.out.println("Next: kmemlab sql " + trace + " \"SELECT cache, count(*) FROM events WHERE cache IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 5\"");
        return 0;
    }

    /** The recording machine's /proc snapshot, by file name without .txt. */
    static Map<String, String> machine() throws IOException {
        Map<String, String> snap = new TreeMap<>();
        for (String m : MACHINE) {
            try (InputStream in = DemoCommand.class.getResourceAsStream(RES + "machine/" + m + ".txt")) {
                snap.put(m, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return snap;
    }

    /**
     * Extracts the bundled perf script text into {@code dir} and imports it with the machine snapshot as
     * {@code dir/demo.arrow}; {@code kmemlab notebook}'s {@code demo:trace} is this trace too.
     */
    static ImportCommand.Result importTrace(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path src = dir.resolve("demo.perf-script.txt.zst");
        try (InputStream in = DemoCommand.class.getResourceAsStream(RES + "demo.perf-script.txt.zst")) {
            Files.copy(in, src, StandardCopyOption.REPLACE_EXISTING);
        }
        Map<String, String> snap = machine();
        return ImportCommand.run(List.of(src.toString()), dir.resolve("demo.arrow"), false,
                snap.get("kernel-release").trim(), "auto", TraceWriter.Compression.ZSTD, snap);
    }
}
