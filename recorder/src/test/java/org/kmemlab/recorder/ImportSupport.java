package org.kmemlab.recorder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceWriter;

/** Test helpers: import a file with a given importer and read the rows back. */
public final class ImportSupport {
    private ImportSupport() {}

    public static Path importFile(Importer imp, Path src, Path dir, ImportOptions opts) throws IOException {
        Path out = Files.createTempFile(dir, "imp-", ".arrow");
        try (Input in = Input.open(src); TraceWriter w = new TraceWriter(out, Map.of())) {
            imp.importTo(in, w, opts);
        }
        return out;
    }

    /** Imports perf script text held in memory (named t.txt) into a new file under {@code dir}. */
    public static Path importPerfScriptText(String text, Path dir, ImportOptions opts) throws IOException {
        Path out = Files.createTempFile(dir, "imp-", ".arrow");
        try (Input in = Input.of("t.txt", new java.io.ByteArrayInputStream(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
             TraceWriter w = new TraceWriter(out, Map.of())) {
            new PerfScriptImporter().importTo(in, w, opts);
        }
        return out;
    }

    public static TraceInfo read(Path arrow, Consumer<TraceEvent> each) throws IOException {
        try (TraceReader r = new TraceReader(arrow)) {
            r.forEach(each);
            return r.info();
        }
    }

    /** The aggregates that kmemlab stat reports, computed here independently of it. */
    public static final class Aggregate {
        public final Map<String, Long> byEvent = new TreeMap<>();
        public final Map<Integer, Long> byCpu = new TreeMap<>();
        public final Map<String, Long> bytesReq = new TreeMap<>();
        public final Map<String, Long> bytesAlloc = new TreeMap<>();
        public final Map<String, Long> byGfp = new TreeMap<>();
        public final Map<String, Long> byCache = new TreeMap<>();
        public final Map<String, Long> byComm = new TreeMap<>();
        public long rowHash;
        public long events;
        public final List<String> firstRows = new ArrayList<>();

        public void add(TraceEvent e, String callSite) {
            events++;
            byEvent.merge(e.event, 1L, Long::sum);
            byCpu.merge(e.cpu, 1L, Long::sum);
            if (e.has(TraceEvent.F_BYTES_REQ)) bytesReq.merge(e.event, e.bytesReq, Long::sum);
            if (e.has(TraceEvent.F_BYTES_ALLOC)) bytesAlloc.merge(e.event, e.bytesAlloc, Long::sum);
            if (e.gfp != null) byGfp.merge(e.gfp, 1L, Long::sum);
            if (e.cache != null) byCache.merge(e.cache, 1L, Long::sum);
            byComm.merge(e.comm, 1L, Long::sum);
            String row = e.event + "|" + e.ptr + "|" + callSite + "|" + e.cpu + "|" + e.tsNs + "|" + e.pid + "|" + e.tid
                    + "|" + e.gfpFlags + "|" + e.accounted + "|" + e.node + "|" + e.pfn + "|" + e.order + "|" + e.migratetype;
            // Order-independent multiset hash of the rows.
            rowHash += mix(row.hashCode() * 0x9E3779B97F4A7C15L + row.length());
            if (firstRows.size() < 5) firstRows.add(row);
        }

        private static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
            z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
            return z ^ (z >>> 31);
        }
    }
}
