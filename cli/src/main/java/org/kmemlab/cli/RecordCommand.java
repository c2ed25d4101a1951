package org.kmemlab.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.kmemlab.recorder.live.RecordCompression;
import org.kmemlab.recorder.live.RecordingError;
import org.kmemlab.recorder.live.TracefsRecorder;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code kmemlab record}: live recording from tracefs into a kmemlab trace, through
 * {@link TracefsRecorder}. Exit status 0 on success, 2 when recording cannot start (no root, no
 * tracefs, unknown event: one line on stderr), the command's own status is reported, not returned.
 */
@Command(name = "record", mixinStandardHelpOptions = true,
        description = {"Record kernel allocation events live from tracefs (needs root).",
            "Works in its own tracing instance and leaves other tracing untouched."},
        footer = {"", "Examples:", "  kmemlab record -a --duration 5 -o trace.arrow",
            "  kmemlab record -g -o git.arrow -- git gc", "  kmemlab record -p 1234 -e kmem:kmalloc,kmem:kfree -o t.arrow"})
public final class RecordCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = {"-e", "--events"}, split = ",", paramLabel = "EVENTS",
            description = "Events or event groups, e.g. kmem, kmem:kmalloc (default: kmem, percpu, vmscan, compaction).")
    List<String> events = new ArrayList<>();

    @Option(names = {"-a", "--all"}, description = "Record the whole system (the default without -p or COMMAND).")
    boolean all;

    @Option(names = {"-p", "--pid"}, paramLabel = "PID", description = "Record this process and the tasks it forks.")
    Integer pid;

    @Option(names = "--duration", paramLabel = "S", description = "Stop after S seconds.")
    Double duration;

    @Option(names = {"-g", "--call-graph"}, description = "Record the kernel stack of each allocation event.")
    boolean stacks;

    @Option(names = "--buffer-kb", paramLabel = "N", description = "Ring-buffer size per CPU in KiB (default: "
            + TracefsRecorder.DEFAULT_BUFFER_KB + ").")
    Integer bufferKb;

    @Option(names = "--compression", paramLabel = "NAME", description = "Batch compression: fast (zstd's fast mode, the default: "
            + "least CPU beside the traced workload), zstd (level 1, about half the file), none (largest file).")
    String compression = RecordCompression.DEFAULT.name();

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The trace file to write.")
    Path output;

    @picocli.CommandLine.Mixin
    Outputs.Force force = new Outputs.Force();

    @Parameters(arity = "0..*", paramLabel = "COMMAND", description = "Run this command (after --) and record it and its children.")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        int modes = (all ? 1 : 0) + (pid != null ? 1 : 0) + (command.isEmpty() ? 0 : 1);
        if (modes > 1) {
            err.println("kmemlab record: choose one of -a, -p PID or -- COMMAND");
            return 2;
        }
        if (pid != null && pid <= 0) {
            err.println("kmemlab record: -p needs a positive pid");
            return 2;
        }
        if (duration != null && duration <= 0) {
            err.println("kmemlab record: --duration must be positive");
            return 2;
        }
        if (bufferKb != null && bufferKb <= 0) {
            err.println("kmemlab record: --buffer-kb must be positive");
            return 2;
        }
        RecordCompression packing = RecordCompression.byName(compression);
        if (packing == null) {
            err.println("kmemlab record: --compression must be one of fast, zstd, none, not '" + compression + "'");
            return 2;
        }
        // A recording writes its file as it goes (a killed one stays readable up to its last batch, SCHEMA.md),
        // so it is not renamed at the end; it only refuses to replace an existing trace.
        Outputs.refuseExisting(output, force.force);
        TracefsRecorder.Options o = new TracefsRecorder.Options(events, pid == null ? 0 : pid, command,
                duration == null ? 0 : duration, stacks, bufferKb == null ? 0 : bufferKb, output, System.err, packing);
        if (command.isEmpty() && duration == null) err.println("kmemlab record: recording until Ctrl-C");
        err.flush();
        try {
            TracefsRecorder.Result r = new TracefsRecorder().record(o);
            long lost = r.lostByCpu().values().stream().mapToLong(Long::longValue).sum();
            StringBuilder sb = new StringBuilder("kmemlab record: ").append(r.events()).append(" events to ").append(output);
            if (lost > 0) {
                sb.append("; LOST ").append(lost).append(" events (");
                boolean first = true;
                for (Map.Entry<Integer, Long> e : r.lostByCpu().entrySet()) {
                    if (!first) sb.append(", ");
                    sb.append("cpu").append(e.getKey()).append(' ').append(e.getValue());
                    first = false;
                }
                sb.append("): raise --buffer-kb");
            }
            sb.append(String.format("; %.1f s, recorder CPU %.1f s", r.recordingNs() / 1e9, r.recorderCpuNs() / 1e9));
            if (r.commandPid() > 0) sb.append("; command pid ").append(r.commandPid()).append(" exited ").append(r.commandExit());
            err.println(sb);
            return 0;
        } catch (RecordingError e) {
            err.println("kmemlab record: " + e.getMessage());
            return 2;
        } catch (java.io.IOException e) {
            err.println("kmemlab record: " + e.getMessage());
            return 2;
        }
    }
}
