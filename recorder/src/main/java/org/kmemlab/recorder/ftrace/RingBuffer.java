package org.kmemlab.recorder.ftrace;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses ftrace ring-buffer pages (what per_cpu/cpuN/trace_pipe_raw returns, and trace.dat's per-CPU
 * data) using the layout the kernel publishes in events/header_page and events/header_event, so a kernel
 * with different field sizes needs no code change. Follows kernel/trace/ring_buffer.c
 * ({@code struct buffer_data_page}, {@code rb_event_length}, {@code RB_MISSED_EVENTS}/{@code RB_MISSED_STORED})
 * and libtraceevent's kbuffer-parse.c ({@code translate_data}, {@code update_pointers}).
 *
 * <p>A page is: u64 timestamp, commit (local_t: bytes of data used, with the two top bits of a 32-bit
 * word flagging missed events before this page and whether their count is stored after the data), then
 * events. Each event starts with a 32-bit word of type_len (5 bits) and time_delta (27 bits):
 * type_len 1..28 means a payload of type_len*4 bytes; 0 means the length is in the next word; 29 is
 * padding, 30 a time extension, 31 an absolute time stamp.
 */
public final class RingBuffer {
    /** What a page holds. */
    public interface Visitor {
        /** One event's payload at {@code b[off, off+len)} with its absolute timestamp. */
        void event(ByteBuffer b, int off, int len, long ts);

        /** Events were lost before this page; {@code count} is -1 when the kernel did not store it. */
        void missed(long count);
    }

    public static final long MISSED_EVENTS = 1L << 31, MISSED_STORED = 1L << 30;

    private final ByteOrder order;
    private final int tsOffset, commitOffset, commitSize, dataOffset;
    /** Bytes of data a page can hold (header_page's data field size). */
    public final int dataSize;
    private final int padding, timeExtend, timeStamp, maxDataType;
    private final int longSize;

    public RingBuffer(String headerPage, String headerEvent, ByteOrder order, int longSize) {
        this.order = order;
        this.longSize = longSize;
        int tso = 0, co = 8, cs = longSize, dOff = 16, dSize = 4080;
        for (String line : headerPage.split("\n")) {
            String t = line.strip();
            if (!t.startsWith("field:")) continue;
            EventFormat.Field f = EventFormat.parseField(t);
            switch (f.name) {
                case "timestamp" -> tso = f.offset;
                case "commit" -> { co = f.offset; cs = f.size; }
                case "data" -> { dOff = f.offset; dSize = f.size; }
                default -> { }
            }
        }
        if (cs != 4 && cs != 8) throw new IllegalArgumentException("header_page commit of 4 or 8 bytes, found " + cs);
        if (tso < 0 || co < 0 || tso + 8 > dOff || co + cs > dOff || dOff < 16 || dSize < 64 || dOff + dSize > (1 << 24)) {
            throw new IllegalArgumentException("header_page with a plausible layout (data at " + dOff + ", " + dSize + " bytes)");
        }
        tsOffset = tso;
        commitOffset = co;
        commitSize = cs;
        dataOffset = dOff;
        dataSize = dSize;
        padding = number(headerEvent, "padding\\s*:\\s*type == (\\d+)", 29);
        timeExtend = number(headerEvent, "time_extend\\s*:\\s*type == (\\d+)", 30);
        timeStamp = number(headerEvent, "time_stamp\\s*:\\s*type == (\\d+)", 31);
        maxDataType = number(headerEvent, "data max type_len\\s*== (\\d+)", 28);
    }

    private static int number(String text, String re, int dflt) {
        Matcher m = Pattern.compile(re).matcher(text == null ? "" : text);
        return m.find() ? Integer.parseInt(m.group(1)) : dflt;
    }

    /** Size of a whole page (header plus data). */
    public int pageSize() { return dataOffset + dataSize; }

    /**
     * Walks the page at {@code b[off, off+len)}. Returns null when the page is well formed, else what was
     * wrong (events parsed before the problem have been delivered).
     */
    public String page(ByteBuffer b, int off, int len, Visitor v) {
        if (b.order() != order) b = b.duplicate().order(order);
        if (len < dataOffset) return "a ring-buffer page header of " + dataOffset + " bytes, found " + len;
        long ts = b.getLong(off + tsOffset);
        long commitRaw = commitSize == 8 ? b.getLong(off + commitOffset) : b.getInt(off + commitOffset) & 0xffffffffL;
        long flags = commitRaw & (MISSED_EVENTS | MISSED_STORED);
        int size = (int) (commitRaw & ~(MISSED_EVENTS | MISSED_STORED) & 0xffffffffL);
        if (size > len - dataOffset) return "page commit of " + size + " bytes inside the " + (len - dataOffset) + " data bytes";
        int start = off + dataOffset, end = start + size;
        if ((flags & MISSED_EVENTS) != 0) {
            long n = -1;
            if ((flags & MISSED_STORED) != 0 && end + longSize <= off + len) {
                n = longSize == 8 ? b.getLong(end) : b.getInt(end) & 0xffffffffL;
            }
            v.missed(n);
        }
        int p = start;
        while (p + 4 <= end) {
            int word = b.getInt(p);
            int typeLen, delta;
            if (order == ByteOrder.LITTLE_ENDIAN) {
                typeLen = word & 31;
                delta = word >>> 5;
            } else {
                typeLen = word >>> 27;
                delta = word & ((1 << 27) - 1);
            }
            int data = p + 4;
            int length;
            if (typeLen == padding) {
                if (data + 4 > end) break;
                length = b.getInt(data);
                // A padding with no time delta ends the page's events (rb_event_is_commit pads the tail).
                if (delta == 0 && length == 0) break;
                ts += delta;
                data += 4;
                p = data + Math.max(0, length - 4);
                if (length < 0) return "padding with a negative length";
                continue;
            } else if (typeLen == timeExtend || typeLen == timeStamp) {
                if (data + 4 > end) return "a time extension inside the page";
                long ext = ((long) b.getInt(data) & 0xffffffffL) << 27 | delta;
                if (typeLen == timeExtend) ts += ext;
                else ts = (ts & ~((1L << 59) - 1)) | ext; // absolute: the low 59 bits
                p = data + 4;
                continue;
            } else if (typeLen == 0) {
                if (data + 4 > end) return "an event length word inside the page";
                length = b.getInt(data) - 4;
                length = (length + 3) & ~3;
                data += 4;
            } else if (typeLen <= maxDataType) {
                length = typeLen * 4;
            } else {
                return "an event type_len up to " + maxDataType + ", found " + typeLen;
            }
            if (length < 0 || data + length > end) return "an event of " + length + " bytes inside the page";
            ts += delta;
            v.event(b, data, length, ts);
            p = data + length;
        }
        return null;
    }
}
