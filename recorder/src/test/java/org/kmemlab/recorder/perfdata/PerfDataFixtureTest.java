package org.kmemlab.recorder.perfdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.ImportSupport;
import org.kmemlab.recorder.Importers;
import org.kmemlab.recorder.Input;
import org.kmemlab.recorder.PerfScriptImporter;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceWriter;

import com.github.luben.zstd.ZstdInputStream;

/**
 * A small perf.data recorded with call chains, against perf script's own text of it (see
 * resources/perfdata/README.md): every row, call site string and kernel call chain must be equal.
 * Then damaged copies of it must fail with an InputError naming the byte offset.
 */
class PerfDataFixtureTest {
    @TempDir Path tmp;

    private Path resource(String name) throws Exception {
        Path p = tmp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/perfdata/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** small: with call chains; z: recorded with perf record -z (zstd-compressed records). */
    @ParameterizedTest
    @CsvSource({"small, 1622", "z, 414"})
    void equalsPerfScriptTextIncludingCallSitesAndStacks(String fixture, int expected) throws Exception {
        Path data = resource(fixture + ".data.zst");
        Path text = resource(fixture + ".txt.zst");
        Path ksyms = resource("small.kallsyms");
        try (Input in = Input.open(data)) {
            assertEquals("perf.data", Importers.detect(in).format());
        }
        Path a = ImportSupport.importFile(new PerfDataImporter(), data, tmp, ImportOptions.defaults().withKallsyms(ksyms));
        Path b = ImportSupport.importFile(new PerfScriptImporter(), text, tmp, ImportOptions.defaults().withKernelRelease("6.18.44"));
        List<TraceEvent> rowsA = new ArrayList<>(), rowsB = new ArrayList<>();
        TraceInfo ia = ImportSupport.read(a, e -> rowsA.add(copy(e)));
        TraceInfo ib = ImportSupport.read(b, e -> rowsB.add(copy(e)));
        assertEquals(expected, rowsB.size(), "perf script printed " + expected + " events");
        assertEquals(rowsB.size(), rowsA.size());
        for (int i = 0; i < rowsA.size(); i++) {
            TraceEvent x = rowsA.get(i), y = rowsB.get(i);
            assertEquals(y.tsNs, x.tsNs / 1000 * 1000, "row " + i);
            assertEquals(y.pid, x.tid, "row " + i + " (perf script shows the tid)");
            String sx = x.toString().replaceFirst("^\\d+", "").replaceAll(" pid=\\d+", "");
            String sy = y.toString().replaceFirst("^\\d+", "").replaceAll(" pid=\\d+", "");
            assertEquals(sy, sx, "row " + i);
            assertEquals(ib.stacks.get(y.stackId), ia.stacks.get(x.stackId), "call chain of row " + i);
        }
        assertTrue(rowsA.stream().allMatch(e -> e.callSite == null || e.callSite.matches("[\\w.]+\\+0x[0-9a-f]+")), "all call sites symbolised");
        if (fixture.equals("z")) assertTrue(ia.meta.get("perf_compressed").startsWith("zstd"));
        assertEquals("6.18.44-fc-v782", ia.meta.get("kernel_release"));
        assertEquals("2", ia.meta.get("nr_cpus"));
    }

    private static TraceEvent copy(TraceEvent e) {
        TraceEvent c = new TraceEvent();
        c.copyFrom(e);
        return c;
    }

    private byte[] raw() throws Exception {
        try (InputStream in = new ZstdInputStream(getClass().getResourceAsStream("/perfdata/small.data.zst"))) {
            return in.readAllBytes();
        }
    }

    private InputError importBytes(byte[] b) throws Exception {
        Path f = tmp.resolve("bad.data");
        Files.write(f, b);
        Path out = tmp.resolve("bad.arrow");
        return assertThrows(InputError.class, () -> {
            try (Input in = Input.open(f); TraceWriter w = new TraceWriter(out, Map.of())) {
                new PerfDataImporter().importTo(in, w, ImportOptions.defaults().withStrict(true));
            }
        });
    }

    @Test
    void truncatedFileNamesTheSectionAndOffset() throws Exception {
        byte[] b = raw();
        InputError e = importBytes(java.util.Arrays.copyOf(b, 3000));
        assertTrue(e.getMessage().contains("bad.data"), e.getMessage());
        assertEquals(InputError.Unit.OFFSET, e.unit());
        assertTrue(e.getMessage().contains("data section inside the file"), e.getMessage());
    }

    @Test
    void hugeDeclaredSizesAreRejectedBeforeAllocating() throws Exception {
        byte[] b = raw();
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        h.putLong(32, Long.MAX_VALUE / 2 / 144 * 144); // attrs section size
        InputError e = importBytes(b);
        assertTrue(e.getMessage().contains("attrs section"), e.getMessage());
    }

    @Test
    void corruptRecordSizeIsReportedAtItsOffset() throws Exception {
        byte[] b = raw();
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long dataOff = h.getLong(40);
        h.putShort((int) dataOff + 6, (short) 4); // first record: size 4 < header
        InputError e = importBytes(b);
        assertEquals(dataOff, e.position());
        assertTrue(e.getMessage().contains("record size"), e.getMessage());
    }

    /**
     * A PERF_RECORD_LOST written over an MMAP2 record (ignored by the reader) of the fixture, keeping that
     * record's sample_id trailer (pid/tid, time, cpu, identifier for this file's sample_type): the lost
     * count must land on the trailer's cpu and every event must still be read.
     */
    @Test
    void lostRecordsAreCountedOnTheirCpu() throws Exception {
        byte[] b = raw();
        ByteBuffer h = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        long dataOff = h.getLong(40), dataSize = h.getLong(48);
        int at = -1;
        for (long p = dataOff; p < dataOff + dataSize; p += h.getShort((int) p + 6) & 0xffff) {
            if (h.getInt((int) p) == 10 && (h.getShort((int) p + 6) & 0xffff) >= 56) {
                at = (int) p;
                break;
            }
        }
        assertTrue(at > 0, "the fixture has an MMAP2 record");
        int size = h.getShort(at + 6) & 0xffff;
        int cpu = h.getInt(at + size - 16); // trailer: tid(8) time(8) cpu(8) identifier(8)
        h.putInt(at, 2).putShort(at + 4, (short) 0).putLong(at + 8, 0).putLong(at + 16, 123);
        Path f = tmp.resolve("lost.data");
        Files.write(f, b);
        Path out = ImportSupport.importFile(new PerfDataImporter(), f, tmp, ImportOptions.defaults());
        long[] n = {0};
        TraceInfo info = ImportSupport.read(out, e -> n[0]++);
        assertEquals(Map.of(cpu, 123L), info.lostByCpu);
        assertEquals(1622, n[0]);
    }

    @Test
    void wrongMagicIsNotPerfData() throws Exception {
        byte[] b = "PERFILE1 and then some bytes".getBytes();
        assertTrue(!new PerfDataImporter().accepts(b, b.length));
        InputError e = importBytes(b);
        assertEquals(0, e.position());
        try (Input in = Input.of("x", new ByteArrayInputStream(raw()))) {
            assertTrue(new PerfDataImporter().accepts(in.peek(16), 16));
        }
    }
}
