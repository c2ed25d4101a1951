package org.kmemlab.recorder.bench;

import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.perfdata.PerfDataImporter;
import org.kmemlab.trace.EventSink;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

import com.github.luben.zstd.ZstdInputStream;

/**
 * perf.data import speed beside {@code perf kmem stat} and {@code perf script} on the same file, in the
 * same run: {@code PerfDataBench FILE[.zst] [RUNS]}. A .zst input is decompressed once, untimed, so every
 * tool reads the same plain file. Reports the best of RUNS for each (the machine is shared).
 */
public final class PerfDataBench {
    public static void main(String[] args) throws Exception {
        Path src = Path.of(args[0]);
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Path file = src;
        if (src.toString().endsWith(".zst")) {
            file = Files.createTempFile("bench-", ".data");
            try (InputStream in = new ZstdInputStream(Files.newInputStream(src))) {
                Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            file.toFile().deleteOnExit();
        }
        PerfDataImporter imp = new PerfDataImporter();
        long[] count = {0};
        EventSink counting = new EventSink() {
            @Override public void accept(TraceEvent e) { count[0]++; }
            @Override public int stack(List<String> frames) { return 0; }
        };
        // Warm up the JIT on the reader.
        imp.read(file, src.toString(), counting, null, ImportOptions.defaults());
        long events = count[0];
        double parse = Double.MAX_VALUE, importNone = Double.MAX_VALUE, importZstd = Double.MAX_VALUE;
        for (int r = 0; r < runs; r++) {
            count[0] = 0;
            long t0 = System.nanoTime();
            imp.read(file, src.toString(), counting, null, ImportOptions.defaults());
            parse = Math.min(parse, (System.nanoTime() - t0) / 1e9);
        }
        Path out = Files.createTempFile("bench-", ".arrow");
        for (int r = 0; r < runs; r++) {
            for (TraceWriter.Compression c : TraceWriter.Compression.values()) {
                long t0 = System.nanoTime();
                try (TraceWriter w = new TraceWriter(out, Map.of(), c)) {
                    imp.read(file, src.toString(), w, w, ImportOptions.defaults());
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (c == TraceWriter.Compression.NONE) importNone = Math.min(importNone, s); else importZstd = Math.min(importZstd, s);
            }
        }
        Files.deleteIfExists(out);
        double kmem = Double.MAX_VALUE, script = Double.MAX_VALUE;
        for (int r = 0; r < runs; r++) {
            kmem = Math.min(kmem, time("perf", "kmem", "-i", file.toString(), "stat"));
            script = Math.min(script, time("perf", "script", "-i", file.toString()));
        }
        System.out.printf("file %s: %,d events, %d CPUs available%n", src, events, Runtime.getRuntime().availableProcessors());
        row("kmemlab perf.data parse (no writer)", events, parse);
        row("kmemlab import, Arrow uncompressed", events, importNone);
        row("kmemlab import, Arrow zstd", events, importZstd);
        row("perf kmem stat", events, kmem);
        row("perf script > /dev/null", events, script);
        System.out.printf("speed-up of import (zstd) over perf kmem stat: %.2fx; of parse: %.2fx%n", kmem / importZstd, kmem / parse);
    }

    static void row(String what, long events, double s) {
        System.out.printf("  %-40s %8.3f s  %,12.0f events/s%n", what, s, events / s);
    }

    static double time(String... cmd) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectOutput(new File("/dev/null")).redirectError(new File("/dev/null")).start();
        int rc = p.waitFor();
        double s = (System.nanoTime() - t0) / 1e9;
        if (rc != 0) System.out.println("  (" + String.join(" ", cmd) + " exited " + rc + ")");
        return s;
    }
}
