package org.kmemlab.recorder;

import java.nio.charset.StandardCharsets;

import org.kmemlab.trace.TraceEvent;

/**
 * ftrace text: {@code /sys/kernel/tracing/trace}, {@code trace_pipe}, and {@code trace-cmd report}:
 * <pre>            bash-5902    [000] d.s1.  9056.701404: kmalloc: call_site=... ptr=00000000b4c01e06 ...</pre>
 * The latency flags column (when present) gives the context: its hardirq/softirq character is
 * {@code z}/{@code Z} for NMI, {@code h}/{@code H} for hardirq, {@code s} for softirq, {@code .} for task
 * (kernel/trace/trace_output.c, {@code trace_print_lat_fmt}). Pointers are hashed by {@code %p} but
 * stable within a boot, so frees still pair with their allocations. Lost-event markers
 * ({@code CPU:1 [LOST 673 EVENTS]}) are counted per CPU.
 */
public final class FtraceTextImporter extends TextImporter {
    private static final byte[] LOST = "[LOST ".getBytes(StandardCharsets.US_ASCII);

    @Override
    public String format() { return "ftrace"; }

    @Override
    public boolean accepts(byte[] head, int len) {
        return LineShape.firstEventLine(head, len) == LineShape.FTRACE;
    }

    @Override
    protected void comment(byte[] b, int p, int end) {
        // "# entries-in-buffer/entries-written: 133117/133117   #P:2"
        for (int i = p + 1; i + 2 < end; i++) {
            if (b[i] == '#' && b[i + 1] == 'P' && b[i + 2] == ':') {
                long n = parseLong(b, i + 3, end);
                if (n > 0) out.meta("nr_cpus", Long.toString(n));
            }
        }
    }

    @Override
    protected boolean special(byte[] b, int p, int end) {
        int at = indexOf(b, p, end, LOST);
        if (at < 0) {
            // trace-cmd report preamble: "cpus=2", "version = 6", "CPU 0 is empty".
            if (end - p >= 5 && b[p] == 'c' && b[p + 1] == 'p' && b[p + 2] == 'u' && b[p + 3] == 's' && b[p + 4] == '=') {
                long n = parseLong(b, p + 5, end);
                if (n > 0) out.meta("nr_cpus", Long.toString(n));
                return true;
            }
            return startsWith(b, p, end, "version") || startsWith(b, p, end, "CPU ");
        }
        // "CPU:1 [LOST 673 EVENTS]"
        int cpu = -1;
        if (startsWith(b, p, end, "CPU:")) {
            int q = p + 4;
            while (q < end && b[q] >= '0' && b[q] <= '9') q++;
            cpu = (int) parseLong(b, p + 4, q);
        }
        int q = at + LOST.length;
        int r = q;
        while (r < end && b[r] >= '0' && b[r] <= '9') r++;
        long n = parseLong(b, q, r);
        if (n >= 0) out.lost(cpu, n);
        return true;
    }

    @Override
    protected String header(byte[] b, int p, int end, TraceEvent e) {
        int br = findCpuBracket(b, p, end);
        if (br < 0) return "expected 'comm-pid [cpu]' at the start of the line";
        int q = br - 1;
        while (q > p && b[q] == ' ') q--;
        int tokEnd = q + 1;
        int dash = -1;
        for (int i = tokEnd - 1; i >= p; i--) if (b[i] == '-') { dash = i; break; }
        if (dash < 0) return "expected 'comm-pid' before '[cpu]'";
        long pid = parseLong(b, dash + 1, tokEnd);
        if (pid < 0) return "expected a pid after the last '-' of 'comm-pid'";
        e.pid((int) pid).tid((int) pid);
        e.comm = strings.get(b, p, dash - p);
        int cpuEnd = br + 1;
        while (b[cpuEnd] != ']') cpuEnd++;
        e.cpu((int) parseLong(b, br + 1, cpuEnd));
        int t = cpuEnd + 1;
        while (t < end && b[t] == ' ') t++;
        int tEnd = t;
        while (tEnd < end && b[tEnd] != ' ') tEnd++;
        long ts = tEnd > t && b[tEnd - 1] == ':' ? parseTimestamp(b, t, tEnd - 1) : -1;
        if (ts < 0) {
            // A latency-flags column precedes the timestamp.
            if (tEnd - t >= 3) e.context = contextOf(b[t + 2]);
            t = tEnd;
            while (t < end && b[t] == ' ') t++;
            tEnd = t;
            while (tEnd < end && b[tEnd] != ' ') tEnd++;
            ts = tEnd > t && b[tEnd - 1] == ':' ? parseTimestamp(b, t, tEnd - 1) : -1;
            if (ts < 0) return "expected a timestamp 'seconds.fraction:' after '[cpu]' and the flags";
        }
        e.ts(ts);
        int ev = tEnd;
        while (ev < end && b[ev] == ' ') ev++;
        int evEnd = ev;
        while (evEnd < end && b[evEnd] != ' ') evEnd++;
        if (evEnd == ev || b[evEnd - 1] != ':') return "expected an event name followed by ':'";
        e.event = eventName(b, ev, evEnd - 1);
        fieldsStart = evEnd;
        return null;
    }

    private static String contextOf(byte c) {
        return switch (c) {
            case 'z', 'Z' -> "nmi";
            case 'h', 'H' -> "hardirq";
            case 's' -> "softirq";
            case '.' -> "task";
            default -> null;
        };
    }

    private static int indexOf(byte[] b, int p, int end, byte[] pat) {
        outer:
        for (int i = p; i + pat.length <= end; i++) {
            for (int k = 0; k < pat.length; k++) if (b[i + k] != pat[k]) continue outer;
            return i;
        }
        return -1;
    }

    private static boolean startsWith(byte[] b, int p, int end, String s) {
        if (end - p < s.length()) return false;
        for (int i = 0; i < s.length(); i++) if (b[p + i] != s.charAt(i)) return false;
        return true;
    }
}
