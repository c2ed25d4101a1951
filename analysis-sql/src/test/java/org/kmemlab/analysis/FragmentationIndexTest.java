package org.kmemlab.analysis;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.kmemlab.trace.EventNames;
import org.kmemlab.trace.TraceWriter;

/**
 * The fragmentation index macros and the buddyinfo views (VIEWS.md), against values computed by hand from
 * buddyinfo lines and against a plain Java transcription of mm/vmstat.c's fill_contig_page_info() and
 * __fragmentation_index() on random free lists.
 */
class FragmentationIndexTest {
    @TempDir Path tmp;

    /** A made-up zone with no free block above order 3, the recording machine's DMA zone, an empty zone. */
    static final String BUDDYINFO = """
            Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3\s
            Node 0, zone   Normal    100     40     10      2      0      0      0      0      0      0      0\s
            Node 1, zone   Normal      0      0      0      0      0      0      0      0      0      0      0\s
            """;

    Path traceWithSnapshot() throws Exception {
        Path p = tmp.resolve("snap.arrow");
        try (TraceWriter w = new TraceWriter(p, Map.of(), TraceWriter.Compression.NONE)) {
            w.snapshot("buddyinfo", BUDDYINFO);
            w.snapshot("meminfo", "MemTotal: 1 kB\n");
            w.accept(ViewsTestFixture.slab(100, 0, EventNames.KMALLOC, 0xA, "f1", null, "task", 10, 16));
        }
        return p;
    }

    @Test
    void extfragIndexOfABuddyinfoSnapshotMatchesTheHandComputedValues() throws Exception {
        try (TraceDb db = TraceDb.open(List.of(traceWithSnapshot()))) {
            try (ResultSet rs = db.query("SELECT node, zone, nr_free FROM buddyinfo ORDER BY node, zone")) {
                assertTrue(rs.next());
                assertEquals("DMA", rs.getString(2));
                assertTrue(rs.next());
                assertEquals("Normal", rs.getString(2));
                assertEquals("[100, 40, 10, 2, 0, 0, 0, 0, 0, 0, 0]", rs.getString(3));
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
                assertFalse(rs.next());
            }
            // Normal on node 0: free_pages = 100 + 2*40 + 4*10 + 8*2 = 236 in free_blocks_total = 152 blocks;
            // orders 0..3 have a suitable block: -1000. Above, 1000 - (1000 + 236000 / 2^order) / 152:
            // order 4: 1000 - 15750/152 = 1000 - 103 = 897     order 5: 1000 - 8375/152 = 1000 - 55 = 945
            // order 6: 1000 - 4687/152 = 1000 - 30 = 970       order 7: 1000 - 2843/152 = 1000 - 18 = 982
            // order 8: 1000 - 1921/152 = 1000 - 12 = 988       order 9: 1000 - 1460/152 = 1000 - 9 = 991
            // order 10: 1000 - 1230/152 = 1000 - 8 = 992
            // DMA has an order-10 block: -1000 for every order. Node 1's zone has no free block: 0.
            long[] normal = {-1000, -1000, -1000, -1000, 897, 945, 970, 982, 988, 991, 992};
            try (ResultSet rs = db.query("SELECT node, zone, \"order\", index_milli, extfrag_index FROM buddyinfo_extfrag ORDER BY node, zone, \"order\"")) {
                for (int o = 0; o <= 10; o++) {
                    assertTrue(rs.next());
                    assertEquals("DMA", rs.getString(2));
                    assertEquals(-1000, rs.getLong(4), "DMA order " + o);
                    assertEquals(-1.0, rs.getDouble(5), 0.0);
                }
                for (int o = 0; o <= 10; o++) {
                    assertTrue(rs.next());
                    assertEquals("Normal", rs.getString(2));
                    assertEquals(o, rs.getInt(3));
                    assertEquals(normal[o], rs.getLong(4), "Normal order " + o);
                    assertEquals(normal[o] / 1000.0, rs.getDouble(5), 1e-12);
                }
                for (int o = 0; o <= 10; o++) {
                    assertTrue(rs.next());
                    assertEquals(1, rs.getInt(1));
                    assertEquals(0, rs.getLong(4), "an empty zone");
                }
                assertFalse(rs.next());
            }
        }
    }

    @Test
    void fewerFreePagesThanOneRequestGoBelowZeroAsInTheKernel() throws Exception {
        try (TraceDb db = TraceDb.open(List.of())) {
            // one order-0 page, order 2 wanted: 1000 - (1000 + 1000/4) / 1 = -250 (the kernel's u64 result cast to int)
            try (ResultSet rs = db.query("SELECT extfrag_index([1, 0, 0], 2), fragmentation_index(2, 1, 1, 0), extfrag_index([], 3)")) {
                rs.next();
                assertEquals(-250, rs.getLong(1));
                assertEquals(-250, rs.getLong(2));
                assertEquals(0, rs.getLong(3));
            }
            try (ResultSet rs = db.query("SELECT count(*) FROM buddyinfo_extfrag")) {
                rs.next();
                assertEquals(0, rs.getLong(1), "no snapshot, no rows");
            }
        }
    }

    /** fill_contig_page_info() and __fragmentation_index() of mm/vmstat.c, transcribed. */
    static long kernelIndex(long[] nrFree, int order) {
        long freePages = 0, total = 0, suitable = 0;
        for (int o = 0; o < nrFree.length; o++) {
            total += nrFree[o];
            freePages += nrFree[o] << o;
            if (o >= order) suitable += nrFree[o] << (o - order);
        }
        if (total == 0) return 0;
        if (suitable > 0) return -1000;
        return 1000 - (1000 + freePages * 1000 / (1L << order)) / total;
    }

    @Test
    void theMacroAgreesWithTheKernelsArithmeticOnRandomFreeLists() throws Exception {
        SplittableRandom rnd = new SplittableRandom(6);
        List<long[]> lists = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            long[] l = new long[11];
            int top = rnd.nextInt(12);   // orders >= top are empty, so that most indexes are not -1000
            for (int o = 0; o < top; o++) l[o] = rnd.nextInt(4) == 0 ? 0 : rnd.nextLong(1, 5000);
            lists.add(l);
        }
        try (TraceDb db = TraceDb.open(List.of())) {
            int positive = 0;
            for (long[] l : lists) {
                StringBuilder arr = new StringBuilder("[");
                for (int o = 0; o < l.length; o++) arr.append(o == 0 ? "" : ",").append(l[o]);
                String sql = "SELECT list(extfrag_index(" + arr + "]::BIGINT[], o) ORDER BY o) FROM range(0, 11) t(o)";
                try (ResultSet rs = db.query(sql)) {
                    rs.next();
                    Object[] got = (Object[]) rs.getArray(1).getArray();
                    for (int o = 0; o <= 10; o++) {
                        long want = kernelIndex(l, o);
                        if (want > 0) positive++;
                        assertEquals(want, ((Number) got[o]).longValue(), java.util.Arrays.toString(l) + " order " + o);
                    }
                }
            }
            assertTrue(positive > 300, "the fragmentation branch is exercised, not only -1000 and 0: " + positive);
        }
    }
}
