package org.kmemlab.analysis.report;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.analysis.KmemStat;
import org.kmemlab.analysis.TraceDb;
import org.kmemlab.analysis.ViewsTestFixture;

/**
 * The report on the hand-checked fixture, and the replayer's way in: a ReportSectionProvider found by
 * ServiceLoader (registered in this module's test resources) replaces the placeholder with the same id,
 * in place, and can query the session.
 */
class HtmlReportTest {
    @TempDir Path tmp;

    /** Stands in for the replayer: fills "deadlocks" from a query over the session. */
    public static final class FakeReplay implements ReportSectionProvider {
        @Override
        public List<ReportSection> sections(ReportContext ctx) {
            return List.of(new ReportSection() {
                public String id() { return "deadlocks"; }
                public String title() { return "Deadlock report"; }
                public void render(ReportContext c, Html out) throws Exception {
                    try (var rs = c.db().query("SELECT count(*) AS frees_of_unknown_objects FROM lifetimes WHERE alloc_seq IS NULL")) {
                        out.table(rs);
                    }
                }
            });
        }
    }

    @Test
    void providedSectionsReplacePlaceholdersInPlace() throws Exception {
        Path trace = ViewsTestFixture.write(tmp);
        Map<Path, KmemStat> stats = new LinkedHashMap<>();
        stats.put(trace, KmemStat.of(trace, false));
        Path out = tmp.resolve("r.html");
        try (TraceDb db = TraceDb.open(List.of(trace))) {
            HtmlReport.write(new ReportContext(db, List.of(trace), stats, null), List.of(), "fixture <report>", out);
        }
        String html = Files.readString(out);
        assertTrue(html.contains("<title>fixture &lt;report&gt;</title>"), "escaped title");
        int fidelity = html.indexOf("<section id=\"fidelity\">"), dead = html.indexOf("<section id=\"deadlocks\">");
        assertTrue(fidelity > 0 && dead > fidelity, "the provided section keeps the placeholder's place");
        String deadSection = html.substring(dead, html.indexOf("</section>", dead));
        assertFalse(deadSection.contains("Not available yet"), deadSection);
        // the fixture's unmatched frees: 0xB, kfree(NULL), the batched page free
        assertTrue(deadSection.contains("<td class=\"n\" data-v=\"3.0\">3</td>"), deadSection);
        assertTrue(html.contains("<section id=\"policy-comparison\"><h2>Policy comparison</h2>\n<p class=\"placeholder\">"));
        // the cache table: dentry with 2 allocs, 2 frees, peak 2 (ViewsTest's expectations)
        assertTrue(html.contains("<tr><td>dentry</td><td class=\"n\" data-v=\"2.0\">2</td><td class=\"n\" data-v=\"2.0\">2</td>"), "by_cache row");
        assertFalse(html.contains("class=\"error\""), "no section failed");
        // The fixture's bad data, counted by hand: 0xB freed unknown, 0xC allocated twice then freed twice,
        // pfn 3000 freed without an allocation; timestamps rise on each CPU.
        assertTrue(html.contains("Anomalies: free unknown</span><span class=\"v\">1<"), "anomalies in the summary");
        assertTrue(html.contains("Anomalies: alloc live</span><span class=\"v\">1<"));
        assertTrue(html.contains("Anomalies: double free</span><span class=\"v\">1<"));
        assertTrue(html.contains("Anomalies: page free unknown</span><span class=\"v\">1<"));
        assertTrue(html.contains("Anomalies: ts backwards</span><span class=\"v\">0<"));
    }
}
