package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceWriter;

/**
 * by_cache's peak of live objects is one running sum over all caches less what the caches before each one
 * left live; a cache that sorts after one with objects still live must not inherit them.
 */
class ByCachePeakTest {
    @TempDir Path tmp;

    @Test
    void aCachesPeakIgnoresTheObjectsOfCachesSortedBeforeIt() throws Exception {
        Path p = tmp.resolve("peak.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            // a_cache: three objects allocated, one freed: peak 3, two still live at the end
            w.accept(ViewsTestFixture.slab(100, 0, EventNames.KMEM_CACHE_ALLOC, 0x10, "fa", "a_cache", "task", 8, 8));
            w.accept(ViewsTestFixture.slab(110, 0, EventNames.KMEM_CACHE_ALLOC, 0x20, "fa", "a_cache", "task", 8, 8));
            w.accept(ViewsTestFixture.slab(120, 0, EventNames.KMEM_CACHE_ALLOC, 0x30, "fa", "a_cache", "task", 8, 8));
            w.accept(ViewsTestFixture.slab(130, 0, EventNames.KMEM_CACHE_FREE, 0x30, "ga", "a_cache", "task", 0, 0));
            // b_cache: alloc, free, alloc, alloc, free, free: peak 2
            w.accept(ViewsTestFixture.slab(200, 1, EventNames.KMEM_CACHE_ALLOC, 0x40, "fb", "b_cache", "task", 8, 8));
            w.accept(ViewsTestFixture.slab(210, 1, EventNames.KMEM_CACHE_FREE, 0x40, "gb", "b_cache", "task", 0, 0));
            w.accept(ViewsTestFixture.slab(220, 1, EventNames.KMEM_CACHE_ALLOC, 0x50, "fb", "b_cache", "task", 8, 8));
            w.accept(ViewsTestFixture.slab(230, 1, EventNames.KMEM_CACHE_ALLOC, 0x60, "fb", "b_cache", "task", 8, 8));
            w.accept(ViewsTestFixture.slab(240, 1, EventNames.KMEM_CACHE_FREE, 0x50, "gb", "b_cache", "task", 0, 0));
            w.accept(ViewsTestFixture.slab(250, 1, EventNames.KMEM_CACHE_FREE, 0x60, "gb", "b_cache", "task", 0, 0));
            // c_cache: one object, at the same timestamp as a free of another: peak 1
            w.accept(ViewsTestFixture.slab(250, 0, EventNames.KMEM_CACHE_ALLOC, 0x70, "fc", "c_cache", "task", 8, 8));
        }
        Map<String, Long> peak = new LinkedHashMap<>();
        try (TraceDb db = TraceDb.open(List.of(p));
             ResultSet rs = db.query("SELECT cache, peak_live_objs FROM by_cache ORDER BY cache")) {
            while (rs.next()) peak.put(rs.getString(1), rs.getLong(2));
        }
        assertEquals(Map.of("a_cache", 3L, "b_cache", 2L, "c_cache", 1L), peak);
    }
}
