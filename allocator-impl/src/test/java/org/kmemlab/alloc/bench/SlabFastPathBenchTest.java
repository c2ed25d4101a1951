package org.kmemlab.alloc.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.alloc.slab.SlubAllocator;
import org.kmemlab.alloc.testing.NullCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

/**
 * A quick throughput check of kmalloc/kfree pairs on the slab fast path (the JMH benchmark
 * {@code SlabFastPathJmh} gives the careful number). Bounded to well under a second.
 */
class SlabFastPathBenchTest {
    static double pairsPerSecond(int batch, long pairs) {
        SlubAllocator slab = new SlubAllocator(new TestPageProvider(1 << 16, 1), 1, new CostTable());
        NullCtx ctx = new NullCtx();
        long[] held = new long[batch];
        long done = 0;
        long t0 = System.nanoTime();
        while (done < pairs) {
            for (int i = 0; i < batch; i++) held[i] = slab.kmalloc(ctx, 64 + (i & 63), Gfp.GFP_KERNEL);
            for (int i = batch - 1; i >= 0; i--) slab.kfree(ctx, held[i]);
            done += batch;
        }
        return done / ((System.nanoTime() - t0) / 1e9);
    }

    @Test
    void kmallocKfreePairsPerSecond() {
        pairsPerSecond(16, 2_000_000); // warm-up
        double r = pairsPerSecond(16, 10_000_000);
        System.out.printf("slab fast path: %.1f M kmalloc/kfree pairs/s (batch 16, sizes 64..127)%n", r / 1e6);
        assertTrue(r > 1e6, "far below target: " + r);
    }
}
