package org.kmemlab.recorder.perfdata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.ImportSupport;
import org.kmemlab.recorder.ImportSupport.Aggregate;
import org.kmemlab.recorder.PerfScriptImporter;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;

/**
 * Acceptance: perf.data read directly gives the same events as its {@code perf script} text (recorded on
 * the same machine, so the text is perf's own decoding and an independent expectation). Call sites: the
 * recording kernel's symbols are not in the perf.data file nor on this machine, so the binary import has
 * raw addresses; the test checks that every address maps to exactly one {@code sym+0xoff} of the text and
 * that all addresses of one symbol agree on its start ({@code addr - off}), which is what a correct
 * kallsyms would give. The text's number column is perf script's tid, so the binary tid is compared with it. Timestamps are compared at the microsecond precision of the text. Rows are compared one by one in delivery order (perf script's time order).
 */
class SharedTracesTest {
    @TempDir Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"git", "tar"})
    void perfDataEqualsPerfScriptText(String name) throws Exception {
        String shared = System.getProperty("kmemlab.shared");
        Assumptions.assumeTrue(shared != null && Files.isDirectory(Path.of(shared, "traces")), "no shared traces");
        Path data = Path.of(shared, "traces", name + ".data.zst");
        Path text = Path.of(shared, "traces", name + ".txt.zst");
        Assumptions.assumeTrue(Files.exists(data) && Files.exists(text));

        Path fromText = ImportSupport.importFile(new PerfScriptImporter(), text, tmp,
                ImportOptions.defaults().withKernelRelease("6.18.44"));
        Path fromData = ImportSupport.importFile(new PerfDataImporter(), data, tmp, ImportOptions.defaults());

        List<TraceEvent> textRows = new ArrayList<>();
        Aggregate at = new Aggregate();
        TraceInfo textInfo = ImportSupport.read(fromText, e -> {
            TraceEvent c = new TraceEvent();
            c.copyFrom(e);
            textRows.add(c);
        });
        Aggregate ab = new Aggregate();
        Map<Long, String> addrToSym = new HashMap<>();
        Map<String, Long> symStart = new HashMap<>();
        int[] idx = {0};
        List<String> diffs = new ArrayList<>();
        TraceInfo dataInfo = ImportSupport.read(fromData, e -> {
            int i = idx[0]++;
            // perf script prints microseconds; perf.data keeps nanoseconds.
            e.tsNs = e.tsNs / 1000 * 1000;
            // perf script's default number column is the thread id; perf.data has the real pid too.
            assertTrue(e.pid > 0 || e.tid == 0 || e.pid == e.tid);
            e.pid = e.tid;
            if (i >= textRows.size()) return;
            TraceEvent t = textRows.get(i);
            String cs = e.callSite;
            if (cs != null && cs.startsWith("0x") && t.callSite != null) {
                long addr = Long.parseUnsignedLong(cs.substring(2), 16);
                String prev = addrToSym.putIfAbsent(addr, t.callSite);
                if (prev != null && !prev.equals(t.callSite) && diffs.size() < 10) diffs.add("address " + cs + " is " + prev + " and " + t.callSite);
                int plus = t.callSite.indexOf("+0x");
                if (plus > 0) {
                    long start = addr - Long.parseLong(t.callSite.substring(plus + 3), 16);
                    Long s = symStart.putIfAbsent(t.callSite.substring(0, plus), start);
                    if (s != null && s != start && diffs.size() < 10) diffs.add("symbol " + t.callSite + " at two starts");
                }
                cs = t.callSite;
            }
            at.add(t, t.callSite);
            ab.add(e, cs);
            String x = e.toString().replace(String.valueOf(e.callSite), String.valueOf(cs));
            String y = t.toString();
            if (!java.util.Objects.equals(e.comm, t.comm) || !x.replaceAll(" extra=.*", "").equals(y.replaceAll(" extra=.*", ""))) {
                if (diffs.size() < 10) diffs.add("row " + i + "\n data: " + x + "\n text: " + y);
            }
        });
        assertEquals(textInfo.metaLong("events", -1), dataInfo.metaLong("events", -2), "event count");
        assertTrue(diffs.isEmpty(), () -> String.join("\n", diffs));
        assertEquals(at.byEvent, ab.byEvent);
        assertEquals(at.byCpu, ab.byCpu);
        assertEquals(at.bytesReq, ab.bytesReq);
        assertEquals(at.bytesAlloc, ab.bytesAlloc);
        assertEquals(at.byGfp, ab.byGfp);
        assertEquals(at.byCache, ab.byCache);
        assertEquals(at.byComm, ab.byComm);
        assertEquals(at.rowHash, ab.rowHash, "multiset of (event, ptr, call_site, cpu, ts, pid, ...) rows");
        assertEquals(0, dataInfo.metaLong("unparsed_lines", -1));
        assertEquals("6.18.44-fc-v669", dataInfo.meta.get("kernel_release"));
        assertEquals("2", dataInfo.meta.get("nr_cpus"));
        assertEquals(0L, dataInfo.lostByCpu.values().stream().mapToLong(Long::longValue).sum());
    }
}
