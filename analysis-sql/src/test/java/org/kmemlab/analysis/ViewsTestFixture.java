package org.kmemlab.analysis;

import java.nio.file.Path;
import java.util.Map;

import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceEvent;
import org.kmemlab.trace.TraceWriter;

/** The small hand-checked trace of ViewsTest (expectations there), shared with chart and report tests. */
public final class ViewsTestFixture {
    private ViewsTestFixture() {}

    public static TraceEvent ev(long ts, int cpu, String event) {
        TraceEvent e = new TraceEvent();
        e.ts(ts).cpu(cpu).pid(1).tid(1);
        e.comm = "t";
        e.event = event;
        return e;
    }

    public static TraceEvent slab(long ts, int cpu, String event, long ptr, String fn, String cache, String ctx, long req, long alloc) {
        TraceEvent e = ev(ts, cpu, event).ptr(ptr);
        if (fn != null) { e.callSiteFn = fn; e.callSite = fn + "+0x1"; }
        e.cache = cache;
        e.context = ctx;
        if (alloc > 0) e.bytesReq(req).bytesAlloc(alloc);
        return e;
    }

    public static TraceEvent page(long ts, int cpu, String event, long pfn, int order, Integer mt, String gfp) {
        TraceEvent e = ev(ts, cpu, event).pfn(pfn).order(order);
        if (mt != null) e.migratetype(mt);
        e.gfp = gfp;
        return e;
    }

    public static Path write(Path tmp) throws Exception {
        Path p = tmp.resolve("fix.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            w.accept(slab(100, 0, EventNames.KMALLOC, 0xA, "f1", null, "task", 10, 16));
            w.accept(page(150, 0, EventNames.MM_PAGE_ALLOC, 1000, 0, 0, "GFP_KERNEL"));
            w.accept(slab(200, 1, EventNames.KFREE, 0xA, "g", null, "softirq", 0, 0));
            w.accept(page(250, 0, EventNames.MM_PAGE_ALLOC, 2000, 2, 1, "GFP_HIGHUSER_MOVABLE"));
            w.accept(slab(300, 0, EventNames.KFREE, 0xB, "g", null, "task", 0, 0));
            w.accept(page(350, 1, EventNames.MM_PAGE_FREE, 1000, 0, null, null));
            w.accept(slab(400, 0, EventNames.KMEM_CACHE_ALLOC, 0xC, "f2", null, "task", 100, 128));
            w.accept(page(450, 0, EventNames.MM_PAGE_FREE_BATCHED, 3000, 0, null, null));
            w.accept(slab(500, 0, EventNames.KMEM_CACHE_ALLOC, 0xC, "f2", null, "task", 100, 128));
            w.accept(slab(600, 0, EventNames.KMEM_CACHE_FREE, 0xC, "h", "dentry", "task", 0, 0));
            w.accept(slab(700, 1, EventNames.KMEM_CACHE_FREE, 0xC, "h", "dentry", "task", 0, 0));
            w.accept(slab(800, 1, EventNames.KMALLOC, 0xD, "f1", null, "softirq", 30, 32));
            w.accept(slab(800, 0, EventNames.KFREE, 0, "g", null, "task", 0, 0));
            w.accept(slab(900, 0, EventNames.KMALLOC, 0, "f3", null, "task", 50, 64));
        }
        return p;
    }

}
