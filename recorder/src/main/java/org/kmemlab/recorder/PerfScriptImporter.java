package org.kmemlab.recorder;

import org.kmemlab.trace.TraceEvent;

/**
 * {@code perf script} text, default fields, with or without call chains ({@code perf record -g}):
 * <pre>   comm with spaces  5422/5423 [001]  8762.856061:  kmem:kmalloc: call_site=... ptr=0x... </pre>
 * The command may contain spaces, so the line is anchored on the {@code [cpu]} field and read outwards.
 * perf's default output has no irq context, so {@code context} stays null.
 */
public final class PerfScriptImporter extends TextImporter {
    @Override
    public String format() { return "perf-script"; }

    @Override
    public boolean accepts(byte[] head, int len) {
        return LineShape.firstEventLine(head, len) == LineShape.PERF_SCRIPT;
    }

    /** perf script lines have no side effects of their own (no comment or special lines): parse on two threads. */
    @Override
    protected TextImporter forkParser() { return new PerfScriptImporter(); }

    @Override
    protected String header(byte[] b, int p, int end, TraceEvent e) {
        int br = findCpuBracket(b, p, end);
        if (br < 0) return "expected '[cpu]' after the command and pid";
        // pid (or pid/tid) is the last token before the bracket; the command is everything before it.
        int q = br - 1;
        while (q > p && b[q] == ' ') q--;
        int pidEnd = q + 1;
        while (q >= p && b[q] != ' ') q--;
        int pidStart = q + 1;
        int slash = -1;
        for (int i = pidStart; i < pidEnd; i++) if (b[i] == '/') slash = i;
        long pid = parseLong(b, pidStart, slash < 0 ? pidEnd : slash);
        if (pid < 0) return "expected a pid before '[cpu]'";
        e.pid((int) pid);
        if (slash >= 0) {
            long tid = parseLong(b, slash + 1, pidEnd);
            if (tid < 0) return "expected pid/tid before '[cpu]'";
            e.tid((int) tid);
        } else {
            e.tid((int) pid);
        }
        int c = q;
        while (c > p && b[c] == ' ') c--;
        e.comm = c >= p ? strings.get(b, p, c - p + 1) : "";
        int cpuEnd = br + 1;
        while (b[cpuEnd] != ']') cpuEnd++;
        e.cpu((int) parseLong(b, br + 1, cpuEnd));
        int t = cpuEnd + 1;
        while (t < end && b[t] == ' ') t++;
        int tsEnd = t;
        while (tsEnd < end && b[tsEnd] != ':' && b[tsEnd] != ' ') tsEnd++;
        long ts = parseTimestamp(b, t, tsEnd);
        if (ts < 0 || tsEnd >= end || b[tsEnd] != ':') return "expected a timestamp 'seconds.fraction:' after '[cpu]'";
        e.ts(ts);
        int ev = skipSpaces(b, tsEnd + 1, end);
        int evEnd = spaceOrEnd(b, ev, end);
        if (evEnd == ev || b[evEnd - 1] != ':') return "expected an event name 'subsystem:name:'";
        e.event = eventName(b, ev, evEnd - 1);
        fieldsStart = evEnd;
        return null;
    }
}
