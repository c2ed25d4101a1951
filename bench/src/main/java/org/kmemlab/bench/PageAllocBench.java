package org.kmemlab.bench;

import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.core.KernelEra;
import org.kmemlab.alloc.page.AllocOutcome;
import org.kmemlab.alloc.page.MachineBuilder;
import org.kmemlab.alloc.page.PageAllocator;
import org.kmemlab.alloc.page.Zone;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Order-0 alloc+free pairs per second through {@link PageAllocator} (issue 3, acceptance 4; target 20M
 * pairs/s on the pcp fast path). {@code fastPath}: both halves hit this CPU's pcp list
 * ({@code rmqueue_pcplist()}, {@code free_unref_page()}). {@code bulkPath}: pcp high 0 and batch 1, as
 * {@code zone_pcp_disable()} leaves them, so every allocation refills through {@code rmqueue_bulk()} and every
 * free returns the page through
 * {@code free_pcppages_bulk()}, each under zone->lock. {@code bench/run.sh pcp} runs it beside
 * {@link NettyPooledBench} ({@link PcpSuite}); {@link #main} is a quick look without the JMH runner.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class PageAllocBench {
    @Param({"ENOW", "E2020"})
    public String era;

    PageAllocator fast, bulk;
    final NullExecContext ctx = new NullExecContext(0);

    @Setup
    public void setup() {
        KernelEra e = KernelEra.valueOf(era);
        fast = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(1L << 30).cpus(2).era(e));
        bulk = MachineBuilder.fromParams(new MachineBuilder.Params().totalBytes(1L << 30).cpus(2).era(e));
        // high 1 = batch 1 would give nr_pcp_free() clamp(free_count, 1, 0) = 0 pages to free, as __clamp() does
        for (Zone z : bulk.zones()) z.pcp(0).setHighBatch(0, 1, 0, 0);
        // warm the fast pcp list
        fast.freePages(ctx, fast.allocPages(ctx, 0, Gfp.GFP_KERNEL), 0);
        checkPaths();
    }

    /** Both benchmarks measure the path they are named for, or the run stops before it measures anything. */
    void checkPaths() {
        for (int i = 0; i < 3; i++) {
            fastPath();
            AllocOutcome o = fast.lastOutcome();
            if (!o.took(AllocOutcome.PATH_PCP) || o.took(AllocOutcome.PATH_PCP_REFILL) || o.took(AllocOutcome.PATH_SLOWPATH))
                throw new IllegalStateException("fastPath left the pcp fast path: " + o);
            bulkPath();
            o = bulk.lastOutcome();
            if (!o.took(AllocOutcome.PATH_PCP_REFILL) || o.took(AllocOutcome.PATH_SLOWPATH))
                throw new IllegalStateException("bulkPath did not refill through rmqueue_bulk: " + o);
            for (Zone z : bulk.zones())
                if (z.pcp(0).count() != 0) throw new IllegalStateException("bulkPath's free stayed on the pcp list of " + z);
        }
    }

    @Benchmark
    public long fastPath() {
        long pfn = fast.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        fast.freePages(ctx, pfn, 0);
        return pfn;
    }

    @Benchmark
    public long bulkPath() {
        long pfn = bulk.allocPages(ctx, 0, Gfp.GFP_KERNEL);
        bulk.freePages(ctx, pfn, 0);
        return pfn;
    }

    /**
     * A quick measurement without the JMH runner: {@code java -cp bench/target/benchmarks.jar
     * org.kmemlab.bench.PageAllocBench [seconds [ERA,...]]}. One era per JVM compares eras without the first
     * one's profile shaping the second one's compiled code.
     */
    public static void main(String[] args) {
        double secs = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        String[] eras = args.length > 1 ? args[1].split(",") : new String[]{"ENOW", "E2020"};
        for (String e : eras) {
            PageAllocBench b = new PageAllocBench();
            b.era = e;
            b.setup();
            for (int round = 0; round < 3; round++) {
                double[] f = rate(b::fastPath, secs), k = rate(b::bulkPath, secs);
                System.out.printf("%-6s fast %6.1f M pairs/s (%6.1f per CPU-second)   bulk %6.1f M pairs/s (%6.1f per CPU-second)%n",
                        e, f[0] / 1e6, f[1] / 1e6, k[0] / 1e6, k[1] / 1e6);
            }
        }
    }

    /** {pairs per wall second, pairs per second of this thread's CPU time} (the latter is robust on a shared machine). */
    static double[] rate(java.util.function.LongSupplier op, double secs) { return rate(op, secs, 10000); }

    /** The same, with {@code perCheck} calls of {@code op} between two looks at the clock. */
    static double[] rate(java.util.function.LongSupplier op, double secs, int perCheck) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long n = 0, sink = 0;
        long end = System.nanoTime() + (long) (secs * 1e9);
        long start = System.nanoTime(), cpu0 = mx.getCurrentThreadCpuTime();
        while (true) {
            for (int i = 0; i < perCheck; i++) sink += op.getAsLong();
            n += perCheck;
            if (System.nanoTime() >= end) break;
        }
        if (sink == 42) System.out.print("");
        double wall = (System.nanoTime() - start) / 1e9, cpu = (mx.getCurrentThreadCpuTime() - cpu0) / 1e9;
        return new double[]{n / wall, n / cpu};
    }
}
