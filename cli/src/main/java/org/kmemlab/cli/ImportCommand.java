package org.kmemlab.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importer;
import org.kmemlab.recorder.Importers;
import org.kmemlab.recorder.Input;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code kmemlab import IN... -o trace.arrow}: perf script text, ftrace text, perf.data, trace.dat; plain or compressed. */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Import traces (perf script text, ftrace text, perf.data, trace.dat; plain, .zst, .gz, .xz, or - for stdin) into one kmemlab trace.")
public final class ImportCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "IN", description = "Input files, or - for stdin.")
    List<String> inputs;

    @Option(names = {"-o", "--output"}, required = true, description = "The trace to write (Arrow IPC stream).")
    Path output;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Option(names = "--strict", description = "Fail on the first malformed line instead of counting it.")
    boolean strict;

    @Option(names = "--kernel", paramLabel = "RELEASE", description = "Kernel release of a text trace (picks the GFP bit layout); default: current layout.")
    String kernel;

    @Option(names = "--format", description = "Force an input format: ${COMPLETION-CANDIDATES}; default: detect.", defaultValue = "auto")
    String format;

    @Option(names = "--compression", description = "Record-batch compression: ${COMPLETION-CANDIDATES}.", defaultValue = "ZSTD")
    TraceWriter.Compression compression;

    @Option(names = {"-q", "--quiet"}, description = "No summary line.")
    boolean quiet;

    @Option(names = "--kallsyms", paramLabel = "FILE",
            description = "The recording machine's /proc/kallsyms (same boot), to symbolise call sites of perf.data/trace.dat files that carry none.")
    Path kallsyms;

    @Option(names = "--snapshot", paramLabel = "DIR", description = "A folder of /proc snapshots (slabinfo, buddyinfo, pagetypeinfo, zoneinfo, meminfo, vmstat) to store in the trace.")
    Path snapshot;

    @Override
    public Integer call() throws IOException {
        Outputs.refuseExisting(output, force.force);
        if (Files.isDirectory(output)) throw new UserError(output + ": is a folder, expected the trace file to write");
        if (kallsyms != null && !Files.isRegularFile(kallsyms)) throw new UserError(kallsyms + ": --kallsyms expects a file (a copy of /proc/kallsyms)");
        Result r = run(inputs, output, strict, kernel, format, compression, snapshotFiles(snapshot), kallsyms);
        if (!quiet) {
            System.out.println(r.summary());
            for (String s : r.malformed) System.err.println("kmemlab: malformed: " + s);
        }
        return 0;
    }

    private static Importer byName(String format) {
        try {
            return Importers.byName(format);
        } catch (IllegalArgumentException e) {
            throw new UserError("--format: " + e.getMessage());
        }
    }

    /** What an import did. */
    record Result(long events, long unparsed, long unknown, long lost, double seconds, String formats,
                  Path output, List<String> malformed) {
        String summary() {
            return String.format("imported %,d events (%s) in %.2f s (%,.0f events/s): %,d unparsed, %,d unknown, %,d lost -> %s",
                    events, formats, seconds, seconds > 0 ? events / seconds : 0.0, unparsed, unknown, lost, output);
        }
    }

    /** The snapshot files of a folder, by name without .txt. */
    static Map<String, String> snapshotFiles(Path dir) throws IOException {
        Map<String, String> m = new java.util.TreeMap<>();
        if (dir == null) return m;
        if (!Files.isDirectory(dir)) throw new UserError(dir + ": --snapshot expects a folder of /proc files");
        try (var files = Files.list(dir)) {
            for (Path f : files.sorted().toList()) {
                if (!Files.isRegularFile(f) || Files.size(f) > (64 << 20)) continue;
                m.put(f.getFileName().toString().replaceFirst("\\.txt$", ""), Files.readString(f));
            }
        }
        return m;
    }

    static Result run(List<String> inputs, Path output, boolean strict, String kernel, String format,
                      TraceWriter.Compression compression, Map<String, String> snapshot) throws IOException {
        return run(inputs, output, strict, kernel, format, compression, snapshot, null);
    }

    static Result run(List<String> inputs, Path output, boolean strict, String kernel, String format,
                      TraceWriter.Compression compression, Map<String, String> snapshot, Path kallsyms) throws IOException {
        long t0 = System.nanoTime();
        Path parent = output.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) throw new UserError(output + ": folder " + parent + " does not exist");
        Path tmp = Outputs.temporary(output);
        StringBuilder formats = new StringBuilder();
        Map<String, String> header = new LinkedHashMap<>();
        header.put(TraceSchema.META_SOURCE, String.join(" ", inputs));
        if (kernel != null) header.put(TraceSchema.META_KERNEL_RELEASE, kernel);
        long total = 0;
        for (String in : inputs) if (!in.equals("-") && Files.isRegularFile(Path.of(in))) total += Files.size(Path.of(in));
        boolean ok = false;
        TraceWriter w = null;
        try (Progress bar = new Progress("import", total, "MiB", 1 << 20)) {
            long done = 0;
            for (String in : inputs) {
                try (Input input = in.equals("-") ? Input.stdin() : Input.open(Path.of(in))) {
                    Importer imp = format.equals("auto") ? Importers.detect(input) : byName(format);
                    if (w == null) {
                        header.put(TraceSchema.META_SOURCE_FORMAT, imp.format());
                        w = new TraceWriter(tmp, header, compression);
                        snapshot.forEach(w::snapshot);
                    }
                    if (formats.length() > 0) formats.append(", ");
                    formats.append(imp.format()).append(input.compression().equals("none") ? "" : "+" + input.compression());
                    final long base = done;
                    ImportOptions opts = ImportOptions.defaults().withStrict(strict).withKernelRelease(kernel)
                            .withProgress(b -> bar.stepTo(base + b));
                    if (kallsyms != null) opts = opts.withKallsyms(kallsyms);
                    imp.importTo(input, w, opts);
                    done += Math.max(0, input.compressedSize());
                }
            }
            w.close();
            Files.move(tmp, output, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            ok = true;
            return new Result(w.events(), w.unparsedCount(), w.unknownEvents().values().stream().mapToLong(Long::longValue).sum(),
                    w.lostTotal(), (System.nanoTime() - t0) / 1e9, formats.toString(), output,
                    w.malformedSamples().stream().limit(5).toList());
        } finally {
            if (!ok) {
                if (w != null) try { w.close(); } catch (IOException | RuntimeException ignored) { }
                Files.deleteIfExists(tmp);
            }
        }
    }
}
