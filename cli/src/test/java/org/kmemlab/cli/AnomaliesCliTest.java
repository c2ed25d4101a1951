package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad trace semantics in a text import are counted, the import succeeds, and info shows the counts. */
class AnomaliesCliTest {
    @TempDir Path tmp;

    @Test
    void importCountsBadSemanticsAndInfoShowsThem() throws Exception {
        String k = "kmem:kmalloc: call_site=f+0x1 ptr=%s bytes_req=32 bytes_alloc=32 gfp_flags=GFP_KERNEL node=-1 accounted=false";
        String f = "kmem:kfree: call_site=g+0x2 ptr=%s";
        String text = String.join("\n",
                "perf 1 [000]  1.000001: " + k.formatted("0xffff888000000100"),
                "perf 1 [000]  1.000002: " + f.formatted("0xffff888000000100"),
                "perf 1 [000]  1.000003: " + f.formatted("0xffff888000000100"),   // double free
                "perf 1 [001]  1.000004: " + f.formatted("0xffff888000000200"),   // free of an unknown object
                "perf 1 [001]  1.000005: " + k.formatted("0xffff888000000300"),
                "perf 1 [001]  1.000001: " + k.formatted("0xffff888000000300"),   // live again, and time went back on cpu 1
                "perf 1 [005]  1.000007: " + f.formatted("0x0"),                  // kfree(NULL) on cpu 5 of a 2-CPU machine
                "");
        Path in = Files.writeString(tmp.resolve("bad.txt"), text);
        Path snap = Files.createDirectories(tmp.resolve("machine"));
        Files.writeString(snap.resolve("nr_cpus.txt"), "2\n");
        Path out = tmp.resolve("bad.arrow");
        CliTest.Run imp = CliTest.run("import", in.toString(), "-o", out.toString(), "--snapshot", snap.toString());
        assertEquals(0, imp.status(), imp.err());
        CliTest.Run info = CliTest.run("info", out.toString());
        assertEquals(0, info.status(), info.err());
        assertTrue(info.out().contains("anomalies:       5 (double_free 1, free_unknown 1, alloc_live 1, ts_backwards 1, cpu_beyond_nr_cpus 1)"),
                info.out());
    }

    @Test
    void anInternalErrorIsOneLinePointingToTheLogWithStatus1() throws Exception {
        java.io.StringWriter err = new java.io.StringWriter();
        picocli.CommandLine cl = Main.commandLine();
        cl.setErr(new java.io.PrintWriter(err, true));
        int st = Main.handle(new IllegalStateException("a bug"), cl);
        assertEquals(Main.EXIT_INTERNAL, st);
        String line = err.toString().strip();
        assertEquals(1, line.lines().count(), line);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("stack trace in (\\S+)\\)").matcher(line);
        assertTrue(line.startsWith("kmemlab: internal error: java.lang.IllegalStateException: a bug") && m.find(), line);
        Path log = Path.of(m.group(1));
        assertTrue(Files.readString(log).contains("at org.kmemlab.cli.AnomaliesCliTest"), "the log holds the stack trace");
        Files.delete(log);
    }
}
