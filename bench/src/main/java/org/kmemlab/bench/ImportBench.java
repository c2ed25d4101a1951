package org.kmemlab.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importers;
import org.kmemlab.recorder.Input;
import org.kmemlab.trace.TraceWriter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Import of a {@code perf script} text trace into a kmemlab trace, from the decompressed text (as
 * {@code perf script} produces it), so the comparison with perf script's own text output rate is fair.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// C2 settles after four or five shots of tar (2.0, 1.0, 0.5, 0.4 s, then steady); with two, the best of the measured
// shots could still be one C2 was compiling through.
@Warmup(iterations = 5)
@Measurement(iterations = 3)
// The collector the launcher uses for import (./kmemlab): G1's write barrier and refinement cost a fifth of the CPU.
// Huge pages for the heap, as the launcher asks for them where the kernel offers them: every page the import
// promotes into is a first touch until the old generation has been filled once.
@Fork(value = 1, jvmArgsAppend = {"--add-opens=java.base/java.nio=ALL-UNNAMED", "-Xmx2g", "-XX:+UseParallelGC",
        "-XX:+UseTransparentHugePages"})
public class ImportBench {
    @Param({""})
    public String text;

    @Param({"NONE"})
    public String compression;

    Path out;
    public long events;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        out = Files.createTempFile("kmemlab-bench-", ".arrow");
    }

    /**
     * Each shot writes a new file, as the CLI does (it writes under a fresh temporary name and renames): truncating
     * the previous shot's output (80 MB for tar without zstd) cost the next shot about 0.06 s of its wall time.
     */
    @Setup(Level.Iteration)
    public void freshOutput() throws Exception {
        Files.deleteIfExists(out);
    }

    @TearDown(Level.Trial)
    public void teardown() throws Exception {
        Files.deleteIfExists(out);
    }

    @Benchmark
    public long importText() throws Exception {
        try (Input in = Input.open(Path.of(text));
             TraceWriter w = new TraceWriter(out, Map.of(), TraceWriter.Compression.valueOf(compression))) {
            Importers.detect(in).importTo(in, w, ImportOptions.defaults());
            events = w.events();
            return events;
        }
    }
}
