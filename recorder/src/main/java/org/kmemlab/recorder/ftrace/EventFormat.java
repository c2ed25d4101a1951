package org.kmemlab.recorder.ftrace;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.kmemlab.trace.EventNames;

/**
 * One tracepoint's binary layout, parsed from its tracefs {@code format} file (the same text that perf
 * stores in HEADER_TRACING_DATA and trace-cmd in trace.dat). Follows libtraceevent's
 * {@code event_read_format}/{@code event_read_fields} (tools/lib/traceevent/event-parse.c): each
 * {@code field:TYPE NAME;	offset:N;	size:N;	signed:N;} line gives where a field lives, so kernels that
 * move or add fields need no code change. The print format is only consulted for values that the kernel
 * derives at print time rather than storing (kmalloc's {@code accounted}, computed from gfp_flags).
 */
public final class EventFormat {
    /** One field of the record. */
    public static final class Field {
        public final String name;
        public final String type;
        public final int offset;
        public final int size;
        public final boolean signed;
        /** {@code __data_loc}: a u32 holding (length << 16 | offset) of the payload in the record. */
        public final boolean dataLoc;
        /** {@code __rel_loc}: as data_loc, but the offset counts from the end of this field. */
        public final boolean relLoc;
        /** Fixed-size array ({@code char comm[16]}). */
        public final boolean array;
        public final boolean pointer;
        /** char arrays and char data_locs print as strings. */
        public final boolean string;
        /** Fields every event starts with ({@code common_pid}, …). */
        public final boolean common;

        Field(String name, String type, int offset, int size, boolean signed) {
            this.name = name;
            this.type = type;
            this.offset = offset;
            this.size = size;
            this.signed = signed;
            this.dataLoc = type.startsWith("__data_loc");
            this.relLoc = type.startsWith("__rel_loc");
            this.array = type.endsWith("]") || name.endsWith("]");
            this.pointer = type.contains("*");
            this.string = (dataLoc || relLoc || array) && type.contains("char");
            this.common = name.startsWith("common_");
        }

        @Override
        public String toString() { return type + " " + name + "@" + offset + "/" + size + (signed ? "s" : "u"); }
    }

    public final String system;
    public final String name;
    /** kmemlab's canonical {@code subsystem:name}. */
    public final String canonical;
    public final int id;
    public final List<Field> fields;
    public final String printFmt;
    /** For events that print {@code accounted=} without storing it: the gfp bit, or -1. */
    public final int accountedGfpBit;
    /** Whether the accounted expression is compiled in (memcg enabled: {@code 1 && (...)}). */
    public final boolean accountedEnabled;

    /**
     * Values the print format spells out as constants rather than fields ({@code "... order=0"} of
     * mm_page_free_batched): text sources show them, so binary sources give them too.
     */
    public final java.util.Map<String, Long> printedConstants;

    private static final Pattern CONSTANT = Pattern.compile("(?:^|\\s)(\\w+)=(-?\\d+)(?=\\s|$)");
    private static final Pattern ACCOUNTED = Pattern.compile("\\b([01]) && \\(REC->gfp_flags & [^<]*<< \\((\\d+)\\)");

    private EventFormat(String system, String name, int id, List<Field> fields, String printFmt) {
        this.system = system;
        this.name = name;
        this.id = id;
        this.fields = List.copyOf(fields);
        this.printFmt = printFmt;
        this.canonical = EventNames.canonical(system == null || system.isEmpty() ? name : system + ":" + name);
        int bit = -1;
        boolean enabled = false;
        if (field("accounted") == null && printFmt != null && printFmt.contains("accounted=")) {
            Matcher m = ACCOUNTED.matcher(printFmt);
            if (m.find()) {
                enabled = m.group(1).equals("1");
                bit = Integer.parseInt(m.group(2));
            }
        }
        java.util.Map<String, Long> consts = new java.util.LinkedHashMap<>();
        if (printFmt != null && printFmt.startsWith("\"")) {
            int q = printFmt.indexOf('"', 1);
            if (q > 0) {
                Matcher m = CONSTANT.matcher(printFmt.substring(1, q));
                while (m.find()) if (field(m.group(1)) == null) consts.put(m.group(1), Long.parseLong(m.group(2)));
            }
        }
        this.printedConstants = java.util.Map.copyOf(consts);
        this.accountedGfpBit = bit;
        this.accountedEnabled = enabled;
    }

    public Field field(String n) {
        for (Field f : fields) if (f.name.equals(n)) return f;
        return null;
    }

    /**
     * Parses a format file. {@code system} may be null when the file does not say (perf and trace-cmd
     * store the system name beside the file). Throws IllegalArgumentException naming what is malformed.
     */
    public static EventFormat parse(String system, String text) {
        String name = null;
        int id = -1;
        String print = null;
        List<Field> fields = new ArrayList<>();
        for (String line : text.split("\n")) {
            String t = line.strip();
            if (t.startsWith("name:")) {
                name = t.substring(5).strip();
            } else if (t.startsWith("ID:")) {
                try {
                    id = Integer.parseInt(t.substring(3).strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("event format: ID is not a number: " + t);
                }
            } else if (t.startsWith("field:")) {
                fields.add(parseField(t));
            } else if (t.startsWith("print fmt:")) {
                print = t.substring(10).strip();
            }
        }
        if (name == null) throw new IllegalArgumentException("event format without 'name:'");
        if (id < 0) throw new IllegalArgumentException("event format of " + name + " without 'ID:'");
        return new EventFormat(system, name, id, fields, print);
    }

    /** {@code field:unsigned long call_site;	offset:8;	size:8;	signed:0;} */
    static Field parseField(String t) {
        String[] parts = t.split(";");
        if (parts.length < 3) throw new IllegalArgumentException("field line without offset/size: " + t);
        String decl = parts[0].substring(6).strip();
        int offset = -1, size = -1;
        boolean signed = false;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].strip();
            try {
                if (p.startsWith("offset:")) offset = Integer.parseInt(p.substring(7).strip());
                else if (p.startsWith("size:")) size = Integer.parseInt(p.substring(5).strip());
                else if (p.startsWith("signed:")) signed = Integer.parseInt(p.substring(7).strip()) != 0;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("field line with a non-numeric " + p + ": " + t);
            }
        }
        if (offset < 0 || size < 0) throw new IllegalArgumentException("field line without offset/size: " + t);
        // The name is the last identifier; an array suffix belongs to the type ("char comm[16]").
        String d = decl;
        String suffix = "";
        int br = d.lastIndexOf('[');
        if (br > 0 && d.endsWith("]")) {
            suffix = d.substring(br);
            d = d.substring(0, br).strip();
        }
        int sp = Math.max(d.lastIndexOf(' '), d.lastIndexOf('*'));
        String name = d.substring(sp + 1);
        String type = (d.substring(0, sp + 1).strip() + suffix).strip();
        if (name.isEmpty()) throw new IllegalArgumentException("field line without a name: " + t);
        return new Field(name, type, offset, size, signed);
    }

    @Override
    public String toString() { return canonical + "#" + id + fields; }
}
