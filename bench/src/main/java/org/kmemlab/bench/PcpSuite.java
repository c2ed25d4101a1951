package org.kmemlab.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * {@code bench/run.sh pcp}: the page allocator's order-0 alloc+free pairs per second on the pcp fast path
 * and on the rmqueue_bulk path ({@link PageAllocBench}, per era), against Netty's pooled allocator doing
 * 4 KiB alloc+release pairs through its thread cache ({@link NettyPooledBench}) in the same run, with JMH's
 * GC profiler to show that the model's fast path allocates nothing. The machine is shared, so the load
 * average is printed before and after: a number measured under load says little about the code.
 */
final class PcpSuite {
    static final double TARGET = 20e6;

    private PcpSuite() {}

    /** {@code quick}: one short warm-up and two short measurements, to see that the suite runs, not to quote. */
    static void run(boolean quick) throws Exception {
        double load0 = loadAverage();
        ChainedOptionsBuilder b = new OptionsBuilder()
                .include(PageAllocBench.class.getName() + "\\.")
                .include(NettyPooledBench.class.getName() + "\\.")
                .addProfiler(GCProfiler.class);
        if (quick) {
            b.warmupIterations(1).warmupTime(TimeValue.milliseconds(500))
                    .measurementIterations(2).measurementTime(TimeValue.milliseconds(500));
        }
        Options o = b.build();
        Collection<RunResult> rr = new Runner(o).run();
        double load1 = loadAverage();

        RunResult netty = null;
        List<RunResult> kmemlab = new ArrayList<>();
        for (RunResult r : rr) {
            if (r.getParams().getBenchmark().startsWith(NettyPooledBench.class.getName())) netty = r;
            else kmemlab.add(r);
        }
        System.out.println();
        System.out.printf("load average (1 min) %.2f before, %.2f after, on %d CPUs%n", load0, load1,
                Runtime.getRuntime().availableProcessors());
        if (netty == null) throw new IllegalStateException("the Netty peer did not run");
        double peer = netty.getPrimaryResult().getScore();
        System.out.printf("%-58s %s%n", "Netty PooledByteBufAllocator 4 KiB alloc+release pairs/s", score(netty));
        for (RunResult r : kmemlab) {
            String method = r.getParams().getBenchmark().substring(PageAllocBench.class.getName().length() + 1);
            String path = method.equals("fastPath") ? "pcp fast path" : "rmqueue_bulk path";
            String era = r.getParams().getParam("era");
            double s = r.getPrimaryResult().getScore();
            System.out.printf("%-58s %s  -> kmemlab/netty %.2f%n",
                    "kmemlab " + era + " order-0 alloc+free pairs/s, " + path, score(r), s / peer);
        }
        for (RunResult r : kmemlab) {
            if (!r.getParams().getBenchmark().endsWith(".fastPath")) continue;
            Result p = r.getPrimaryResult();
            double low = p.getScore() - p.getScoreError();
            System.out.printf("target >= 20M pairs/s on the pcp fast path, %s: %s (%,.0f ± %,.0f)%n", r.getParams().getParam("era"),
                    low >= TARGET ? "met" : p.getScore() >= TARGET ? "met by the mean, not by the lower error bound" : "NOT met",
                    p.getScore(), p.getScoreError());
        }
    }

    /** "score ± error pairs/s, N B/op allocated" (JMH's 99.9% confidence half-width, GC profiler's normalised rate). */
    static String score(RunResult r) {
        Result p = r.getPrimaryResult();
        String alloc = "";
        for (Map.Entry<String, Result> e : r.getSecondaryResults().entrySet())
            if (e.getKey().endsWith("gc.alloc.rate.norm")) alloc = String.format(", %.3f B/op allocated", e.getValue().getScore());
        return String.format("%,14.0f ± %,12.0f%s", p.getScore(), p.getScoreError(), alloc);
    }

    static double loadAverage() {
        return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }
}
