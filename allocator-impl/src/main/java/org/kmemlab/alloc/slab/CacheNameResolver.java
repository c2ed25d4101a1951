package org.kmemlab.alloc.slab;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Names the cache of a {@code kmem_cache_alloc} event that carries no {@code name=} field (the
 * field came with the 6.x rework of {@code include/trace/events/kmem.h}; {@code kmem_cache_free}
 * named its cache earlier). Preference: the name of the matching free; else the unique cache whose
 * {@code s->size} equals bytes_alloc; among several, the one whose {@code object_size} equals
 * bytes_req; else the alphabetically first candidate (reported as ambiguous); else a synthetic
 * {@code size-<bytes_alloc>} name.
 */
public final class CacheNameResolver {
    /** How a name was found. */
    public enum How { FROM_FREE, UNIQUE_SIZE, OBJECT_SIZE, AMBIGUOUS, SYNTHETIC }

    public record Resolution(String name, How how) {}

    private final Map<Integer, List<SlubCache>> bySize = new TreeMap<>();

    public CacheNameResolver(Iterable<SlubCache> caches) {
        for (SlubCache c : caches) {
            if (c.name.startsWith("kmalloc-") || c.name.startsWith("dma-kmalloc-")) continue; // kmalloc has its own event
            bySize.computeIfAbsent(c.size, k -> new ArrayList<>()).add(c);
        }
        for (List<SlubCache> l : bySize.values()) l.sort((a, b) -> a.name.compareTo(b.name));
    }

    /** @param nameFromFree the {@code name=} of the free that released this object, or null */
    public Resolution resolve(String nameFromFree, long bytesReq, long bytesAlloc) {
        if (nameFromFree != null && !nameFromFree.isEmpty()) return new Resolution(nameFromFree, How.FROM_FREE);
        List<SlubCache> cands = bytesAlloc > Integer.MAX_VALUE ? null : bySize.get((int) bytesAlloc);
        if (cands == null || cands.isEmpty()) return new Resolution("size-" + bytesAlloc, How.SYNTHETIC);
        if (cands.size() == 1) return new Resolution(cands.get(0).name, How.UNIQUE_SIZE);
        SlubCache exact = null;
        int exactCount = 0;
        for (SlubCache c : cands) {
            if (c.objectSize == bytesReq) { exact = c; exactCount++; }
        }
        if (exactCount == 1) return new Resolution(exact.name, How.OBJECT_SIZE);
        return new Resolution(cands.get(0).name, How.AMBIGUOUS);
    }
}
