package org.kmemlab.bench;

import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.page.MachineBuilder;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.PageConst;
import org.kmemlab.alloc.page.PerCpuPages;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Order-0 alloc+free pairs per second through {@link PageAllocator} (acceptance 4; target 20M pairs/s on
 * the pcp fast path). {@code fastPath}: both halves hit this CPU's pcp list. {@code bulkPath}: pcp high and
 * batch are 1, so every allocation refills through rmqueue_bulk and every free returns the page through
 * free_pcppages_bulk, each under zone->lock.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PageAllocBench {
    @Param({"ENOW", "E2020"})
    public String era;

    PageAllocator fast, bulk;
    NullExecContext ctx = new NullExecContext(0);

    @Setup
    public void setup() {
        KernelEra e = KernelEra.valueOf(era);
        fast = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(1L << 30).cpus(2).era(e));
        bulk = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(1L << 30).cpus(2).era(e));
        for (org.kmemlab.alloc.page.Zone z : bulk.zones()) z.pcp(0).setHighBatch(1, 1, 1, 1);
        // warm the fast pcp list
        fast.freePages(ctx, fast.allocPages(ctx, 0, Gfp.GFP_KERNEL), 0);
    }

    @Benchmark
    @org.openjdk.jmh.annotations.OutputTimeUnit(TimeUnit.SECONDS)
    public long fastPath() {
        long pfn = fast.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        fast.freePages(ctx, pfn, 0);
        return pfn;
    }

    @Benchmark
    @org.openjdk.jmh.annotations.OutputTimeUnit(TimeUnit.SECONDS)
    public long bulkPath() {
        long pfn = bulk.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        bulk.freePages(ctx, pfn, 0);
        return pfn;
    }

    /** A quick measurement without the JMH runner: {@code java -cp ... PageAllocBench [seconds]}. */
    public static void main(String[] args) {
        double secs = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        for (String e : new String[]{"ENOW", "E2020"}) {
            PageAllocBench b = new PageAllocBench();
            b.era = e;
            b.setup();
            for (int round = 0; round < 3; round++) {
                double[] f = rate(b::fastPath, secs), k = rate(b::bulkPath, secs);
                System.out.printf("%-6s fast %6.1f M pairs/s (%6.1f per CPU-second)   bulk %6.1f M pairs/s (%6.1f per CPU-second)%n",
                        e, f[0] / 1e6, f[1] / 1e6, k[0] / 1e6, k[1] / 1e6);
            }
        }
        if (PageConst.NR_ORDERS != 11 || PerCpuPages.PCP_BATCH_SCALE_MAX != 5) throw new AssertionError();
    }

    /** {pairs per wall second, pairs per second of this thread's CPU time} (the latter is robust on a shared machine). */
    static double[] rate(java.util.function.LongSupplier op, double secs) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long n = 0, sink = 0;
        long end = System.nanoTime() + (long) (secs * 1e9);
        long start = System.nanoTime(), cpu0 = mx.getCurrentThreadCpuTime();
        while (true) {
            for (int i = 0; i < 10000; i++) sink += op.getAsLong();
            n += 10000;
            if (System.nanoTime() >= end) break;
        }
        if (sink == 42) System.out.print("");
        double wall = (System.nanoTime() - start) / 1e9, cpu = (mx.getCurrentThreadCpuTime() - cpu0) / 1e9;
        return new double[]{n / wall, n / cpu};
    }
}
