package org.kmemlab.trace;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class GfpCodecTest {

    @Test
    void everyTableEntryOfEveryEraRoundTrips() {
        for (GfpCodec.Layout l : GfpCodec.Layout.values()) {
            GfpCodec c = GfpCodec.of(l);
            for (Map.Entry<String, Long> e : c.printTable()) {
                assertEquals(e.getValue(), c.parse(e.getKey()), l + " " + e.getKey());
                assertEquals(e.getValue(), c.parse(c.format(e.getValue())), l + " " + e.getKey());
            }
            for (Map.Entry<String, Long> e : c.bits().entrySet()) {
                assertEquals(e.getValue(), c.valueOf(e.getKey()), l + " " + e.getKey());
                assertEquals(e.getValue(), c.parse(c.format(e.getValue())), l + " " + e.getKey());
            }
            for (Map.Entry<String, Long> e : c.composites().entrySet()) {
                assertEquals(e.getValue(), c.parse(c.format(e.getValue())), l + " " + e.getKey());
            }
        }
    }

    @Test
    void randomMasksRoundTripIncludingHexLeftovers() {
        Random r = new Random(3);
        for (GfpCodec.Layout l : GfpCodec.Layout.values()) {
            GfpCodec c = GfpCodec.of(l);
            for (int i = 0; i < 5000; i++) {
                long x = r.nextLong() & 0x7ffffffL;
                String s = c.format(x);
                assertEquals(x, c.parse(s), l + " " + Long.toHexString(x) + " printed " + s);
            }
        }
    }

    @Test
    void printsLikeTheKernelInTheSpecsWorkedExamples() {
        GfpCodec v510 = GfpCodec.of(GfpCodec.Layout.V5_10);
        // allocator-model.md §A.3: XFS fail-fast mask and the default kvmalloc mask, 5.10 table.
        assertEquals("GFP_NOWAIT|__GFP_IO|__GFP_FS|__GFP_NOWARN|__GFP_NORETRY", v510.format(0x128c0));
        assertEquals("GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY", v510.format(0x12cc0));
        assertEquals(0xa20, v510.parse("GFP_ATOMIC"));
        GfpCodec head = GfpCodec.of(GfpCodec.Layout.HEAD);
        // 0xc40 NOFS | 0x100 ZERO | 0x8000 NOFAIL | 0x400000 ACCOUNT, as printed in the git trace.
        assertEquals(0x408d40, head.parse("GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_ACCOUNT"));
        assertEquals("GFP_NOFS|__GFP_ZERO|__GFP_NOFAIL|__GFP_ACCOUNT", head.format(0x408d40));
        assertEquals("GFP_HIGHUSER_MOVABLE|__GFP_WRITE|__GFP_COMP", head.format(0x100cca | 0x1000 | 0x40000));
        assertEquals("none", head.format(0));
        assertEquals(0x820, head.parse("GFP_ATOMIC"));
        GfpCodec v36 = GfpCodec.of(GfpCodec.Layout.V3_6);
        assertEquals("GFP_NOWAIT", v36.format(0));
        assertEquals("GFP_KERNEL", v36.format(0xd0));
        // SPL KM_PUSHPAGE = GFP_NOIO|__GFP_HIGH; GFP_ATOMIC (= __GFP_HIGH in 3.x) precedes GFP_NOIO in the table.
        assertEquals("GFP_ATOMIC|GFP_NOIO", v36.format(0x30));
        assertEquals(-1, head.parse("__GFP_BOGUS"));
    }

    @Test
    void layoutFollowsTheKernelRelease() {
        assertEquals(GfpCodec.Layout.HEAD, GfpCodec.Layout.forRelease("6.18.44-fc-v782"));
        assertEquals(GfpCodec.Layout.V6_3, GfpCodec.Layout.forRelease("6.6.0"));
        assertEquals(GfpCodec.Layout.V5_10, GfpCodec.Layout.forRelease("5.10.13"));
        assertEquals(GfpCodec.Layout.V3_6, GfpCodec.Layout.forRelease("3.6.11"));
        assertEquals(GfpCodec.Layout.HEAD, GfpCodec.Layout.forRelease(null));
    }

    @Test
    void perfKmemCompactCodes() {
        assertEquals("K|NWR|NR", GfpCodec.compact("GFP_KERNEL|__GFP_NOWARN|__GFP_NORETRY"));
        assertEquals("NI|H", GfpCodec.compact("GFP_NOIO|GFP_HIGH"));
    }
}
