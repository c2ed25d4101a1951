package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.ipc.ArrowFileReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/** kmemlab sql, export, hot and flame end to end on small traces whose contents the test knows. */
class AnalysisCliTest {
    @TempDir Path tmp;

    /** 6 events: 2 kmalloc (cpu 0, 1), 2 kfree, 1 mm_page_alloc, 1 kmem_cache_free, 100 ns apart from ts 1000. */
    Path trace(String name) throws Exception {
        Path p = tmp.resolve(name);
        String[] ev = {EventNames.KMALLOC, EventNames.KMALLOC, EventNames.KFREE, EventNames.MM_PAGE_ALLOC, EventNames.KFREE, EventNames.KMEM_CACHE_FREE};
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            for (int i = 0; i < ev.length; i++) {
                TraceEvent e = new TraceEvent();
                e.ts(1000 + 100L * i).cpu(i % 2).pid(7);
                e.event = ev[i];
                e.comm = "t";
                if (ev[i].equals(EventNames.MM_PAGE_ALLOC)) e.pfn(5).order(1).migratetype(0);
                else e.ptr(0x100 + (i % 2) * 0x40);
                if (ev[i].equals(EventNames.KMALLOC)) e.bytesReq(20).bytesAlloc(32);
                if (ev[i].equals(EventNames.KMEM_CACHE_FREE)) e.cache = "dentry";
                w.accept(e);
            }
        }
        return p;
    }

    @Test
    void sqlFormatsAndBoundParameters() throws Exception {
        Path t = trace("a.arrow");
        CliTest.Run r = CliTest.run("sql", t.toString(), "--format", "csv", "SELECT event, count(*) AS n FROM events GROUP BY 1 ORDER BY 1");
        assertEquals(0, r.status(), r.err());
        assertEquals("event,n\nkmem:kfree,2\nkmem:kmalloc,2\nkmem:kmem_cache_free,1\nkmem:mm_page_alloc,1\n", r.out().replace("\r", ""));
        r = CliTest.run("sql", t.toString(), "--format", "json", "SELECT count(*) AS n FROM lifetimes WHERE free_seq IS NOT NULL AND alloc_seq IS NOT NULL");
        assertTrue(r.out().contains("\"n\" : 2"), r.out());
        // a value that would change the query if it were spliced is only ever a value
        r = CliTest.run("sql", t.toString(), "--format", "csv", "--param", "ev=x' OR 'a'='a", "SELECT count(*) AS n FROM events WHERE event = :ev");
        assertEquals("n\n0\n", r.out().replace("\r", ""), r.err());
        r = CliTest.run("sql", t.toString(), "--format", "csv", "--param", "ev=kmem:kfree", "SELECT count(*) AS n FROM events WHERE event = :ev");
        assertEquals("n\n2\n", r.out().replace("\r", ""), r.err());
        // --time keeps [0, 250 ns] after the first event: ts 1000, 1100, 1200
        r = CliTest.run("sql", t.toString(), "--format", "csv", "--time", "0,0.00000025", "SELECT count(*) AS n FROM events");
        assertEquals("n\n3\n", r.out().replace("\r", ""), r.err());
        r = CliTest.run("sql", t.toString(), "--format", "csv", "--limit", "1", "SELECT ts_ns FROM events ORDER BY 1");
        assertEquals("ts_ns\n1000\n", r.out().replace("\r", ""), r.err());
    }

    @Test
    void sqlSeveralInputsAndFileQueries() throws Exception {
        Path a = trace("a.arrow"), b = trace("b.arrow");
        Path q = tmp.resolve("q.sql");
        Files.writeString(q, "CREATE TEMP VIEW x AS SELECT trace, count(*) AS n FROM events GROUP BY trace;\nSELECT * FROM x ORDER BY trace;\n");
        CliTest.Run r = CliTest.run("sql", a.toString(), b.toString(), "--format", "csv", "-f", q.toString());
        assertEquals(0, r.status(), r.err());
        assertEquals("trace,n\na.arrow,6\nb.arrow,6\n", r.out().replace("\r", ""));
        // a folder's Parquet files become views
        Path dir = Files.createDirectories(tmp.resolve("out"));
        r = CliTest.run("sql", a.toString(), "--format", "parquet", "-o", dir.resolve("requests.parquet").toString(), "SELECT ts_ns, event FROM events");
        assertEquals(0, r.status(), r.err());
        r = CliTest.run("sql", a.toString(), dir.toString(), "--format", "csv", "SELECT count(*) AS n FROM requests");
        assertEquals("n\n6\n", r.out().replace("\r", ""), r.err());
    }

    @Test
    void sqlArrowOutputIsAnArrowFile() throws Exception {
        Path t = trace("a.arrow");
        Path out = tmp.resolve("res.arrow");
        CliTest.Run r = CliTest.run("sql", t.toString(), "--format", "arrow", "-o", out.toString(), "SELECT cpu, count(*) AS n FROM events GROUP BY cpu ORDER BY cpu");
        assertEquals(0, r.status(), r.err());
        try (RootAllocator al = new RootAllocator(); FileChannel ch = FileChannel.open(out, StandardOpenOption.READ);
             ArrowFileReader rd = new ArrowFileReader(ch, al)) {
            long rows = 0;
            while (rd.loadNextBatch()) rows += rd.getVectorSchemaRoot().getRowCount();
            assertEquals(2, rows);
            assertEquals(List.of("cpu", "n"), rd.getVectorSchemaRoot().getSchema().getFields().stream().map(f -> f.getName()).toList());
        }
        // what sql writes, sql reads: an Arrow file that is no trace becomes a table named after it, and the
        // views still compile although no trace was given
        r = CliTest.run("sql", out.toString(), "--format", "csv", "SELECT cpu, n FROM res ORDER BY cpu");
        assertEquals(0, r.status(), r.err());
        assertEquals("cpu,n\n0,3\n1,3\n", r.out().replace("\r", ""));
        r = CliTest.run("sql", out.toString(), "--format", "csv", "SELECT count(*) AS n FROM lifetimes");
        assertEquals("n\n0\n", r.out().replace("\r", ""), r.err());
        r = CliTest.run("sql", t.toString(), "--format", "arrow", "SELECT 1");
        assertEquals(2, r.status());
        assertTrue(r.err().contains("-o FILE"), r.err());
        r = CliTest.run("sql", t.toString(), "--format", "xml", "SELECT 1");
        assertEquals(2, r.status());
    }

    @Test
    void exportWritesHivePartitionedParquet() throws Exception {
        Path t = trace("a.arrow");
        Path dir = tmp.resolve("pq");
        CliTest.Run r = CliTest.run("export", t.toString(), "--parquet", dir.toString(), "--partition-by", "event,cpu");
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.isDirectory(dir.resolve("event=kmem:kmalloc").resolve("cpu=0")) || Files.isDirectory(dir.resolve("event=kmem%3Akmalloc").resolve("cpu=0")),
                () -> listing(dir));
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT event), sum(cpu) FROM read_parquet('" + dir + "/**/*.parquet', hive_partitioning = true)")) {
            rs.next();
            assertEquals(6, rs.getLong(1));
            assertEquals(4, rs.getLong(2));
            assertEquals(3, rs.getLong(3));
        }
        for (String bad : List.of("..", "../x", "/etc", "event,..", "nosuchcolumn")) {
            r = CliTest.run("export", t.toString(), "--parquet", tmp.resolve("bad").toString(), "--partition-by", bad);
            assertEquals(2, r.status(), bad + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
        }
        r = CliTest.run("export", t.toString(), "--parquet", dir.toString());
        assertEquals(2, r.status(), "a non-empty folder is refused");
    }

    static String listing(Path d) {
        try (Stream<Path> s = Files.walk(d)) {
            return String.join("\n", s.map(Path::toString).toList());
        } catch (Exception e) {
            return e.toString();
        }
    }

    @Test
    void reportChartsCanBeDrawnFromTheUsersQuery() throws Exception {
        Path t = trace("a.arrow");
        Path q = tmp.resolve("pages.sql");
        Files.writeString(q, "SELECT 'cpu ' || cpu AS x, 'my_series' AS series, count(*) AS y FROM events WHERE ts_ns < 1000 + :top_n * 1000 GROUP BY cpu ORDER BY cpu");
        Path out = tmp.resolve("r.html");
        CliTest.Run r = CliTest.run("report", t.toString(), "-o", out.toString(), "--chart-sql", "pages=" + q);
        assertEquals(0, r.status(), r.err());
        String html = Files.readString(out);
        String pages = html.substring(html.indexOf("<section id=\"chart-pages\">"), html.indexOf("</section>", html.indexOf("<section id=\"chart-pages\">")));
        assertTrue(pages.contains("my_series") && pages.contains("cpu 1"), "the user's query drew the chart");
        assertFalse(html.contains("class=\"error\""));
        r = CliTest.run("report", t.toString(), "-o", out.toString(), "--chart-sql", "nosuch=" + q);
        assertEquals(2, r.status());
    }

    @Test
    void hotAndFlameOnAFoldedProfile() throws Exception {
        Path f = tmp.resolve("p.folded");
        Files.writeString(f, "main;a;b 7\nmain;a;c 5\nmain;d;a 3\nmain 2\nmain;a;a 4\n");
        CliTest.Run r = CliTest.run("hot", f.toString(), "-g", "none");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("   100.00%     9.52%  main\n    90.48%    33.33%  a\n"), r.out());
        r = CliTest.run("hot", f.toString(), "--sort", "self", "--percent-limit", "30", "-g", "none");
        assertTrue(r.out().endsWith("#\n    90.48%    33.33%  a\n    33.33%    33.33%  b\n"), r.out());
        r = CliTest.run("hot", f.toString(), "--sort", "bogus");
        assertEquals(2, r.status());
        Path svg = tmp.resolve("f.svg");
        r = CliTest.run("flame", f.toString(), "-o", svg.toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.readString(svg).contains("<title>a (16 samples, 76.19%)</title>"));
        r = CliTest.run("flame", f.toString(), "--folded");
        assertEquals("main 2\nmain;a;a 4\nmain;a;b 7\nmain;a;c 5\nmain;d;a 3\n", r.out());
        Path base = tmp.resolve("base.folded");
        Files.writeString(base, "main;a;b 7\n");
        r = CliTest.run("flame", f.toString(), "--diff", base.toString(), "-o", tmp.resolve("d.svg").toString());
        assertEquals(0, r.status(), r.err());
        assertTrue(Files.readString(tmp.resolve("d.svg")).contains("fill=\"rgb(255,"), "growth is red");
    }

    @Test
    void hotOnATraceWeighsCallChains() throws Exception {
        Path p = tmp.resolve("cc.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            // leaf first, as perf script prints chains
            int s1 = w.stack(List.of("kmalloc", "f", "main"));
            int s2 = w.stack(List.of("kmalloc", "g", "main", "[unknown]", "[unknown]", "[unknown]"));
            long[][] evs = {{s1, 100}, {s1, 100}, {s2, 200}};
            int i = 0;
            for (long[] ev : evs) {
                TraceEvent e = new TraceEvent();
                e.ts(i++).cpu(0).ptr(0x10 * i).bytesReq(ev[1]).bytesAlloc(ev[1]).stackId((int) ev[0]);
                e.event = EventNames.KMALLOC;
                w.accept(e);
            }
        }
        CliTest.Run r = CliTest.run("hot", p.toString(), "-g", "none");
        // by count: f 2/3, g 1/3
        assertTrue(r.out().contains("    66.67%     0.00%  f\n") && r.out().contains("    33.33%     0.00%  g\n"), r.out());
        r = CliTest.run("hot", p.toString(), "-g", "none", "--weight", "bytes");
        // by bytes: f 200/400, g 200/400
        assertTrue(r.out().contains("    50.00%     0.00%  f\n") && r.out().contains("    50.00%     0.00%  g\n"), r.out());
        r = CliTest.run("flame", p.toString(), "--folded", "--weight", "bytes");
        // a lost user stack's run of [unknown] frames folds into one
        assertEquals("[unknown];main;g;kmalloc 200\nmain;f;kmalloc 200\n", r.out());
    }
}
