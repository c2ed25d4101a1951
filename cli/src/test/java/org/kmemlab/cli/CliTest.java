package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The command line end to end: the demo, and one-line errors with exit status 2 for bad input. */
class CliTest {
    @TempDir Path tmp;

    record Run(int status, String out, String err) {}

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            CommandLine cl = Main.commandLine();
            cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
            int st = cl.execute(args);
            return new Run(st, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
        }
    }

    @Test
    void demoImportsTheBuiltInTraceAndPrintsItsStatistics() throws Exception {
        Run r = run("demo", "-o", tmp.toString());
        assertEquals(0, r.status, r.err);
        // 21,035 events: counted with `perf script | wc -l` when the demo was recorded (see demo/README.md).
        assertTrue(r.out.contains("imported 21,035 events"), r.out);
        assertTrue(r.out.contains("SUMMARY (SLAB allocator)"));
        assertTrue(r.out.contains("getname_flags.part.0+0x24"));
        // The demo workload has no traffic any policy changes: the six rows agree, and the demo says so.
        assertTrue(r.out.contains("Every policy gives the same numbers on this trace"), r.out);
        // Replayed under every policy, and the report carries the replay sections instead of their placeholders.
        for (var p : org.kmemlab.alloc.policy.PolicyRegistry.all()) {
            assertTrue(Files.isRegularFile(tmp.resolve("replay").resolve(p.id).resolve("summary.json")), p.id);
        }
        String html = Files.readString(tmp.resolve("report.html"));
        assertTrue(html.contains("ratios are policy / baseline"), "policy comparison filled in");
        assertTrue(html.contains("modelled allocator time: xfs-kvmalloc-failfast"), "a flame graph per policy");
        assertTrue(html.contains("No replay deadlocked"));
        assertTrue(html.contains("id=\"chart-replay-latency-cdf\"") && html.contains("id=\"chart-replay-free-blocks\""));
        assertFalse(html.contains("This section failed"), "every section rendered");
        // The fidelity section: the lines kmemlab fidelity prints for the baseline replay, with their ratios.
        int fi = html.indexOf("<section id=\"fidelity\">");
        String fidelity = html.substring(fi, html.indexOf("</section>", fi));
        assertFalse(fidelity.contains("Not available yet"), fidelity);
        var fid = org.kmemlab.replay.Fidelity.of(tmp.resolve("demo.arrow"), tmp.resolve("replay").resolve("baseline"));
        var lines = fid.lines;
        assertFalse(lines.isEmpty());
        // and its verdicts against the targets, under the table as kmemlab fidelity prints them
        assertEquals(3, fid.targets().size(), fid.targets().toString());
        for (String t : fid.targets()) assertTrue(fidelity.contains("<li>" + t + "</li>"), t);
        for (var l : lines) {
            assertTrue(fidelity.contains("<tr><td>" + l.metric() + "</td>"), l.metric());
            if (Double.isFinite(l.ratio())) {
                assertTrue(fidelity.contains("data-v=\"" + l.ratio() + "\">" + String.format(java.util.Locale.ROOT, "%.3f", l.ratio()) + "</td>"),
                        l.metric() + " ratio " + l.ratio());
            }
        }
        // The replay folder joins the trace in one SQL session; policy_diff agrees with each summary.json.
        Run diff = run("sql", tmp.resolve("demo.arrow").toString(), tmp.resolve("replay").toString(),
                "SELECT policy, value, ratio FROM policy_diff WHERE metric = 'requests' ORDER BY policy", "--format", "csv");
        assertEquals(0, diff.status, diff.err);
        List<String> rows = diff.out.lines().skip(1).toList();
        assertEquals(org.kmemlab.alloc.policy.PolicyRegistry.all().size(), rows.size(), diff.out);
        for (String row : rows) {
            String[] c = row.split(",");
            Map<?, ?> summary = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readValue(tmp.resolve("replay").resolve(c[0]).resolve("summary.json").toFile(), Map.class);
            assertEquals(((Number) summary.get("requests")).longValue(), Long.parseLong(c[1]), row);
        }
        Run info = run("info", tmp.resolve("demo.arrow").toString());
        assertEquals(0, info.status);
        assertTrue(info.out.contains("slabinfo"), "the machine snapshot is stored in the trace: " + info.out);
        assertTrue(info.out.contains("kernel release:  6.18"), info.out);
        Run sql = run("sql", tmp.resolve("demo.arrow").toString(), "SELECT count(*) AS n FROM events", "--format", "csv");
        assertEquals(0, sql.status, sql.err);
        assertEquals("n\n21035\n", sql.out);
    }

    @Test
    void badInputIsOneLineWithTheFileAndExitStatus2() throws Exception {
        Path garbage = tmp.resolve("garbage.arrow");
        Files.write(garbage, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
        for (String[] args : new String[][] {
            {"info", garbage.toString()},
            {"stat", garbage.toString()},
            {"info", tmp.resolve("missing.arrow").toString()},
            {"import", garbage.toString(), "-o", tmp.resolve("x.arrow").toString()},
            {"info", tmp.toString()},
        }) {
            Run r = run(args);
            assertEquals(2, r.status, String.join(" ", args) + ": " + r.err);
            assertEquals(1, r.err.strip().lines().count(), r.err);
            assertTrue(r.err.startsWith("kmemlab: "), r.err);
            assertFalse(r.err.contains("Exception"), r.err);
            assertTrue(r.err.contains(args[1]), r.err);
        }
        assertFalse(Files.exists(tmp.resolve("x.arrow")), "a failed import leaves no output");
        assertFalse(Files.exists(tmp.resolve("x.arrow.part")));
    }

    @Test
    void statFormatsAndSortKeys() throws Exception {
        run("demo", "-o", tmp.toString());
        String t = tmp.resolve("demo.arrow").toString();
        Run csv = run("stat", "--caller", "--format", "csv", "-s", "hit", t);
        assertEquals(0, csv.status, csv.err);
        String[] lines = csv.out.split("\n");
        assertEquals("callsite,hits,bytes_alloc,bytes_req,pingpong,frag_pct,frees", lines[0]);
        long prev = Long.MAX_VALUE;
        for (int i = 1; i < lines.length; i++) {
            long hits = Long.parseLong(lines[i].split(",")[1]);
            assertTrue(hits <= prev, "sorted by hits");
            prev = hits;
        }
        Run bad = run("stat", "--caller", "-s", "nonsense", t);
        assertEquals(2, bad.status);
        assertTrue(bad.err.contains("unknown sort key 'nonsense'"), bad.err);
        Run page = run("stat", "--page", t);
        assertEquals(0, page.status);
        assertTrue(page.out.contains("SUMMARY (page allocator)"));
        Run json = run("stat", "--slab", "--format", "json", t);
        assertTrue(json.out.contains("\"slab_caches\""));
    }
}
