package org.kmemlab.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
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

import java.util.concurrent.TimeUnit;

/**
 * The peer of {@link PageAllocBench}: 4 KiB alloc+release pairs through Netty's
 * {@code PooledByteBufAllocator.DEFAULT}, served by the calling thread's {@code PoolThreadCache} (the
 * jemalloc-style per-thread cache in front of the arenas, as the pcp lists are in front of the buddy).
 *
 * <p>Netty 4.2 caches and recycles only on threads that promise to clean up their FastThreadLocals (its event
 * loops); on any other thread every buffer object is new garbage and there is no thread cache. JMH's threads
 * are plain ones, so each invocation runs {@link #BATCH} pairs inside
 * {@code FastThreadLocalThread.runWithFastThreadLocal()}, which makes the thread such a thread for the
 * batch and drops its caches after it (the set-up is under 1% of a batch). Leak detection is off, as in
 * Netty's own microbenchmarks: it samples allocations and would tax the peer with work a production fast
 * path does not do. {@link #setup} refuses to measure unless the thread cache serves the pairs and the
 * buffer objects are recycled.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Dio.netty.leakDetection.level=disabled")
public class NettyPooledBench {
    /** 4 KiB, the size of one page: a small size class, cached per thread. */
    public static final int SIZE = 4096;
    public static final int BATCH = 100_000;

    PooledByteBufAllocator alloc;
    long sink;
    private final Runnable batch = () -> {
        long s = 0;
        for (int i = 0; i < BATCH; i++) s += pair();
        sink += s;
    };

    @Setup
    public void setup() {
        alloc = PooledByteBufAllocator.DEFAULT;
        boolean[] ok = new boolean[2];
        FastThreadLocalThread.runWithFastThreadLocal(() -> {
            ByteBuf a = alloc.heapBuffer(SIZE, SIZE);
            a.release();
            ByteBuf b = alloc.heapBuffer(SIZE, SIZE);
            b.release();
            ok[0] = alloc.hasThreadLocalCache();
            ok[1] = a == b;
        });
        if (!ok[0]) throw new IllegalStateException("Netty gave this thread no PoolThreadCache");
        if (!ok[1]) throw new IllegalStateException("Netty did not recycle the buffer object");
    }

    /** One 4 KiB heap buffer taken and released; its offset in the arena's chunk plays the pfn. */
    long pair() {
        ByteBuf b = alloc.heapBuffer(SIZE, SIZE);
        long off = b.arrayOffset();
        b.release();
        return off;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long allocRelease() {
        FastThreadLocalThread.runWithFastThreadLocal(batch);
        return sink;
    }

    /** A quick measurement without the JMH runner: {@code java -cp bench/target/benchmarks.jar org.kmemlab.bench.NettyPooledBench [seconds]}. */
    public static void main(String[] args) {
        System.setProperty("io.netty.leakDetection.level", "disabled");
        double secs = args.length > 0 ? Double.parseDouble(args[0]) : 2;
        NettyPooledBench b = new NettyPooledBench();
        b.setup();
        for (int round = 0; round < 3; round++) {
            double[] r = PageAllocBench.rate(b::allocRelease, secs, 1);
            System.out.printf("Netty pooled 4 KiB %6.1f M pairs/s (%6.1f per CPU-second)%n", r[0] / 1e6 * BATCH, r[1] / 1e6 * BATCH);
        }
    }
}
