package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's report: checked as a file (every section, chart and table present; nothing fetched from
 * the network), then opened in headless Chromium when one is installed (.ci/run installs Debian's
 * chromium): the scripted DOM must hold the charts and tables, the page script must have run to its
 * end, the console must show no error, and a screenshot is kept at target/report-screenshot.png.
 */
class ReportBrowserTest {
    @TempDir Path tmp;

    static final List<String> SECTIONS = List.of("summary", "call-sites", "caches", "pages", "chart-live-bytes", "chart-alloc-rate",
            "chart-lifetimes", "chart-pages", "hot-paths", "policy-comparison", "policy-hot-paths", "fidelity", "deadlocks");

    static int count(String s, String re) {
        Matcher m = Pattern.compile(re).matcher(s);
        int n = 0;
        while (m.find()) n++;
        return n;
    }

    static String chromium() {
        for (String name : List.of("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")) {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                Path p = Path.of(dir, name);
                if (Files.isExecutable(p)) return p.toString();
            }
        }
        return null;
    }

    record Proc(int status, String out, String err) {}

    static Proc run(List<String> cmd, Path tmp) throws Exception {
        Path out = Files.createTempFile(tmp, "out", ".txt"), err = Files.createTempFile(tmp, "err", ".txt");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("chromium did not finish in 120 s: " + cmd);
        }
        return new Proc(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    static List<String> chromiumArgs(String exe, Path profile) {
        List<String> a = new ArrayList<>(List.of(exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"));
        return a;
    }

    @Test
    void demoReportIsCompleteAndOpensInChromium() throws Exception {
        CliTest.Run r = CliTest.run("demo", "-o", tmp.toString());
        assertEquals(0, r.status(), r.err());
        Path report = tmp.resolve("report.html");
        assertTrue(r.out().contains("Report: " + report.toAbsolutePath()), r.out());
        String html = Files.readString(report, StandardCharsets.UTF_8);
        for (String id : SECTIONS) assertTrue(html.contains("<section id=\"" + id + "\">"), id);
        // four trace charts, the latency CDF and free blocks, the fragmentation index once per policy, and the
        // mempool and SPL charts when some policy's timeline has reserves or emergency objects
        int charts = 6 + org.kmemlab.alloc.policy.PolicyRegistry.all().size()
                + (html.contains("<section id=\"chart-replay-mempool-reserve\">") ? 1 : 0)
                + (html.contains("<section id=\"chart-replay-spl-emergency\">") ? 1 : 0);
        assertEquals(charts, count(html, "<figure class=\"chart\"><svg"), "every chart inline");
        assertTrue(count(html, "<table class=\"sortable\">") >= 4, "summary, call sites, caches, pages tables");
        assertFalse(html.contains("class=\"error\""), "no section failed");
        // namespace declarations name, they do not fetch
        String noNs = html.replaceAll("xmlns(:\\w+)?=['\"][^'\"]*['\"]", "");
        assertFalse(noNs.contains("http://") || noNs.contains("https://") || noNs.contains("src="), "self-contained: nothing to fetch");
        assertTrue(html.contains("<th>model / trace</th>"), "the fidelity section of the demo's baseline replay");

        String exe = chromium();
        Assumptions.assumeTrue(exe != null, "no chromium on PATH: skipping the browser check");
        String url = report.toUri().toString();
        List<String> dump = chromiumArgs(exe, tmp.resolve("profile1"));
        dump.add("--dump-dom");
        dump.add(url);
        Proc d = run(dump, tmp);
        Assumptions.assumeTrue(d.status() == 0 || !d.out().isEmpty(), "chromium could not start here: " + d.err().lines().limit(3).toList());
        String dom = d.out();
        assertTrue(dom.contains("data-report-ready=\"1\""), "the page script ran to its end");
        assertEquals(charts, count(dom, "<figure class=\"chart\"><svg"), "charts in the DOM");
        assertTrue(count(dom, "<table class=\"sortable\">") >= 4, "tables in the DOM");
        List<String> consoleErrors = d.err().lines()
                .filter(l -> l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("SyntaxError")).toList();
        assertEquals(List.of(), consoleErrors, "console messages");

        Path shot = Path.of("target", "report-screenshot.png").toAbsolutePath();
        Files.deleteIfExists(shot);
        List<String> ss = chromiumArgs(exe, tmp.resolve("profile2"));
        ss.add("--hide-scrollbars");
        ss.add("--window-size=1320,3000");
        ss.add("--screenshot=" + shot);
        ss.add(url);
        Proc s = run(ss, tmp);
        assertTrue(Files.size(shot) > 10_000, "screenshot written: " + s.err().lines().limit(3).toList());
        assertEquals(List.of(), s.err().lines().filter(l -> l.contains("CONSOLE") || l.contains("Uncaught")).toList());
    }
}
