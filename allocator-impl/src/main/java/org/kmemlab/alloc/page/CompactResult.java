package org.kmemlab.alloc.page;

/**
 * {@code enum compact_result} ({@code include/linux/compaction.h}), in the kernel's order: callers take the
 * maximum over zones exactly as {@code try_to_compact_pages()} does.
 */
public enum CompactResult {
    NOT_SUITABLE_ZONE, SKIPPED, DEFERRED, NO_SUITABLE_PAGE, CONTINUE, COMPLETE, PARTIAL_SKIPPED, CONTENDED, SUCCESS;

    static CompactResult max(CompactResult a, CompactResult b) { return a.ordinal() >= b.ordinal() ? a : b; }
}
