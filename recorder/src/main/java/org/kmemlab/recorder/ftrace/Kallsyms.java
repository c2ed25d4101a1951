package org.kmemlab.recorder.ftrace;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import com.carrotsearch.hppc.LongObjectHashMap;

/**
 * Kernel address to {@code symbol+0xoffset}, the way {@code perf script} prints {@code %pS} call sites.
 * Loads {@code /proc/kallsyms} text like perf's {@code kallsyms__parse}/{@code map__process_kallsym_symbol}
 * (tools/perf/util/symbol.c): only text, weak, data and bss symbols ({@code symbol_type__filter}); among
 * symbols at one address the one {@code choose_best_symbol} prefers (non-weak, then global, then fewer
 * leading underscores, then the longer name, then the first). A lookup returns the nearest symbol at or
 * below the address, and results are cached per address because call sites repeat.
 */
public final class Kallsyms {
    private final long[] addrs;
    private final String[] names;
    private final LongObjectHashMap<String> cache = new LongObjectHashMap<>();

    private Kallsyms(long[] addrs, String[] names) {
        this.addrs = addrs;
        this.names = names;
    }

    public static Kallsyms empty() { return new Kallsyms(new long[0], new String[0]); }

    public static Kallsyms load(Path p) throws IOException {
        return parse(new String(Files.readAllBytes(p), StandardCharsets.UTF_8));
    }

    public int size() { return addrs.length; }

    /** Parses {@code ADDR TYPE NAME [module]} lines; malformed lines are skipped (kallsyms has no others). */
    public static Kallsyms parse(CharSequence text) {
        int n = 0;
        long[] a = new long[1024];
        String[] nm = new String[1024];
        char[] ty = new char[1024];
        int len = text.length();
        int p = 0;
        while (p < len) {
            int eol = p;
            while (eol < len && text.charAt(eol) != '\n') eol++;
            int sp1 = indexOf(text, ' ', p, eol);
            int sp2 = sp1 < 0 ? -1 : indexOf(text, ' ', sp1 + 1, eol);
            if (sp1 > p && sp2 == sp1 + 2) {
                char type = text.charAt(sp1 + 1);
                char up = Character.toUpperCase(type);
                if (up == 'T' || up == 'W' || up == 'D' || up == 'B') {
                    long addr = parseHex(text, p, sp1);
                    int nameEnd = sp2 + 1;
                    while (nameEnd < eol && text.charAt(nameEnd) != '\t' && text.charAt(nameEnd) != ' ') nameEnd++;
                    if (addr != -1 && nameEnd > sp2 + 1) {
                        if (n == a.length) {
                            a = Arrays.copyOf(a, n * 2);
                            nm = Arrays.copyOf(nm, n * 2);
                            ty = Arrays.copyOf(ty, n * 2);
                        }
                        a[n] = addr;
                        nm[n] = text.subSequence(sp2 + 1, nameEnd).toString();
                        ty[n] = type;
                        n++;
                    }
                }
            }
            p = eol + 1;
        }
        // Stable sort by address, keeping file order among equal addresses (perf's rbtree insert does too).
        // /proc/kallsyms is sorted already except for module symbols: skip the sort when it is.
        int[] idx = new int[n];
        boolean sorted = true;
        for (int i = 0; i < n; i++) {
            idx[i] = i;
            if (i > 0 && Long.compareUnsigned(a[i - 1], a[i]) > 0) sorted = false;
        }
        if (!sorted) {
            Integer[] boxed = new Integer[n];
            for (int i = 0; i < n; i++) boxed[i] = i;
            final long[] fa = a;
            Arrays.sort(boxed, (x, y) -> Long.compareUnsigned(fa[x], fa[y]));
            for (int i = 0; i < n; i++) idx[i] = boxed[i];
        }
        long[] outA = new long[n];
        String[] outN = new String[n];
        int m = 0;
        int lastKept = -1;
        for (int k = 0; k < n; k++) {
            int i = idx[k];
            if (m > 0 && outA[m - 1] == a[i]) {
                // symbols__fixup_duplicate: keep the better of the two.
                int prev = lastKept;
                if (!better(nm[prev], ty[prev], nm[i], ty[i])) {
                    outN[m - 1] = nm[i];
                    lastKept = i;
                }
                continue;
            }
            outA[m] = a[i];
            outN[m] = nm[i];
            lastKept = i;
            m++;
        }
        return new Kallsyms(Arrays.copyOf(outA, m), Arrays.copyOf(outN, m));
    }

    /** choose_best_symbol: true when (na, ta) should be kept over (nb, tb). */
    private static boolean better(String na, char ta, String nb, char tb) {
        boolean wa = ta == 'W', wb = tb == 'W';
        if (wb && !wa) return true;
        if (wa && !wb) return false;
        boolean ga = !wa && Character.isUpperCase(ta), gb = !wb && Character.isUpperCase(tb);
        if (ga && !gb) return true;
        if (gb && !ga) return false;
        int ua = underscores(na), ub = underscores(nb);
        if (ub > ua) return true;
        if (ua > ub) return false;
        return na.length() >= nb.length();
    }

    private static int underscores(String s) {
        int i = 0;
        while (i < s.length() && s.charAt(i) == '_') i++;
        return i;
    }

    private static int indexOf(CharSequence s, char c, int from, int to) {
        for (int i = from; i < to; i++) if (s.charAt(i) == c) return i;
        return -1;
    }

    private static long parseHex(CharSequence s, int p, int q) {
        if (q - p > 16 || q == p) return -1;
        long v = 0;
        for (int i = p; i < q; i++) {
            int d = Character.digit(s.charAt(i), 16);
            if (d < 0) return -1;
            v = (v << 4) | d;
        }
        return v;
    }

    /** {@code sym+0xoff}, or {@code 0x<addr>} when no symbol covers the address (perf's fallback). */
    public String symbolize(long addr) {
        String s = cache.get(addr);
        if (s != null) return s;
        int i = floor(addr);
        s = i < 0 ? "0x" + Long.toHexString(addr) : names[i] + "+0x" + Long.toHexString(addr - addrs[i]);
        cache.put(addr, s);
        return s;
    }

    /** The symbol name alone, or null. */
    public String function(long addr) {
        int i = floor(addr);
        return i < 0 ? null : names[i];
    }

    private int floor(long addr) {
        int lo = 0, hi = addrs.length - 1, r = -1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(addrs[mid], addr) <= 0) {
                r = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return r;
    }
}
