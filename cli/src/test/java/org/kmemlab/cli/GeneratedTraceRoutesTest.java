package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.kmemlab.trace.TraceReader;

/**
 * Issue 7, acceptance 2: a generated trace imports, replays and reports like a recorded one. Each scenario is
 * generated twice with one seed, as Arrow and as perf script text; the text goes through {@code kmemlab import}
 * as a recording would, and is replayed with the Arrow file's replay hints given as {@code --set} (text has no
 * place for them, so that is what a user of a recording does). Both routes must replay to the same summary and
 * profile under baseline and the seed's policy, and render a report with the sections of a recorded trace's
 * report (the demo's, {@link ReportBrowserTest#SECTIONS}).
 */
class GeneratedTraceRoutesTest {
    @TempDir Path tmp;

    static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "xfs-cil-commit     | xfs-kvmalloc-failfast | cpus=4,commits=30,cil=50",
            "spl-writeback      | spl-emergency         | txgs=2,blocks=20,dirtyPages=100",
            "btrfs-extent-state | btrfs-extent-mempool  | threads=4,ops=20,memory=16M,hogExtra=8",
            "kfree-rcu-storm    | gfp-fast-try          | loops=4,objects=16,bursts=3,burstPages=70",
            "cgroup-churn       | rcu-destroy-batched   | cgroups=12,batch=5"})
    void textAndArrowRoutesReplayAndReportAlike(String scenario, String policy, String params) throws Exception {
        List<String> gen = new ArrayList<>(List.of("generate", scenario, "--seed", "5"));
        for (String kv : params.split(",")) gen.addAll(List.of("--set", kv));
        Path arrow = tmp.resolve("gen.arrow"), text = tmp.resolve("gen.txt"), imported = tmp.resolve("imported.arrow");
        ok(CliTest.run(concat(gen, "-o", arrow.toString())));
        ok(CliTest.run(concat(gen, "--format", "perf-script", "-o", text.toString())));

        Map<String, String> header;
        try (TraceReader r = new TraceReader(arrow)) { header = r.info().header; }
        ok(CliTest.run("import", text.toString(), "--strict", "--kernel", header.get("kmemlab.kernel_release"), "-o", imported.toString()));
        List<String> sets = new ArrayList<>();
        new TreeMap<>(header).forEach((k, v) -> {
            if (k.startsWith("kmemlab.hint.")) sets.addAll(List.of("--set", k.substring("kmemlab.hint.".length()) + "=" + v));
        });
        assertFalse(sets.isEmpty(), "every scenario hints its replay settings");

        Path rg = tmp.resolve("replay-gen"), ri = tmp.resolve("replay-imported");
        ok(CliTest.run("replay", arrow.toString(), "-p", "baseline", "-p", policy, "-o", rg.toString()));
        List<String> replayImported = new ArrayList<>(List.of("replay", imported.toString(), "-p", "baseline", "-p", policy));
        replayImported.addAll(sets);
        ok(CliTest.run(concat(replayImported, "-o", ri.toString())));
        for (String p : List.of("baseline", policy)) {
            Map<?, ?> g = JSON.readValue(rg.resolve(p).resolve("summary.json").toFile(), Map.class);
            Map<?, ?> i = JSON.readValue(ri.resolve(p).resolve("summary.json").toFile(), Map.class);
            // the hints say where the settings came from and trace names the file; the rest, settings included, must agree
            assertFalse(((Map<?, ?>) g.get("hints")).isEmpty());
            assertEquals(Map.of(), i.get("hints"));
            Map<Object, Object> gs = new TreeMap<>(), is = new TreeMap<>();
            g.forEach((k, v) -> { if (!k.equals("hints") && !k.equals("trace")) gs.put(k, v); });
            i.forEach((k, v) -> { if (!k.equals("hints") && !k.equals("trace")) is.put(k, v); });
            assertEquals(gs, is, scenario + " " + p + ": the summaries of the two routes");
            // replayed something, unless the seed's "before" deadlocks on its first request (spl-writeback's txg_sync)
            assertTrue(((Number) g.get("events")).longValue() > 0);
            assertTrue(((Number) g.get("requests")).longValue() > 0 || g.get("deadlock") != null, scenario + " " + p + ": " + g.get("requests"));
            assertEquals(Files.readString(rg.resolve(p).resolve("profile.folded")), Files.readString(ri.resolve(p).resolve("profile.folded")),
                    scenario + " " + p + ": profile");
        }

        Path hg = tmp.resolve("gen.html"), hi = tmp.resolve("imported.html");
        ok(CliTest.run("report", arrow.toString(), rg.toString(), "-o", hg.toString()));
        ok(CliTest.run("report", imported.toString(), ri.toString(), "-o", hi.toString()));
        String gh = Files.readString(hg), ih = Files.readString(hi);
        List<String> gSections = sections(gh), iSections = sections(ih);
        assertEquals(iSections, gSections, "the same sections by either route");
        assertTrue(gSections.containsAll(ReportBrowserTest.SECTIONS), "a recorded trace's sections: " + gSections);
        for (String h : List.of(gh, ih)) {
            assertFalse(h.contains("class=\"error\"") || h.contains("This section failed"), scenario + ": a section failed");
        }
    }

    static void ok(CliTest.Run r) {
        assertEquals(0, r.status(), r.err());
    }

    static String[] concat(List<String> a, String... b) {
        List<String> l = new ArrayList<>(a);
        l.addAll(List.of(b));
        return l.toArray(String[]::new);
    }

    static List<String> sections(String html) {
        List<String> l = new ArrayList<>();
        Matcher m = Pattern.compile("<section id=\"([^\"]+)\">").matcher(html);
        while (m.find()) l.add(m.group(1));
        return l;
    }
}
