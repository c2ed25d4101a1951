package org.kmemlab.trace;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the reader of kmemlab's own Arrow files: whatever the bytes, reading the trailer, the header and
 * every event ends normally or in an {@link InputError}. Under {@code mvn test} Jazzer replays the seeds in
 * {@code TraceFuzzTestInputs/arrowTrace} (small real traces written by {@link TraceWriter}); with
 * {@code JAZZER_FUZZ=1} it fuzzes ({@code bench/fuzz.sh}).
 */
class TraceFuzzTest {
    /** One scratch file, rewritten per input: creating a file per execution would dominate the run. */
    private static final Path SCRATCH = FuzzFiles.scratch("kmemlab-fuzz-arrow");

    @FuzzTest
    void arrowTrace(byte[] data) throws IOException {
        Files.write(SCRATCH, data);
        try {
            TraceReader.readInfo(SCRATCH);
            try (TraceReader r = new TraceReader(SCRATCH)) {
                r.forEach(e -> { });
            }
            // the zero-copy path that hands batches to DuckDB must validate them the same way
            try (TraceReader r = new TraceReader(SCRATCH); var a = r.arrowReader()) {
                while (a.loadNextBatch()) a.getVectorSchemaRoot().getRowCount();
            }
        } catch (InputError expected) {
            // the one error type for bad input
        }
    }

    /** Regenerates the seeds: {@code mvn test -Dtest=TraceFuzzTest#writeSeeds -Dkmemlab.writeSeeds=DIR}. */
    @Test
    @EnabledIfSystemProperty(named = "kmemlab.writeSeeds", matches = ".+")
    void writeSeeds() throws IOException {
        Path dir = Path.of(System.getProperty("kmemlab.writeSeeds"));
        Files.createDirectories(dir);
        List<TraceEvent> evs = TraceRoundTripTest.events(40, 3);
        for (TraceWriter.Compression c : TraceWriter.Compression.values()) {
            Path p = dir.resolve("small-" + c.name().toLowerCase() + ".arrow");
            try (TraceWriter w = new TraceWriter(p, Map.of(TraceSchema.META_SOURCE_FORMAT, "test", TraceSchema.META_NR_CPUS, "2"), c)) {
                for (TraceEvent e : evs) w.accept(e);
                w.stack(List.of("kmalloc_trace", "do_sys_open"));
                w.unparsed("x.txt:3: expected an event");
                w.lost(1, 5);
                w.snapshot("buddyinfo", "Node 0, zone DMA 1 2 3");
            }
        }
        // A trace without a trailer: what a killed recording leaves.
        byte[] none = Files.readAllBytes(dir.resolve("small-none.arrow"));
        Files.write(dir.resolve("killed.arrow"), java.util.Arrays.copyOf(none, none.length * 2 / 3));
    }
}
