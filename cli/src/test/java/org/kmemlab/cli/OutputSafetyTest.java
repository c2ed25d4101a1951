package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/** Nothing is overwritten without --force, nothing is left half-written, nothing lands outside the output folder. */
class OutputSafetyTest {
    @TempDir Path tmp;

    private Path trace(String... comms) throws Exception {
        Path p = tmp.resolve("t.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            for (int i = 0; i < comms.length; i++) {
                TraceEvent e = new TraceEvent().ts(i).cpu(0).pid(1).ptr(0x100 + i).bytesReq(8).bytesAlloc(8);
                e.event = EventNames.KMALLOC;
                e.comm = comms[i];
                w.accept(e);
            }
        }
        return p;
    }

    private List<String> leftovers() throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".kmemlab-")).toList();
        }
    }

    @Test
    void everyWritingCommandRefusesAnExistingOutputUnlessForced() throws Exception {
        Path t = trace("a", "b");
        Path file = Files.writeString(tmp.resolve("exists.out"), "keep me");
        Path folder = Files.createDirectories(tmp.resolve("exists-dir"));
        Files.writeString(folder.resolve("keep"), "keep me");
        Path folded = Files.writeString(tmp.resolve("p.folded"), "a;b 3\n");
        String[][] runs = {
            {"sql", t.toString(), "SELECT 1 AS x", "--format", "csv", "-o", file.toString()},
            {"report", t.toString(), "-o", file.toString()},
            {"flame", folded.toString(), "-o", file.toString()},
            {"export", t.toString(), "--parquet", folder.toString()},
            {"replay", t.toString(), "-o", folder.toString()},
            {"fidelity", t.toString(), "-o", folder.toString()},
            {"record", "-a", "--duration", "1", "-o", file.toString()},
        };
        for (String[] args : runs) {
            CliTest.Run r = CliTest.run(args);
            assertEquals(2, r.status(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.err().contains("--force"), r.err());
            assertEquals("keep me", Files.readString(file));
            assertEquals("keep me", Files.readString(folder.resolve("keep")));
        }
        // import refuses too (its input is a perf script line)
        Path in = Files.writeString(tmp.resolve("in.txt"), "perf  1 [000]     1.000001: kmem:kfree: call_site=x ptr=0x1\n");
        assertEquals(2, CliTest.run("import", in.toString(), "-o", file.toString()).status());
        assertEquals("keep me", Files.readString(file));

        CliTest.Run forced = CliTest.run("sql", t.toString(), "SELECT 1 AS x", "--format", "csv", "-o", file.toString(), "--force");
        assertEquals(0, forced.status(), forced.err());
        assertEquals("x\n1\n", Files.readString(file));
        CliTest.Run imp = CliTest.run("import", in.toString(), "-o", file.toString(), "--force", "-q");
        assertEquals(0, imp.status(), imp.err());
        assertTrue(Files.size(file) > 100, "a trace replaced the text");
        CliTest.Run exp = CliTest.run("export", t.toString(), "--parquet", folder.toString(), "--force");
        assertEquals(0, exp.status(), exp.err());
        assertFalse(Files.exists(folder.resolve("keep")), "the old folder was replaced whole");
        assertTrue(Files.isRegularFile(folder.resolve("events.parquet")));
        assertEquals(List.of(), leftovers(), "no temporary names left behind");
    }

    @Test
    void aFailedCommandLeavesNoOutputAndNoTemporaryFile() throws Exception {
        Path garbage = Files.write(tmp.resolve("garbage.arrow"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17});
        for (String[] args : new String[][] {
            {"replay", garbage.toString(), "-o", tmp.resolve("replay-out").toString()},
            {"export", garbage.toString(), "--parquet", tmp.resolve("export-out").toString()},
            {"report", garbage.toString(), "-o", tmp.resolve("r.html").toString()},
            {"import", garbage.toString(), "-o", tmp.resolve("i.arrow").toString()},
        }) {
            CliTest.Run r = CliTest.run(args);
            assertEquals(2, r.status(), r.err());
            assertFalse(Files.exists(Path.of(args[args.length - 1])), "no output: " + String.join(" ", args));
        }
        assertEquals(List.of(), leftovers());
    }

    @Test
    void partitionValuesThatLookLikePathsStayInsideTheExportFolder() throws Exception {
        Path t = trace("../../escape", "/abs", "..", "kworker/0:1");
        Path out = tmp.resolve("parts");
        CliTest.Run r = CliTest.run("export", t.toString(), "--parquet", out.toString(), "--partition-by", "comm");
        assertEquals(0, r.status(), r.err());
        Path real = out.toRealPath();
        try (Stream<Path> s = Files.walk(out)) {
            List<Path> files = s.filter(Files::isRegularFile).toList();
            assertEquals(4, files.size(), files.toString());
            for (Path f : files) assertTrue(f.toRealPath().startsWith(real), f.toString());
        }
        assertFalse(Files.exists(tmp.getParent().resolve("escape")));
        assertFalse(Files.exists(tmp.resolve("escape")));
        // a column name that is a path is refused before anything is written
        CliTest.Run bad = CliTest.run("export", t.toString(), "--parquet", tmp.resolve("p2").toString(), "--partition-by", "../comm");
        assertEquals(2, bad.status());
        assertFalse(Files.exists(tmp.resolve("p2")));
    }

    @Test
    void namesInsideAnOutputFolderMayNotBeAbsoluteOrClimbOut() {
        Path root = tmp.resolve("nb-out");
        assertEquals(root.resolve("cell-1.csv"), Outputs.inside(root, "cell-1.csv", "cell output"));
        assertEquals(root.resolve("a/b.svg"), Outputs.inside(root, "a/./b.svg", "cell output"));
        for (String bad : new String[] {"../x.csv", "a/../../x", "/etc/passwd", "..", "", "a/.."}) {
            UserError e = assertThrows(UserError.class, () -> Outputs.inside(root, bad, "cell output"), bad);
            assertTrue(e.getMessage().startsWith("cell output '" + bad + "'"), e.getMessage());
        }
    }
}
