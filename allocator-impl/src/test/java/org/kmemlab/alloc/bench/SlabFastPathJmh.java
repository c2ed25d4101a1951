package org.kmemlab.alloc.bench;

import java.util.concurrent.TimeUnit;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.testing.NullCtx;
import org.kmemlab.alloc.testing.TestPageProvider;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * JMH: kmalloc/kfree pairs per second on the slab fast path (issue 4, target ≥ 20M/s). Run with
 * {@code ./mvnw -q -pl allocator-impl test-compile exec:java}-style launchers or directly:
 * {@code java -cp <test classpath> org.kmemlab.alloc.bench.SlabFastPathJmh}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SlabFastPathJmh {
    static final int BATCH = 16;
    SlubAllocator slab;
    NullCtx ctx;
    final long[] held = new long[BATCH];

    @Setup
    public void setup() {
        slab = new SlubAllocator(new TestPageProvider(1 << 16, 1), 1, new CostTable());
        ctx = new NullCtx();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void kmallocKfreePairs() {
        for (int i = 0; i < BATCH; i++) held[i] = slab.kmalloc(ctx, 64 + (i & 63), Gfp.GFP_KERNEL);
        for (int i = BATCH - 1; i >= 0; i--) slab.kfree(ctx, held[i]);
    }

    public static void main(String[] args) throws Exception {
        new Runner(new OptionsBuilder().include(SlabFastPathJmh.class.getSimpleName()).build()).run();
    }
}
