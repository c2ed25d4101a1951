package org.kmemlab.recorder.binary;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importer;
import org.kmemlab.recorder.Input;
import org.kmemlab.recorder.perfdata.PerfDataImporter;
import org.kmemlab.recorder.tracedat.TraceDatImporter;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceWriter;

import com.github.luben.zstd.ZstdInputStream;

/**
 * Damaged binary input (random bytes overwritten, files cut short; fixed seeds) must end in an import or
 * an {@link InputError}, never another exception: no index errors, no huge allocations from a
 * corrupt length.
 */
class CorruptionTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @CsvSource({"perfdata/small.data.zst, perf, 11", "perfdata/z.data.zst, perf, 12", "tracedat/v6.dat.zst, dat, 13",
        "tracedat/v7-zstd.dat.zst, dat, 14", "tracedat/v7-none.dat.zst, dat, 15"})
    void damagedFilesFailOnlyWithInputError(String resource, String kind, long seed) throws Exception {
        byte[] good;
        try (InputStream in = new ZstdInputStream(getClass().getResourceAsStream("/" + resource))) {
            good = in.readAllBytes();
        }
        Random rnd = new Random(seed);
        // No symbol loading per round (the perf fixtures match this boot's kernel build-id when run here).
        Path noSymbols = Files.writeString(tmp.resolve("empty.kallsyms"), "");
        for (int round = 0; round < 24; round++) {
            byte[] b = good.clone();
            if (round % 4 == 3) {
                b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length));
            } else {
                int flips = 1 + rnd.nextInt(8);
                for (int i = 0; i < flips; i++) {
                    // Mostly the metadata and the first records, where lengths and offsets live.
                    int at = rnd.nextInt(rnd.nextBoolean() ? Math.min(b.length, 8192) : b.length);
                    b[at] = (byte) rnd.nextInt(256);
                }
            }
            Path f = tmp.resolve("bad-" + round);
            Files.write(f, b);
            Importer imp = kind.equals("perf") ? new PerfDataImporter() : new TraceDatImporter();
            try (Input in = Input.open(f); TraceWriter w = new TraceWriter(tmp.resolve("out-" + round + ".arrow"), Map.of())) {
                imp.importTo(in, w, ImportOptions.defaults().withKallsyms(noSymbols));
            } catch (InputError expected) {
                // fine: names the file and the offset
            } catch (Throwable t) {
                fail(resource + " round " + round + ": " + t, t);
            }
        }
    }
}
