package org.kmemlab.recorder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceInfo;

/**
 * Numeric field values are parsed straight from the bytes, in the pass that finds where they end; whatever
 * that parse refuses goes the String path. Either way a value must mean what the JDK's own parsing of the
 * text says (with the two documented exceptions: node is a long cut to int, and accounted is true or 1,
 * anything else false), and a value that is no number makes the line malformed. The expectations here use
 * Long.parseLong and friends only.
 */
class FieldValuesTest {
    @TempDir Path dir;

    @AfterEach
    void restore() { TextImporter.twoThreads = true; }

    static final String[] PTRS = {"0xffff888102577280", "0XABCdef", "ffff8881", "0x", "0x0", "0", "(nil)", "(null)", "0x(nil)",
        "0x12345678901234567", "0xffffffffffffffff", "ffffffffffffffff", "", "0xg1", "-1", "12ab", "0x-1", "0x0000000000000001a"};
    static final String[] PFNS = {"0x1234", "1234", "0x", "abc", "0xFFFFF", "", "99999999999999999999", "0x1g", "-0x1", "007"};
    static final String[] NUMS = {"0", "-5", "123456789012345678", "1234567890123456789", "-123456789012345678", "12a", "", "-",
        "+5", "\u0661\u0662", "--1", "5-", "99999999999999999999"};
    static final String[] NODES = {"-1", "0", "3", "4294967297", "x", "", "-", "+2", "2147483648"};
    static final String[] BOOLS = {"true", "false", "1", "0", "TRUE", "yes", "", "10", "truex"};

    /** ptr: 0x optional, (null) and (nil) are 0, else unsigned hex. */
    static Long ptr(String v) {
        String s = v.startsWith("0x") || v.startsWith("0X") ? v.substring(2) : v;
        if (s.equals("(null)") || s.equals("(nil)")) return 0L;
        try { return Long.parseUnsignedLong(s, 16); } catch (NumberFormatException e) { return null; }
    }

    /** pfn: 0x-prefixed hex, else decimal. */
    static Long pfn(String v) {
        try {
            if (v.startsWith("0x") || v.startsWith("0X")) return Long.parseUnsignedLong(v.substring(2), 16);
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static Long dec(String v) {
        try { return Long.parseLong(v); } catch (NumberFormatException e) { return null; }
    }

    /** Up to 18 ASCII digits (with a minus) are read as a long and cut to int; the rest as Integer.parseInt reads them. */
    static Long node(String v) {
        if (v.matches("-?[0-9]{1,18}")) return (long) (int) Long.parseLong(v);
        try { return (long) Integer.parseInt(v); } catch (NumberFormatException e) { return null; }
    }

    record Line(String text, boolean page, Long ptrOrPfn, Long bytesReq, Long node, boolean accounted, boolean good) {}

    static List<Line> lines(long seed, int n) {
        Random r = new Random(seed);
        List<Line> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String ts = String.format("%d.%06d", 100 + i, i % 1_000_000);
            if (r.nextInt(3) == 0) {
                String pf = PFNS[r.nextInt(PFNS.length)];
                Long p = pfn(pf);
                String text = String.format("            tar  %d [%03d] %s: kmem:mm_page_alloc: page=0xffffea0004f0e2c0 pfn=%s order=0 migratetype=1 gfp_flags=GFP_KERNEL",
                        500 + i % 3, i % 2, ts, pf);
                out.add(new Line(text, true, p, null, null, false, p != null));
            } else {
                String pt = PTRS[r.nextInt(PTRS.length)], br = NUMS[r.nextInt(NUMS.length)], nd = NODES[r.nextInt(NODES.length)],
                        ac = BOOLS[r.nextInt(BOOLS.length)];
                Long p = ptr(pt), b = dec(br), no = node(nd);
                String text = String.format("            tar  %d [%03d] %s:   kmem:kmalloc: call_site=fn%d+0x10 ptr=%s bytes_req=%s bytes_alloc=64 gfp_flags=GFP_KERNEL node=%s accounted=%s",
                        500 + i % 3, i % 2, ts, i % 5, pt, br, nd, ac);
                out.add(new Line(text, false, p, b, no, ac.equals("true") || ac.equals("1"), p != null && b != null && no != null));
            }
        }
        return out;
    }

    @Test
    void numbersMeanWhatTheJdkReadsInThemOnBothPaths() throws Exception {
        List<Line> lines = lines(3, 4000);
        StringBuilder sb = new StringBuilder();
        for (Line l : lines) sb.append(l.text()).append('\n');
        long good = lines.stream().filter(Line::good).count();
        assertTrue(good > 100 && good < lines.size() - 100, "both outcomes are exercised: " + good);
        for (boolean two : new boolean[] {false, true}) {
            TextImporter.twoThreads = two;
            Path out = ImportSupport.importPerfScriptText(sb.toString(), dir, ImportOptions.defaults());
            Map<Long, TraceEvent> byTs = new HashMap<>();
            TraceInfo info = ImportSupport.read(out, e -> {
                TraceEvent x = new TraceEvent();
                x.copyFrom(e);
                byTs.put(x.tsNs, x);
            });
            assertEquals(Long.toString(lines.size() - good), info.meta.get("unparsed_lines"), "two threads: " + two);
            assertEquals(good, byTs.size());
            for (int i = 0; i < lines.size(); i++) {
                Line l = lines.get(i);
                TraceEvent e = byTs.get((100L + i) * 1_000_000_000L + (i % 1_000_000) * 1000L);
                if (!l.good()) {
                    assertEquals(null, e, l.text());
                    continue;
                }
                assertTrue(e != null, l.text());
                if (l.page()) {
                    assertEquals(l.ptrOrPfn(), e.pfn, l.text());
                } else {
                    assertEquals(l.ptrOrPfn(), e.ptr, l.text());
                    assertEquals(l.bytesReq(), e.bytesReq, l.text());
                    assertEquals(l.node(), (long) e.node, l.text());
                    assertEquals(l.accounted(), e.accounted, l.text());
                    assertTrue(e.has(TraceEvent.F_ACCOUNTED), l.text());
                }
            }
        }
    }
}
