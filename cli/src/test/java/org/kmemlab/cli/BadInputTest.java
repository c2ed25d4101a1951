package org.kmemlab.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceSchema;
import org.kmemlab.trace.TraceWriter;

/**
 * The table of hand-made bad inputs: each runs the CLI in-process and must end with exit status 2 and one
 * line that names the file (or the option) and, where the input has one, the position: {@code file:LINE:} or
 * {@code at byte offset N}. No stack trace, no internal error.
 */
class BadInputTest {
    static Path dir;
    static Path goodTrace;

    /** How the message must locate the mistake. */
    enum Pos {
        /** {@code file:LINE: } */
        LINE(":\\d+: "),
        /** {@code file: at byte offset N: } */
        OFFSET(": at byte offset \\d+: "),
        /** the file or folder alone (a directory, a missing file: there is no position) */
        FILE(": "),
        /** a command-line value (an option or --set key), named in the message */
        VALUE("");

        final String regex;

        Pos(String regex) { this.regex = regex; }
    }

    record Case(String name, Pos pos, String named, String[] args) {
        @Override public String toString() { return name; }
    }

    @BeforeAll
    static void inputs() throws Exception {
        dir = Files.createTempDirectory("kmemlab-bad-input");
        goodTrace = dir.resolve("good.arrow");
        try (TraceWriter w = new TraceWriter(goodTrace, Map.of(TraceSchema.META_SOURCE_FORMAT, "test"), TraceWriter.Compression.NONE)) {
            for (int i = 0; i < 50; i++) {
                TraceEvent e = new TraceEvent().ts(1000L * i).cpu(i % 2).pid(1).ptr(0x1000L + 64 * (i / 2));
                e.event = i % 2 == 0 ? EventNames.KMALLOC : EventNames.KFREE;
                e.comm = "t";
                w.accept(e);
            }
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted((a, b) -> b.compareTo(a)).toList()) Files.deleteIfExists(p);
        }
    }

    static Path file(String name, byte[] content) throws Exception {
        return Files.write(dir.resolve(name), content);
    }

    static Path file(String name, String content) throws Exception {
        return file(name, content.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static byte[] bytes(int... v) {
        byte[] b = new byte[v.length];
        for (int i = 0; i < v.length; i++) b[i] = (byte) v[i];
        return b;
    }

    /** A perf_file_header (tools/perf/util/header.h) with the given section sizes. */
    static byte[] perfHeader(long fileSize, long attrSize, long attrsOff, long attrsSize, long dataOff, long dataSize) {
        ByteBuffer b = ByteBuffer.allocate((int) fileSize).order(ByteOrder.LITTLE_ENDIAN);
        b.put("PERFILE2".getBytes(StandardCharsets.US_ASCII)).putLong(104).putLong(attrSize)
                .putLong(attrsOff).putLong(attrsSize).putLong(dataOff).putLong(dataSize).putLong(0).putLong(0);
        return b.array();
    }

    static Case c(String name, Pos pos, Object named, String... args) {
        return new Case(name, pos, named.toString(), args);
    }

    static List<Case> cases() throws Exception {
        Path good = goodTrace;
        byte[] goodBytes = Files.readAllBytes(good);
        Path empty = file("empty.arrow", new byte[0]);
        Path garbage = file("garbage.bin", random(4096, 1));
        Path text = file("perf.txt", "perf  1234 [000]     1.000001: kmem:kfree: call_site=x ptr=0x1\n");
        Path missing = dir.resolve("missing.arrow");
        Path sub = Files.createDirectories(dir.resolve("a-folder"));
        Path cut = file("cut.arrow", Arrays.copyOf(goodBytes, 100));
        byte[] corruptSchema = goodBytes.clone();
        for (int i = 8; i < 200; i += 3) corruptSchema[i] ^= 0x5a;
        Path badSchema = file("bad-schema.arrow", corruptSchema);
        Path v9;
        try (TraceWriter w = new TraceWriter(v9 = dir.resolve("v9.arrow"), Map.of(TraceSchema.META_VERSION, "9.0"))) { /* header only */ }
        // The trailer alone is an Arrow stream too, but without kmemlab's metadata.
        long trailer = ByteBuffer.wrap(goodBytes, goodBytes.length - 16, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Path plainArrow = file("plain.arrow", Arrays.copyOfRange(goodBytes, (int) trailer, goodBytes.length - 16));
        Path zst = file("garbage.zst", concat(bytes(0x28, 0xb5, 0x2f, 0xfd), random(300, 2)));
        Path gz = file("garbage.gz", concat(bytes(0x1f, 0x8b, 0x08, 0x00), random(300, 3)));
        Path xz = file("garbage.xz", concat(bytes(0xfd, '7', 'z', 'X', 'Z', 0), random(300, 4)));
        ByteArrayOutputStream gzText = new ByteArrayOutputStream();
        try (GZIPOutputStream o = new GZIPOutputStream(gzText)) { o.write(random(2000, 5)); }
        Path gzGarbage = file("gzipped-garbage.gz", gzText.toByteArray());
        Path perfHuge = file("huge.data", perfHeader(4096, 136, 104, 136, 240, 1L << 50));
        Path perfAttrs = file("attrs.data", perfHeader(4096, 136, 104, 1L << 40, 240, 100));
        Path perfOffset = file("offset.data", perfHeader(4096, 136, 1L << 62, 136, 240, 100));
        Path perfNeg = file("negative.data", perfHeader(4096, 136, 104, 136, -1, 100));
        Path perfShort = file("short.data", Arrays.copyOf("PERFILE2".getBytes(StandardCharsets.US_ASCII), 40));
        Path datVersion = file("v99.dat", concat(bytes(0x17, 0x08, 0x44), "tracing99\0\0\0\0\0\0\0\0\0".getBytes(StandardCharsets.US_ASCII)));
        Path datShort = file("short.dat", concat(bytes(0x17, 0x08, 0x44), "tracing6\0".getBytes(StandardCharsets.US_ASCII)));
        Path latin1 = file("latin1.txt", concat("perf  1234 [000]     1.000001: kmem:kfree: call_site=x ptr=0x1\n".getBytes(StandardCharsets.US_ASCII),
                bytes(0xff, 0xfe, 0xe9, '\n')));
        Path utf16 = file("utf16.txt", "perf  1234 [000]     1.000001: kmem:kfree: call_site=x ptr=0x1\n".getBytes(StandardCharsets.UTF_16));
        Path malformed = file("malformed.txt", "perf  1234 [000]     1.000001: kmem:kfree: call_site=x ptr=0x1\n"
                + "perf  1234 [000]     1.000002: kmem:kmalloc: ptr=banana bytes_req=x\n");
        Path ftraceBad = file("ftrace.txt", "# tracer: nop\n#\n  bash-1  [000] ....  1.000001: kfree: call_site=x ptr=0x1\n"
                + "  bash-1  [000] ....  1.000002: kmalloc: call_site=y ptr=zz bytes_req=q\n");
        Path snapDir = Files.createDirectories(dir.resolve("snap-buddy"));
        Files.writeString(snapDir.resolve("buddyinfo"), "Node 0, zone   Normal   12 x 3\n");
        Path snapPt = Files.createDirectories(dir.resolve("snap-pagetype"));
        Files.writeString(snapPt.resolve("buddyinfo"), "Node 0, zone   Normal   1 2 3\n");
        Files.writeString(snapPt.resolve("pagetypeinfo"), "Page block order: 9\nPages per block:  512\n\n"
                + "Free pages count per migrate type at order       0      1      2\n"
                + "Node    0, zone   Normal, type    Unmovable      1      2\n"
                + "Node    0, zone   Normal, type      Movable      1      2      3      4\n");
        Path snapZone = Files.createDirectories(dir.resolve("snap-zone"));
        Files.writeString(snapZone.resolve("zoneinfo"), "Node 0, zone   Normal\n  pages free     12\n  protection: (0, 0\n");
        Path snapEmpty = Files.createDirectories(dir.resolve("snap-empty"));
        Path sqlMissing = dir.resolve("missing.sql");
        Path goodFolded = file("good.folded", "a;b 1\nc 2\n");
        Path badWeight = file("weight.folded", "a;b 1\na;c many\n");
        Path notFolded = file("not.folded", concat("a;b 1\n".getBytes(StandardCharsets.US_ASCII), random(200, 6)));
        String out = dir.resolve("out.arrow").toString();
        int[] n = {0};
        java.util.function.Supplier<String> o = () -> dir.resolve("out-" + n[0]++).toString();

        List<Case> l = new ArrayList<>();
        // kmemlab's own files, through every command that reads them
        l.add(c("info on a directory", Pos.FILE, sub, "info", sub.toString()));
        l.add(c("info on an empty file", Pos.OFFSET, empty, "info", empty.toString()));
        l.add(c("info on a missing file", Pos.FILE, missing, "info", missing.toString()));
        l.add(c("info on perf script text", Pos.OFFSET, text, "info", text.toString()));
        l.add(c("info on binary garbage", Pos.OFFSET, garbage, "info", garbage.toString()));
        l.add(c("info on a trace cut inside its schema", Pos.OFFSET, cut, "info", cut.toString()));
        l.add(c("info on corrupted schema metadata", Pos.OFFSET, badSchema, "info", badSchema.toString()));
        l.add(c("info on schema version 9", Pos.OFFSET, v9, "info", v9.toString()));
        l.add(c("info on an Arrow stream without kmemlab metadata", Pos.OFFSET, plainArrow, "info", plainArrow.toString()));
        l.add(c("stat on garbage", Pos.OFFSET, garbage, "stat", garbage.toString()));
        l.add(c("stat on an empty file", Pos.OFFSET, empty, "stat", empty.toString()));
        l.add(c("sql on garbage", Pos.OFFSET, garbage, "sql", garbage.toString(), "SELECT 1"));
        Path arrowFileGarbage = file("res.arrow", "ARROW1\0\0not an Arrow file".getBytes(StandardCharsets.US_ASCII));
        l.add(c("sql on an Arrow file magic then garbage", Pos.OFFSET, arrowFileGarbage, "sql", arrowFileGarbage.toString(), "SELECT 1"));
        l.add(c("sql on a directory", Pos.FILE, sub, "sql", sub.toString(), "SELECT 1"));
        l.add(c("report on garbage", Pos.OFFSET, garbage, "report", garbage.toString(), "-o", dir.resolve("r.html").toString()));
        l.add(c("hot on garbage", Pos.OFFSET, garbage, "hot", garbage.toString()));
        l.add(c("flame on garbage", Pos.OFFSET, garbage, "flame", garbage.toString()));
        l.add(c("replay on garbage", Pos.OFFSET, garbage, "replay", garbage.toString(), "-o", o.get()));
        l.add(c("replay on schema version 9", Pos.OFFSET, v9, "replay", v9.toString(), "-o", o.get()));
        l.add(c("export on garbage", Pos.OFFSET, garbage, "export", garbage.toString(), "--parquet", o.get()));
        l.add(c("fidelity on garbage", Pos.OFFSET, garbage, "fidelity", garbage.toString(), "-o", o.get()));
        // import: text, compressed and binary inputs
        l.add(c("import an empty file", Pos.OFFSET, empty, "import", empty.toString(), "-o", out));
        l.add(c("import a directory", Pos.FILE, sub, "import", sub.toString(), "-o", out));
        l.add(c("import a missing file", Pos.FILE, missing, "import", missing.toString(), "-o", out));
        l.add(c("import binary garbage", Pos.OFFSET, garbage, "import", garbage.toString(), "-o", out));
        l.add(c("import a zstd header with garbage", Pos.OFFSET, zst, "import", zst.toString(), "-o", out));
        l.add(c("import a gzip header with garbage", Pos.OFFSET, gz, "import", gz.toString(), "-o", out));
        l.add(c("import an xz header with garbage", Pos.OFFSET, xz, "import", xz.toString(), "-o", out));
        l.add(c("import gzipped garbage", Pos.OFFSET, gzGarbage, "import", gzGarbage.toString(), "-o", out));
        l.add(c("import perf.data with a data section of 1 PiB", Pos.OFFSET, perfHuge, "import", perfHuge.toString(), "-o", out));
        l.add(c("import perf.data with 1 TiB of attrs", Pos.OFFSET, perfAttrs, "import", perfAttrs.toString(), "-o", out));
        l.add(c("import perf.data with attrs at 2^62", Pos.OFFSET, perfOffset, "import", perfOffset.toString(), "-o", out));
        l.add(c("import perf.data with a negative data offset", Pos.OFFSET, perfNeg, "import", perfNeg.toString(), "-o", out));
        l.add(c("import perf.data cut inside its header", Pos.OFFSET, perfShort, "import", perfShort.toString(), "-o", out));
        l.add(c("import trace.dat version 99", Pos.OFFSET, datVersion, "import", datVersion.toString(), "-o", out));
        l.add(c("import trace.dat cut after its magic", Pos.OFFSET, datShort, "import", datShort.toString(), "-o", out));
        l.add(c("import --strict invalid UTF-8 in text", Pos.LINE, latin1, "import", "--strict", latin1.toString(), "-o", out));
        l.add(c("import UTF-16 text", Pos.OFFSET, utf16, "import", utf16.toString(), "-o", out));
        l.add(c("import --strict a malformed perf script line", Pos.LINE, malformed, "import", "--strict", malformed.toString(), "-o", out));
        l.add(c("import --strict a malformed ftrace line", Pos.LINE, ftraceBad, "import", "--strict", ftraceBad.toString(), "-o", out));
        l.add(c("import --format of no importer", Pos.VALUE, "nonsense", "import", "--format", "nonsense", text.toString(), "-o", out));
        l.add(c("import --kallsyms a folder", Pos.FILE, sub, "import", "--kallsyms", sub.toString(), text.toString(), "-o", out));
        l.add(c("import --snapshot a file", Pos.FILE, text, "import", "--snapshot", text.toString(), text.toString(), "-o", out));
        // machine snapshots
        l.add(c("model show: buddyinfo with a word for a count", Pos.LINE, snapDir.resolve("buddyinfo"), "model", "show", "--snapshot", snapDir.toString()));
        l.add(c("model show: pagetypeinfo with orders missing", Pos.LINE, snapPt.resolve("pagetypeinfo"), "model", "show", "--snapshot", snapPt.toString()));
        l.add(c("model show: zoneinfo protection cut short", Pos.LINE, snapZone.resolve("zoneinfo"), "model", "show", "--snapshot", snapZone.toString()));
        l.add(c("model show: a folder without /proc files", Pos.FILE, snapEmpty, "model", "show", "--snapshot", snapEmpty.toString()));
        // --set and other values
        l.add(c("replay --set an unknown knob", Pos.VALUE, "no.such.knob", "replay", good.toString(), "-o", o.get(), "--set", "no.such.knob=1"));
        l.add(c("replay --set a bad enum value", Pos.VALUE, "NOPE", "replay", good.toString(), "-o", o.get(), "--set", "kvmalloc.policy=NOPE"));
        l.add(c("replay --set a word for a number", Pos.VALUE, "abc", "replay", good.toString(), "-o", o.get(), "--set", "replay.seed=abc"));
        l.add(c("replay --set a bad cost", Pos.VALUE, "cost.kmalloc", "replay", good.toString(), "-o", o.get(), "--set", "cost.kmalloc=fast"));
        l.add(c("replay --set a misspelt cost", Pos.VALUE, "cost.slub.alloc.fastpth", "replay", good.toString(), "-o", o.get(), "--set", "cost.slub.alloc.fastpth=5"));
        l.add(c("replay --set an empty SPL cache list entry", Pos.VALUE, "splCaches", "replay", good.toString(), "-o", o.get(), "--set", "replay.splCaches=:"));
        l.add(c("replay --set a negative integer knob", Pos.VALUE, "-5", "replay", good.toString(), "-o", o.get(), "--set", "mempool.minNr=-5"));
        l.add(c("replay a machine beyond the model's pfn space", Pos.VALUE, "replay.memoryBytes", "replay", good.toString(), "-o", o.get(), "--set", "replay.memoryBytes=5T"));
        l.add(c("replay an unknown policy", Pos.VALUE, "nonsense", "replay", good.toString(), "-o", o.get(), "-p", "nonsense"));
        l.add(c("sql -f a missing file", Pos.FILE, sqlMissing, "sql", good.toString(), "-f", sqlMissing.toString()));
        l.add(c("flame --diff a folded file with invalid UTF-8", Pos.LINE, notFolded, "flame", goodFolded.toString(), "--diff", notFolded.toString()));
        l.add(c("hot on a folded file with a word for a weight", Pos.LINE, badWeight, "hot", badWeight.toString()));
        return l;
    }

    static Stream<Arguments> table() throws Exception {
        if (dir == null) inputs();
        return cases().stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("table")
    void badInputIsOneLineNamingTheFileAndPositionWithStatus2(Case k) {
        CliTest.Run r = CliTest.run(k.args());
        String err = r.err().strip();
        assertEquals(Main.EXIT_INPUT, r.status(), k + ": " + r.err());
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith("kmemlab: "), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        assertTrue(err.contains(k.named()), k + ": expected the message to name " + k.named() + ": " + err);
        if (k.pos() != Pos.VALUE) {
            assertTrue(Pattern.compile(Pattern.quote(k.named()) + k.pos().regex).matcher(err).find(),
                    k + ": expected " + k.named() + " followed by " + k.pos() + ": " + err);
        }
    }

    @org.junit.jupiter.api.Test
    void theTableHasAtLeastFortyRows() throws Exception {
        if (dir == null) inputs();
        assertTrue(cases().size() >= 40, "rows: " + cases().size());
    }
}
