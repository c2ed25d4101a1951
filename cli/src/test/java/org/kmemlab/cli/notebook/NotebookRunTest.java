package org.kmemlab.cli.notebook;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.cli.Main;
import org.kmemlab.cli.NotebookCommand;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Notebooks run end to end over a small trace the test writes, so that it knows what every query must
 * return: per-CPU counts and bytes counted in Java, the replay's summary read from its summary.json.
 */
class NotebookRunTest {
    @TempDir Path tmp;

    /** Per CPU: {allocations, bytes allocated}, counted while the trace is written. */
    final Map<Integer, long[]> perCpu = new TreeMap<>();

    /** 400 kmalloc/kfree pairs on 2 CPUs with sizes from a fixed seed, and 5 page allocations. */
    Path trace(Path out) throws Exception {
        Files.createDirectories(out);
        Path p = out.resolve("t.arrow");
        Random rnd = new Random(42);
        long ts = 1_000_000;
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            for (int i = 0; i < 400; i++) {
                int cpu = rnd.nextInt(2);
                long size = 8L << rnd.nextInt(8);
                TraceEvent a = new TraceEvent();
                a.ts(ts += 1000).cpu(cpu).pid(100 + cpu).ptr(0xffff0000L + 0x1000L * i).bytesReq(size - 1).bytesAlloc(size);
                a.event = EventNames.KMALLOC;
                a.comm = "t";
                a.callSite = "site_" + (i % 3) + "+0x10";
                a.callSiteFn = "site_" + (i % 3);
                w.accept(a);
                perCpu.computeIfAbsent(cpu, k -> new long[2])[0]++;
                perCpu.get(cpu)[1] += size;
                TraceEvent f = new TraceEvent();
                f.ts(ts += 500).cpu(cpu).pid(100 + cpu).ptr(0xffff0000L + 0x1000L * i);
                f.event = EventNames.KFREE;
                f.comm = "t";
                w.accept(f);
            }
            for (int i = 0; i < 5; i++) {
                TraceEvent pg = new TraceEvent();
                pg.ts(ts += 1000).cpu(0).pid(100).pfn(1000 + i).order(i % 2).migratetype(0);
                pg.event = EventNames.MM_PAGE_ALLOC;
                pg.comm = "t";
                w.accept(pg);
            }
        }
        return p;
    }

    static final DemoTrace NO_DEMO = d -> { throw new AssertionError("the demo trace is not used here"); };

    NotebookRun run(Path out, String text) throws Exception {
        Path f = tmp.resolve("nb.md");
        Files.writeString(f, text);
        return new NotebookRunner(out, Main::commandLine, NO_DEMO, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
                .run(NotebookParser.parse(f));
    }

    /** The rows of a table output's plain text: cells split at " | ", without header, rule and footer. */
    static List<List<String>> rows(Output o) {
        String[] ls = ((Output.Rich) o).plain().split("\n");
        List<List<String>> out = new ArrayList<>();
        for (int i = 2; i < ls.length - 1; i++) out.add(List.of(ls[i].strip().split("\\s*\\|\\s*")));
        return out;
    }

    @Test
    void sqlOverATraceACommandWroteAndItsReplay() throws Exception {
        Path out = tmp.resolve("out");
        trace(out);
        NotebookRun r = run(out, """
                # Small

                ```kmemlab
                info t.arrow
                replay t.arrow -p baseline -o rep
                ```

                ```sql
                -- name: per_cpu
                SELECT cpu, count(*) AS n, sum(bytes_alloc)::BIGINT AS bytes FROM events WHERE event = 'kmem:kmalloc' GROUP BY cpu ORDER BY cpu
                ```

                ```sql
                SELECT sum(n)::BIGINT AS n FROM per_cpu;
                SELECT (SELECT num::BIGINT FROM summary WHERE policy = 'baseline' AND key = 'requests') AS summary_requests,
                       (SELECT count(*) FROM requests) AS request_rows,
                       (SELECT count(DISTINCT cell) FROM kmemlab_output WHERE command LIKE 'info %') AS info_cells
                ```

                ```chart
                title: per cpu
                kind: bar
                SELECT cpu::VARCHAR AS x, 'n' AS series, n AS y FROM per_cpu
                ```
                """);
        assertTrue(r.ok(), () -> r.failedCells().toString());
        assertEquals(4, r.runs().size());
        // the commands' output, and where their files went into the session
        String stdout = ((Output.Stream) r.runs().get(0).outputs().get(0)).text();
        assertTrue(stdout.contains("$ kmemlab info t.arrow"), stdout);
        assertTrue(stdout.contains("sql: t.arrow is in events as trace 't.arrow' (805 events)"), stdout);
        assertTrue(stdout.contains("sql: replay rep (1 policy) is in requests, profile, timeline, model_events, cgroup_mutex, timeline_fragmentation, policy_diff, summary"), stdout);
        assertTrue(Files.isRegularFile(out.resolve("rep/baseline/summary.json")), "replay wrote inside the output folder");

        List<List<String>> perCpuRows = rows(r.runs().get(1).outputs().get(0));
        List<List<String>> want = new ArrayList<>();
        for (Map.Entry<Integer, long[]> e : perCpu.entrySet()) {
            want.add(List.of(e.getKey().toString(), Long.toString(e.getValue()[0]), Long.toString(e.getValue()[1])));
        }
        assertEquals(want, perCpuRows);

        List<Output> second = r.runs().get(2).outputs();
        assertEquals(2, second.size(), "one table per statement that returns rows");
        assertEquals(List.of(List.of("400")), rows(second.get(0)));
        JsonNode summary = new ObjectMapper().readTree(out.resolve("rep/baseline/summary.json").toFile());
        long requests = summary.get("requests").asLong();
        assertTrue(requests > 0);
        assertEquals(List.of(List.of(Long.toString(requests), Long.toString(requests), "1")), rows(second.get(1)));

        Output.Image img = (Output.Image) r.runs().get(3).outputs().get(0);
        assertTrue(img.svg().startsWith("<svg"), img.svg().substring(0, 20));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(img.png(), 4));
        assertEquals("bar chart 'per cpu': " + perCpu.size() + " points in 1 series", img.alt());
    }

    record Cli(int status, String out, String err) {}

    static Cli cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            picocli.CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
            int st = cl.execute(args);
            return new Cli(st, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void aFailingCellShowsItsErrorInPlaceAndLaterCellsStillRun() throws Exception {
        Path out = tmp.resolve("out");
        trace(out);
        Path nb = tmp.resolve("fails.md");
        Files.writeString(nb, """
                # Fails

                ```kmemlab
                stat t.arrow
                ```

                ```sql
                SELECT * FROM no_such_table
                ```

                ```kmemlab
                stat missing.arrow
                ```

                ```sql
                SELECT count(*) AS n FROM events
                ```
                """);
        Cli c = cli("notebook", "run", nb.toString(), "-o", out.toString());
        assertEquals(NotebookCommand.EXIT_FAILED, c.status(), c.err());
        assertTrue(c.err().contains("fails.md:7: the sql cell failed"), c.err());
        assertTrue(c.err().contains("fails.md:11: the kmemlab cell failed"), c.err());
        // progress: one line per cell on stderr
        assertTrue(c.err().contains("notebook fails.md: [4/4] ok"), c.err());

        String html = Files.readString(out.resolve("fails.html"));
        int err = html.indexOf("Table with name no_such_table does not exist");
        int cell2 = html.indexOf("SELECT * FROM no_such_table</pre>");
        int cell3 = html.indexOf("stat missing.arrow</pre>");
        assertTrue(cell2 > 0 && err > cell2 && cell3 > err, "the error sits under its own cell's source");
        int err3 = html.indexOf("<pre class=\"error\">kmemlab stat failed: kmemlab: " + out.resolve("missing.arrow") + ": cannot be read", cell3);
        int cell4 = html.indexOf("SELECT count(*) AS n FROM events</pre>");
        assertTrue(err3 > cell3 && cell4 > err3, "the failed command's message sits under it");
        assertTrue(html.indexOf("<td class=\"n\" data-v=\"805.0\">805</td>", cell4) > cell4, "the last cell ran: 805 events");

        JsonNode ipynb = new ObjectMapper().readTree(out.resolve("fails.ipynb").toFile());
        JsonNode cells = ipynb.get("cells");
        assertEquals("markdown", cells.get(0).get("cell_type").asText());
        JsonNode failed = cells.get(2).get("outputs").get(0);
        assertEquals("error", failed.get("output_type").asText());
        assertTrue(failed.get("evalue").asText().contains("no_such_table"), failed.toString());
        assertEquals(4, cells.get(4).get("execution_count").asInt());
        StringBuilder plain = new StringBuilder();
        for (JsonNode l : cells.get(4).get("outputs").get(0).get("data").get("text/plain")) plain.append(l.asText());
        assertEquals("  n\n---\n805\n(1 row)\n", plain.toString(), "numbers, and their header, right-aligned");
    }

    @Test
    void aFalseVerdictFailsTheRunAfterWritingEverything() throws Exception {
        Path out = tmp.resolve("out");
        trace(out);
        Path nb = tmp.resolve("verdict.md");
        Files.writeString(nb, """
                ```kmemlab
                info t.arrow
                ```

                ```verdict
                SELECT * FROM (VALUES ('events', '805', (SELECT count(*) FROM events)::VARCHAR, true),
                                      ('frees', '1', (SELECT count(*) FROM frees)::VARCHAR, false)) v(claim, expected, measured, holds)
                ```
                """);
        Cli c = cli("notebook", "run", nb.toString(), "-o", out.toString());
        assertEquals(NotebookCommand.EXIT_FAILED, c.status(), c.err());
        assertTrue(c.err().contains("claim does not hold: frees (expected 1, measured 400)"), c.err());
        String html = Files.readString(out.resolve("verdict.html"));
        assertTrue(html.contains("✗ 1 of 2 claims do not hold"), "verdict head");
        assertTrue(html.contains("<tr class=\"bad\"><td>frees</td><td>1</td><td>400</td><td class=\"mark\">✗</td></tr>"));
        assertTrue(html.contains("<tr class=\"ok\"><td>events</td><td>805</td><td>805</td><td class=\"mark\">✓</td></tr>"));
        assertTrue(Files.isRegularFile(out.resolve("verdict.ipynb")));

        // all true: exit 0; the earlier run's outputs are only replaced with --force
        Files.writeString(nb, "```verdict\nSELECT 'one' AS claim, 1 AS expected, 1 AS measured, 1 = 1 AS holds\n```\n");
        c = cli("notebook", "run", nb.toString(), "-o", out.toString());
        assertEquals(2, c.status(), c.err());
        assertTrue(c.err().contains("verdict.html: exists (give --force to replace it)"), c.err());
        c = cli("notebook", "run", nb.toString(), "-o", out.toString(), "--force");
        assertEquals(0, c.status(), c.err());
        assertTrue(c.out().contains("1 cells ran, 1 claims hold"), c.out());
    }

    @Test
    void pathsLeavingTheOutputFolderAreRejectedBeforeAnythingRuns() throws Exception {
        Path out = tmp.resolve("out");
        for (String[] bad : new String[][] {
                {"stat ../t.arrow", "path '../t.arrow' leaves the output folder"},
                {"replay t.arrow -o a/../../x", "path 'a/../../x' leaves the output folder"},
                {"stat " + tmp.resolve("t.arrow"), "absolute path '" + tmp.resolve("t.arrow") + "'"},
                {"import /etc/passwd -o x.arrow", "absolute path '/etc/passwd'"},
                {"sql t.arrow 'SELECT 1'", "'sql' cannot run in a notebook cell"}}) {
            Path nb = tmp.resolve("escape.md");
            Files.writeString(nb, "# Escape\n\n```sql\nSELECT 1\n```\n\n```kmemlab\ninfo x.arrow\n" + bad[0] + "\n```\n");
            InputError e = assertThrows(InputError.class, () -> run(out, Files.readString(nb)), bad[0]);
            String want = tmp.resolve("nb.md") + ":9: " + bad[1];
            assertEquals(want, e.getMessage().substring(0, Math.min(e.getMessage().length(), want.length())), bad[0]);
            Cli c = cli("notebook", "run", nb.toString(), "-o", out.toString());
            assertEquals(2, c.status(), c.err());
            assertTrue(c.err().startsWith("kmemlab: " + nb + ":9: " + bad[1]), c.err());
            assertEquals(1, c.err().strip().split("\n").length, "one line: " + c.err());
            assertFalse(Files.exists(out.resolve("escape.html")), "nothing ran, nothing written");
        }
    }

    @Test
    void theHtmlIsSelfContained() throws Exception {
        Path out = tmp.resolve("out");
        trace(out);
        NotebookRun r = run(out, """
                # Self-contained

                Prose with <img src="https://example.org/x.png"> raw HTML, which is shown as text.

                ```kmemlab
                info t.arrow
                ```

                ```chart
                title: bytes over time
                x: s
                y: bytes
                unit: bytes
                log: y
                SELECT ts_ns / 1e9 AS x, 'kmalloc' AS series, bytes_alloc AS y FROM events WHERE event = 'kmem:kmalloc' ORDER BY ts_ns
                ```
                """);
        assertTrue(r.ok(), () -> r.failedCells().toString());
        String html = HtmlNotebook.html(r);
        assertTrue(html.contains("&lt;img src=&quot;https://example.org/x.png&quot;&gt;"), "raw HTML escaped");
        assertFalse(html.matches("(?s).*(src|href)\\s*=\\s*[\"']?(https?:|//).*"), "no external src or href");
        assertFalse(html.contains("<link"), "no stylesheet links");
        assertFalse(html.contains("@import"));
        assertFalse(html.matches("(?s).*url\\(\\s*[\"']?(https?:|//).*"));
        assertTrue(html.contains("<style>") && html.contains("<svg"), "inline CSS and SVG");
    }
}
