package org.kmemlab.trace;

/**
 * Turns one event's fields, as any source gives them (text {@code key=value} pairs or decoded binary
 * fields), into the one schema. Every importer goes through here, so a renamed field is handled once:
 * {@code page} vs {@code pfn}, {@code alloc_order} of extfrag, percpu's {@code size}, the
 * {@code /0x140} suffix ftrace adds to call sites. Fields without a column stay in {@code extra}.
 */
public final class EventNormalizer {
    private final GfpCodec gfp;
    private final StringBuilder extra = new StringBuilder();
    private final java.util.HashMap<String, Long> parsedGfp = new java.util.HashMap<>();

    public EventNormalizer(GfpCodec gfp) { this.gfp = gfp; }

    public GfpCodec gfpCodec() { return gfp; }

    /** Starts the fields of event {@code e}, whose {@code event} is already canonical. */
    public void begin() { extra.setLength(0); }

    /** Finishes the fields: stores the leftovers. */
    public void end(TraceEvent e) { e.extra = extra.length() == 0 ? null : extra.toString(); }

    /** What a field name means to the normaliser; text importers resolve it once per distinct name ({@link #fieldCode}). */
    public static final int F_OTHER = 0, F_CALL_SITE = 1, F_PTR = 2, F_BYTES_REQ = 3, F_BYTES_ALLOC = 4, F_SIZE = 5,
            F_GFP_FLAGS = 6, F_NODE = 7, F_ACCOUNTED = 8, F_NAME = 9, F_PFN = 10, F_PAGE = 11, F_ORDER = 12,
            F_MIGRATETYPE = 13, F_TEXT = 14;

    /** The code of a field name, for {@link #textField(TraceEvent, int, String, String)} and {@link #numField(TraceEvent, int, String, long)}. */
    public static int fieldCode(String key) {
        return switch (key) {
            case "call_site" -> F_CALL_SITE;
            case "ptr" -> F_PTR;
            case "bytes_req" -> F_BYTES_REQ;
            case "bytes_alloc" -> F_BYTES_ALLOC;
            case "size" -> F_SIZE;
            case "gfp_flags" -> F_GFP_FLAGS;
            case "node", "nid" -> F_NODE;
            case "accounted" -> F_ACCOUNTED;
            case "name" -> F_NAME;
            case "pfn" -> F_PFN;
            case "page" -> F_PAGE;
            case "order", "alloc_order" -> F_ORDER;
            case "migratetype", "alloc_migratetype" -> F_MIGRATETYPE;
            case "text" -> F_TEXT;
            default -> F_OTHER;
        };
    }

    /**
     * A field from text. Returns false when the value does not parse as the field expects (the caller
     * counts the line as malformed).
     */
    public boolean textField(TraceEvent e, String key, String value) {
        return textField(e, fieldCode(key), key, value);
    }

    /** {@link #textField(TraceEvent, String, String)} with the key's {@link #fieldCode} already known. */
    public boolean textField(TraceEvent e, int code, String key, String value) {
        try {
            switch (code) {
                case F_CALL_SITE -> callSite(e, value);
                case F_PTR -> {
                    if (e.event.startsWith("percpu:")) extra("ptr", value); else e.ptr(parseHex(value));
                }
                case F_BYTES_REQ -> e.bytesReq(Long.parseLong(value));
                case F_BYTES_ALLOC -> e.bytesAlloc(Long.parseLong(value));
                case F_SIZE -> {
                    if (e.event.startsWith("percpu:")) e.bytesReq(Long.parseLong(value)); else extra(key, value);
                }
                case F_GFP_FLAGS -> {
                    e.gfp = value;
                    long bits;
                    if (value == lastGfpIn) {
                        bits = lastGfpBits;
                    } else {
                        Long b = parsedGfp.get(value);
                        if (b == null) {
                            b = gfp.parse(value);
                            if (parsedGfp.size() < 4096) parsedGfp.put(value, b);
                        }
                        bits = b;
                        lastGfpIn = value;
                        lastGfpBits = bits;
                    }
                    if (bits >= 0) e.gfpFlags(bits);
                }
                case F_NODE -> e.node(Integer.parseInt(value));
                case F_ACCOUNTED -> e.accounted(value.equals("true") || value.equals("1"));
                case F_NAME -> {
                    if (e.event.startsWith("kmem:")) e.cache = value; else extra(key, value);
                }
                case F_PFN -> e.pfn(parseNumber(value));
                case F_PAGE -> {
                    // Old kernels print a struct page pointer here; newer perf prints the pfn twice.
                    if (!e.has(TraceEvent.F_PFN) && !e.event.startsWith("kmem:mm_page")) extra(key, value);
                }
                case F_ORDER -> e.order(Integer.parseInt(value));
                case F_MIGRATETYPE -> e.migratetype(Integer.parseInt(value));
                case F_TEXT -> {
                    if (!kvfreeRcu(e, value)) extra(key, value);
                }
                default -> extra(key, value);
            }
            return true;
        } catch (NumberFormatException ex) {
            return false;
        }
    }

    private String lastGfpIn;
    private long lastGfpBits;

    /** A numeric field from a binary source. */
    public void numField(TraceEvent e, String key, long value) {
        numField(e, fieldCode(key), key, value);
    }

    /** {@link #numField(TraceEvent, String, long)} with the key's {@link #fieldCode} already known. */
    public void numField(TraceEvent e, int code, String key, long value) {
        switch (code) {
            case F_PTR -> {
                if (e.event.startsWith("percpu:")) extra("ptr", "0x" + Long.toHexString(value)); else e.ptr(value);
            }
            case F_BYTES_REQ -> e.bytesReq(value);
            case F_BYTES_ALLOC -> e.bytesAlloc(value);
            case F_SIZE -> {
                if (e.event.startsWith("percpu:")) e.bytesReq(value); else extra(key, Long.toString(value));
            }
            case F_GFP_FLAGS -> {
                e.gfpFlags(value);
                e.gfp = gfp.format(value);
            }
            case F_NODE -> e.node((int) value);
            case F_ACCOUNTED -> e.accounted(value != 0);
            case F_PFN -> e.pfn(value);
            case F_PAGE -> { }
            case F_ORDER -> e.order((int) value);
            case F_MIGRATETYPE -> e.migratetype((int) value);
            default -> extra(key, Long.toString(value));
        }
    }

    /** A string field from a binary source (already symbolised call sites, cache names). */
    public void strField(TraceEvent e, String key, String value) {
        switch (key) {
            case "call_site" -> callSite(e, value);
            case "name" -> {
                if (e.event.startsWith("kmem:")) e.cache = value; else extra(key, value);
            }
            default -> extra(key, value);
        }
    }

    private void callSite(TraceEvent e, String value) {
        // Call sites repeat: reuse one (callSite, callSiteFn) pair per distinct value instead of two new
        // substrings per event, which also lets the writer's dictionaries hit on identity and cached hashes.
        String[] split = value == lastCallSiteIn ? lastCallSite : callSites.get(value);
        if (split == null) {
            int slash = value.indexOf('/');
            // ftrace prints sym+off/size; perf prints sym+off. Keep one spelling so both sources group alike.
            String cs = slash > 0 && value.indexOf('+') > 0 ? value.substring(0, slash) : value;
            int plus = cs.indexOf('+');
            split = new String[] {cs, plus > 0 ? cs.substring(0, plus) : cs};
            if (callSites.size() >= 65_536) callSites.clear();
            callSites.put(value, split);
        }
        lastCallSiteIn = value;
        lastCallSite = split;
        e.callSite = split[0];
        e.callSiteFn = split[1];
    }

    /**
     * {@code rcu:rcu_kvfree_callback} (and 5.x's {@code rcu_kfree_callback}) print {@code "%s rhp=%p func=%ld %ld"}
     * ({@code include/trace/events/rcu.h}): flavour, the rcu_head, its offset in the object, and the queue
     * length. The schema keeps the object (rhp - offset) in {@code ptr} so that it pairs with its allocation.
     */
    private boolean kvfreeRcu(TraceEvent e, String text) {
        if (!e.event.equals("rcu:rcu_kvfree_callback") && !e.event.equals("rcu:rcu_kfree_callback")) return false;
        String[] t = text.trim().split(" +");
        if (t.length < 3 || !t[1].startsWith("rhp=") || !t[2].startsWith("func=")) return false;
        long rhp = parseHex(t[1].substring(4));
        long off = Long.parseLong(t[2].substring(5));
        e.ptr(rhp - off);
        extra("rcuname", t[0]);
        extra("offset", Long.toString(off));
        if (t.length > 3) extra("qlen", t[3]);
        return true;
    }

    private final java.util.HashMap<String, String[]> callSites = new java.util.HashMap<>();
    private String lastCallSiteIn;
    private String[] lastCallSite;

    private void extra(String key, String value) {
        if (extra.length() > 0) extra.append(' ');
        extra.append(key).append('=').append(value);
    }

    /** Pointers print as hex with or without 0x (ftrace's hashed %p has none). */
    public static long parseHex(String v) {
        String s = v.startsWith("0x") || v.startsWith("0X") ? v.substring(2) : v;
        // %p of NULL: the kernel prints (null), perf (libtraceevent) prints (nil).
        if (s.equals("(null)") || s.equals("(nil)")) return 0;
        return Long.parseUnsignedLong(s, 16);
    }

    /** 0x-prefixed hex, else decimal (old kernels print pfn in decimal). */
    public static long parseNumber(String v) {
        if (v.startsWith("0x") || v.startsWith("0X")) return Long.parseUnsignedLong(v.substring(2), 16);
        return Long.parseLong(v);
    }
}
