package org.kmemlab.recorder.perfdata;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.io.InputStream;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import org.kmemlab.recorder.ImportOptions;
import org.kmemlab.recorder.Importer;
import org.kmemlab.recorder.Input;
import org.kmemlab.recorder.ftrace.Cursor;
import org.kmemlab.recorder.ftrace.Kallsyms;
import org.kmemlab.recorder.ftrace.RawEventDecoder;
import org.kmemlab.recorder.ftrace.TracingData;
import org.kmemlab.trace.EventNormalizer;
import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.InputError;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

import com.carrotsearch.hppc.IntObjectHashMap;
import com.carrotsearch.hppc.LongObjectHashMap;

/**
 * Reads perf.data files (the {@code PERFILE2} format of {@code perf record}) without the perf binary.
 *
 * <p>Follows tools/perf/util/header.c ({@code perf_session__read_header}, {@code perf_file_header},
 * {@code process_tracing_data}, {@code read_event_desc}, {@code do_read_string}), tools/perf/util/evsel.c
 * ({@code evsel__parse_sample}, {@code perf_evsel__parse_id_sample}) for the sample layout that
 * {@code sample_type} drives, tools/perf/util/session.c and ordered-events.c for the delivery order
 * (records sorted by time, as perf script prints them), tools/perf/util/machine.c
 * ({@code machine__process_comm_event}, {@code machine__process_fork_event}) for the command name of
 * each thread, and include/uapi/linux/perf_event.h for the structures. Tracepoint payloads (RAW) are
 * decoded with the format files from HEADER_TRACING_DATA by {@link RawEventDecoder}.
 *
 * <p>Call sites are kernel addresses. perf.data carries no kernel symbols (perf's tracing data has an
 * empty kallsyms section, and perf script resolves through the running machine). This reader symbolises
 * with, in order: {@link ImportOptions#kallsyms()}, kallsyms inside the tracing data, or this machine's
 * /proc/kallsyms when the kernel build-id recorded in the file equals the running kernel's. Otherwise call
 * sites stay {@code 0x<address>}, which is what perf script itself prints then.
 */
public final class PerfDataImporter implements Importer {
    static final byte[] MAGIC = "PERFILE2".getBytes(StandardCharsets.US_ASCII);

    // include/uapi/linux/perf_event.h
    static final long S_IP = 1, S_TID = 1 << 1, S_TIME = 1 << 2, S_ADDR = 1 << 3, S_READ = 1 << 4,
            S_CALLCHAIN = 1 << 5, S_ID = 1 << 6, S_CPU = 1 << 7, S_PERIOD = 1 << 8, S_STREAM_ID = 1 << 9,
            S_RAW = 1 << 10, S_IDENTIFIER = 1 << 16;
    static final long RF_TOTAL_TIME_ENABLED = 1, RF_TOTAL_TIME_RUNNING = 2, RF_ID = 4, RF_GROUP = 8, RF_LOST = 16;
    static final int R_MMAP = 1, R_LOST = 2, R_COMM = 3, R_EXIT = 4, R_FORK = 7, R_SAMPLE = 9, R_LOST_SAMPLES = 13,
            R_FINISHED_ROUND = 68, R_AUXTRACE = 71, R_COMPRESSED = 81;
    static final int TYPE_TRACEPOINT = 2;
    /** Callchain context markers are at or above (u64)-4095: PERF_CONTEXT_MAX. */
    static final long PERF_CONTEXT_MAX = -4095L;
    // tools/perf/util/header.h, enum perf_header_feature
    static final int F_TRACING_DATA = 1, F_BUILD_ID = 2, F_HOSTNAME = 3, F_OSRELEASE = 4, F_VERSION = 5,
            F_NRCPUS = 7, F_EVENT_DESC = 12;

    /** One perf_event_attr with the sample ids that belong to it. */
    static final class Attr {
        int type;
        long config;
        long sampleType;
        long readFormat;
        boolean sampleIdAll;
        String name;
        long[] ids = new long[0];
    }

    @Override
    public String format() { return "perf.data"; }

    @Override
    public boolean accepts(byte[] head, int len) {
        if (len < 8) return false;
        boolean le = true, be = true;
        for (int i = 0; i < 8; i++) {
            if (head[i] != MAGIC[i]) le = false;
            if (head[i] != MAGIC[7 - i]) be = false;
        }
        return le || be;
    }

    @Override
    public void importTo(Input in, TraceWriter out, ImportOptions opts) throws IOException {
        read(in.asFile(), in.name(), out, out, opts);
    }

    /**
     * Reads an uncompressed perf.data file: events go to {@code sink}; metadata, lost counts and
     * malformed records to {@code out} when it is not null (benchmarks pass a counting sink alone).
     */
    public void read(Path file, String name, org.kmemlab.trace.EventSink sink, TraceWriter out, ImportOptions opts) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            new Reader(name, ch, sink, out, opts).run();
        }
    }

    /** One import; holds the file's state. */
    static final class Reader {
        final String name;
        final FileChannel ch;
        final Meta out;
        final org.kmemlab.trace.EventSink sink;
        final ImportOptions opts;
        final long fileSize;
        ByteOrder order;
        final List<Attr> attrs = new ArrayList<>();
        final LongObjectHashMap<Attr> byId = new LongObjectHashMap<>();
        final IntObjectHashMap<String> comms = new IntObjectHashMap<>();
        String osRelease;
        String kernelBuildId;
        TracingData tracing;
        RawEventDecoder decoder;
        Kallsyms ksyms = Kallsyms.empty();
        long idPos = -1; // in u64 words from the start of a sample, or -1
        Attr first;
        long dataOffset, dataSize;
        final TraceEvent ev = new TraceEvent();
        final ArrayList<String> frames = new ArrayList<>();
        long samples;

        Reader(String name, FileChannel ch, org.kmemlab.trace.EventSink sink, TraceWriter w, ImportOptions opts) throws IOException {
            this.name = name;
            this.ch = ch;
            this.sink = sink;
            this.out = new Meta(w);
            this.opts = opts;
            this.fileSize = ch.size();
        }

        ByteBuffer read(long off, long len, String what) throws IOException {
            return org.kmemlab.recorder.FileWindow.read(ch, name, fileSize, off, len, what, order);
        }

        void run() throws IOException {
            if (fileSize < 16) throw InputError.atOffset(name, fileSize, "a perf.data header (file is only " + fileSize + " bytes)");
            ByteBuffer h = read(0, Math.min(fileSize, 104), "perf_file_header");
            long magic = h.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            long le = ByteBuffer.wrap(MAGIC).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (magic == le) order = ByteOrder.LITTLE_ENDIAN;
            else if (magic == Long.reverseBytes(le)) order = ByteOrder.BIG_ENDIAN;
            else throw InputError.atOffset(name, 0, "perf.data magic PERFILE2");
            h.order(order);
            long hdrSize = h.getLong(8);
            if (hdrSize == 16) throw InputError.atOffset(name, 8, "a perf.data file; this is pipe-mode output (perf record -o -), which is not supported: record to a file");
            if (hdrSize < 104 || fileSize < 104) throw InputError.atOffset(name, 8, "perf_file_header of at least 104 bytes, found " + hdrSize);
            long attrSize = h.getLong(16);
            long attrsOff = h.getLong(24), attrsSize = h.getLong(32);
            dataOffset = h.getLong(40);
            dataSize = h.getLong(48);
            long[] features = {h.getLong(72), h.getLong(80), h.getLong(88), h.getLong(96)};
            if (dataOffset < 0 || dataSize < 0 || dataOffset > fileSize || dataSize > fileSize - dataOffset) {
                throw InputError.atOffset(name, 40, "a data section inside the file (offset " + dataOffset + ", size " + dataSize + ", file " + fileSize + ")");
            }
            readAttrs(attrSize, attrsOff, attrsSize);
            readFeatures(features);
            setUp();
            readData();
        }

        void readAttrs(long attrSize, long off, long size) throws IOException {
            if (attrSize < 64 + 16 || attrSize > 4096) throw InputError.atOffset(name, 16, "perf_file_attr size between 80 and 4096, found " + attrSize);
            if (size % attrSize != 0) throw InputError.atOffset(name, 32, "attrs section size a multiple of " + attrSize + ", found " + size);
            ByteBuffer b = read(off, size, "attrs section");
            for (int p = 0; p < size; p += (int) attrSize) {
                Attr a = new Attr();
                a.type = b.getInt(p);
                a.config = b.getLong(p + 8);
                a.sampleType = b.getLong(p + 24);
                a.readFormat = b.getLong(p + 32);
                a.sampleIdAll = (b.getLong(p + 40) & (1L << 18)) != 0;
                long idsOff = b.getLong(p + (int) attrSize - 16), idsSize = b.getLong(p + (int) attrSize - 8);
                if (idsSize % 8 != 0) throw InputError.atOffset(name, off + p + attrSize - 8, "ids size a multiple of 8");
                ByteBuffer ids = read(idsOff, idsSize, "sample ids of attr " + attrs.size());
                a.ids = new long[(int) (idsSize / 8)];
                for (int i = 0; i < a.ids.length; i++) {
                    a.ids[i] = ids.getLong(i * 8);
                    byId.put(a.ids[i], a);
                }
                attrs.add(a);
            }
            if (attrs.isEmpty()) throw InputError.atOffset(name, off, "at least one event attr");
            first = attrs.get(0);
            // evlist__id_pos: where a sample's id is, the same for every attr of a valid file.
            long st = first.sampleType;
            if ((st & S_IDENTIFIER) != 0) idPos = 0;
            else if ((st & S_ID) != 0) idPos = Long.bitCount(st & (S_IP | S_TID | S_TIME | S_ADDR));
        }

        void readFeatures(long[] bits) throws IOException {
            int n = 0;
            for (long w : bits) n += Long.bitCount(w);
            long tableOff = dataOffset + dataSize;
            ByteBuffer t = read(tableOff, 16L * n, "feature section table");
            int k = 0;
            for (int f = 0; f < 256; f++) {
                if ((bits[f >> 6] & (1L << (f & 63))) == 0) continue;
                long off = t.getLong(k * 16), size = t.getLong(k * 16 + 8);
                k++;
                switch (f) {
                    case F_TRACING_DATA -> {
                        ByteBuffer b = read(off, size, "HEADER_TRACING_DATA");
                        Cursor c = new Cursor(name, b, off);
                        tracing = TracingData.readPreamble(c);
                        tracing.readBody(c);
                        // perf writes saved cmdlines from version 0.6 on (trace-event-info.c).
                        if (!tracing.version.equals("0.5") && c.remaining() >= 8) tracing.readCmdlines(c);
                    }
                    case F_OSRELEASE -> osRelease = string(off, size, "HEADER_OSRELEASE");
                    case F_HOSTNAME -> out.meta("hostname", string(off, size, "HEADER_HOSTNAME"));
                    case F_VERSION -> out.meta("perf_version", string(off, size, "HEADER_VERSION"));
                    case F_NRCPUS -> {
                        ByteBuffer b = read(off, size, "HEADER_NRCPUS");
                        if (size >= 8) {
                            out.meta("nr_cpus", Integer.toString(b.getInt(0)));
                            out.meta("nr_cpus_online", Integer.toString(b.getInt(4)));
                        }
                    }
                    case F_EVENT_DESC -> readEventDesc(off, size);
                    case F_BUILD_ID -> readBuildIds(off, size);
                    default -> { }
                }
            }
        }

        /** do_read_string: u32 length (padded), then the NUL-terminated text. */
        String string(long off, long size, String what) throws IOException {
            ByteBuffer b = read(off, size, what);
            Cursor c = new Cursor(name, b, off);
            int len = c.size32(what + " length");
            byte[] s = c.bytes(len, what);
            int e = 0;
            while (e < s.length && s[e] != 0) e++;
            return new String(s, 0, e, StandardCharsets.UTF_8);
        }

        void readEventDesc(long off, long size) throws IOException {
            Cursor c = new Cursor(name, read(off, size, "HEADER_EVENT_DESC"), off);
            int nre = c.u32("event desc count");
            int sz = c.u32("event desc attr size");
            if (nre < 0 || sz < 64 || sz > 4096) throw c.error("plausible event desc counts, found " + nre + " x " + sz);
            for (int i = 0; i < nre; i++) {
                c.skip(sz, "event desc attr");
                int nr = c.u32("event desc id count");
                int len = c.size32("event desc name length");
                byte[] s = c.bytes(len, "event name");
                int e = 0;
                while (e < s.length && s[e] != 0) e++;
                String evName = new String(s, 0, e, StandardCharsets.UTF_8);
                if (nr < 0) throw c.error("a non-negative id count");
                c.need(8L * nr, "event desc ids");
                for (int j = 0; j < nr; j++) {
                    Attr a = byId.get(c.u64("event id"));
                    if (a != null) a.name = evName;
                }
            }
        }

        void readBuildIds(long off, long size) throws IOException {
            ByteBuffer b = read(off, size, "HEADER_BUILD_ID");
            int p = 0;
            while (p + 8 <= size) {
                int misc = b.getShort(p + 4) & 0xffff;
                int len = b.getShort(p + 6) & 0xffff;
                if (len < 8 + 4 + 24 || p + len > size) break;
                // struct perf_record_header_build_id: header, pid, build_id[24] (or [20] + size), filename
                int idLen = (misc & (1 << 15)) != 0 ? b.get(p + 8 + 4 + 20) & 0xff : 20;
                if (idLen > 20) idLen = 20;
                int fn = p + 8 + 4 + 24;
                int fe = fn;
                while (fe < p + len && b.get(fe) != 0) fe++;
                byte[] fnb = new byte[fe - fn];
                b.get(fn, fnb);
                String filename = new String(fnb, StandardCharsets.UTF_8);
                if (filename.equals("[kernel.kallsyms]")) {
                    byte[] id = new byte[idLen];
                    b.get(p + 12, id);
                    kernelBuildId = HexFormat.of().formatHex(id);
                }
                p += len;
            }
        }

        void setUp() throws IOException {
            String release = osRelease != null ? osRelease : opts.kernelRelease();
            if (release != null) out.meta("kernel_release", release);
            GfpCodec gfp = GfpCodec.forRelease(release);
            out.meta("gfp_layout", gfp.layout().name());
            EventNormalizer norm = new EventNormalizer(gfp);
            ksyms = chooseKallsyms();
            if (tracing == null) {
                for (Attr a : attrs) {
                    if (a.type == TYPE_TRACEPOINT) throw InputError.of(name, "HEADER_TRACING_DATA with the tracepoint formats (the file has tracepoint events but no formats)");
                }
                decoder = new RawEventDecoder(List.of(), norm, ksyms);
            } else {
                decoder = new RawEventDecoder(tracing.formats, norm, ksyms);
            }
        }

        Kallsyms chooseKallsyms() throws IOException {
            if (opts.kallsyms() != null) {
                out.meta("kallsyms", opts.kallsyms().toString());
                return Kallsyms.load(opts.kallsyms());
            }
            if (tracing != null && !tracing.kallsyms.isBlank()) {
                out.meta("kallsyms", "tracing data");
                return Kallsyms.parse(tracing.kallsyms);
            }
            String running = RunningKernel.buildId();
            if (kernelBuildId != null && kernelBuildId.equals(running)) {
                Path p = Path.of("/proc/kallsyms");
                if (Files.isReadable(p)) {
                    Kallsyms k = Kallsyms.load(p);
                    if (k.size() > 0 && k.symbolize(0xffffffff81000000L).indexOf('+') > 0) {
                        out.meta("kallsyms", "/proc/kallsyms (kernel build-id " + running + " matches)");
                        return k;
                    }
                }
            }
            out.meta("kallsyms", "none: call sites stay addresses (kernel build-id " + kernelBuildId + ")");
            return Kallsyms.empty();
        }

        // ---- data section ----

        /**
         * Records, as 1 GiB windows that overlap by 64 KiB so that any record (its size is a u16) fits in
         * one: the data section, or the decompressed content of -z records.
         */
        final class Source {
            final ByteBuffer[] windows;
            final long size;
            final long base;
            final String label;

            Source(FileChannel c, long off, long size, long base, String label) throws IOException {
                this.size = size;
                this.base = base;
                this.label = label;
                int nw = (int) ((size + WIN - 1) / WIN);
                windows = new ByteBuffer[Math.max(nw, 1)];
                for (int i = 0; i < windows.length; i++) {
                    long start = i * WIN;
                    long len = Math.min(size - start, WIN + 65536);
                    windows[i] = c.map(FileChannel.MapMode.READ_ONLY, off + start, Math.max(len, 0)).order(order);
                }
            }

            ByteBuffer window(long rel) { return windows[(int) (rel / WIN)]; }

            InputError error(long rel, String expected) {
                return label == null ? InputError.atOffset(name, base + rel, expected)
                        : InputError.atOffset(name, base + rel, expected + " (" + label + ")");
            }
        }

        static final long WIN = 1L << 30;
        /** Marks an index entry as an offset into the decompressed records. */
        static final long SPOOL = 1L << 62;
        long[] times = new long[1 << 16];
        long[] offs = new long[1 << 16];
        int n;
        long lastTime;
        boolean sorted = true;
        final List<long[]> compressed = new ArrayList<>();

        void readData() throws IOException {
            Source main = new Source(ch, dataOffset, dataSize, dataOffset, null);
            // Pass 1: index the records we deliver, with their time, then sort by time (stable) the way
            // perf's ordered events deliver them: comm changes then apply to the right samples.
            scan(main, 0);
            Source dec = null;
            Path spool = null;
            FileChannel sch = null;
            try {
                if (!compressed.isEmpty()) {
                    // perf record -z: one zstd stream, cut into PERF_RECORD_COMPRESSED records, whose
                    // decompressed bytes are records again, possibly split across two of them
                    // (session.c, perf_session__process_compressed_event). Decompress it all to a spool file.
                    spool = Files.createTempFile("kmemlab-perf-", ".records");
                    // perf flushes but never ends the zstd frame: read it in continuous mode.
                    try (InputStream zin = new ZstdInputStreamNoFinalizer(new PayloadStream()).setContinuous(true);
                         java.io.OutputStream os = Files.newOutputStream(spool)) {
                        long payload = 0;
                        for (long[] c : compressed) payload += c[1];
                        org.kmemlab.recorder.Input.copyBounded(zin, os, org.kmemlab.recorder.Input.spoolLimit(payload), name, "the -z records' decompressed data");
                    } catch (IOException e) {
                        throw InputError.atOffset(name, compressed.get(0)[0], "valid zstd data in the -z records (" + e.getMessage() + ")");
                    }
                    sch = FileChannel.open(spool, StandardOpenOption.READ);
                    dec = new Source(sch, 0, sch.size(), 0, "offset inside the decompressed -z records");
                    out.meta("perf_compressed", "zstd, " + compressed.size() + " records, " + sch.size() + " bytes decompressed");
                    scan(dec, SPOOL);
                }
                if (!sorted) MergeSort.sort(times, offs, n);
                opts.progress().accept(0);
                for (int i = 0; i < n; i++) {
                    long r = offs[i];
                    Source s = (r & SPOOL) != 0 ? dec : main;
                    r &= ~SPOOL;
                    deliver(s.window(r), (int) (r % WIN), r);
                    if ((i & 0xffff) == 0 && s == main) opts.progress().accept(dataOffset + r);
                }
            } finally {
                if (sch != null) sch.close();
                if (spool != null) Files.deleteIfExists(spool);
            }
            out.meta("perf_samples", Long.toString(samples));
        }

        /** Reads the payloads of the -z records in file order, as one stream. */
        final class PayloadStream extends InputStream {
            int k;
            long pos, end = -1;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                while (end < 0 || pos >= end) {
                    if (k >= compressed.size()) return -1;
                    long[] c = compressed.get(k++);
                    pos = c[0];
                    end = c[0] + c[1];
                }
                int want = (int) Math.min(len, end - pos);
                int got = ch.read(ByteBuffer.wrap(b, off, want), pos);
                if (got <= 0) throw new IOException("unexpected end of file in a -z record");
                pos += got;
                return got;
            }
        }

        void scan(Source src, long tag) {
            long size = src.size;
            long rel = 0;
            while (rel < size) {
                if (size - rel < 8) throw src.error(rel, "a perf_event_header (8 bytes), " + (size - rel) + " left in the records");
                ByteBuffer w = src.window(rel);
                int lo = (int) (rel % WIN);
                int type = w.getInt(lo);
                int rsize = w.getShort(lo + 6) & 0xffff;
                if (rsize < 8 || rsize > size - rel) {
                    throw src.error(rel, "a record size between 8 and the " + (size - rel) + " bytes left, found " + rsize);
                }
                switch (type) {
                    case R_SAMPLE, R_COMM, R_FORK, R_LOST, R_LOST_SAMPLES -> {
                        long t = recordTime(w, lo, type, rsize);
                        if (t == Long.MIN_VALUE) t = lastTime;
                        if (n == times.length) {
                            times = java.util.Arrays.copyOf(times, n * 2);
                            offs = java.util.Arrays.copyOf(offs, n * 2);
                        }
                        if (t < lastTime) sorted = false;
                        lastTime = t;
                        times[n] = t;
                        offs[n] = rel | tag;
                        n++;
                    }
                    case R_COMPRESSED -> {
                        if (tag != 0) throw src.error(rel, "no compressed record inside compressed records");
                        compressed.add(new long[] {src.base + rel + 8, rsize - 8});
                    }
                    case R_AUXTRACE -> {
                        // An auxtrace record is followed by its payload, not counted in header.size.
                        if (rsize < 16) throw src.error(rel, "an auxtrace record of at least 16 bytes");
                        long extra = w.getLong(lo + 8);
                        if (extra < 0 || extra > size - rel - rsize) throw src.error(rel, "auxtrace payload inside the records");
                        rel += extra;
                    }
                    default -> { }
                }
                rel += rsize;
            }
        }

        /** The record's time: from the sample, or from the sample_id trailer; MIN_VALUE when absent. */
        long recordTime(ByteBuffer w, int lo, int type, int size) {
            if (type == R_SAMPLE) {
                Attr a = attrOfSample(w, lo, size);
                long st = a.sampleType;
                if ((st & S_TIME) == 0) return Long.MIN_VALUE;
                int p = lo + 8 + 8 * Long.bitCount(st & (S_IDENTIFIER | S_IP | S_TID));
                if (p + 8 > lo + size) return Long.MIN_VALUE;
                return w.getLong(p);
            }
            Attr a = first;
            if (!a.sampleIdAll || (a.sampleType & S_TIME) == 0) return Long.MIN_VALUE;
            long st = a.sampleType;
            int back = 8 * Long.bitCount(st & (S_IDENTIFIER | S_CPU | S_STREAM_ID | S_ID | S_TIME));
            int p = lo + size - back;
            if (p < lo + 8) return Long.MIN_VALUE;
            return w.getLong(p);
        }

        Attr attrOfSample(ByteBuffer w, int lo, int size) {
            if (attrs.size() == 1 || idPos < 0) return first;
            int p = lo + 8 + 8 * (int) idPos;
            if (p + 8 > lo + size) return first;
            Attr a = byId.get(w.getLong(p));
            return a == null ? first : a;
        }

        /** The cpu in a non-sample record's sample_id trailer, or -1. */
        int trailerCpu(ByteBuffer w, int lo, int size) {
            long st = first.sampleType;
            if (!first.sampleIdAll || (st & S_CPU) == 0) return -1;
            int back = 8 * Long.bitCount(st & (S_IDENTIFIER | S_CPU));
            int p = lo + size - back;
            return p < lo + 8 ? -1 : w.getInt(p);
        }

        void deliver(ByteBuffer w, int lo, long rel) {
            int type = w.getInt(lo);
            int size = w.getShort(lo + 6) & 0xffff;
            switch (type) {
                case R_SAMPLE -> sample(w, lo, size, rel);
                case R_COMM -> {
                    // struct { header; u32 pid, tid; char comm[]; } + sample_id
                    if (size < 8 + 8 + 1) { bad(rel, "a comm record of at least 17 bytes"); return; }
                    int tid = w.getInt(lo + 12);
                    int s = lo + 16, e = s;
                    while (e < lo + size && w.get(e) != 0) e++;
                    byte[] b = new byte[e - s];
                    w.get(s, b);
                    comms.put(tid, new String(b, StandardCharsets.UTF_8));
                }
                case R_FORK -> {
                    // struct { header; u32 pid, ppid, tid, ptid; u64 time; }: the child starts with the parent's comm.
                    if (size < 8 + 24) { bad(rel, "a fork record of at least 32 bytes"); return; }
                    int tid = w.getInt(lo + 16), ptid = w.getInt(lo + 20);
                    String pc = comms.get(ptid);
                    if (pc != null) comms.put(tid, pc); else comms.remove(tid);
                }
                case R_LOST -> {
                    if (size < 8 + 16) { bad(rel, "a lost record of at least 24 bytes"); return; }
                    out.lost(trailerCpu(w, lo, size), w.getLong(lo + 16));
                }
                case R_LOST_SAMPLES -> {
                    if (size < 8 + 8) { bad(rel, "a lost-samples record of at least 16 bytes"); return; }
                    out.lost(trailerCpu(w, lo, size), w.getLong(lo + 8));
                }
                default -> { }
            }
        }

        void bad(long rel, String expected) {
            if (opts.strict()) throw InputError.atOffset(name, dataOffset + rel, expected);
            out.unparsed(name + ": at byte offset " + (dataOffset + rel) + ": expected " + expected);
        }

        String comm(int tid) {
            String c = comms.get(tid);
            if (c != null) return c;
            // thread__new names unknown threads ":tid"; the idle task is "swapper" (machine__idle_thread).
            c = tid == 0 ? "swapper" : ":" + tid;
            comms.put(tid, c);
            return c;
        }

        /** evsel__parse_sample, up to RAW (nothing after it is needed). */
        void sample(ByteBuffer w, int lo, int size, long rel) {
            Attr a = attrOfSample(w, lo, size);
            long st = a.sampleType;
            int p = lo + 8, end = lo + size;
            TraceEvent e = ev;
            e.clear();
            try {
                if ((st & S_IDENTIFIER) != 0) p += 8;
                if ((st & S_IP) != 0) p += 8;
                if ((st & S_TID) != 0) {
                    check(p, 8, end);
                    e.pid(w.getInt(p));
                    e.tid(w.getInt(p + 4));
                    p += 8;
                }
                if ((st & S_TIME) != 0) { check(p, 8, end); e.ts(w.getLong(p)); p += 8; }
                if ((st & S_ADDR) != 0) p += 8;
                if ((st & S_ID) != 0) p += 8;
                if ((st & S_STREAM_ID) != 0) p += 8;
                if ((st & S_CPU) != 0) { check(p, 8, end); e.cpu(w.getInt(p)); p += 8; }
                if ((st & S_PERIOD) != 0) p += 8;
                if ((st & S_READ) != 0) p = skipRead(w, p, end, a.readFormat);
                int stackId = -1;
                if ((st & S_CALLCHAIN) != 0) {
                    check(p, 8, end);
                    long nr = w.getLong(p);
                    p += 8;
                    if (nr < 0 || nr > (end - p) / 8) throw new Bad("a callchain of " + nr + " entries inside the sample");
                    frames.clear();
                    boolean kernel = true;
                    for (int i = 0; i < nr; i++) {
                        long ip = w.getLong(p + 8 * i);
                        if (Long.compareUnsigned(ip, PERF_CONTEXT_MAX) >= 0) {
                            kernel = ip == -128L; // PERF_CONTEXT_KERNEL; USER is -512
                            continue;
                        }
                        String fn = kernel ? ksyms.function(ip) : null;
                        frames.add(fn == null ? "[unknown]" : fn);
                    }
                    p += 8 * (int) nr;
                    if (!frames.isEmpty()) stackId = sink.stack(frames);
                }
                if ((st & S_RAW) == 0 || a.type != TYPE_TRACEPOINT) return; // not a tracepoint sample (dummy, …)
                check(p, 4, end);
                int rawSize = w.getInt(p);
                p += 4;
                if (rawSize < 0 || rawSize > end - p) throw new Bad("RAW data of " + rawSize + " bytes inside the sample");
                e.comm = comm(e.has(TraceEvent.F_TID) ? e.tid : -1);
                ByteBuffer rw = tracing.order == order ? w : w.duplicate().order(tracing.order);
                String err = decoder.decode(rw, p, rawSize, e);
                if (err != null) throw new Bad(err);
                if (stackId >= 0) e.stackId(stackId);
                samples++;
                sink.accept(e);
            } catch (Bad b) {
                bad(rel, b.getMessage());
            }
        }

        static void check(int p, int n, int end) {
            if (p + n > end) throw new Bad("sample fields inside the record (sample_type needs more bytes than the record has)");
        }

        static int skipRead(ByteBuffer w, int p, int end, long rf) {
            int per = 8 + ((rf & RF_ID) != 0 ? 8 : 0) + ((rf & RF_LOST) != 0 ? 8 : 0);
            int times = ((rf & RF_TOTAL_TIME_ENABLED) != 0 ? 8 : 0) + ((rf & RF_TOTAL_TIME_RUNNING) != 0 ? 8 : 0);
            if ((rf & RF_GROUP) != 0) {
                check(p, 8, end);
                long nr = w.getLong(p);
                if (nr < 0 || nr > 4096) throw new Bad("a read group of at most 4096 members");
                p += 8 + times + per * (int) nr;
            } else {
                p += times + per;
            }
            check(p, 0, end);
            return p;
        }
    }

    /** The non-event outputs, dropped when there is no writer (benchmarks). */
    static final class Meta {
        final TraceWriter w;

        Meta(TraceWriter w) { this.w = w; }

        void meta(String k, String v) { if (w != null) w.meta(k, v); }
        void lost(int cpu, long n) { if (w != null) w.lost(cpu, n); }
        void unparsed(String s) { if (w != null) w.unparsed(s); }
    }

    /** A malformed sample: the message says what was expected. */
    static final class Bad extends RuntimeException {
        private static final long serialVersionUID = 1L;
        Bad(String m) { super(m, null, false, false); }
    }
}
