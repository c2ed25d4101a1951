package org.kmemlab.replay;

import java.util.HashMap;
import java.util.Map;

import org.kmemlab.alloc.core.Gfp;
import org.kmemlab.trace.GfpCodec;

/**
 * Raw gfp bits of the recording kernel → the model's semantic bits, by flag name: the layouts moved bits
 * between eras (allocator-model.md §A.1), so only names carry meaning across them. 3.x's {@code __GFP_WAIT}
 * means direct reclaim, and its missing {@code __GFP_NO_KSWAPD} means kswapd may be woken.
 */
final class GfpTranslator {
    private static final Map<String, Long> MODEL = new HashMap<>();

    static {
        MODEL.put("__GFP_DMA", Gfp.DMA); MODEL.put("__GFP_HIGHMEM", Gfp.HIGHMEM); MODEL.put("__GFP_DMA32", Gfp.DMA32);
        MODEL.put("__GFP_MOVABLE", Gfp.MOVABLE); MODEL.put("__GFP_RECLAIMABLE", Gfp.RECLAIMABLE); MODEL.put("__GFP_HIGH", Gfp.HIGH);
        MODEL.put("__GFP_IO", Gfp.IO); MODEL.put("__GFP_FS", Gfp.FS); MODEL.put("__GFP_ZERO", Gfp.ZERO);
        MODEL.put("__GFP_ATOMIC", Gfp.ATOMIC); MODEL.put("__GFP_DIRECT_RECLAIM", Gfp.DIRECT_RECLAIM);
        MODEL.put("__GFP_KSWAPD_RECLAIM", Gfp.KSWAPD_RECLAIM); MODEL.put("__GFP_WRITE", Gfp.WRITE);
        MODEL.put("__GFP_NOWARN", Gfp.NOWARN); MODEL.put("__GFP_RETRY_MAYFAIL", Gfp.RETRY_MAYFAIL);
        MODEL.put("__GFP_REPEAT", Gfp.RETRY_MAYFAIL); MODEL.put("__GFP_NOFAIL", Gfp.NOFAIL); MODEL.put("__GFP_NORETRY", Gfp.NORETRY);
        MODEL.put("__GFP_MEMALLOC", Gfp.MEMALLOC); MODEL.put("__GFP_COMP", Gfp.COMP); MODEL.put("__GFP_NOMEMALLOC", Gfp.NOMEMALLOC);
        MODEL.put("__GFP_HARDWALL", Gfp.HARDWALL); MODEL.put("__GFP_THISNODE", Gfp.THISNODE); MODEL.put("__GFP_ACCOUNT", Gfp.ACCOUNT);
        MODEL.put("__GFP_WAIT", Gfp.DIRECT_RECLAIM);
    }

    private final long[] bitToModel = new long[64];
    private final boolean v3;

    GfpTranslator(GfpCodec codec) {
        v3 = codec.layout() == GfpCodec.Layout.V3_6;
        for (Map.Entry<String, Long> e : codec.bits().entrySet()) {
            Long m = MODEL.get(e.getKey());
            if (m != null) bitToModel[Long.numberOfTrailingZeros(e.getValue())] = m;
        }
    }

    long toModel(long raw) {
        long m = 0;
        for (long r = raw; r != 0; r &= r - 1) m |= bitToModel[Long.numberOfTrailingZeros(r)];
        // 3.x had __GFP_NO_KSWAPD instead of a bit that allows waking kswapd.
        if (v3 && (raw & 0x400000L) == 0 && (m & Gfp.DIRECT_RECLAIM) != 0) m |= Gfp.KSWAPD_RECLAIM;
        return m;
    }
}
