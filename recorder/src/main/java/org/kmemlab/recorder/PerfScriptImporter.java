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

    /**
     * The bytes from the line's first non-blank to the {@code ]} of the previous header parsed (zero-padded to
     * whole words, {@link StringCache#equalPadded}) and what they said. Consecutive lines of one task on one CPU
     * repeat them byte for byte (95-98% of the lines of the shared traces): comparing four words then replaces
     * the search for the bracket, the scans back over pid and command, two number parses and the command's
     * interning. Equal bytes give equal results: the bracket search, the pid and command parse read nothing past
     * that {@code ]} (the first {@code [digits]} after a space is inside the run, so it is found there again).
     */
    private byte[] lastHead = new byte[64];
    private int lastHeadLen = -1, lastPid, lastTid, lastCpu;
    private String lastComm;

    @Override
    protected String header(byte[] b, int p, int end, TraceEvent e) {
        int n = lastHeadLen;
        if (n > 0 && n <= end - p && StringCache.equalPadded(lastHead, b, p, n)) {
            e.pid(lastPid);
            e.tid(lastTid);
            e.comm = lastComm;
            e.cpu(lastCpu);
            return afterCpu(b, p + n, end, e);
        }
        String err = parseHead(b, p, end, e);
        return err != null ? err : afterCpu(b, fieldsStart, end, e);
    }

    /** Command, pid/tid and [cpu]; leaves the index after ']' in fieldsStart and remembers the bytes it read. */
    private String parseHead(byte[] b, int p, int end, TraceEvent e) {
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
        int n = cpuEnd + 1 - p;
        if (n <= 256) {
            if (lastHead.length < n + 8) lastHead = new byte[2 * n + 8];
            java.util.Arrays.fill(lastHead, (byte) 0);
            System.arraycopy(b, p, lastHead, 0, n);
            lastHeadLen = n;
            lastPid = e.pid;
            lastTid = e.tid;
            lastComm = e.comm;
            lastCpu = e.cpu;
        } else {
            lastHeadLen = -1;
        }
        fieldsStart = cpuEnd + 1;
        return null;
    }

    /** The timestamp and the event name, from just after the {@code ]} of the CPU field. */
    private String afterCpu(byte[] b, int t, int end, TraceEvent e) {
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
