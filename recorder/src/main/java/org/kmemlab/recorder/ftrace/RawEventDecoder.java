package org.kmemlab.recorder.ftrace;

import java.nio.ByteBuffer;
import java.util.Collection;

import org.kmemlab.recorder.StringCache;
import org.kmemlab.trace.EventNormalizer;
import org.kmemlab.trace.TraceEvent;

import com.carrotsearch.hppc.IntObjectHashMap;

/**
 * Decodes one raw tracepoint record (the bytes the kernel's trace event writes: common fields, then the
 * event's own) into a {@link TraceEvent} through {@link EventNormalizer}, using the {@link EventFormat}
 * of its {@code common_type}. This is what libtraceevent's {@code tep_find_event_by_record} plus
 * {@code tep_read_number_field}/{@code __get_str} do for perf script and trace-cmd report; the values go
 * to the normaliser under the format's own field names, exactly as the text importers pass the printed
 * {@code key=value} pairs, so both paths give the same rows. Shared by the perf.data, trace.dat and
 * live tracefs readers.
 */
public final class RawEventDecoder {
    private final IntObjectHashMap<EventFormat> byId = new IntObjectHashMap<>();
    /** Per event id, what to do with each field: worked out once, not per record. */
    private final IntObjectHashMap<byte[]> kindsById = new IntObjectHashMap<>();
    private static final byte K_SKIP = 0, K_LOC = 1, K_ARRAY = 2, K_CALL_SITE = 3, K_POINTER = 4, K_GFP = 5, K_NUM = 6;
    /** gfp values repeat: format each once (the same text EventNormalizer.numField would give). */
    private final com.carrotsearch.hppc.LongObjectHashMap<String> gfpText = new com.carrotsearch.hppc.LongObjectHashMap<>();
    private final EventNormalizer norm;
    private final Kallsyms ksyms;
    private final StringCache strings = new StringCache();
    private byte[] scratch = new byte[256];
    private final int typeOffset;
    private final int typeSize;
    private final int pidOffset;

    public RawEventDecoder(Collection<EventFormat> formats, EventNormalizer norm, Kallsyms ksyms) {
        this.norm = norm;
        this.ksyms = ksyms;
        int to = 0, ts = 2, po = 4;
        for (EventFormat f : formats) {
            byId.put(f.id, f);
            byte[] k = new byte[f.fields.size()];
            for (int i = 0; i < k.length; i++) {
                EventFormat.Field fd = f.fields.get(i);
                if (fd.common) k[i] = K_SKIP;
                else if (fd.dataLoc || fd.relLoc) k[i] = K_LOC;
                else if (fd.array) k[i] = K_ARRAY;
                else if (fd.size != 1 && fd.size != 2 && fd.size != 4 && fd.size != 8) k[i] = K_SKIP;
                else if (fd.name.equals("call_site")) k[i] = K_CALL_SITE;
                else if (fd.pointer && !fd.name.equals("ptr")) k[i] = K_POINTER;
                else if (fd.name.equals("gfp_flags")) k[i] = K_GFP;
                else k[i] = K_NUM;
            }
            kindsById.put(f.id, k);
            EventFormat.Field t = f.field("common_type");
            EventFormat.Field p = f.field("common_pid");
            if (t != null) { to = t.offset; ts = t.size; }
            if (p != null) po = p.offset;
        }
        typeOffset = to;
        typeSize = ts;
        pidOffset = po;
    }

    public EventFormat format(int id) { return byId.get(id); }

    public EventNormalizer normalizer() { return norm; }

    /** The event type id of the record at {@code off}, or -1 when the record is too short. */
    public int typeId(ByteBuffer b, int off, int len) {
        if (len < typeOffset + typeSize) return -1;
        return typeSize == 2 ? b.getShort(off + typeOffset) & 0xffff : b.getInt(off + typeOffset);
    }

    /** common_pid of the record (the ftrace readers have no other pid). */
    public int commonPid(ByteBuffer b, int off) { return b.getInt(off + pidOffset); }

    /**
     * Fills {@code e.event} and the fields. Returns null on success, else what was wrong (unknown type
     * id, a field beyond the record). Does not clear {@code e}: the caller sets cpu, pid, time first.
     */
    public String decode(ByteBuffer b, int off, int len, TraceEvent e) {
        int id = typeId(b, off, len);
        EventFormat f = id < 0 ? null : byId.get(id);
        if (f == null) return "raw record of unknown event type id " + id;
        e.event = f.canonical;
        norm.begin();
        long gfp = -1;
        byte[] kinds = kindsById.get(id);
        java.util.List<EventFormat.Field> fields = f.fields;
        for (int fi = 0, nf = kinds.length; fi < nf; fi++) {
            byte kind = kinds[fi];
            if (kind == K_SKIP) continue;
            EventFormat.Field fd = fields.get(fi);
            if (kind == K_LOC) {
                if (fd.offset + 4 > len) return "field " + fd.name + " of " + f.canonical + " beyond the record (" + len + " bytes)";
                int loc = b.getInt(off + fd.offset);
                int start = (loc & 0xffff) + (fd.relLoc ? fd.offset + fd.size : 0);
                int n = loc >>> 16;
                if (start + n > len) return "__data_loc " + fd.name + " of " + f.canonical + " points beyond the record";
                if (fd.string) norm.strField(e, fd.name, string(b, off + start, n));
                continue;
            }
            if (fd.offset + fd.size > len) return "field " + fd.name + " of " + f.canonical + " beyond the record (" + len + " bytes)";
            if (kind == K_ARRAY) {
                if (fd.string) norm.strField(e, fd.name, string(b, off + fd.offset, fd.size));
                continue;
            }
            long v;
            int at = off + fd.offset;
            switch (fd.size) {
                case 1 -> v = fd.signed ? b.get(at) : b.get(at) & 0xffL;
                case 2 -> v = fd.signed ? b.getShort(at) : b.getShort(at) & 0xffffL;
                case 4 -> v = fd.signed ? b.getInt(at) : b.getInt(at) & 0xffffffffL;
                default -> v = b.getLong(at);
            }
            switch (kind) {
                case K_CALL_SITE -> norm.strField(e, "call_site", ksyms.symbolize(v));
                // perf and ftrace print other pointers with %p: keep the same text.
                case K_POINTER -> norm.strField(e, fd.name, "0x" + Long.toHexString(v));
                case K_GFP -> {
                    gfp = v;
                    // As EventNormalizer.numField("gfp_flags"), with the text cached per value.
                    e.gfpFlags(v);
                    String t = gfpText.get(v);
                    if (t == null) {
                        t = norm.gfpCodec().format(v);
                        gfpText.put(v, t);
                    }
                    e.gfp = t;
                }
                default -> norm.numField(e, fd.name, v);
            }
        }
        if (!f.printedConstants.isEmpty()) f.printedConstants.forEach((k, v) -> norm.numField(e, k, v));
        if (f.accountedGfpBit >= 0 && gfp >= 0) e.accounted(f.accountedEnabled && (gfp & (1L << f.accountedGfpBit)) != 0);
        norm.end(e);
        return null;
    }

    private String string(ByteBuffer b, int at, int n) {
        int l = 0;
        if (scratch.length < n) scratch = new byte[Math.max(n, scratch.length * 2)];
        while (l < n) {
            byte c = b.get(at + l);
            if (c == 0) break;
            scratch[l++] = c;
        }
        return strings.get(scratch, 0, l);
    }
}
