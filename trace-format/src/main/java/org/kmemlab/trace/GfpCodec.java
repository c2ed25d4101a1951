package org.kmemlab.trace;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * GFP names ↔ raw bits for one kernel era's layout, printed the way the kernel's {@code show_gfp_flags()}
 * prints them ({@code include/trace/events/mmflags.h}, {@code gfpflags.h} before 4.6): walk the print
 * table in order; an entry matches when all its bits are set; print its name and clear the bits; leftover
 * bits print as hex. Layouts come from allocator-model.md §A.1–A.3 (3.6, 5.10, 6.3–6.9 and current,
 * default x86-64 config without KASAN_HW_TAGS or LOCKDEP).
 *
 * <p>Also perf kmem's compact codes ({@code gfp_compact_table} in {@code tools/perf/builtin-kmem.c}).
 */
public final class GfpCodec {

    /** The bit layouts. */
    public enum Layout {
        /** 3.3–4.3: {@code __GFP_WAIT}, printed without leading underscores, 0 prints as GFP_NOWAIT. */
        V3_6,
        /** 4.4–6.2: {@code __GFP_ATOMIC} at 0x200, GFP_NOWAIT without NOWARN. */
        V5_10,
        /** 6.3–6.9: literal-value layout, 0x200 unused. */
        V6_3,
        /** 6.10 and later: enum bits, {@code __GFP_NO_OBJ_EXT} at 0x1000000. */
        HEAD;

        /** The layout of a kernel release such as {@code 6.18.44-fc}; HEAD when unknown. */
        public static Layout forRelease(String release) {
            if (release == null || release.isBlank()) return HEAD;
            String[] p = release.trim().split("[.\\-+]");
            try {
                int major = Integer.parseInt(p[0]);
                int minor = p.length > 1 ? Integer.parseInt(p[1].replaceAll("\\D.*", "")) : 0;
                int v = major * 1000 + minor;
                if (v < 4004) return V3_6;
                if (v < 6003) return V5_10;
                if (v < 6010) return V6_3;
                return HEAD;
            } catch (NumberFormatException e) {
                return HEAD;
            }
        }
    }

    private static final Map<Layout, GfpCodec> CODECS = new HashMap<>();

    private final Layout layout;
    /** Single bits in bit order: name (with leading __) → value. */
    private final Map<String, Long> bits = new LinkedHashMap<>();
    /** Composite masks: name → value. */
    private final Map<String, Long> composites = new LinkedHashMap<>();
    /** The print table, in order. */
    private final List<Map.Entry<String, Long>> printTable = new ArrayList<>();
    /** Every name either spelling may use → value. */
    private final Map<String, Long> byName = new HashMap<>();
    private final String zeroName;

    private GfpCodec(Layout layout) {
        this.layout = layout;
        switch (layout) {
            case V3_6 -> {
                bit("__GFP_DMA", 0x1); bit("__GFP_HIGHMEM", 0x2); bit("__GFP_DMA32", 0x4); bit("__GFP_MOVABLE", 0x8);
                bit("__GFP_WAIT", 0x10); bit("__GFP_HIGH", 0x20); bit("__GFP_IO", 0x40); bit("__GFP_FS", 0x80);
                bit("__GFP_COLD", 0x100); bit("__GFP_NOWARN", 0x200); bit("__GFP_REPEAT", 0x400);
                bit("__GFP_NOFAIL", 0x800); bit("__GFP_NORETRY", 0x1000); bit("__GFP_MEMALLOC", 0x2000);
                bit("__GFP_COMP", 0x4000); bit("__GFP_ZERO", 0x8000); bit("__GFP_NOMEMALLOC", 0x10000);
                bit("__GFP_HARDWALL", 0x20000); bit("__GFP_THISNODE", 0x40000); bit("__GFP_RECLAIMABLE", 0x80000);
                bit("__GFP_NOTRACK", 0x200000); bit("__GFP_NO_KSWAPD", 0x400000); bit("__GFP_OTHER_NODE", 0x800000);
                bit("__GFP_WRITE", 0x1000000);
                long wait = 0x10, io = 0x40, fs = 0x80;
                comp("GFP_NOWAIT", 0); comp("GFP_ATOMIC", 0x20); comp("GFP_NOIO", wait); comp("GFP_NOFS", wait | io);
                comp("GFP_KERNEL", wait | io | fs); comp("GFP_TEMPORARY", wait | io | fs | 0x80000);
                comp("GFP_USER", wait | io | fs | 0x20000); comp("GFP_HIGHUSER", wait | io | fs | 0x20000 | 0x2);
                comp("GFP_HIGHUSER_MOVABLE", wait | io | fs | 0x20000 | 0x2 | 0x8);
                comp("GFP_TRANSHUGE", 0x200da | 0x4000 | 0x10000 | 0x1000 | 0x200 | 0x400000);
                // include/trace/events/gfpflags.h (3.x): names without leading underscores.
                print("GFP_TRANSHUGE", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER", "GFP_USER", "GFP_TEMPORARY",
                        "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOIO");
                for (String b : new String[] {"HIGH", "WAIT", "IO", "COLD", "NOWARN", "REPEAT", "NOFAIL", "NORETRY",
                        "COMP", "ZERO", "NOMEMALLOC", "MEMALLOC", "HARDWALL", "THISNODE", "RECLAIMABLE", "MOVABLE",
                        "NOTRACK", "NO_KSWAPD", "OTHER_NODE"}) {
                    printTable.add(Map.entry("GFP_" + b, bits.get("__GFP_" + b)));
                }
                zeroName = "GFP_NOWAIT";
            }
            case V5_10, V6_3, HEAD -> {
                bit("__GFP_DMA", 0x1); bit("__GFP_HIGHMEM", 0x2); bit("__GFP_DMA32", 0x4); bit("__GFP_MOVABLE", 0x8);
                bit("__GFP_RECLAIMABLE", 0x10); bit("__GFP_HIGH", 0x20); bit("__GFP_IO", 0x40); bit("__GFP_FS", 0x80);
                bit("__GFP_ZERO", 0x100);
                if (layout == Layout.V5_10) bit("__GFP_ATOMIC", 0x200);
                bit("__GFP_DIRECT_RECLAIM", 0x400); bit("__GFP_KSWAPD_RECLAIM", 0x800); bit("__GFP_WRITE", 0x1000);
                bit("__GFP_NOWARN", 0x2000); bit("__GFP_RETRY_MAYFAIL", 0x4000); bit("__GFP_NOFAIL", 0x8000);
                bit("__GFP_NORETRY", 0x10000); bit("__GFP_MEMALLOC", 0x20000); bit("__GFP_COMP", 0x40000);
                bit("__GFP_NOMEMALLOC", 0x80000); bit("__GFP_HARDWALL", 0x100000); bit("__GFP_THISNODE", 0x200000);
                bit("__GFP_ACCOUNT", 0x400000);
                if (layout != Layout.V5_10) bit("__GFP_ZEROTAGS", 0x800000);
                if (layout == Layout.HEAD) bit("__GFP_NO_OBJ_EXT", 0x1000000);
                long reclaim = 0xc00, kernel = reclaim | 0x40 | 0x80;
                comp("__GFP_RECLAIM", reclaim);
                comp("GFP_ATOMIC", layout == Layout.V5_10 ? 0xa20 : 0x820);
                comp("GFP_NOWAIT", layout == Layout.V5_10 ? 0x800 : 0x2800);
                comp("GFP_NOIO", reclaim); comp("GFP_NOFS", reclaim | 0x40); comp("GFP_KERNEL", kernel);
                comp("GFP_KERNEL_ACCOUNT", kernel | 0x400000); comp("GFP_USER", kernel | 0x100000);
                comp("GFP_HIGHUSER", kernel | 0x100000 | 0x2); comp("GFP_HIGHUSER_MOVABLE", kernel | 0x100000 | 0xa);
                long light = ((kernel | 0x100000 | 0xa) | 0x40000 | 0x80000 | 0x2000) & ~reclaim;
                comp("GFP_TRANSHUGE_LIGHT", light); comp("GFP_TRANSHUGE", light | 0x400);
                comp("GFP_DMA", 0x1); comp("GFP_DMA32", 0x4);
                print("GFP_TRANSHUGE", "GFP_TRANSHUGE_LIGHT", "GFP_HIGHUSER_MOVABLE", "GFP_HIGHUSER", "GFP_USER",
                        "GFP_KERNEL_ACCOUNT", "GFP_KERNEL", "GFP_NOFS", "GFP_ATOMIC", "GFP_NOIO", "GFP_NOWAIT", "GFP_DMA");
                if (layout == Layout.V5_10) {
                    // 5.10 mmflags.h lists its bits explicitly, in this order.
                    print("__GFP_HIGHMEM", "GFP_DMA32", "__GFP_HIGH", "__GFP_ATOMIC", "__GFP_IO", "__GFP_FS",
                            "__GFP_NOWARN", "__GFP_RETRY_MAYFAIL", "__GFP_NOFAIL", "__GFP_NORETRY", "__GFP_COMP",
                            "__GFP_ZERO", "__GFP_NOMEMALLOC", "__GFP_MEMALLOC", "__GFP_HARDWALL", "__GFP_THISNODE",
                            "__GFP_RECLAIMABLE", "__GFP_MOVABLE", "__GFP_ACCOUNT", "__GFP_WRITE", "__GFP_RECLAIM",
                            "__GFP_DIRECT_RECLAIM", "__GFP_KSWAPD_RECLAIM");
                } else {
                    // Current mmflags.h: composites, __GFP_RECLAIM, then TRACE_GFP_FLAGS in bit order.
                    print("GFP_DMA32", "__GFP_RECLAIM");
                    for (String b : bits.keySet()) printTable.add(Map.entry(b, bits.get(b)));
                }
                zeroName = "none";
            }
            default -> throw new AssertionError(layout);
        }
        // Printed names win over the underscore-less spelling of a bit: GFP_ATOMIC is not __GFP_ATOMIC.
        for (Map.Entry<String, Long> e : printTable) byName.put(e.getKey(), e.getValue());
        for (Map.Entry<String, Long> e : composites.entrySet()) byName.putIfAbsent(e.getKey(), e.getValue());
        for (Map.Entry<String, Long> e : bits.entrySet()) {
            byName.put(e.getKey(), e.getValue());
            byName.putIfAbsent(e.getKey().substring(2), e.getValue());
        }
    }

    private void bit(String name, long v) { bits.put(name, v); }
    private void comp(String name, long v) { composites.put(name, v); }

    private void print(String... names) {
        for (String n : names) {
            Long v = composites.containsKey(n) ? composites.get(n) : bits.get(n);
            if (v == null) throw new IllegalStateException(layout + ": no value for " + n);
            printTable.add(Map.entry(n, v));
        }
    }

    public static synchronized GfpCodec of(Layout layout) {
        return CODECS.computeIfAbsent(layout, GfpCodec::new);
    }

    public static GfpCodec forRelease(String kernelRelease) { return of(Layout.forRelease(kernelRelease)); }

    public Layout layout() { return layout; }

    /** The single bits, in bit order, with their canonical {@code __GFP_} names. */
    public Map<String, Long> bits() { return Collections.unmodifiableMap(bits); }

    public Map<String, Long> composites() { return Collections.unmodifiableMap(composites); }

    /** The print table in the kernel's order. */
    public List<Map.Entry<String, Long>> printTable() { return Collections.unmodifiableList(printTable); }

    /** The value of one name (a bit, with or without leading underscores, or a composite); null if unknown. */
    public Long valueOf(String name) { return byName.get(name); }

    /** Formats raw bits as {@code show_gfp_flags()} prints them. */
    public String format(long flags) {
        if (flags == 0) return zeroName;
        StringBuilder sb = new StringBuilder();
        long left = flags;
        for (Map.Entry<String, Long> e : printTable) {
            long m = e.getValue();
            if (m != 0 && (left & m) == m) {
                if (sb.length() > 0) sb.append('|');
                sb.append(e.getKey());
                left &= ~m;
            }
        }
        if (left != 0) {
            if (sb.length() > 0) sb.append('|');
            sb.append("0x").append(Long.toHexString(left));
        }
        return sb.toString();
    }

    /**
     * Parses a printed mask back to bits. Accepts the names of any position of the print table, hex
     * leftovers and plain numbers. Returns -1 when a name is unknown for this layout.
     */
    public long parse(String printed) {
        if (printed == null) return -1;
        String s = printed.trim();
        if (s.isEmpty()) return -1;
        if (s.equals("none") || s.equals(zeroName)) return 0;
        long v = 0;
        int start = 0;
        while (start <= s.length()) {
            int bar = s.indexOf('|', start);
            int end = bar < 0 ? s.length() : bar;
            String tok = s.substring(start, end).trim();
            Long t = byName.get(tok);
            if (t != null) {
                v |= t;
            } else if (tok.startsWith("0x") || tok.startsWith("0X")) {
                try {
                    v |= Long.parseUnsignedLong(tok.substring(2), 16);
                } catch (NumberFormatException e) {
                    return -1;
                }
            } else if (!tok.isEmpty() && Character.isDigit(tok.charAt(0))) {
                try {
                    v |= Long.parseLong(tok);
                } catch (NumberFormatException e) {
                    return -1;
                }
            } else {
                return -1;
            }
            if (bar < 0) break;
            start = bar + 1;
        }
        return v;
    }

    /** perf kmem's compact spelling of a printed mask, e.g. {@code K|NWR}. */
    public static String compact(String printed) {
        if (printed == null) return "";
        StringBuilder sb = new StringBuilder();
        for (String tok : printed.split("\\|")) {
            String c = COMPACT.getOrDefault(tok, COMPACT.getOrDefault(tok.startsWith("__") ? tok.substring(2) : "__" + tok, tok));
            if (sb.length() > 0) sb.append('|');
            sb.append(c);
        }
        return sb.toString();
    }

    /** {@code gfp_compact_table} of current perf (tools/perf/builtin-kmem.c), plus the 3.x spellings. */
    public static final Map<String, String> COMPACT;

    static {
        Map<String, String> m = new LinkedHashMap<>();
        String[] t = {"GFP_TRANSHUGE", "THP", "GFP_TRANSHUGE_LIGHT", "THL", "GFP_HIGHUSER_MOVABLE", "HUM",
            "GFP_HIGHUSER", "HU", "GFP_USER", "U", "GFP_KERNEL_ACCOUNT", "KAC", "GFP_KERNEL", "K", "GFP_NOFS", "NF",
            "GFP_ATOMIC", "A", "GFP_NOIO", "NI", "GFP_NOWAIT", "NW", "GFP_DMA", "D", "__GFP_HIGHMEM", "HM",
            "GFP_DMA32", "D32", "__GFP_HIGH", "H", "__GFP_ATOMIC", "_A", "__GFP_IO", "I", "__GFP_FS", "F",
            "__GFP_NOWARN", "NWR", "__GFP_RETRY_MAYFAIL", "R", "__GFP_NOFAIL", "NF", "__GFP_NORETRY", "NR",
            "__GFP_COMP", "C", "__GFP_ZERO", "Z", "__GFP_NOMEMALLOC", "NMA", "__GFP_MEMALLOC", "MA",
            "__GFP_HARDWALL", "HW", "__GFP_THISNODE", "TN", "__GFP_RECLAIMABLE", "RC", "__GFP_MOVABLE", "M",
            "__GFP_ACCOUNT", "AC", "__GFP_WRITE", "WR", "__GFP_RECLAIM", "R", "__GFP_DIRECT_RECLAIM", "DR",
            "__GFP_KSWAPD_RECLAIM", "KR",
            "GFP_TEMPORARY", "TMP", "GFP_WAIT", "W", "GFP_COLD", "CO", "GFP_REPEAT", "R", "GFP_NOTRACK", "NT",
            "GFP_NO_KSWAPD", "NK", "GFP_OTHER_NODE", "ON", "__GFP_FAST_TRY", "FT"};
        for (int i = 0; i < t.length; i += 2) m.put(t[i], t[i + 1]);
        COMPACT = Collections.unmodifiableMap(m);
    }
}
