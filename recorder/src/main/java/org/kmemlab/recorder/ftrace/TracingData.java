package org.kmemlab.recorder.ftrace;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The tracing metadata that perf stores in its HEADER_TRACING_DATA feature and trace-cmd at the start of
 * trace.dat (version 6): magic {@code \027\010\104tracing}, version string, endianness, long size, page
 * size, header_page, header_event, ftrace and event format files, kallsyms, printk formats. Follows
 * perf's tools/perf/util/trace-event-read.c ({@code trace_report}, {@code read_header_files},
 * {@code read_ftrace_files}, {@code read_event_files}, {@code read_proc_kallsyms}) and trace-cmd's
 * lib/trace-cmd/trace-input.c ({@code tracecmd_read_headers}).
 */
public final class TracingData {
    public static final byte[] MAGIC = {0x17, 0x08, 0x44, 't', 'r', 'a', 'c', 'i', 'n', 'g'};

    public String version;
    public ByteOrder order;
    public int longSize;
    public int pageSize;
    public String headerPage;
    public String headerEvent;
    public final List<EventFormat> formats = new ArrayList<>();
    public String kallsyms = "";
    public String printk = "";
    public String cmdlines = "";

    /** Magic, version, endianness, long size and page size; the cursor is left on what follows. */
    public static TracingData readPreamble(Cursor c) {
        TracingData t = new TracingData();
        c.expect(MAGIC, "tracing data magic \\027\\010\\104tracing");
        t.version = c.cstring("tracing data version string");
        int big = c.u8("endianness byte");
        t.order = big != 0 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        c.order(t.order);
        t.longSize = c.u8("long size");
        if (t.longSize != 4 && t.longSize != 8) throw c.error("long size 4 or 8, found " + t.longSize);
        t.pageSize = c.u32("page size");
        if (t.pageSize < 64 || t.pageSize > (1 << 24)) throw c.error("a page size between 64 bytes and 16 MiB, found " + t.pageSize);
        return t;
    }

    /** header_page and header_event, each a name, a u64 size and the text. */
    public void readHeaderFiles(Cursor c) {
        String n = c.cstring("'header_page'");
        if (!n.equals("header_page")) throw c.error("'header_page', found '" + n + "'");
        headerPage = c.string(c.size64("header_page size"), "header_page");
        n = c.cstring("'header_event'");
        if (!n.equals("header_event")) throw c.error("'header_event', found '" + n + "'");
        headerEvent = c.string(c.size64("header_event size"), "header_event");
    }

    /** The ftrace's own events (function, …): a u32 count of u64-sized format files. */
    public void readFtraceFormats(Cursor c) {
        int count = c.u32("ftrace format count");
        if (count < 0 || count > 100_000) throw c.error("a plausible ftrace format count, found " + count);
        for (int i = 0; i < count; i++) addFormat(c, "ftrace", c.string(c.size64("ftrace format size"), "ftrace format"));
    }

    /** A u32 count of systems, each a name, a u32 count and u64-sized format files. */
    public void readEventFormats(Cursor c) {
        int systems = c.u32("event system count");
        if (systems < 0 || systems > 100_000) throw c.error("a plausible event system count, found " + systems);
        for (int s = 0; s < systems; s++) {
            String sys = c.cstring("event system name");
            int count = c.u32("event format count");
            if (count < 0 || count > 100_000) throw c.error("a plausible event format count, found " + count);
            for (int i = 0; i < count; i++) addFormat(c, sys, c.string(c.size64("event format size"), "event format"));
        }
    }

    private void addFormat(Cursor c, String sys, String text) {
        try {
            formats.add(EventFormat.parse(sys, text));
        } catch (IllegalArgumentException e) {
            throw c.error("a valid event format file: " + e.getMessage());
        }
    }

    public void readKallsyms(Cursor c) { kallsyms = new String(c.bytes(c.size32("kallsyms size"), "kallsyms"), StandardCharsets.UTF_8); }

    public void readPrintk(Cursor c) { printk = new String(c.bytes(c.size32("printk formats size"), "printk formats"), StandardCharsets.UTF_8); }

    public void readCmdlines(Cursor c) { cmdlines = new String(c.bytes(c.size64("saved cmdlines size"), "saved cmdlines"), StandardCharsets.UTF_8); }

    /** Everything after the preamble up to and including printk formats (perf and trace.dat v6 agree). */
    public void readBody(Cursor c) {
        readHeaderFiles(c);
        readFtraceFormats(c);
        readEventFormats(c);
        readKallsyms(c);
        readPrintk(c);
    }
}
