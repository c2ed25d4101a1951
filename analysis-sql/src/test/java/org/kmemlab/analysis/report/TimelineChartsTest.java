package org.kmemlab.analysis.report;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.Float8Vector;
import org.apache.arrow.vector.VarCharVector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.ipc.ArrowStreamWriter;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;
import org.apache.arrow.vector.types.pojo.Field;
import org.apache.arrow.vector.types.pojo.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.analysis.KmemStat;
import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.ViewsTestFixture;
import org.kmemlab.analysis.chart.ChartSpec;
import org.kmemlab.analysis.chart.Charts;

/**
 * The replay timeline's charts and views on a hand-made replay folder (the files kmemlab replay writes:
 * summary.json, requests.arrow, timeline.arrow): timeline_fragmentation against hand-computed indexes,
 * each chart's query against the samples written, charts shown only when their metrics exist, the
 * fragmentation chart once per policy, and the fidelity section's table.
 */
class TimelineChartsTest {
    @TempDir Path tmp;

    static final Field T = Field.nullable("t_ns", new ArrowType.Int(64, true));
    static final Field METRIC = Field.nullable("metric", ArrowType.Utf8.INSTANCE);
    static final Field VALUE = Field.nullable("value", new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE));

    record Sample(long t, String metric, double value) {}

    static void writeTimeline(Path f, List<Sample> rows) throws Exception {
        try (RootAllocator a = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(List.of(T, METRIC, VALUE)), a);
             var out = Files.newOutputStream(f);
             ArrowStreamWriter w = new ArrowStreamWriter(root, null, out)) {
            root.allocateNew();
            BigIntVector t = (BigIntVector) root.getVector(0);
            VarCharVector m = (VarCharVector) root.getVector(1);
            Float8Vector v = (Float8Vector) root.getVector(2);
            for (int i = 0; i < rows.size(); i++) {
                t.setSafe(i, rows.get(i).t());
                m.setSafe(i, rows.get(i).metric().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                v.setSafe(i, rows.get(i).value());
            }
            root.setRowCount(rows.size());
            w.start();
            w.writeBatch();
            w.end();
        }
    }

    /** One request per policy, with the columns policy_diff and the latency CDF read. */
    static void writeRequests(Path f, long modeledNs) throws Exception {
        List<Field> fields = new ArrayList<>();
        for (String c : List.of("modeled_ns", "spin_ns", "sleep_ns", "delay_ns")) fields.add(Field.nullable(c, new ArrowType.Int(64, true)));
        fields.add(Field.nullable("outcome", ArrowType.Utf8.INSTANCE));
        fields.add(Field.nullable("fallback", ArrowType.Utf8.INSTANCE));
        try (RootAllocator a = new RootAllocator();
             VectorSchemaRoot root = VectorSchemaRoot.create(new Schema(fields), a);
             var out = Files.newOutputStream(f);
             ArrowStreamWriter w = new ArrowStreamWriter(root, null, out)) {
            root.allocateNew();
            for (int c = 0; c < 4; c++) ((BigIntVector) root.getVector(c)).setSafe(0, c == 0 ? modeledNs : 0);
            ((VarCharVector) root.getVector(4)).setSafe(0, "ok".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            root.getVector(5).setNull(0);
            for (FieldVector v : root.getFieldVectors()) v.setValueCount(1);
            root.setRowCount(1);
            w.start();
            w.writeBatch();
            w.end();
        }
    }

    /** Free blocks per order 0..10 as samples at time t. */
    static void freeBlocks(List<Sample> out, long t, long... nrFree) {
        for (int o = 0; o < 11; o++) out.add(new Sample(t, "free_blocks_order_" + o, o < nrFree.length ? nrFree[o] : 0));
    }

    Path replay(boolean withPoolsAndSpl) throws Exception {
        Path dir = tmp.resolve(withPoolsAndSpl ? "out" : "out-plain");
        for (String p : List.of("baseline", "spl-emergency")) {
            Path d = Files.createDirectories(dir.resolve(p));
            Files.writeString(d.resolve("summary.json"), "{\"policy\":\"" + p + "\",\"trace\":\"fix.arrow\",\"requests\":1}");
            writeRequests(d.resolve("requests.arrow"), p.equals("baseline") ? 100 : 300);
            List<Sample> s = new ArrayList<>();
            // baseline: 100 order-0, 40 order-1, 10 order-2, 2 order-3 pages free (FragmentationIndexTest's Normal zone),
            // then at 1 ms an order-10 block comes back; the other policy keeps only order-0 pages: 16 of them.
            if (p.equals("baseline")) {
                freeBlocks(s, 0, 100, 40, 10, 2);
                freeBlocks(s, 1_000_000, 100, 40, 10, 2, 0, 0, 0, 0, 0, 0, 1);
            } else {
                freeBlocks(s, 0, 16);
                freeBlocks(s, 1_000_000, 16);
            }
            s.add(new Sample(0, "free_pages", 0));
            if (withPoolsAndSpl) {
                s.add(new Sample(0, "mempool_reserve:extent_state", 4));
                s.add(new Sample(1_000_000, "mempool_reserve:extent_state", p.equals("baseline") ? 4 : 1));
                s.add(new Sample(0, "spl_emergency:zio_buf_16384", 0));
                s.add(new Sample(1_000_000, "spl_emergency:zio_buf_16384", p.equals("baseline") ? 0 : 7));
                s.add(new Sample(1_000_000, "spl_emergency_max:zio_buf_16384", 9));
            }
            writeTimeline(d.resolve("timeline.arrow"), s);
        }
        return dir;
    }

    @Test
    void timelineFragmentationIsTheKernelsIndexOfTheSampledFreeLists() throws Exception {
        Path trace = ViewsTestFixture.write(tmp);
        try (TraceDb db = TraceDb.open(List.of(trace))) {
            assertTrue(db.attachReplay(replay(true)).contains("timeline_fragmentation"));
            Map<String, Long> got = new LinkedHashMap<>();
            try (var rs = db.query("SELECT policy, t_ns, \"order\", index_milli FROM timeline_fragmentation"
                    + " WHERE \"order\" IN (3, 4, 10) ORDER BY policy, t_ns, \"order\"")) {
                while (rs.next()) got.put(rs.getString(1) + "@" + rs.getLong(2) + "/" + rs.getInt(3), rs.getLong(4));
            }
            // baseline at 0: FragmentationIndexTest's hand-computed Normal zone (-1000, 897, 992); at 1 ms an
            // order-10 block exists: -1000 everywhere. spl-emergency: 16 single pages, 16 blocks:
            // order 3: 1000 - (1000 + 16000/8) / 16 = 1000 - 187 = 813; order 4: 1000 - 2000/16 = 875;
            // order 10: 1000 - (1000 + 15) / 16 = 1000 - 63 = 937.
            Map<String, Long> want = new LinkedHashMap<>();
            want.put("baseline@0/3", -1000L); want.put("baseline@0/4", 897L); want.put("baseline@0/10", 992L);
            want.put("baseline@1000000/3", -1000L); want.put("baseline@1000000/4", -1000L); want.put("baseline@1000000/10", -1000L);
            want.put("spl-emergency@0/3", 813L); want.put("spl-emergency@0/4", 875L); want.put("spl-emergency@0/10", 937L);
            want.put("spl-emergency@1000000/3", 813L); want.put("spl-emergency@1000000/4", 875L); want.put("spl-emergency@1000000/10", 937L);
            assertEquals(want, got);

            // The charts' queries: the fragmentation chart for one policy (orders 2..9), the reserve and SPL levels.
            var frag = Charts.query(db, ChartSpec.fragmentationIndex().sql(), Map.of("policy", "spl-emergency"));
            assertEquals(16, frag.size(), "orders 2..9 at two times");
            assertTrue(frag.stream().allMatch(p -> p.series().startsWith("order ")));
            assertEquals(0.813, frag.stream().filter(p -> p.series().equals("order 3")).findFirst().orElseThrow().y(), 1e-12);
            var pool = Charts.query(db, ChartSpec.mempoolReserve().sql(), Map.of());
            assertEquals(List.of("extent_state (baseline)", "extent_state (baseline)", "extent_state (spl-emergency)", "extent_state (spl-emergency)"),
                    pool.stream().map(Charts.Point::series).toList());
            assertEquals(List.of(4.0, 4.0, 4.0, 1.0), pool.stream().map(Charts.Point::y).toList());
            var spl = Charts.query(db, ChartSpec.splEmergency().sql(), Map.of());
            assertEquals(4, spl.size(), "spl_emergency_max is not the current level");
            assertEquals(7.0, spl.get(3).y(), 0.0);
            assertEquals(0.001, ((Number) spl.get(3).x()).doubleValue(), 1e-12, "seconds of virtual time");
            // kept to look at, as ChartsTest does
            Path charts = Files.createDirectories(Path.of("target", "charts"));
            Charts.writePng(Charts.build(ChartSpec.fragmentationIndex(), frag), charts.resolve("fixture-replay-fragmentation-index.png"));
            Charts.writePng(Charts.build(ChartSpec.mempoolReserve(), pool), charts.resolve("fixture-replay-mempool-reserve.png"));
            Charts.writePng(Charts.build(ChartSpec.splEmergency(), spl), charts.resolve("fixture-replay-spl-emergency.png"));
        }
    }

    @Test
    void theReportDrawsTheFragmentationChartPerPolicyAndPoolsAndSplOnlyWhenPresent() throws Exception {
        Path trace = ViewsTestFixture.write(tmp);
        Map<Path, KmemStat> stats = Map.of(trace, KmemStat.of(trace, false));
        FidelitySection fid = new FidelitySection("fix.arrow", List.of(
                new FidelitySection.Line("mm_page_alloc_zone_locked", 40, 50, 1.25),
                new FidelitySection.Line("mm_page_pcpu_drain", 0, 3, Double.POSITIVE_INFINITY)));
        for (boolean full : List.of(true, false)) {
            Path out = tmp.resolve("r-" + full + ".html");
            try (TraceDb db = TraceDb.open(List.of(trace))) {
                HtmlReport.write(new ReportContext(db, List.of(trace), stats, replay(full)), List.of(fid), "t", out);
            }
            String html = Files.readString(out);
            assertFalse(html.contains("class=\"error\""), "no section failed");
            String frag = section(html, "chart-replay-fragmentation-index");
            assertTrue(frag.contains("Fragmentation index over time (model, __fragmentation_index): baseline"), "baseline first");
            assertTrue(frag.indexOf(": baseline") < frag.indexOf(": spl-emergency"));
            assertEquals(2, frag.split("<figure").length - 1, "one chart per policy");
            assertEquals(full, html.contains("id=\"chart-replay-mempool-reserve\""));
            assertEquals(full, html.contains("id=\"chart-replay-spl-emergency\""));
            String f = section(html, "fidelity");
            assertFalse(f.contains("Not available yet"), "the fidelity placeholder is replaced in place");
            assertTrue(f.contains("<td>mm_page_alloc_zone_locked</td><td class=\"n\" data-v=\"40.0\">40</td><td class=\"n\" data-v=\"50.0\">50</td>"
                    + "<td class=\"n off\" data-v=\"1.25\">1.250</td>"), f);
            assertTrue(f.contains(">∞</td>"), f);
            assertTrue(html.indexOf("id=\"fidelity\"") < html.indexOf("id=\"deadlocks\""), "in the placeholder's place");
        }
    }

    static String section(String html, String id) {
        int i = html.indexOf("<section id=\"" + id + "\">");
        assertTrue(i >= 0, "section " + id);
        return html.substring(i, html.indexOf("</section>", i));
    }
}
