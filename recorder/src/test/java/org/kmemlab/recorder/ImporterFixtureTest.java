package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceReader;
import org.kmemlab.trace.TraceWriter;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The text importers against fixtures recorded on a real machine (perf script with and without call
 * chains, tracefs text with softirq context), with expectations computed by fixtures/expectations.py
 * using regular expressions, independently of the importers.
 */
class ImporterFixtureTest {
    @TempDir Path tmp;

    static JsonNode expected() throws IOException {
        try (InputStream in = ImporterFixtureTest.class.getResourceAsStream("/fixtures/expected.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    static Path fixture(String name) throws IOException {
        Path p = Files.createTempFile("fixture-", "-" + name);
        try (InputStream in = ImporterFixtureTest.class.getResourceAsStream("/fixtures/" + name)) {
            Files.copy(in, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        p.toFile().deleteOnExit();
        return p;
    }

    record Imported(List<TraceEvent> events, TraceInfo info, String format) {}

    Imported importFile(Path in, ImportOptions opts) throws IOException {
        Path out = tmp.resolve(in.getFileName() + ".arrow");
        String format;
        try (Input input = Input.open(in); TraceWriter w = new TraceWriter(out, Map.of())) {
            Importer imp = Importers.detect(input);
            format = imp.format();
            imp.importTo(input, w, opts);
        }
        List<TraceEvent> evs = new ArrayList<>();
        TraceInfo info;
        try (TraceReader r = new TraceReader(out)) {
            r.forEach(e -> { TraceEvent c = new TraceEvent(); c.copyFrom(e); evs.add(c); });
            info = r.info();
        }
        return new Imported(evs, info, format);
    }

    static Map<String, Long> countBy(List<TraceEvent> evs, java.util.function.Function<TraceEvent, String> k) {
        Map<String, Long> m = new HashMap<>();
        for (TraceEvent e : evs) m.merge(k.apply(e), 1L, Long::sum);
        return m;
    }

    static Map<String, Long> toMap(JsonNode n) {
        Map<String, Long> m = new HashMap<>();
        n.fields().forEachRemaining(f -> m.put(f.getKey(), f.getValue().asLong()));
        return m;
    }

    @Test
    void perfScriptSmall() throws IOException {
        JsonNode x = expected().get("perf-script-small.txt");
        Imported im = importFile(fixture("perf-script-small.txt"), ImportOptions.defaults());
        assertEquals("perf-script", im.format);
        assertEquals(x.get("events").asLong(), im.events.size());
        assertEquals(toMap(x.get("by_event")), countBy(im.events, e -> e.event));
        Map<String, Long> cpus = new HashMap<>();
        toMap(x.get("by_cpu")).forEach((k, v) -> cpus.put(Integer.toString(Integer.parseInt(k)), v));
        assertEquals(cpus, countBy(im.events, e -> Integer.toString(e.cpu)));
        assertEquals(x.get("bytes_req").asLong(), im.events.stream().mapToLong(e -> e.bytesReq).sum());
        assertEquals(x.get("bytes_alloc").asLong(), im.events.stream().mapToLong(e -> e.bytesAlloc).sum());
        assertEquals(0, im.info.metaLong("unparsed_lines", -1));
        assertFirst(x.get("first"), im.events.get(0));
    }

    @Test
    void perfScriptWithCallChains() throws IOException {
        JsonNode x = expected().get("perf-script-callchain.txt");
        Imported im = importFile(fixture("perf-script-callchain.txt"), ImportOptions.defaults());
        assertEquals(x.get("events").asLong(), im.events.size());
        assertEquals(toMap(x.get("by_event")), countBy(im.events, e -> e.event));
        long frames = 0;
        for (TraceEvent e : im.events) {
            assertTrue(e.has(TraceEvent.F_STACK_ID), "every event of a -g recording has a chain");
            frames += im.info.stacks.get(e.stackId).size();
        }
        assertEquals(x.get("frames").asLong(), frames);
        // The innermost frame of a kmalloc is the allocator itself, then the caller named in call_site.
        TraceEvent k = im.events.stream().filter(e -> e.event.equals(EventNames.KMALLOC)).findFirst().orElseThrow();
        List<String> chain = im.info.stacks.get(k.stackId);
        assertTrue(chain.indexOf(k.callSiteFn) > 0, chain + " contains " + k.callSiteFn);
        assertFirst(x.get("first"), im.events.get(0));
    }

    @Test
    void ftraceWithContextAndHashedPointers() throws IOException {
        JsonNode x = expected().get("ftrace-small.txt");
        Imported im = importFile(fixture("ftrace-small.txt"), ImportOptions.defaults());
        assertEquals("ftrace", im.format);
        assertEquals(x.get("events").asLong(), im.events.size());
        Map<String, Long> byEvent = new HashMap<>();
        toMap(x.get("by_event")).forEach((k, v) -> byEvent.put("kmem:" + k, v));
        assertEquals(byEvent, countBy(im.events, e -> e.event));
        assertEquals(toMap(x.get("by_context")), countBy(im.events, e -> e.context));
        assertEquals(x.get("bytes_req").asLong(), im.events.stream().mapToLong(e -> e.bytesReq).sum());
        assertEquals("2", im.info.meta.get("nr_cpus"));
        TraceEvent first = im.events.get(0);
        assertFirst(x.get("first"), first);
        assertEquals(0x8ad1fa39L, first.ptr, "hashed %p pointers parse as hex without 0x");
        assertEquals("eventfs_set_attr+0x10d", first.callSite, "ftrace's /size suffix is dropped so sites group like perf's");
        // Hashed pointers are stable: some frees find an allocation made earlier in the fixture.
        java.util.Set<Long> live = new java.util.HashSet<>();
        long paired = 0;
        for (TraceEvent e : im.events) {
            if (EventNames.isSlabAlloc(e.event)) live.add(e.ptr);
            else if (EventNames.isSlabFree(e.event) && live.remove(e.ptr)) paired++;
        }
        assertTrue(paired > 50, "paired " + paired);
    }

    static void assertFirst(JsonNode f, TraceEvent e) {
        assertEquals(f.get("comm").asText(), e.comm);
        assertEquals(f.get("pid").asInt(), e.pid);
        assertEquals(f.get("cpu").asInt(), e.cpu);
        String[] ts = f.get("ts").asText().split("\\.");
        assertEquals(Long.parseLong(ts[0]) * 1_000_000_000L + Long.parseLong(ts[1]) * 1000, e.tsNs);
        assertEquals(EventNames.canonical(f.get("event").asText()), e.event);
        for (String kv : f.get("fields").asText().split(" ")) {
            String[] p = kv.split("=", 2);
            switch (p[0]) {
                case "bytes_req" -> assertEquals(Long.parseLong(p[1]), e.bytesReq);
                case "bytes_alloc" -> assertEquals(Long.parseLong(p[1]), e.bytesAlloc);
                case "gfp_flags" -> assertEquals(p[1], e.gfp);
                case "node" -> assertEquals(Integer.parseInt(p[1]), e.node);
                default -> { }
            }
        }
    }

    @Test
    void edgeCasesRenamesUnknownAndMalformedLines() throws IOException {
        Imported im = importFile(fixture("handmade-edge-cases.txt"), ImportOptions.defaults());
        assertEquals("perf-script", im.format);
        assertEquals(5, im.events.size());
        TraceEvent a = im.events.get(0);
        assertEquals("Web Content", a.comm);
        assertEquals(1234, a.pid);
        assertEquals(1240, a.tid);
        assertEquals(3, a.cpu);
        assertEquals(EventNames.KMALLOC, a.event, "kmalloc_node folds into kmalloc");
        assertEquals(0x2000 | 0xcc0, a.gfpFlags);
        assertEquals(0, a.node);
        assertEquals(EventNames.KMEM_CACHE_ALLOC, im.events.get(1).event);
        TraceEvent p = im.events.get(2);
        assertEquals("kworker/u8:2-ev", p.comm);
        assertEquals(1251567, p.pfn, "old kernels print pfn in decimal");
        assertEquals(2, p.order);
        assertEquals("sched:sched_switch", im.events.get(3).event);
        assertTrue(im.events.get(3).extra.contains("next_comm=bash"));
        assertEquals(1L, im.info.unknownEvents.get("sched:sched_switch"));
        assertEquals(3, im.info.metaLong("unparsed_lines", -1));
        assertTrue(im.info.malformedSamples.get(0).contains(":8: expected '[cpu]'"), im.info.malformedSamples.toString());
        assertTrue(im.info.malformedSamples.get(1).contains(":9: expected a timestamp"));
        assertTrue(im.info.malformedSamples.get(2).contains(":11: field bytes_req=12abc is not a number"));
    }

    @Test
    void strictFailsOnTheFirstMalformedLineWithItsPosition() throws IOException {
        Path f = fixture("handmade-edge-cases.txt");
        InputError e = assertThrows(InputError.class, () -> importFile(f, ImportOptions.defaults().withStrict(true)));
        assertEquals(8, e.position()); // three comment lines, four good events, then the garbage line
        assertTrue(e.getMessage().startsWith(f.toString() + ":8: "), e.getMessage());
    }

    @Test
    void compressedInputsAndStdinLikeStreams() throws IOException {
        Path plain = fixture("perf-script-small.txt");
        byte[] raw = Files.readAllBytes(plain);
        Path gz = tmp.resolve("x.gz");
        try (var o = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) { o.write(raw); }
        Path zst = tmp.resolve("x.zst");
        Files.write(zst, com.github.luben.zstd.Zstd.compress(raw));
        Path xz = tmp.resolve("x.xz");
        try (var o = new org.tukaani.xz.XZOutputStream(Files.newOutputStream(xz), new org.tukaani.xz.LZMA2Options())) { o.write(raw); }
        int n = importFile(plain, ImportOptions.defaults()).events.size();
        for (Path p : List.of(gz, zst, xz)) {
            try (Input in = Input.open(p)) {
                assertNotEquals("none", in.compression());
            }
            assertEquals(n, importFile(p, ImportOptions.defaults()).events.size(), p.toString());
        }
        try (Input in = Input.of("<stdin>", new java.io.ByteArrayInputStream(raw));
             TraceWriter w = new TraceWriter(tmp.resolve("stdin.arrow"), Map.of())) {
            Importers.detect(in).importTo(in, w, ImportOptions.defaults());
            assertEquals(n, w.events());
        }
    }

    @Test
    void unrecognisedAndEmptyInputsAreInputErrors() throws IOException {
        Path empty = tmp.resolve("empty.txt");
        Files.createFile(empty);
        try (Input in = Input.open(empty)) {
            InputError e = assertThrows(InputError.class, () -> Importers.detect(in));
            assertTrue(e.getMessage().contains("empty input"));
        }
        Path bin = tmp.resolve("bin");
        Files.write(bin, new byte[] {0, 1, 2, 3, 4, 5, 6, 7});
        try (Input in = Input.open(bin)) {
            assertThrows(InputError.class, () -> Importers.detect(in));
        }
        assertThrows(InputError.class, () -> Input.open(tmp));
        assertThrows(InputError.class, () -> Input.open(tmp.resolve("missing")));
    }
}
