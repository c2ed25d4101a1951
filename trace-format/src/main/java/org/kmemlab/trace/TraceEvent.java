package org.kmemlab.trace;

/**
 * One kernel allocation event, as a mutable row that importers fill and reuse.
 *
 * <p>Field names follow the tracepoint fields of {@code include/trace/events/kmem.h} (see
 * trace-format/SCHEMA.md). Numeric fields that do not apply to an event are absent rather than zero:
 * {@link #has(long)} tells which are present, so that a {@code ptr} of 0 (kfree(NULL)) stays
 * distinguishable from "no ptr". Reusing one instance keeps importers allocation-free per line.
 */
public final class TraceEvent {
    public static final long F_CPU = 1L, F_PID = 1L << 1, F_TID = 1L << 2, F_PTR = 1L << 3,
            F_BYTES_REQ = 1L << 4, F_BYTES_ALLOC = 1L << 5, F_GFP_FLAGS = 1L << 6, F_NODE = 1L << 7,
            F_ACCOUNTED = 1L << 8, F_PFN = 1L << 9, F_ORDER = 1L << 10, F_MIGRATETYPE = 1L << 11,
            F_STACK_ID = 1L << 12, F_TS = 1L << 13;

    public long present;
    public long tsNs;
    public int cpu;
    public int pid;
    public int tid;
    public String comm;
    /** perf's {@code subsystem:name}, for example {@code kmem:kmalloc}. */
    public String event;
    /** As recorded: {@code sym+0x1a}, {@code sym+0x1a/0x140}, or a raw address. */
    public String callSite;
    /** The symbol alone, {@code sym}. */
    public String callSiteFn;
    public long ptr;
    public long bytesReq;
    public long bytesAlloc;
    public long gfpFlags;
    /** gfp as the source printed it. */
    public String gfp;
    public int node;
    public String cache;
    public boolean accounted;
    public long pfn;
    public int order;
    public int migratetype;
    /** task, softirq, hardirq or nmi, where the source says so. */
    public String context;
    public int stackId;
    /** The remaining fields of the event as {@code key=value} text. */
    public String extra;

    public void clear() {
        present = 0;
        tsNs = 0; cpu = 0; pid = 0; tid = 0; comm = null; event = null; callSite = null; callSiteFn = null;
        ptr = 0; bytesReq = 0; bytesAlloc = 0; gfpFlags = 0; gfp = null; node = 0; cache = null;
        accounted = false; pfn = 0; order = 0; migratetype = 0; context = null; stackId = 0; extra = null;
    }

    public boolean has(long flag) { return (present & flag) != 0; }

    public TraceEvent ts(long v) { tsNs = v; present |= F_TS; return this; }
    public TraceEvent cpu(int v) { cpu = v; present |= F_CPU; return this; }
    public TraceEvent pid(int v) { pid = v; present |= F_PID; return this; }
    public TraceEvent tid(int v) { tid = v; present |= F_TID; return this; }
    public TraceEvent ptr(long v) { ptr = v; present |= F_PTR; return this; }
    public TraceEvent bytesReq(long v) { bytesReq = v; present |= F_BYTES_REQ; return this; }
    public TraceEvent bytesAlloc(long v) { bytesAlloc = v; present |= F_BYTES_ALLOC; return this; }
    public TraceEvent gfpFlags(long v) { gfpFlags = v; present |= F_GFP_FLAGS; return this; }
    public TraceEvent node(int v) { node = v; present |= F_NODE; return this; }
    public TraceEvent accounted(boolean v) { accounted = v; present |= F_ACCOUNTED; return this; }
    public TraceEvent pfn(long v) { pfn = v; present |= F_PFN; return this; }
    public TraceEvent order(int v) { order = v; present |= F_ORDER; return this; }
    public TraceEvent migratetype(int v) { migratetype = v; present |= F_MIGRATETYPE; return this; }
    public TraceEvent stackId(int v) { stackId = v; present |= F_STACK_ID; return this; }

    public void copyFrom(TraceEvent o) {
        present = o.present; tsNs = o.tsNs; cpu = o.cpu; pid = o.pid; tid = o.tid; comm = o.comm;
        event = o.event; callSite = o.callSite; callSiteFn = o.callSiteFn; ptr = o.ptr; bytesReq = o.bytesReq;
        bytesAlloc = o.bytesAlloc; gfpFlags = o.gfpFlags; gfp = o.gfp; node = o.node; cache = o.cache;
        accounted = o.accounted; pfn = o.pfn; order = o.order; migratetype = o.migratetype; context = o.context;
        stackId = o.stackId; extra = o.extra;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append(tsNs).append(' ').append(event).append(" cpu=").append(cpu).append(" pid=").append(pid)
                .append(" comm=").append(comm);
        if (callSite != null) sb.append(" call_site=").append(callSite);
        if (has(F_PTR)) sb.append(" ptr=0x").append(Long.toHexString(ptr));
        if (has(F_BYTES_REQ)) sb.append(" bytes_req=").append(bytesReq);
        if (has(F_BYTES_ALLOC)) sb.append(" bytes_alloc=").append(bytesAlloc);
        if (gfp != null) sb.append(" gfp=").append(gfp);
        if (cache != null) sb.append(" cache=").append(cache);
        if (has(F_PFN)) sb.append(" pfn=0x").append(Long.toHexString(pfn));
        if (has(F_ORDER)) sb.append(" order=").append(order);
        if (has(F_MIGRATETYPE)) sb.append(" migratetype=").append(migratetype);
        if (context != null) sb.append(" context=").append(context);
        if (extra != null) sb.append(" extra=").append(extra);
        return sb.toString();
    }
}
