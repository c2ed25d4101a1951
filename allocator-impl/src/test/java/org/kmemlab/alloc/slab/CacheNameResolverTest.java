package org.kmemlab.alloc.slab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.kmemlab.alloc.core.CostTable;
import org.kmemlab.alloc.testing.TestCtx;
import org.kmemlab.alloc.testing.TestPageProvider;

class CacheNameResolverTest {
    @Test
    void freeNameThenUniqueSizeThenObjectSize() throws Exception {
        SlubAllocator a = new SlubAllocator(new TestPageProvider(1 << 12, 2), 2, new CostTable());
        SlabInfo.createCaches(a, SlabLayoutTest.bundledSlabinfo());
        TestCtx ctx = new TestCtx();
        a.kmemCacheCreate(ctx, "demo_a", 180, 0, SlabFlags.HWCACHE_ALIGN); // size 192
        CacheNameResolver r = new CacheNameResolver(a.caches().values());
        assertEquals(new CacheNameResolver.Resolution("filp", CacheNameResolver.How.FROM_FREE), r.resolve("filp", 184, 192));
        // 5888 is task_struct's size and nobody else's in the snapshot
        assertEquals(new CacheNameResolver.Resolution("task_struct", CacheNameResolver.How.UNIQUE_SIZE), r.resolve(null, 5840, 5888));
        // 192 is shared by many caches; object size 180 singles out demo_a
        assertEquals(new CacheNameResolver.Resolution("demo_a", CacheNameResolver.How.OBJECT_SIZE), r.resolve(null, 180, 192));
        assertEquals(CacheNameResolver.How.AMBIGUOUS, r.resolve(null, 100, 192).how());
        assertEquals(new CacheNameResolver.Resolution("size-12345", CacheNameResolver.How.SYNTHETIC), r.resolve(null, 12000, 12345));
    }
}
