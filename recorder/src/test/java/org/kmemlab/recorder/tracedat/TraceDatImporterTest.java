package org.kmemlab.recorder.tracedat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.Deflater;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.kmemlab.recorder.FtraceTextImporter;
import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.ImportSupport;
import org.kmemlab.recorder.Importers;
import org.kmemlab.recorder.Input;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;
import org.kmemlab.trace.TraceWriter;

import com.github.luben.zstd.ZstdInputStream;

/**
 * trace.dat v6, v7 and v7+zstd written by trace-cmd, against trace-cmd report's text of the same
 * recording (see resources/tracedat/README.md); and a v7+zlib file built here byte by byte with known
 * events, a time extension, padding and a missed-events page.
 */
class TraceDatImporterTest {
    @TempDir Path tmp;

    private Path resource(String name) throws Exception {
        Path p = tmp.resolve(name);
        try (InputStream in = getClass().getResourceAsStream("/tracedat/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    private static TraceEvent copy(TraceEvent e) {
        TraceEvent c = new TraceEvent();
        c.copyFrom(e);
        return c;
    }

    @ParameterizedTest
    @ValueSource(strings = {"v6.dat.zst", "v7-none.dat.zst", "v7-zstd.dat.zst"})
    void equalsTraceCmdReport(String file) throws Exception {
        Path dat = resource(file);
        try (Input in = Input.open(dat)) {
            assertEquals("trace.dat", Importers.detect(in).format());
        }
        // trace-cmd report prefixes the instance name and, through its kmem plugin, the call site in
        // parentheses: drop both to get plain ftrace text.
        String report;
        try (InputStream in = new ZstdInputStream(getClass().getResourceAsStream("/tracedat/report.txt.zst"))) {
            report = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String plain = report.replaceAll("(?m)^fix: ", "").replaceAll("(?m)^(.*?: \\w+: +)\\(\\S+\\) ", "$1");
        Path text = tmp.resolve("report.txt");
        Files.writeString(text, plain);

        Path a = ImportSupport.importFile(new TraceDatImporter(), dat, tmp, ImportOptions.defaults());
        Path b = ImportSupport.importFile(new FtraceTextImporter(), text, tmp, ImportOptions.defaults().withKernelRelease("6.18.44"));
        List<TraceEvent> ra = new ArrayList<>(), rb = new ArrayList<>();
        TraceInfo ia = ImportSupport.read(a, e -> ra.add(copy(e)));
        TraceInfo ib = ImportSupport.read(b, e -> rb.add(copy(e)));
        assertEquals(0, ib.metaLong("unparsed_lines", -1), "the expectation parsed fully");
        assertEquals(990, rb.size());
        assertEquals(rb.size(), ra.size());
        for (int i = 0; i < ra.size(); i++) {
            TraceEvent x = ra.get(i), y = rb.get(i);
            // trace-cmd report rounds to the microsecond ((ts + 500) / 1000, trace-cmd's print_event time).
            assertEquals(y.tsNs, (x.tsNs + 500) / 1000 * 1000, "row " + i + " time (report prints microseconds)");
            assertEquals(y.toString().replaceFirst("^\\d+", ""), x.toString().replaceFirst("^\\d+", ""), "row " + i);
        }
        assertTrue(ra.stream().anyMatch(e -> "eventfs_set_attr+0x10d".equals(e.callSite)));
        assertEquals("6.18.44-fc-v782", ia.meta.get("kernel_release"));
        assertEquals("2", ia.meta.get("nr_cpus"));
        assertEquals(0, ia.metaLong("unparsed_lines", -1));
    }

    @Test
    void truncatedFileNamesTheOffset() throws Exception {
        byte[] b;
        try (InputStream in = new ZstdInputStream(getClass().getResourceAsStream("/tracedat/v6.dat.zst"))) {
            b = in.readAllBytes();
        }
        Path f = tmp.resolve("cut.dat");
        Files.write(f, java.util.Arrays.copyOf(b, 100_000)); // inside the event formats
        InputError e = assertThrows(InputError.class, () -> {
            try (Input in = Input.open(f); TraceWriter w = new TraceWriter(tmp.resolve("cut.arrow"), Map.of())) {
                new TraceDatImporter().importTo(in, w, ImportOptions.defaults());
            }
        });
        assertEquals(InputError.Unit.OFFSET, e.unit());
        assertTrue(e.position() > 0 && e.position() <= 100_000, e.getMessage());
        assertTrue(e.getMessage().contains("cut.dat"), e.getMessage());
    }

    // ---- a v7 file with zlib, built here ----

    static final String KMALLOC_FORMAT = """
            name: kmalloc
            ID: 658
            format:
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
            \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
            \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

            \tfield:unsigned long call_site;\toffset:8;\tsize:8;\tsigned:0;
            \tfield:const void * ptr;\toffset:16;\tsize:8;\tsigned:0;
            \tfield:size_t bytes_req;\toffset:24;\tsize:8;\tsigned:0;
            \tfield:size_t bytes_alloc;\toffset:32;\tsize:8;\tsigned:0;
            \tfield:unsigned long gfp_flags;\toffset:40;\tsize:8;\tsigned:0;
            \tfield:int node;\toffset:48;\tsize:4;\tsigned:1;

            print fmt: "call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%s node=%d accounted=%s", (void *)REC->call_site, REC->ptr, REC->bytes_req, REC->bytes_alloc, (REC->gfp_flags) ? "x" : "none", REC->node, (1 && (REC->gfp_flags & ( unsigned long)(( gfp_t)((((1UL))) << (22))))) ? "true" : "false"
            """;
    static final String KFREE_FORMAT = """
            name: kfree
            ID: 657
            format:
            \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
            \tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
            \tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
            \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

            \tfield:unsigned long call_site;\toffset:8;\tsize:8;\tsigned:0;
            \tfield:const void * ptr;\toffset:16;\tsize:8;\tsigned:0;

            print fmt: "call_site=%pS ptr=%p", (void *)REC->call_site, REC->ptr
            """;
    static final String HEADER_PAGE = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
            + "\tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n"
            + "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
            + "\tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";
    static final String HEADER_EVENT = "# compressed entry header\n\ttype_len    :    5 bits\n\ttime_delta  :   27 bits\n"
            + "\tarray       :   32 bits\n\n\tpadding     : type == 29\n\ttime_extend : type == 30\n\ttime_stamp : type == 31\n"
            + "\tdata max type_len  == 28\n";

    static final class Out {
        final ByteArrayOutputStream b = new ByteArrayOutputStream();
        Out u8(int v) { b.write(v); return this; }
        Out u16(int v) { return u8(v & 0xff).u8((v >> 8) & 0xff); }
        Out u32(long v) { for (int i = 0; i < 4; i++) u8((int) (v >> (8 * i)) & 0xff); return this; }
        Out u64(long v) { for (int i = 0; i < 8; i++) u8((int) (v >> (8 * i)) & 0xff); return this; }
        Out bytes(byte[] x) { b.write(x, 0, x.length); return this; }
        Out str(String s) { return bytes(s.getBytes(StandardCharsets.UTF_8)).u8(0); }
        int size() { return b.size(); }
        byte[] get() { return b.toByteArray(); }
    }

    static byte[] zlib(byte[] in) {
        Deflater d = new Deflater();
        d.setInput(in);
        d.finish();
        byte[] out = new byte[in.length + 1024];
        int n = d.deflate(out);
        d.end();
        return java.util.Arrays.copyOf(out, n);
    }

    /** A compressed section: 16-byte header, then compressed size, uncompressed size, data. */
    static byte[] section(int id, byte[] body) {
        byte[] z = zlib(body);
        Out o = new Out().u16(id).u16(1).u32(0).u64(8 + z.length).u32(z.length).u32(body.length).bytes(z);
        return o.get();
    }

    static byte[] kmallocRecord(int pid, long callSite, long ptr, long req, long alloc, long gfp, int node) {
        ByteBuffer r = ByteBuffer.allocate(52).order(ByteOrder.LITTLE_ENDIAN);
        r.putShort(0, (short) 658).putInt(4, pid).putLong(8, callSite).putLong(16, ptr).putLong(24, req)
                .putLong(32, alloc).putLong(40, gfp).putInt(48, node);
        return r.array();
    }

    static byte[] kfreeRecord(int pid, long callSite, long ptr) {
        ByteBuffer r = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        r.putShort(0, (short) 657).putInt(4, pid).putLong(8, callSite).putLong(16, ptr);
        return r.array();
    }

    /** A ring-buffer page: timestamp, commit (with flags), events. */
    static byte[] page(long ts, long flags, long missed, byte[]... events) {
        ByteBuffer p = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        p.putLong(0, ts);
        int at = 16;
        for (byte[] e : events) {
            p.put(at, e);
            at += e.length;
        }
        int size = at - 16;
        p.putLong(8, size | flags);
        if (missed >= 0) p.putLong(at, missed);
        return p.array();
    }

    /** An event header: type_len 0 with the length word (payloads over 112 bytes need it; use it always). */
    static byte[] event(int delta, byte[] payload) {
        int len = (payload.length + 3) & ~3;
        ByteBuffer e = ByteBuffer.allocate(8 + len).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, delta << 5).putInt(4, payload.length + 4);
        e.put(8, payload);
        return e.array();
    }

    static byte[] shortEvent(int delta, byte[] payload) {
        int len = (payload.length + 3) & ~3;
        ByteBuffer e = ByteBuffer.allocate(4 + len).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, (delta << 5) | (len / 4));
        e.put(4, payload);
        return e.array();
    }

    static byte[] timeExtend(long delta) {
        ByteBuffer e = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, 30 | (int) ((delta & ((1 << 27) - 1)) << 5)).putInt(4, (int) (delta >>> 27));
        return e.array();
    }

    static byte[] padding(int delta, int bytes) {
        ByteBuffer e = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        e.putInt(0, 29 | (delta << 5)).putInt(4, bytes - 4);
        return e.array();
    }

    @Test
    void syntheticV7WithZlibChunksTimeExtendPaddingAndMissedEvents() throws Exception {
        long symBase = 0xffffffff81200000L;
        String kallsyms = String.format("%016x T __kmalloc_noprof%n%016x t helper%n%016x T kfree%n", symBase, symBase + 0x100, symBase + 0x1000);
        long gfpKernelAccount = 0xcc0L | (1L << 22);
        byte[] cpu0page1 = page(1_000_000_000L, 0, -1,
                event(10, kmallocRecord(42, symBase + 0x40, 0xffff888100001000L, 100, 128, gfpKernelAccount, -1)),
                padding(5, 16),
                timeExtend(1L << 30),
                shortEvent(7, kfreeRecord(42, symBase + 0x1010, 0xffff888100001000L)));
        byte[] cpu1page1 = page(1_000_000_500L, RingBufferFlags.MISSED_EVENTS | RingBufferFlags.MISSED_STORED, 17,
                event(0, kmallocRecord(7, symBase + 0x120, 0xffff888100002000L, 8, 8, 0xcc0L, 0)));

        Out f = new Out();
        f.bytes(new byte[] {0x17, 0x08, 0x44}).bytes("tracing".getBytes(StandardCharsets.US_ASCII)).str("7").u8(0).u8(8).u32(4096);
        f.str("zlib").str("1.2.13");
        int optOffPos = f.size();
        f.u64(0); // patched below
        List<byte[]> parts = new ArrayList<>();
        // sections, placed after the preamble
        Out hdr = new Out().str("header_page").u64(HEADER_PAGE.length()).bytes(HEADER_PAGE.getBytes()).str("header_event")
                .u64(HEADER_EVENT.length()).bytes(HEADER_EVENT.getBytes());
        Out ev = new Out().u32(1).str("kmem").u32(2).u64(KMALLOC_FORMAT.length()).bytes(KMALLOC_FORMAT.getBytes())
                .u64(KFREE_FORMAT.length()).bytes(KFREE_FORMAT.getBytes());
        Out ks = new Out().u32(kallsyms.length()).bytes(kallsyms.getBytes());
        Out cl = new Out().u64(12).bytes("42 tester\n7 \n".substring(0, 12).getBytes());
        int base = f.size();
        long hdrOff = base;
        byte[] s1 = section(16, hdr.get());
        long evOff = hdrOff + s1.length;
        byte[] s2 = section(18, ev.get());
        long ksOff = evOff + s2.length;
        byte[] s3 = section(19, ks.get());
        long clOff = ksOff + s3.length;
        byte[] s4 = section(21, cl.get());
        long dataOff = clOff + s4.length;
        // flyrecord data: per CPU, a chunk count and zlib chunks of whole pages
        byte[] z0 = zlib(cpu0page1), z1 = zlib(cpu1page1);
        Out d0 = new Out().u32(1).u32(z0.length).u32(4096).bytes(z0);
        Out d1 = new Out().u32(1).u32(z1.length).u32(4096).bytes(z1);
        long d0Off = dataOff, d1Off = dataOff + d0.size();
        long optOff = d1Off + d1.size();
        Out opts = new Out();
        opts.u16(5).u32(24).bytes(java.util.Arrays.copyOf("Linux t 6.18.44-x x86_64".getBytes(), 24));
        opts.u16(16).u32(8).u64(hdrOff).u16(18).u32(8).u64(evOff).u16(19).u32(8).u64(ksOff).u16(21).u32(8).u64(clOff);
        Out buf = new Out().u64(0).str("").str("local").u32(4096).u32(2).u32(0).u64(d0Off).u64(d0.size()).u32(1).u64(d1Off).u64(d1.size());
        opts.u16(3).u32(buf.size()).bytes(buf.get());
        opts.u16(0).u32(8).u64(0);
        parts.add(s1);
        parts.add(s2);
        parts.add(s3);
        parts.add(s4);
        parts.add(d0.get());
        parts.add(d1.get());
        parts.add(new Out().u16(0).u16(0).u32(0).u64(opts.size()).bytes(opts.get()).get());
        for (byte[] p : parts) f.bytes(p);
        byte[] file = f.get();
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putLong(optOffPos, optOff);
        Path dat = tmp.resolve("synthetic.dat");
        Files.write(dat, file);
        assertTrue(new TraceDatImporter().accepts(file, file.length));

        Path a = ImportSupport.importFile(new TraceDatImporter(), dat, tmp, ImportOptions.defaults().withStrict(true));
        List<TraceEvent> rows = new ArrayList<>();
        TraceInfo info = ImportSupport.read(a, e -> rows.add(copy(e)));
        assertEquals(3, rows.size());
        TraceEvent k = rows.get(0), k2 = rows.get(1), fr = rows.get(2);
        assertEquals(1_000_000_010L, k.tsNs);
        assertEquals("kmem:kmalloc", k.event);
        assertEquals(42, k.pid);
        assertEquals("tester", k.comm);
        assertEquals("__kmalloc_noprof+0x40", k.callSite);
        assertEquals(0xffff888100001000L, k.ptr);
        assertEquals(100, k.bytesReq);
        assertEquals(128, k.bytesAlloc);
        assertEquals(-1, k.node);
        assertTrue(k.accounted, "accounted is computed from __GFP_ACCOUNT as the print format says");
        assertEquals("GFP_KERNEL_ACCOUNT", k.gfp);
        // cpu 1's event at 1_000_000_500 sorts between cpu 0's two.
        assertEquals(1_000_000_500L, k2.tsNs);
        assertEquals(1, k2.cpu);
        assertEquals("helper+0x20", k2.callSite);
        assertEquals("GFP_KERNEL", k2.gfp);
        assertTrue(!k2.accounted);
        assertEquals(1_000_000_010L + 5 + (1L << 30) + 7, fr.tsNs, "padding delta and time extension add up");
        assertEquals("kmem:kfree", fr.event);
        assertEquals("kfree+0x10", fr.callSite);
        assertEquals(Map.of(1, 17L), info.lostByCpu);
        assertEquals("6.18.44-x", info.meta.get("kernel_release"));
        assertEquals("zlib", info.meta.get("compression"));
    }

    /** The ring buffer's commit flags (kernel/trace/ring_buffer.c). */
    static final class RingBufferFlags {
        static final long MISSED_EVENTS = 1L << 31, MISSED_STORED = 1L << 30;
    }

    @Test
    void inputOfRandomBytesAfterTheMagicIsAnInputError() throws Exception {
        byte[] b = new byte[4096];
        new java.util.Random(8).nextBytes(b);
        System.arraycopy(new byte[] {0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g', '6', 0}, 0, b, 0, 12);
        Path f = tmp.resolve("rand.dat");
        Files.write(f, b);
        assertThrows(InputError.class, () -> {
            try (Input in = Input.of("rand.dat", new ByteArrayInputStream(b)); TraceWriter w = new TraceWriter(tmp.resolve("r.arrow"), Map.of())) {
                new TraceDatImporter().importTo(in, w, ImportOptions.defaults());
            }
        });
    }
}
