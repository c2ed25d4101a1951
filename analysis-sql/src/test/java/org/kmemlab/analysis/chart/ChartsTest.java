package org.kmemlab.analysis.chart;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.jfree.chart.JFreeChart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.analysis.NamedParams;
import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.ViewsTestFixture;

/** Each standard chart's query on the hand-checked fixture, and its PNG and SVG rendering (kept under target/charts to look at). */
class ChartsTest {
    @TempDir Path tmp;
    static final Path OUT = Path.of("target", "charts");

    @Test
    void chartQueriesReturnTheFixturesNumbers() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(ViewsTestFixture.write(tmp)))) {
            List<Charts.Point> live = Charts.query(db, ChartSpec.liveBytes().sql(), Map.of("bucket_ns", 100L, "top_n", 2));
            // total first, then the two caches with the largest peaks: dentry (256) and kmalloc-32 (32)
            assertEquals(List.of("total", "dentry", "kmalloc-32"), live.stream().map(Charts.Point::series).distinct().toList());
            assertEquals(List.of(16.0, 0.0, 0.0, 128.0, 256.0, 128.0, 0.0, 32.0, 32.0),
                    live.stream().filter(p -> p.series().equals("total")).map(Charts.Point::y).toList());
            List<Charts.Point> rate = Charts.query(db, ChartSpec.allocRate().sql(), Map.of("bucket_ns", 400L));
            // allocs at 100,150,250,400,500,800,900 from t0=100: buckets [100,500) [500,900) [900,..)
            assertEquals(List.of(1.0, 1.0, 1.0), rate.stream().filter(p -> p.series().equals("kmem:kmem_cache_alloc") || p.series().equals("kmem:kmalloc"))
                    .filter(p -> p.series().equals("kmem:kmalloc")).map(p -> p.y() * 400 / 1e9).toList());
            List<Charts.Point> life = Charts.query(db, ChartSpec.lifetimeHistogram().sql(), Map.of("top_n", 5));
            // lifetimes 100 ns (kmalloc-16), 300 and 100 ns (dentry): all in the decade 100 ns–1 µs
            assertEquals(List.of(new Charts.Point("100 ns–1 µs", "dentry", 2), new Charts.Point("100 ns–1 µs", "kmalloc-16", 1)), life);
            List<Charts.Point> pages = Charts.query(db, ChartSpec.pagesByOrder().sql(), Map.of());
            assertEquals(List.of(new Charts.Point("order 0", "Unmovable", 1), new Charts.Point("order 2", "Movable", 1)), pages);
        }
    }

    @Test
    void rendersPngAndSmallSvg() throws Exception {
        Files.createDirectories(OUT);
        try (TraceDb db = TraceDb.open(List.of(ViewsTestFixture.write(tmp)))) {
            for (ChartSpec s : ChartSpec.standard()) {
                JFreeChart c = Charts.build(s, db, Map.of("bucket_ns", 50L, "top_n", 5));
                Path png = OUT.resolve("fixture-" + s.id() + ".png");
                Charts.writePng(c, png);
                byte[] head = Files.readAllBytes(png);
                assertEquals((byte) 0x89, head[0]);
                assertEquals('P', head[1]);
                String svg = Charts.svg(c, s.id() + "-");
                assertTrue(svg.startsWith("<svg"), svg.substring(0, 40));
                assertTrue(svg.contains(s.title().replace("&", "&amp;")), "title in the SVG");
                assertTrue(svg.length() < 300_000, "small SVG: " + svg.length());
            }
        }
    }

    /** For looking at charts of a real trace: KMEMLAB_CHART_TRACE=trace.arrow writes target/charts/real-*.png. */
    @Test
    void rendersARealTraceWhenAsked() throws Exception {
        String p = System.getenv("KMEMLAB_CHART_TRACE");
        org.junit.jupiter.api.Assumptions.assumeTrue(p != null, "KMEMLAB_CHART_TRACE not set");
        Files.createDirectories(OUT);
        try (TraceDb db = TraceDb.open(List.of(Path.of(p)))) {
            db.materializeLifetimes();
            long bucket = Charts.bucketNs(db, 200);
            for (ChartSpec s : ChartSpec.standard()) {
                Charts.writePng(Charts.build(s, db, Map.of("bucket_ns", bucket, "top_n", 8)), OUT.resolve("real-" + s.id() + ".png"));
            }
        }
    }

    @Test
    void namedParametersBecomeBoundPlaceholders() {
        NamedParams.Bound b = NamedParams.bind("SELECT ':not' AS s, x::INT -- :comment\n FROM t WHERE a = :a AND b < :b OR a = :a",
                Map.of("a", "it's", "b", 3));
        assertEquals("SELECT ':not' AS s, x::INT -- :comment\n FROM t WHERE a = ? AND b < ? OR a = ?", b.sql());
        assertEquals(List.of("it's", 3, "it's"), b.params());
        assertThrows(IllegalArgumentException.class, () -> NamedParams.bind("SELECT :missing", Map.of()));
    }
}
