package org.kmemlab.recorder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.kmemlab.recorder.perfdata.PerfDataImporter;
import org.kmemlab.recorder.tracedat.TraceDatImporter;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceWriter;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes every importer: whatever the bytes, an import ends normally (malformed records counted) or in an
 * {@link InputError}; anything else (an index error, a huge allocation, a hang) is a finding. Under
 * {@code mvn test} Jazzer replays the seeds in {@code ImportFuzzTestInputs/<target>} (heads of the real
 * fixtures; the perf.data and trace.dat recordings whole); {@code bench/fuzz.sh} fuzzes each target.
 */
class ImportFuzzTest {
    private static final Path SCRATCH = scratch("kmemlab-fuzz-import", ".bin");
    /** Symbols are not what is fuzzed: an empty kallsyms keeps the running kernel's out of the run. */
    private static final Path NO_SYMBOLS = scratch("kmemlab-fuzz-kallsyms", ".txt");
    private static final Path OUT = scratch("kmemlab-fuzz-out", ".arrow");
    /** One writer for many inputs: a TraceWriter allocates a whole batch of vectors, more than most imports cost. */
    private static TraceWriter writer;
    private static int uses;

    @FuzzTest
    void perfScript(byte[] data) throws IOException { run(new PerfScriptImporter(), data); }

    @FuzzTest
    void ftrace(byte[] data) throws IOException { run(new FtraceTextImporter(), data); }

    @FuzzTest
    void perfData(byte[] data) throws IOException { run(new PerfDataImporter(), data); }

    @FuzzTest
    void traceDat(byte[] data) throws IOException { run(new TraceDatImporter(), data); }

    /** Format detection and transparent decompression (zstd, gzip, xz) in front of whichever importer accepts. */
    @FuzzTest
    void anyFormat(byte[] data) throws IOException { run(null, data); }

    private static void run(Importer imp, byte[] data) throws IOException {
        Files.write(SCRATCH, data);
        try (Input in = Input.open(SCRATCH)) {
            Importer i = imp != null ? imp : Importers.detect(in);
            i.importTo(in, writer(), ImportOptions.defaults().withKallsyms(NO_SYMBOLS));
        } catch (InputError expected) {
            // the one error type for bad input
        }
    }

    private static TraceWriter writer() throws IOException {
        if (writer != null && ++uses % 2000 == 0) {
            writer.close();
            writer = null;
        }
        if (writer == null) writer = new TraceWriter(OUT, Map.of(), TraceWriter.Compression.NONE);
        return writer;
    }

    private static Path scratch(String prefix, String suffix) {
        try {
            Path shm = Path.of("/dev/shm");
            Path f = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempFile(shm, prefix, suffix)
                    : Files.createTempFile(prefix, suffix);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
