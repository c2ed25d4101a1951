package org.kmemlab.recorder.tracedat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importer;
import org.kmemlab.recorder.Input;
import org.kmemlab.recorder.ftrace.Cursor;
import org.kmemlab.recorder.ftrace.Kallsyms;
import org.kmemlab.recorder.ftrace.RawEventDecoder;
import org.kmemlab.recorder.ftrace.RingBuffer;
import org.kmemlab.recorder.ftrace.TracingData;
import org.kmemlab.trace.EventNormalizer;
import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

import com.carrotsearch.hppc.IntObjectHashMap;
import com.github.luben.zstd.Zstd;

/**
 * Reads trace-cmd's trace.dat, versions 6 and 7 (v7 with zstd or zlib compressed sections and
 * flyrecord chunks), without trace-cmd. Follows Documentation/trace-cmd/trace-cmd.dat.v6.5.txt and
 * trace-cmd.dat.v7.5.txt and lib/trace-cmd/trace-input.c ({@code tracecmd_read_headers},
 * {@code handle_options}, {@code read_cpu_data}, {@code tracecmd_read_next_data}): the tracing metadata
 * (header_page, header_event, event formats, kallsyms, cmdlines), then each buffer instance's per-CPU
 * ring-buffer pages, parsed with {@link RingBuffer} and {@link RawEventDecoder}. Events of all buffers
 * and CPUs are merged by timestamp, lowest stream first on ties, as trace-cmd report prints them. Call
 * sites are symbolised with the kallsyms the file carries.
 */
public final class TraceDatImporter implements Importer {
    // trace-cmd.h enum tracecmd_file_options / section ids
    static final int OPT_DONE = 0, OPT_CPUSTAT = 2, OPT_BUFFER = 3, OPT_TRACECLOCK = 4, OPT_UNAME = 5,
            OPT_CPUCOUNT = 8, OPT_VERSION = 9, OPT_HEADER_INFO = 16, OPT_FTRACE_EVENTS = 17,
            OPT_EVENT_FORMATS = 18, OPT_KALLSYMS = 19, OPT_PRINTK = 20, OPT_CMDLINES = 21;
    static final long MAX_UNCOMPRESSED = 1L << 30;

    @Override
    public String format() { return "trace.dat"; }

    @Override
    public boolean accepts(byte[] head, int len) {
        if (len < 12) return false;
        for (int i = 0; i < TracingData.MAGIC.length; i++) if (head[i] != TracingData.MAGIC[i]) return false;
        return (head[10] == '6' || head[10] == '7') && head[11] == 0;
    }

    @Override
    public void importTo(Input in, TraceWriter out, ImportOptions opts) throws IOException {
        Path file = in.asFile();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            new Reader(in.name(), ch, out, opts).run();
        }
    }

    /** One buffer instance's CPU data: where each CPU's pages are. */
    record CpuData(String buffer, int cpu, long offset, long size) {}

    static final class Reader {
        final String name;
        final FileChannel ch;
        final TraceWriter out;
        final ImportOptions opts;
        final long fileSize;
        TracingData td;
        String compression = "none";
        final List<CpuData> cpuData = new ArrayList<>();
        final IntObjectHashMap<String> comms = new IntObjectHashMap<>();
        String uname;
        int cpus;

        Reader(String name, FileChannel ch, TraceWriter out, ImportOptions opts) throws IOException {
            this.name = name;
            this.ch = ch;
            this.out = out;
            this.opts = opts;
            this.fileSize = ch.size();
        }

        ByteBuffer read(long off, long len, String what) throws IOException {
            return org.kmemlab.recorder.FileWindow.read(ch, name, fileSize, off, len, what, td == null ? null : td.order);
        }

        void run() throws IOException {
            // The metadata of a v6 file is sequential and may be large (kallsyms): map the start of the file.
            long metaLen = Math.min(fileSize, Integer.MAX_VALUE - 8);
            ByteBuffer head = ch.map(FileChannel.MapMode.READ_ONLY, 0, metaLen);
            Cursor c = new Cursor(name, head, 0);
            td = TracingData.readPreamble(c);
            if (td.version.equals("6")) readV6(c);
            else if (td.version.equals("7")) readV7(c);
            else throw c.error("trace.dat version 6 or 7, found '" + td.version + "'");
            parseCmdlines(td.cmdlines);
            String release = uname == null ? null : releaseOf(uname);
            if (release == null) release = opts.kernelRelease();
            if (release != null) out.meta("kernel_release", release);
            GfpCodec gfp = GfpCodec.forRelease(release);
            out.meta("gfp_layout", gfp.layout().name());
            out.meta("trace_dat_version", td.version);
            out.meta("compression", compression);
            if (cpus > 0) out.meta("nr_cpus", Integer.toString(cpus));
            Kallsyms ksyms = opts.kallsyms() != null ? Kallsyms.load(opts.kallsyms()) : Kallsyms.parse(td.kallsyms);
            RawEventDecoder dec = new RawEventDecoder(td.formats, new EventNormalizer(gfp), ksyms);
            RingBuffer rb;
            try {
                rb = new RingBuffer(td.headerPage, td.headerEvent, td.order, td.longSize);
            } catch (IllegalArgumentException e) {
                throw InputError.of(name, "a valid header_page: " + e.getMessage());
            }
            merge(dec, rb);
        }

        static String releaseOf(String uname) {
            String[] p = uname.strip().split("\\s+");
            return p.length >= 3 ? p[2] : null;
        }

        void parseCmdlines(String s) {
            for (String line : s.split("\n")) {
                int sp = line.indexOf(' ');
                if (sp <= 0) continue;
                try {
                    comms.put(Integer.parseInt(line.substring(0, sp)), line.substring(sp + 1));
                } catch (NumberFormatException e) {
                    // not a pid line
                }
            }
        }

        // ---- version 6 ----

        void readV6(Cursor c) {
            td.readBody(c);
            td.readCmdlines(c);
            cpus = c.u32("CPU count");
            if (cpus < 0 || cpus > 65536) throw c.error("a CPU count up to 65536, found " + cpus);
            byte[] tag = c.bytes(10, "'options  ' or 'flyrecord'");
            String t = new String(tag, StandardCharsets.US_ASCII);
            List<long[]> buffers = new ArrayList<>();
            List<String> bufferNames = new ArrayList<>();
            if (t.startsWith("options")) {
                while (true) {
                    int id = c.u8("option id") | (c.u8("option id") << 8);
                    if (td.order == ByteOrder.BIG_ENDIAN) id = Short.reverseBytes((short) id) & 0xffff;
                    if (id == OPT_DONE) break;
                    int size = c.size32("option size");
                    int start = c.pos();
                    option(id, c, size, buffers, bufferNames);
                    c.pos(start + size);
                }
                t = new String(c.bytes(10, "'flyrecord' or 'latency'"), StandardCharsets.US_ASCII);
            }
            if (t.startsWith("latency")) throw c.error("flyrecord data; latency-format trace.dat (trace-cmd record -p with a latency tracer) has no binary events");
            if (!t.startsWith("flyrecord")) throw c.error("'flyrecord'");
            readFlyrecordTable(c, "");
            for (int i = 0; i < buffers.size(); i++) {
                long off = buffers.get(i)[0];
                if (off < 0 || off > c.buffer().limit() - 10) throw InputError.atOffset(name, off, "buffer '" + bufferNames.get(i) + "' flyrecord table inside the file");
                Cursor b = new Cursor(name, c.buffer().duplicate().order(td.order), 0);
                b.pos((int) off);
                String ft = new String(b.bytes(10, "'flyrecord'"), StandardCharsets.US_ASCII);
                if (!ft.startsWith("flyrecord")) throw b.error("'flyrecord' at the start of buffer " + bufferNames.get(i));
                readFlyrecordTable(b, bufferNames.get(i));
            }
        }

        void readFlyrecordTable(Cursor c, String buffer) {
            for (int cpu = 0; cpu < cpus; cpu++) {
                long off = c.u64("CPU data offset"), size = c.u64("CPU data size");
                checkRange(off, size, "CPU " + cpu + " data");
                if (size > 0) cpuData.add(new CpuData(buffer, cpu, off, size));
            }
        }

        void checkRange(long off, long size, String what) {
            if (off < 0 || size < 0 || off > fileSize || size > fileSize - off) {
                throw InputError.atOffset(name, off, what + " of " + size + " bytes inside the file of " + fileSize + " bytes");
            }
        }

        /** Options common to v6 and v7. */
        void option(int id, Cursor c, int size, List<long[]> buffers, List<String> names) {
            switch (id) {
                case OPT_UNAME -> uname = cstr(c, size);
                case OPT_VERSION -> out.meta("trace_cmd_version", cstr(c, size));
                case OPT_TRACECLOCK -> out.meta("trace_clock", cstr(c, size).strip());
                case OPT_CPUCOUNT -> { if (size >= 4) cpus = Math.max(cpus, c.u32("cpu count")); }
                case OPT_BUFFER -> {
                    if (td.version.equals("6")) {
                        long off = c.u64("buffer offset");
                        buffers.add(new long[] {off});
                        names.add(c.cstring("buffer name"));
                    }
                }
                default -> { }
            }
        }

        static String cstr(Cursor c, int size) {
            byte[] b = c.bytes(size, "option string");
            int e = 0;
            while (e < b.length && b[e] != 0) e++;
            return new String(b, 0, e, StandardCharsets.UTF_8);
        }

        // ---- version 7 ----

        void readV7(Cursor c) throws IOException {
            compression = c.cstring("compression name");
            String cver = c.cstring("compression version");
            if (!compression.equals("none") && !compression.equals("zstd") && !compression.equals("zlib")) {
                throw c.error("compression none, zstd or zlib, found '" + compression + "' " + cver);
            }
            long optOff = c.u64("first options section offset");
            int guard = 0;
            long headerInfo = -1, ftrace = -1, events = -1, kallsyms = -1, printk = -1, cmdlines = -1;
            List<Object[]> buffers = new ArrayList<>();
            while (optOff != 0) {
                if (++guard > 1000) throw InputError.atOffset(name, optOff, "a finite chain of options sections");
                Section s = section(optOff, 0, "options section");
                Cursor o = s.cursor;
                long next = 0;
                while (o.remaining() > 0) {
                    int id = o.u8("option id");
                    id = td.order == ByteOrder.LITTLE_ENDIAN ? id | (o.u8("option id") << 8) : (id << 8) | o.u8("option id");
                    int size = o.size32("option size");
                    int start = o.pos();
                    switch (id) {
                        case OPT_DONE -> next = size >= 8 ? o.u64("next options offset") : 0;
                        case OPT_HEADER_INFO -> headerInfo = o.u64("header info offset");
                        case OPT_FTRACE_EVENTS -> ftrace = o.u64("ftrace events offset");
                        case OPT_EVENT_FORMATS -> events = o.u64("event formats offset");
                        case OPT_KALLSYMS -> kallsyms = o.u64("kallsyms offset");
                        case OPT_PRINTK -> printk = o.u64("printk offset");
                        case OPT_CMDLINES -> cmdlines = o.u64("cmdlines offset");
                        case OPT_BUFFER -> buffers.add(bufferOption(o, size));
                        default -> option(id, o, size, null, null);
                    }
                    if (id == OPT_DONE) break;
                    o.pos(start + size);
                }
                optOff = next;
            }
            if (headerInfo < 0) throw InputError.atOffset(name, c.fileOffset(), "a HEADER_INFO option (header_page and header_event)");
            td.readHeaderFiles(section(headerInfo, OPT_HEADER_INFO, "header info section").cursor);
            if (ftrace >= 0) td.readFtraceFormats(section(ftrace, OPT_FTRACE_EVENTS, "ftrace formats section").cursor);
            if (events >= 0) td.readEventFormats(section(events, OPT_EVENT_FORMATS, "event formats section").cursor);
            if (kallsyms >= 0) td.readKallsyms(section(kallsyms, OPT_KALLSYMS, "kallsyms section").cursor);
            if (printk >= 0) td.readPrintk(section(printk, OPT_PRINTK, "printk section").cursor);
            if (cmdlines >= 0) td.readCmdlines(section(cmdlines, OPT_CMDLINES, "cmdlines section").cursor);
            for (Object[] b : buffers) {
                @SuppressWarnings("unchecked")
                List<long[]> cpusOf = (List<long[]>) b[1];
                for (long[] x : cpusOf) {
                    checkRange(x[1], x[2], "CPU " + x[0] + " data of buffer '" + b[0] + "'");
                    if (x[2] > 0) cpuData.add(new CpuData((String) b[0], (int) x[0], x[1], x[2]));
                }
            }
        }

        /** BUFFER: offset, name, clock, [page size,] cpu count, then (cpu, offset, size) per CPU. */
        Object[] bufferOption(Cursor o, int size) {
            int start = o.pos();
            o.u64("buffer section offset");
            String bname = o.cstring("buffer name");
            o.cstring("buffer clock");
            int left = size - (o.pos() - start);
            int first = o.u32("buffer cpu count or page size");
            int count = first;
            // trace-cmd 3.x writes the page size before the count: tell by what fits.
            if (left != 4 + 20 * first && left >= 8) count = o.u32("buffer cpu count");
            if (count < 0 || count > 65536 || 20L * count > o.remaining()) throw o.error("a buffer CPU count that fits the option, found " + count);
            List<long[]> cs = new ArrayList<>();
            for (int i = 0; i < count; i++) cs.add(new long[] {o.u32("cpu id"), o.u64("cpu data offset"), o.u64("cpu data size")});
            cpus = Math.max(cpus, count);
            return new Object[] {bname, cs};
        }

        /** A v7 section: 16-byte header, then data, decompressed when flagged. */
        record Section(int id, Cursor cursor) {}

        Section section(long off, int expectId, String what) throws IOException {
            ByteBuffer h = read(off, 16, what + " header");
            int id = h.getShort(0) & 0xffff, flags = h.getShort(2) & 0xffff;
            long size = h.getLong(8);
            if (id != expectId) throw InputError.atOffset(name, off, what + " (section id " + expectId + "), found id " + id);
            ByteBuffer body = read(off + 16, size, what);
            if ((flags & 1) == 0) return new Section(id, new Cursor(name, body, off + 16));
            Cursor c = new Cursor(name, body, off + 16);
            int csize = c.size32(what + " compressed size");
            long usize = c.u32(what + " uncompressed size") & 0xffffffffL;
            byte[] src = c.bytes(csize, what + " compressed data");
            byte[] dst = decompress(src, usize, off + 16, what);
            return new Section(id, new Cursor(name, ByteBuffer.wrap(dst).order(td.order), -1));
        }

        byte[] decompress(byte[] src, long usize, long at, String what) {
            if (usize > MAX_UNCOMPRESSED || (usize > (64L << 20) && usize / Math.max(1, src.length) > 4096)) {
                throw InputError.atOffset(name, at, what + ": a plausible uncompressed size, found " + usize + " from " + src.length + " bytes");
            }
            byte[] dst = new byte[(int) usize];
            long n;
            if (compression.equals("zstd")) {
                try {
                    n = Zstd.decompressByteArray(dst, 0, dst.length, src, 0, src.length);
                } catch (RuntimeException e) {
                    throw InputError.atOffset(name, at, what + ": valid zstd data (" + e.getMessage() + ")");
                }
                if (Zstd.isError(n)) throw InputError.atOffset(name, at, what + ": valid zstd data (" + Zstd.getErrorName(n) + ")");
            } else if (compression.equals("zlib")) {
                Inflater inf = new Inflater();
                try {
                    inf.setInput(src);
                    n = inf.inflate(dst);
                    if (!inf.finished()) throw InputError.atOffset(name, at, what + ": zlib data of " + usize + " bytes");
                } catch (DataFormatException e) {
                    throw InputError.atOffset(name, at, what + ": valid zlib data (" + e.getMessage() + ")");
                } finally {
                    inf.end();
                }
            } else {
                throw InputError.atOffset(name, at, what + " uncompressed: the file names no compression");
            }
            if (n != usize) throw InputError.atOffset(name, at, what + ": " + usize + " bytes when decompressed, got " + n);
            return dst;
        }

        // ---- events ----

        /** One CPU of one buffer: yields pages, raw or from compressed chunks. */
        final class Stream {
            final CpuData d;
            final int index;
            long pos;
            int chunksLeft = -1;
            ByteBuffer chunk;
            final int pageSize;
            // events of the current page
            ByteBuffer page;
            int[] offs = new int[256], lens = new int[256];
            long[] tss = new long[256];
            int n, i;

            Stream(CpuData d, int index, int pageSize) {
                this.d = d;
                this.index = index;
                this.pos = d.offset();
                this.pageSize = pageSize;
            }

            /** The next page's bytes, or null at the end. */
            ByteBuffer nextPage() throws IOException {
                long end = d.offset() + d.size();
                if (compression.equals("none") || !td.version.equals("7")) {
                    if (pos >= end) return null;
                    long len = Math.min(pageSize, end - pos);
                    ByteBuffer b = read(pos, len, "CPU " + d.cpu() + " page");
                    pos += len;
                    return b;
                }
                while (chunk == null || !chunk.hasRemaining()) {
                    if (chunksLeft < 0) {
                        chunksLeft = read(pos, 4, "chunk count").getInt(0);
                        if (chunksLeft < 0) throw InputError.atOffset(name, pos, "a non-negative chunk count");
                        pos += 4;
                    }
                    if (chunksLeft == 0) return null;
                    chunksLeft--;
                    ByteBuffer h = read(pos, 8, "chunk header");
                    long csize = h.getInt(0) & 0xffffffffL, usize = h.getInt(4) & 0xffffffffL;
                    // trace-cmd's recorded size leaves out the chunk count: bound chunks by the file instead.
                    if (csize > fileSize - pos - 8) throw InputError.atOffset(name, pos, "a chunk of " + csize + " bytes inside the file");
                    ByteBuffer src = read(pos + 8, csize, "chunk data");
                    byte[] s = new byte[(int) csize];
                    src.get(s);
                    chunk = ByteBuffer.wrap(decompress(s, usize, pos, "CPU " + d.cpu() + " chunk")).order(td.order);
                    pos += 8 + csize;
                }
                int len = Math.min(pageSize, chunk.remaining());
                ByteBuffer b = chunk.slice(chunk.position(), len).order(td.order);
                chunk.position(chunk.position() + len);
                return b;
            }

            /** Loads pages until one has events; false at the end. */
            boolean advance(RingBuffer rb) throws IOException {
                while (true) {
                    if (i < n) return true;
                    page = nextPage();
                    if (page == null) return false;
                    n = 0;
                    i = 0;
                    String err = rb.page(page, 0, page.limit(), new RingBuffer.Visitor() {
                        @Override
                        public void event(ByteBuffer b, int off, int len, long ts) {
                            if (n == offs.length) {
                                offs = java.util.Arrays.copyOf(offs, n * 2);
                                lens = java.util.Arrays.copyOf(lens, n * 2);
                                tss = java.util.Arrays.copyOf(tss, n * 2);
                            }
                            offs[n] = off;
                            lens[n] = len;
                            tss[n++] = ts;
                        }

                        @Override
                        public void missed(long count) { out.lost(d.cpu(), count > 0 ? count : 1); }
                    });
                    if (err != null) bad(pos, "CPU " + d.cpu() + ": " + err);
                }
            }

            long ts() { return tss[i]; }
        }

        void bad(long at, String expected) {
            if (opts.strict()) throw InputError.atOffset(name, at, expected);
            out.unparsed(name + ": at byte offset " + at + ": expected " + expected);
        }

        void merge(RawEventDecoder dec, RingBuffer rb) throws IOException {
            PriorityQueue<Stream> q = new PriorityQueue<>((a, b) -> a.ts() != b.ts() ? Long.compare(a.ts(), b.ts()) : Integer.compare(a.index, b.index));
            int idx = 0;
            for (CpuData d : cpuData) {
                Stream s = new Stream(d, idx++, td.pageSize);
                if (s.advance(rb)) q.add(s);
            }
            TraceEvent e = new TraceEvent();
            long count = 0;
            while (!q.isEmpty()) {
                Stream s = q.poll();
                int off = s.offs[s.i], len = s.lens[s.i];
                e.clear();
                e.ts(s.tss[s.i]);
                e.cpu(s.d.cpu());
                int tid = dec.commonPid(s.page, off);
                e.pid(tid);
                e.tid(tid);
                String c = comms.get(tid);
                e.comm = c != null ? c : tid == 0 ? "<idle>" : "<...>";
                String err = dec.decode(s.page, off, len, e);
                if (err != null) bad(s.pos, err);
                else {
                    out.accept(e);
                    if ((++count & 0xffff) == 0) opts.progress().accept(s.pos);
                }
                s.i++;
                if (s.advance(rb)) q.add(s);
            }
        }
    }
}
