package org.kmemlab.recorder.generate;

import java.io.IOException;
import java.io.Writer;
import java.util.List;

import org.kmemlab.trace.GfpCodec;
import org.kmemlab.trace.TraceEvent;

/**
 * Writes events as {@code perf script -F comm,pid,tid,cpu,time,event,trace,ip,sym --ns} prints a recording
 * made with {@code perf record -g}: the sample line, then one tab-indented line per call-chain frame
 * (address, {@code sym+off}, dso) and a blank line. Field text follows each tracepoint's {@code TP_printk}
 * in {@code include/trace/events/kmem.h}, {@code rcu.h} and {@code cgroup.h} of the scenario's kernel:
 * before 6.1 a slab allocation with a node argument is {@code kmalloc_node}/{@code kmem_cache_alloc_node},
 * and {@code rcu_kvfree_callback} prints {@code "%s rhp=%p func=%ld %ld"} with rhp = object + offset.
 * {@code kmemlab:cpu_work} has no kernel counterpart and prints its columns as fields.
 */
public final class PerfScriptText implements Gen.Sink {
    private final Writer out;
    private final boolean nodeEvents;
    private final StringBuilder sb = new StringBuilder(256);

    public PerfScriptText(Writer out, String kernel, int nrCpus) throws IOException {
        this.out = out;
        GfpCodec.Layout l = GfpCodec.Layout.forRelease(kernel);
        String[] v = kernel.split("[.\\-]");
        int ver = 0;
        try {
            ver = Integer.parseInt(v[0]) * 1000 + Integer.parseInt(v[1]);
        } catch (RuntimeException ignored) {
            ver = l == GfpCodec.Layout.HEAD ? 6010 : 0;
        }
        this.nodeEvents = ver < 6001;
        out.write("# ========\n# hostname : kmemlab-generated\n# os release : " + kernel + "\n# nrcpus online : " + nrCpus
                + "\n# cmdline : /usr/bin/perf record -e kmem:* -g -a\n# ========\n#\n");
    }

    @Override
    public void accept(TraceEvent e, List<String> chain) throws IOException {
        sb.setLength(0);
        String comm = e.comm == null ? ":" + e.tid : e.comm;
        pad(comm, 16);
        sb.append(' ').append(e.pid).append('/').append(e.tid).append(" [");
        if (e.cpu < 100) sb.append('0');
        if (e.cpu < 10) sb.append('0');
        sb.append(e.cpu).append("] ").append(e.tsNs / 1_000_000_000L).append('.');
        String ns = Long.toString(e.tsNs % 1_000_000_000L);
        for (int i = ns.length(); i < 9; i++) sb.append('0');
        sb.append(ns).append(": ");
        fields(e);
        sb.append('\n');
        if (chain != null && !chain.isEmpty()) {
            for (String f : chain) {
                sb.append('\t').append(Long.toHexString(address(f))).append(' ').append(Gen.site(f)).append(" ([kernel.kallsyms])\n");
            }
            sb.append('\n');
        }
        out.append(sb);
    }

    private void pad(String s, int w) {
        for (int i = s.length(); i < w; i++) sb.append(' ');
        sb.append(s);
    }

    /** A kernel text address for a symbol: stable per name, within the kernel image. */
    static long address(String fn) {
        long h = fn.hashCode() & 0xffffffffL;
        return 0xffffffff81000000L + ((h * 0x9E3779B1L) & 0xfffff0L) + (Gen.site(fn).hashCode() & 0xf);
    }

    private void fields(TraceEvent e) {
        String ev = e.event;
        switch (ev) {
            case "kmem:kmalloc", "kmem:kmem_cache_alloc" -> {
                boolean node = e.has(TraceEvent.F_NODE);
                sb.append(node && nodeEvents ? ev + "_node" : ev).append(": ");
                sb.append("call_site=").append(e.callSite).append(" ptr=0x").append(Long.toHexString(e.ptr));
                if (e.cache != null) sb.append(" name=").append(e.cache);
                sb.append(" bytes_req=").append(e.bytesReq).append(" bytes_alloc=").append(e.bytesAlloc)
                        .append(" gfp_flags=").append(e.gfp);
                if (node) sb.append(" node=").append(e.node);
                if (e.has(TraceEvent.F_ACCOUNTED)) sb.append(" accounted=").append(e.accounted);
            }
            case "kmem:kfree", "kmem:kmem_cache_free" -> {
                sb.append(ev).append(": call_site=").append(e.callSite).append(" ptr=0x").append(Long.toHexString(e.ptr));
                if (e.cache != null) sb.append(" name=").append(e.cache);
            }
            case "kmem:mm_page_alloc" -> sb.append(ev).append(": page=0x").append(Long.toHexString(page(e.pfn)))
                    .append(" pfn=0x").append(Long.toHexString(e.pfn)).append(" order=").append(e.order)
                    .append(" migratetype=").append(e.migratetype).append(" gfp_flags=").append(e.gfp);
            case "kmem:mm_page_free" -> sb.append(ev).append(": page=0x").append(Long.toHexString(page(e.pfn)))
                    .append(" pfn=0x").append(Long.toHexString(e.pfn)).append(" order=").append(e.order);
            case "rcu:rcu_kvfree_callback" -> {
                // extra is "rcuname=R offset=O qlen=Q", written by Gen.kvfreeRcu
                String[] kv = e.extra.split(" ");
                String rcu = kv[0].substring(8);
                long off = Long.parseLong(kv[1].substring(7));
                String qlen = kv[2].substring(5);
                sb.append(ev).append(": ").append(rcu).append(" rhp=0x").append(Long.toHexString(e.ptr + off))
                        .append(" func=").append(off).append(' ').append(qlen);
            }
            default -> {
                sb.append(ev).append(':');
                if (e.callSite != null) sb.append(" call_site=").append(e.callSite);
                if (e.has(TraceEvent.F_PTR)) sb.append(" ptr=0x").append(Long.toHexString(e.ptr));
                if (e.has(TraceEvent.F_BYTES_REQ)) sb.append(" bytes_req=").append(e.bytesReq);
                if (e.extra != null) sb.append(' ').append(e.extra);
            }
        }
    }

    /** The struct page address perf prints beside the pfn (vmemmap base + 64 bytes per page). */
    private static long page(long pfn) { return 0xffffea0000000000L + pfn * 64; }
}
